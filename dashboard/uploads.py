"""Glue between the import page and the loaders: temp files, check, commit, fetch.

An upload is checked and imported from a private temp copy on disk, one per
upload (a folder ``atlas-upload-<key>`` keyed by the upload's file id). The copy
is removed when the upload is committed, refused, replaced by another file or
cleared; copies of sessions that have ended, and any copy untouched for
``ATLAS_UPLOAD_STALE_MINUTES`` (default 120), are swept on the next use.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders import importer, schema
from loaders import sources as source_registry
from loaders.http import SourceFormatError, SourceUnavailable
from loaders.store import GeoPackageStore

TEMP_PREFIX = "atlas-upload-"
PARTIAL = ".partial"

_owners: dict[str, str] = {}  # staged folder -> session id that staged it
_owners_lock = threading.Lock()


@dataclass
class Checked:
    layer: str
    name: str
    path: Path | None = None
    defaults: dict | None = None
    summary: str = ""
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    error: str = ""


def _safe_name(name: str) -> str:
    """A harmless local file name that keeps the original extension."""
    stem, dot, ext = name.rpartition(".")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", stem or ext)[:60] or "upload"
    return f"{clean}.{re.sub(r'[^A-Za-z0-9]+', '', ext)[:8]}" if dot else clean


# -- temp copies -------------------------------------------------------------------

def temp_root() -> Path:
    return Path(tempfile.gettempdir())


def stale_minutes() -> float:
    try:
        return max(1.0, float(os.environ.get("ATLAS_UPLOAD_STALE_MINUTES", "120")))
    except ValueError:
        return 120.0


def upload_key(upload) -> str:
    """What identifies an upload: its file id, else a hash of its content."""
    file_id = str(getattr(upload, "file_id", "") or "")
    raw = file_id or hashlib.sha256(upload.getvalue()).hexdigest()
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def staged_folder(upload) -> Path:
    return temp_root() / f"{TEMP_PREFIX}{upload_key(upload)}"


def staged_folders() -> list[Path]:
    return sorted(p for p in temp_root().glob(f"{TEMP_PREFIX}*") if p.is_dir() and not p.is_symlink())


def _private_dir(folder: Path) -> None:
    """Create ``folder`` readable by this user only, or accept it if it is already ours."""
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise PermissionError(f"{folder} is not a private folder of this user") from None


def _current_session() -> str | None:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
    except Exception:  # outside the app
        return None
    return ctx.session_id if ctx is not None else None


def stage(upload) -> Path:
    """The upload's temp copy, written once per upload and reused on reruns."""
    folder = staged_folder(upload)
    _private_dir(folder)
    path = folder / _safe_name(upload.name)
    if not path.is_file() or path.stat().st_size != upload.size:
        partial = folder / PARTIAL
        partial.write_bytes(upload.getvalue())
        os.replace(partial, path)
    os.utime(folder)  # in use: not stale
    session = _current_session()
    if session:
        with _owners_lock:
            _owners[str(folder)] = session
    return path


def discard(path: Path | str | None) -> None:
    """Remove a staged copy (given as its file or its folder)."""
    if path is None:
        return
    path = Path(path)
    folder = path if path.name.startswith(TEMP_PREFIX) else path.parent
    if not folder.name.startswith(TEMP_PREFIX) or folder.parent != temp_root():
        return
    shutil.rmtree(folder, ignore_errors=True)
    with _owners_lock:
        _owners.pop(str(folder), None)


def keep_only(upload, session_state) -> None:
    """The session's staged copy follows its upload widget: a replaced or cleared
    upload's copy is removed. ``session_state`` remembers the current folder."""
    current = str(staged_folder(upload)) if upload is not None else None
    previous = session_state.get("_upload_staged")
    if previous and previous != current:
        discard(previous)
    session_state["_upload_staged"] = current


def _session_live(session_id: str) -> bool | None:
    try:
        from streamlit.runtime import Runtime
    except Exception:
        return None
    if not Runtime.exists():
        return None
    return Runtime.instance().is_active_session(session_id)


def sweep(max_age_minutes: float | None = None) -> list[Path]:
    """Remove staged copies of ended sessions and copies untouched for too long."""
    limit = time.time() - 60 * (stale_minutes() if max_age_minutes is None else max_age_minutes)
    removed = []
    with _owners_lock:
        owners = dict(_owners)
    for folder in staged_folders():
        owner = owners.get(str(folder))
        ended = owner is not None and _session_live(owner) is False
        try:
            stale = folder.stat().st_mtime < limit
        except FileNotFoundError:
            continue
        if ended or stale:
            discard(folder)
            removed.append(folder)
    return removed


# -- check and commit ----------------------------------------------------------------

def check_upload(upload, layer: str, defaults: dict | None) -> Checked:
    """Check the upload from its temp copy; a refused upload's copy is removed at once."""
    sweep()
    path = stage(upload)
    out = Checked(layer, upload.name, path, defaults)
    try:
        frame, summary = importer.check(path, layer, name=upload.name, defaults=defaults)
    except importer.ImportFailed as exc:
        discard(path)
        out.path = None
        out.error = "\n".join(exc.lines)
        return out
    out.summary = summary.text()
    preview = pd.DataFrame(frame.drop(columns=frame.geometry.name) if hasattr(frame, "geometry") else frame).head(50)
    if hasattr(frame, "geometry"):
        preview["geometry"] = frame.geometry.head(50).geom_type.to_numpy()
    out.preview = preview.astype(str)
    return out


def commit(store: GeoPackageStore, checked: Checked, mode: str, licence: str) -> Checked:
    """Import a checked upload; its temp copy is removed whatever the outcome."""
    try:
        summary = importer.import_file(store, checked.layer, checked.path, mode=mode, licence=licence, name=checked.name, defaults=checked.defaults)
    except importer.ImportFailed as exc:
        return Checked(checked.layer, checked.name, error="\n".join(exc.lines))
    finally:
        discard(checked.path)
    return Checked(checked.layer, checked.name, summary=summary.text(), preview=pd.DataFrame({"rows": [summary.rows]}))


def sources() -> dict:
    return source_registry.registry()


def fetch(store: GeoPackageStore, name: str) -> tuple[str, bool]:
    """Fetch a source into the store; a one-line message and whether it worked."""
    try:
        source, rows = source_registry.run(store, name)
    except (SourceUnavailable, SourceFormatError, schema.ValidationError) as exc:
        return str(exc), False
    return f"{rows} rows into '{source.layer}' ({source.licence})", True
