"""Safe-City-Lab workshop input: workshops, participants' observations, saved views.

The workshop data lives in its own GeoPackage next to the main store
(``atlas-workshops.gpkg``), so that a new observation changes only this file's
``version()`` and does not invalidate the caches of the main data. It is an
ordinary ``GeoPackageStore``: every write is validated against the layer
schemas in ``loaders.schema`` and is all-or-nothing (copy + atomic rename under
a file lock).

Many participants submit at the same moment (a workshop has 10-40 people;
Streamlit serves them from threads of one process, the command line or tests
may add processes). One store write copies the file, so it costs 0.05-0.25 s
however small the change is; 40 writes one after the other kept the last of 40
simultaneous participants waiting ~7 s on a 2-core machine.
``add_observation`` therefore commits in groups (measured: ~1.5 s for the
slowest of 40 simultaneous submissions from threads):

1. the observation is validated (schema, open workshop) and put into a spool
   folder next to the file (``<file>.spool/<id>.json``, written atomically);
2. the submitter waits for the store lock (threads of one process queue on an
   in-process lock first, so that only one of them polls the file lock).
   Whoever gets it stores *every* spooled observation in one append (checking
   under the lock that their workshops are still open), and removes their
   spool files only after the write succeeded;
3. a submitter whose spool file has disappeared knows its observation was
   stored (or, if a rejection note is waiting for it, why not).

Nothing is lost: a spool file is removed only after its row is in the store
(or after a rejection note for its owner was put in its place). An observation
of a submitter that crashed after spooling is stored by the next writer.
Observations of a workshop that has been closed in the meantime are rejected
with a ``WorkshopError``.

Exports (``to_geojson``, ``to_csv``) contain exactly the rows they are given
(callers filter hidden ones) and never the participant token: the token is
anonymous, but it links all entries of one person, so it stays in the store.
"""

from __future__ import annotations

from loaders.paths import beside_store

import json
import os
import secrets
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import date as Date
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
from filelock import Timeout
from shapely.geometry import Point, mapping

from geodata import domain
from loaders import schema
from loaders.exports import defuse_formulas
from loaders.store import GeoPackageStore, Provenance

FILENAME = "atlas-workshops.gpkg"
PROVENANCE = Provenance(source="Safe-City-Lab workshop input", licence="internal")

# Join codes: 6 characters without look-alikes (no 0/O, no 1/I), so that a code
# read off a projector is typed right. 32**6 ~ 1e9 codes.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

# How long add_observation waits for its observation to be stored.
SUBMIT_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.05
_WORKSHOP_CACHE_SECONDS = 5.0
_NOTE_MAX_AGE_SECONDS = 24 * 3600

OBSERVATION_COLUMNS = [
    "id", "workshop_id", "participant", "feeling", "reasons", "time_of_day", "comment", "created_at", "hidden",
]
WORKSHOP_COLUMNS = ["id", "code", "title", "date", "districts", "created_by", "created_at", "open"]
VIEW_COLUMNS = ["name", "params", "created_by", "created_at", "owner_role", "shared_with"]
EXPORT_COLUMNS = ["id", "workshop", "feeling", "reasons", "time_of_day", "comment", "created_at"]


# Saved views belong to the account that saved them (``created_by``; its role at that moment is kept as
# ``owner_role``). Accounts of these roles may save; the public view and anonymous workshop participants
# may not.
SAVE_ROLES = frozenset({"admin", "council", "workshop"})
# A view may be shared with an audience: the roles in it see it. The only audience is "council": the
# roles that see everything on the map (council and admin), and only an owner from that audience may
# share with it. A view thus never reaches a role that may see less than its owner (its layers, centre
# and zoom might show a meeting point); views of workshop accounts stay with their owner.
SHARE_AUDIENCES = {"council": frozenset({"council", "admin"})}


def may_share(owner_role: str | None, audience: str | None) -> bool:
    """Whether an owner of this role may share a view with this audience."""
    return audience in SHARE_AUDIENCES and owner_role in SHARE_AUDIENCES[audience]


def may_receive(owner_role: str | None, audience: str | None, role: str | None) -> bool:
    """Whether a user of ``role`` may see another owner's view saved with this role and audience.
    Checked again on reading, so a row written some other way cannot widen the circle."""
    return may_share(owner_role, audience) and role in SHARE_AUDIENCES[audience]


class WorkshopError(ValueError):
    """A workshop operation was refused; the message says why (shown to participants)."""


def default_path(store_location: str | None = None) -> Path:
    """``ATLAS_WORKSHOPS`` if set, else ``FILENAME`` beside the data store (see ``loaders.paths``)."""
    return beside_store(FILENAME, "ATLAS_WORKSHOPS", store_location)


def now_utc() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("ms")


class WorkshopStore:
    """Workshops, their observations and the saved map views, in one GeoPackage."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.location = str(self.path)
        self.store = GeoPackageStore(self.path)
        self.spool = Path(str(self.path) + ".spool")
        self.rejected = self.spool / "rejected"
        self._workshop_cache: tuple[float, pd.DataFrame] | None = None

    def version(self) -> str:
        """Changes whenever anything in the workshop file changes (cache key)."""
        return self.store.version()

    def lock(self):
        """The store's write lock (reentrant)."""
        return self.store.lock()

    # -- workshops ---------------------------------------------------------------------
    def workshops(self) -> pd.DataFrame:
        """All workshops (id, code, title, date, districts, created_by, created_at, open), oldest first."""
        frame = pd.DataFrame(self.store.read("workshops"))
        frame = frame.reindex(columns=WORKSHOP_COLUMNS)
        frame["open"] = frame["open"].fillna(0).astype("int64")
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame.sort_values(["created_at", "id"], kind="stable").reset_index(drop=True)

    def create_workshop(self, title: str, date: str | Date, districts: Iterable[str], created_by: str) -> dict:
        """A new open workshop with a fresh id (``W-<8 hex>``) and a fresh join code."""
        day = _iso_date(date)
        codes = []
        for code in districts or ():
            code = str(code).strip()
            if not code or "," in code:
                raise WorkshopError(f"invalid district code {code!r}")
            if code not in codes:
                codes.append(code)
        with self.lock():
            existing = self.workshops()
            taken_ids, taken_codes = set(existing["id"]), set(existing["code"])
            workshop_id = _fresh(_new_workshop_id, taken_ids)
            code = _fresh(_new_code, taken_codes)
            row = {
                "id": workshop_id,
                "code": code,
                "title": str(title).strip() if title is not None else "",
                "date": day,
                "districts": ",".join(codes) or None,
                "created_by": str(created_by).strip() if created_by is not None else "",
                "created_at": now_utc(),
                "open": 1,
            }
            frame = pd.DataFrame([row], columns=WORKSHOP_COLUMNS)
            schema.validated("workshops", frame, describe=lambda p: "workshop")
            self.store.write({"workshops": frame}, PROVENANCE, mode="append")
        return _workshop_dict(row)

    def workshop(self, workshop_id: str) -> dict | None:
        frame = self.workshops()
        rows = frame[frame["id"] == workshop_id]
        return _workshop_dict(rows.iloc[0].to_dict()) if len(rows) else None

    def by_code(self, code: object) -> dict | None:
        """The open workshop with this join code (any case, surrounding blanks ignored), else None."""
        if not isinstance(code, str):
            return None
        code = code.strip().upper()
        if len(code) != CODE_LENGTH:
            return None
        frame = self.workshops()
        rows = frame[(frame["code"] == code) & (frame["open"] == 1)]
        return _workshop_dict(rows.iloc[0].to_dict()) if len(rows) else None

    def set_open(self, workshop_id: str, open: bool) -> None:
        """Open or close a workshop for new observations (closing keeps everything stored)."""
        with self.lock():
            frame = self.workshops()
            hit = frame["id"] == workshop_id
            if not hit.any():
                raise WorkshopError(f"unknown workshop {workshop_id!r}")
            frame.loc[hit, "open"] = int(bool(open))
            self.store.write({"workshops": frame}, PROVENANCE, mode="replace")
            self._workshop_cache = None

    # -- observations ------------------------------------------------------------------
    def observations(self, workshop_ids: Iterable[str] | None = None, include_hidden: bool = False) -> gpd.GeoDataFrame:
        """Observations (EPSG:4326), oldest first; of the given workshops (None: all), hidden ones on request."""
        frame = self.store.read("observations")
        if workshop_ids is not None:
            frame = frame[frame["workshop_id"].isin(list(workshop_ids))]
        frame = _normalise_observations(frame)
        if not include_hidden:
            frame = frame[frame["hidden"] == 0]
        return frame.reset_index(drop=True)

    def add_observation(
        self,
        workshop_id: str,
        participant: str,
        lon: float,
        lat: float,
        feeling: str,
        reasons: Iterable[str] | None,
        time_of_day: str,
        comment: str | None = None,
    ) -> dict:
        """Validate and store one observation at once; returns it (with ``id`` and ``created_at``).

        Raises ``WorkshopError`` for an unknown or closed workshop and
        ``schema.ValidationError`` (both ``ValueError``) for invalid input:
        unknown feeling, reason or time of day, a comment longer than
        ``COMMENT_MAX``, a place outside Chemnitz. Text is stored as typed
        (only surrounding blanks are removed); escaping is the job of whoever
        displays it.
        """
        row = self._observation_row(workshop_id, participant, lon, lat, feeling, reasons, time_of_day, comment)
        self._check_open(row["workshop_id"], self._workshops_for_check(row["workshop_id"]))
        frame = _observation_frame([row])
        schema.validated("observations", frame, describe=lambda p: "observation")
        self._spool_write(row)
        self._wait_until_stored(row["id"])
        return _observation_dict(row)

    def set_hidden(self, observation_id: str, hidden: bool) -> None:
        """Hide an observation from maps, figures and exports, or show it again; the row stays stored."""
        with self.lock():
            frame = self.store.read("observations")
            hit = frame["id"] == observation_id
            if not hit.any():
                raise WorkshopError(f"unknown observation {observation_id!r}")
            frame = frame.copy()
            frame.loc[hit, "hidden"] = int(bool(hidden))
            self.store.write({"observations": frame}, PROVENANCE, mode="replace")

    # -- saved views -------------------------------------------------------------------
    def views(self) -> pd.DataFrame:
        """All saved map views of all owners (name, params, created_by, created_at, owner_role,
        shared_with), by name. For what one user may see, use ``views_for``."""
        frame = pd.DataFrame(self.store.read("saved_views")).reindex(columns=VIEW_COLUMNS)
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        for column in ("owner_role", "shared_with"):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        return frame.sort_values(["name", "created_by"], key=lambda s: s.astype(str).str.casefold(), kind="stable").reset_index(drop=True)

    def views_for(self, owner: str, role: str) -> pd.DataFrame:
        """The views a user may see: their own, and those shared with an audience their role belongs to
        (see ``SHARE_AUDIENCES``). Column ``mine`` tells them apart."""
        frame = self.views()
        owner = str(owner).strip()
        mine = frame["created_by"] == owner
        shared = pd.Series(
            [may_receive(r, a, role) for r, a in zip(frame["owner_role"], frame["shared_with"])], index=frame.index, dtype=bool
        )
        out = frame[mine | shared].assign(mine=mine[mine | shared])
        return out.sort_values(["mine", "name"], ascending=[False, True], key=_casefold, kind="stable").reset_index(drop=True)

    def save_view(
        self, name: str, params: str | Mapping, created_by: str, role: str, shared_with: str | None = None
    ) -> None:
        """Store a view of ``created_by`` (an account name, whose role is ``role``); ``params``: URL query
        string, or a mapping to encode. Replaces that owner's view of the same name, never another
        owner's. ``shared_with``: None (only the owner) or an audience of ``SHARE_AUDIENCES`` that the
        owner's role may share with (``may_share``)."""
        name = str(name).strip()
        owner = str(created_by).strip()
        role = str(role).strip()
        if role not in SAVE_ROLES:
            raise WorkshopError(f"the role {role!r} cannot save views")
        if shared_with is not None and not may_share(role, shared_with):
            raise WorkshopError(f"the role {role!r} cannot share a view with {shared_with!r}")
        if not isinstance(params, str):
            params = urlencode(dict(params), doseq=True)
        params = params.lstrip("?")
        row = {
            "name": name, "params": params, "created_by": owner, "created_at": now_utc(),
            "owner_role": role, "shared_with": shared_with,
        }
        with self.lock():
            current = self.views()
            keep = current[~((current["name"] == name) & (current["created_by"] == owner))]
            frame = pd.concat([d for d in (keep, pd.DataFrame([row], columns=VIEW_COLUMNS)) if len(d)], ignore_index=True)
            self.store.write({"saved_views": frame}, PROVENANCE, mode="replace")

    def delete_view(self, name: str, created_by: str) -> bool:
        """Remove the view of this name of this owner; False if there was none."""
        with self.lock():
            current = self.views()
            keep = current[~((current["name"] == str(name).strip()) & (current["created_by"] == str(created_by).strip()))]
            if len(keep) == len(current):
                return False
            if len(keep):
                self.store.write({"saved_views": keep}, PROVENANCE, mode="replace")
            else:
                self._empty_table("saved_views")
            return True

    # -- exports (also as module functions) ------------------------------------------
    @staticmethod
    def to_geojson(frame: pd.DataFrame) -> bytes:
        return to_geojson(frame)

    @staticmethod
    def to_csv(frame: pd.DataFrame, lang: str = "de") -> bytes:
        return to_csv(frame, lang)

    # -- internals ---------------------------------------------------------------------
    @staticmethod
    def _observation_row(workshop_id, participant, lon, lat, feeling, reasons, time_of_day, comment) -> dict:
        try:
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            raise WorkshopError(f"place must be given as numbers (lon {lon!r}, lat {lat!r})") from None
        if isinstance(reasons, str):
            reasons = reasons.split(",")
        keys: list[str] = []
        for reason in reasons or ():
            key = domain.resolve_term(domain.REASONS, reason) or str(reason).strip()
            if key and key not in keys:
                keys.append(key)
        if comment is not None and not isinstance(comment, str):
            comment = str(comment)
        comment = comment.strip() if comment else None
        if comment and len(comment) > domain.COMMENT_MAX:
            # the schema refuses it as well; this says it in words a participant understands
            raise WorkshopError(f"comment is too long: {len(comment)} characters, at most {domain.COMMENT_MAX}")
        return {
            "id": "O-" + uuid.uuid4().hex,
            "workshop_id": str(workshop_id or "").strip(),
            "participant": str(participant or "").strip(),
            "feeling": domain.resolve_term(domain.FEELINGS, feeling) or str(feeling),
            "reasons": ",".join(keys) or None,
            "time_of_day": domain.resolve_term(domain.TIMES_OF_DAY, time_of_day) or str(time_of_day),
            "comment": comment or None,
            "created_at": now_utc(),
            "hidden": 0,
            "lon": lon,
            "lat": lat,
        }

    def _workshops_for_check(self, workshop_id: str) -> pd.DataFrame:
        """The workshop table for the early check of a submission, re-read at most every few seconds
        while the workshop is known and open: a burst of submissions then does not read it 40 times.
        The check that counts is repeated under the lock before anything is stored."""
        cached = self._workshop_cache
        if cached is not None and time.monotonic() - cached[0] < _WORKSHOP_CACHE_SECONDS:
            rows = cached[1][cached[1]["id"] == workshop_id]
            if len(rows) and int(rows["open"].iloc[0]) == 1:
                return cached[1]
        frame = self.workshops()
        self._workshop_cache = (time.monotonic(), frame)
        return frame

    @staticmethod
    def _check_open(workshop_id: str, workshops: pd.DataFrame) -> None:
        rows = workshops[workshops["id"] == workshop_id]
        if not len(rows):
            raise WorkshopError(f"unknown workshop {workshop_id!r}")
        if int(rows["open"].iloc[0]) != 1:
            raise WorkshopError(f"workshop {workshop_id!r} is closed: no new entries are accepted")

    def _spool_write(self, row: dict) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)
        data = dict(row, created_at=row["created_at"].isoformat())
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.spool)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, self.spool / f"{row['id']}.json")

    def _wait_until_stored(self, observation_id: str) -> None:
        """Return once the spooled observation is stored (raise if it was rejected).

        Threads of this process queue on an in-process lock (sleeping, no polling); only its
        holder competes for the file lock with other processes, checking between attempts
        whether another process has stored the entry meanwhile.
        """
        mine = self.spool / f"{observation_id}.json"
        deadline = time.monotonic() + SUBMIT_TIMEOUT_SECONDS
        local = _process_lock(self.path)
        if not local.acquire(timeout=SUBMIT_TIMEOUT_SECONDS):
            raise TimeoutError(_queued(observation_id))
        try:
            lock = self.lock()
            while mine.exists():
                try:
                    lock.acquire(timeout=_POLL_SECONDS, poll_interval=_POLL_SECONDS / 5)
                except Timeout:
                    if time.monotonic() > deadline:
                        raise TimeoutError(_queued(observation_id)) from None
                    continue
                try:
                    if mine.exists():
                        self._flush(own=observation_id)
                finally:
                    lock.release()
                break
        finally:
            local.release()
        note = self.rejected / f"{observation_id}.json"
        if note.exists():
            try:
                message = json.loads(note.read_text(encoding="utf-8")).get("message", "rejected")
            finally:
                note.unlink(missing_ok=True)
            raise WorkshopError(message)

    def _flush(self, own: str) -> None:
        """Store every spooled observation in one append. The caller holds the lock."""
        self._forget_old_notes()
        rows: dict[str, dict] = {}
        for path in sorted(self.spool.glob("O-*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                missing = [k for k in (*OBSERVATION_COLUMNS, "lon", "lat") if k not in data]
                if missing or data["id"] != path.stem:
                    raise ValueError(f"missing {', '.join(missing) or 'matching id'}")
                data["created_at"] = pd.Timestamp(data["created_at"])
                data["lon"], data["lat"] = float(data["lon"]), float(data["lat"])
                rows[data["id"]] = data
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                self._reject(path.stem, f"unreadable entry: {exc}")
        if not rows:
            return
        stored = set(self.store.read("observations")["id"])
        for observation_id in [i for i in rows if i in stored]:  # stored by a writer that died before cleaning up
            (self.spool / f"{observation_id}.json").unlink(missing_ok=True)
            del rows[observation_id]
        workshops = self.workshops()
        for observation_id, row in list(rows.items()):
            try:
                self._check_open(row["workshop_id"], workshops)
            except WorkshopError as exc:
                self._reject(observation_id, str(exc))
                del rows[observation_id]
        if not rows:
            return
        try:
            stored_rows = self._append(list(rows.values()))
        except Exception:
            # Not stored (disk full, ...): withdraw our own entry so that our caller's error is the truth;
            # the other submitters are still waiting and will try themselves.
            (self.spool / f"{own}.json").unlink(missing_ok=True)
            raise
        for row in stored_rows:
            (self.spool / f"{row['id']}.json").unlink(missing_ok=True)

    def _append(self, batch: list[dict]) -> list[dict]:
        """Append the rows in one write; returns those stored. The caller holds the lock."""
        try:
            self.store.write({"observations": _observation_frame(batch)}, PROVENANCE, mode="append")
            return batch
        except schema.ValidationError as exc:
            # Entries are validated before they are spooled, so this should not happen; if it does,
            # reject exactly the rows named and store the rest: a bad entry must never block the queue.
            bad = {batch[p.row]["id"]: f"{p.column or 'entry'}: {p.message}" for p in exc.problems if p.row is not None}
            if not bad:
                bad = {row["id"]: str(exc) for row in batch}
            for observation_id, message in bad.items():
                self._reject(observation_id, message)
        batch = [row for row in batch if row["id"] not in bad]
        if batch:
            self.store.write({"observations": _observation_frame(batch)}, PROVENANCE, mode="append")
        return batch

    def _forget_old_notes(self) -> None:
        """Rejection notes nobody collected (their submitter gave up or died) go after a day."""
        if not self.rejected.is_dir():
            return
        limit = time.time() - _NOTE_MAX_AGE_SECONDS
        for note in self.rejected.glob("*.json"):
            try:
                if note.stat().st_mtime < limit:
                    note.unlink()
            except FileNotFoundError:
                pass

    def _reject(self, observation_id: str, message: str) -> None:
        self.rejected.mkdir(parents=True, exist_ok=True)
        note = self.rejected / f"{observation_id}.json"
        tmp = self.rejected / f".tmp-{observation_id}.json"
        tmp.write_text(json.dumps({"message": message}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, note)
        (self.spool / f"{observation_id}.json").unlink(missing_ok=True)

    def _empty_table(self, layer: str) -> None:
        """Remove all rows of an attribute table, all-or-nothing (the store refuses to write no rows).

        The caller holds the lock. Same pattern as ``GeoPackageStore.write``: change a copy, then
        rename it over the original.
        """
        import shutil
        import sqlite3

        if layer not in self.store.layers():
            return
        fd, tmp_name = tempfile.mkstemp(prefix="." + self.path.stem + ".", suffix=".tmp.gpkg", dir=self.path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copyfile(self.path, tmp)
            conn = sqlite3.connect(tmp)
            try:
                with conn:
                    conn.execute(f'DELETE FROM "{layer}"')  # layer is one of our own table names
            finally:
                conn.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self.store.mark_changed()
        finally:
            tmp.unlink(missing_ok=True)


# -- exports ------------------------------------------------------------------------------

def to_geojson(frame: pd.DataFrame) -> bytes:
    """The given observations as a GeoJSON FeatureCollection (RFC 7946, WGS84), UTF-8.

    Properties: id, workshop, feeling, reasons (list of keys), time_of_day,
    comment, created_at (ISO 8601, UTC). No participant token, no hidden flag.
    """
    features = []
    for rec, geom in zip(_export_records(frame), _wgs84_points(frame)):
        props = dict(rec)
        props["reasons"] = [r for r in (rec["reasons"] or "").split(",") if r]
        props["created_at"] = rec["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ") if rec["created_at"] is not None else None
        features.append({"type": "Feature", "geometry": mapping(geom) if geom is not None else None, "properties": props})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")


def to_csv(frame: pd.DataFrame, lang: str = "de") -> bytes:
    """The given observations as CSV for office software.

    German (``lang="de"``): ``;`` separator, decimal comma, UTF-8 with BOM,
    German labels, times as ``dd.mm.yyyy hh:mm``; otherwise plain UTF-8 CSV
    with English labels and ISO times. Columns: id, workshop, feeling,
    reasons (labels joined with "; "), time_of_day, comment, created_at
    (local time, Europe/Berlin), lat, lon (6 decimals). No participant token.
    Every text cell that a spreadsheet would run as a formula (starting with
    ``=``, ``+``, ``-``, ``@``, tab or CR) gets a leading apostrophe
    (``loaders.exports.defuse_formulas``).
    """
    lang = "de" if lang == "de" else "en"
    time_format = "%d.%m.%Y %H:%M" if lang == "de" else "%Y-%m-%d %H:%M"
    rows = []
    for rec, geom in zip(_export_records(frame), _wgs84_points(frame)):
        rows.append(
            {
                "id": rec["id"] or "",
                "workshop": rec["workshop"] or "",
                "feeling": _label(domain.FEELINGS, rec["feeling"], lang),
                "reasons": "; ".join(_label(domain.REASONS, r, lang) for r in (rec["reasons"] or "").split(",") if r),
                "time_of_day": _label(domain.TIMES_OF_DAY, rec["time_of_day"], lang),
                "comment": rec["comment"] or "",
                "created_at": "" if rec["created_at"] is None
                else rec["created_at"].tz_convert(domain.LOCAL_TZ).strftime(time_format),
                "lat": geom.y if geom is not None else np.nan,
                "lon": geom.x if geom is not None else np.nan,
            }
        )
    out = defuse_formulas(pd.DataFrame(rows, columns=[*EXPORT_COLUMNS, "lat", "lon"]))
    if lang == "de":
        text = out.to_csv(index=False, sep=";", decimal=",", float_format="%.6f", lineterminator="\r\n")
        return text.encode("utf-8-sig")
    return out.to_csv(index=False, float_format="%.6f").encode("utf-8")


def _export_records(frame: pd.DataFrame) -> list[dict]:
    """The export columns as plain Python values (None for missing); ``workshop`` is the caller's
    column of that name (e.g. titles) if present, else the workshop id."""
    data = pd.DataFrame(frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame)
    if "workshop" not in data.columns:
        data = data.assign(workshop=data["workshop_id"] if "workshop_id" in data.columns else None)
    records = []
    for raw in data.reindex(columns=EXPORT_COLUMNS).to_dict("records"):
        rec = {k: (None if _missing(v) else v) for k, v in raw.items()}
        for column in ("id", "workshop", "feeling", "reasons", "time_of_day", "comment"):
            if rec[column] is not None:
                rec[column] = str(rec[column])
        if rec["created_at"] is not None:
            ts = pd.Timestamp(rec["created_at"])
            rec["created_at"] = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        records.append(rec)
    return records


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and the like
        return False


def _wgs84_points(frame: pd.DataFrame) -> list:
    if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
        return [None] * len(frame)
    geoms = frame.geometry
    if frame.crs is not None and not frame.crs.equals(domain.STORE_CRS):
        geoms = geoms.to_crs(domain.STORE_CRS)
    return [None if g is None or g.is_empty else g for g in geoms]


def _label(vocab: dict[str, domain.Term], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    term = vocab.get(key)
    return term.label(lang) if term else key


# -- helpers ------------------------------------------------------------------------------

_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()
# a forked child must not inherit locks held by threads that do not exist there
os.register_at_fork(after_in_child=_PROCESS_LOCKS.clear)


def _process_lock(path: Path) -> threading.Lock:
    """One lock per workshop file and process, shared by all ``WorkshopStore`` objects on it."""
    key = os.path.realpath(path)
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.Lock())


def _queued(observation_id: str) -> str:
    return (
        f"observation {observation_id} is queued but could not be stored within {SUBMIT_TIMEOUT_SECONDS:.0f} s; "
        "it will be stored with the next entry"
    )


def _iso_date(value: str | Date) -> str:
    if isinstance(value, Date):
        return value.isoformat()[:10]
    try:
        return Date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise WorkshopError(f"invalid date {value!r}; expected YYYY-MM-DD") from None


def _new_workshop_id() -> str:
    return "W-" + secrets.token_hex(4)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _fresh(make, taken: set) -> str:
    for _ in range(1000):
        value = make()
        if value not in taken:
            return value
    raise RuntimeError("could not find a free identifier")  # pragma: no cover - 1e9 codes


def _casefold(s: pd.Series) -> pd.Series:
    return s.astype(str).str.casefold() if s.dtype == object else s


def _observation_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows).reindex(columns=OBSERVATION_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    geometry = [Point(r["lon"], r["lat"]) for r in rows]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=domain.STORE_CRS)


def _normalise_observations(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoSeries([], crs=domain.STORE_CRS)
    attrs = pd.DataFrame(frame.drop(columns=[geometry.name], errors="ignore")).reindex(columns=OBSERVATION_COLUMNS)
    attrs["hidden"] = attrs["hidden"].fillna(0).astype("int64")
    attrs["created_at"] = pd.to_datetime(attrs["created_at"], utc=True)
    out = gpd.GeoDataFrame(attrs, geometry=geometry.to_numpy(), crs=domain.STORE_CRS)
    return out.sort_values(["created_at", "id"], kind="stable")


def _workshop_dict(row: Mapping) -> dict:
    out = {c: row.get(c) for c in WORKSHOP_COLUMNS}
    districts = out["districts"]
    out["districts"] = [d for d in districts.split(",") if d] if isinstance(districts, str) else []
    out["open"] = bool(int(out["open"]))
    return out


def _observation_dict(row: Mapping) -> dict:
    out = {c: row.get(c) for c in OBSERVATION_COLUMNS}
    out["reasons"] = [r for r in (out["reasons"] or "").split(",") if r]
    out["hidden"] = bool(out["hidden"])
    out["lon"], out["lat"] = row["lon"], row["lat"]
    return out
