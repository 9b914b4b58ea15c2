"""Who may see what: the access policy per role, and disclosure control of counts.

The policy is applied on the server before anything is rendered: layers a
role may not see are never built, incident points and descriptions never
leave the server below ``council``, and every count of incidents a lower role
receives goes through one disclosure control.

Disclosure control: the cell key method
---------------------------------------
Suppressing counts below a threshold is not enough: a count of 1 can be
recovered from a rate and the population it was computed on, from a total
minus its other parts, or from the difference of two filters (all categories
against all but one). The statistical offices' answer to exactly these attacks
on flexible tables is the *cell key method* (ABS TableBuilder; the German
Zensus 2022 publishes its tables with it), used here as follows:

- Every incident has a secret, fixed *record key*, uniform in [0, 1): a keyed
  hash (BLAKE2b) of its id with a server secret that never leaves the server.
- A *cell* is any group of incidents that is counted (a district, an hour of
  the week, a hexagon, a category bar, a total). Its *cell key* is the
  fractional part of the sum of its records' keys.
- The released count is the true count plus noise in -2..+2 looked up from
  the cell key (probabilities 5/20/50/20/5 %). The same set of incidents gets
  the same noise under every filter (asking again does not average it away);
  a set that differs by one incident gets independent noise.
- Counts whose true or released value lies below the threshold (default 3) are
  suppressed; zero stays zero (nobody to protect).
- Rates, scores and shares are computed from released counts and suppressed
  with them; totals are released as cells of their own, not as sums of
  released parts.

So a lower role can never compute a small count exactly: a rate times its
population gives the released count, and every difference of released counts
carries the noise of two independent cells. Council and admin (threshold 1)
see true counts.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_MIN_COUNT = 3
ALL_LAYERS = frozenset({"districts", "green", "coverage", "incidents", "hotspots", "meeting", "facilities"})


@dataclass(frozen=True)
class Policy:
    role: str
    layers: frozenset  # map layers this role may see
    pages: frozenset  # page keys this role may open
    incident_points: bool  # exact incident locations, popups and descriptions
    meeting_points: bool  # far-right meeting points: layer, tables, counts
    min_count: int  # aggregated counts below this are suppressed (1: none)
    district_only: bool = False  # only district-level figures (public)

    def suppress(self, frame: pd.DataFrame, columns) -> pd.DataFrame:
        return suppress_small(frame, columns, self.min_count)


def min_count() -> int:
    try:
        return max(1, int(os.environ.get("ATLAS_MIN_COUNT", DEFAULT_MIN_COUNT)))
    except ValueError:
        return DEFAULT_MIN_COUNT


def policy(role: str) -> Policy:
    """The policy of a role; unknown roles get nothing."""
    k = min_count()
    if role in ("admin", "council"):
        pages = {"karte", "luecken", "workshop", "info"} | ({"importieren", "protokoll"} if role == "admin" else set())
        return Policy(role, ALL_LAYERS, frozenset(pages), True, True, 1)
    if role == "workshop":
        return Policy(
            role,
            ALL_LAYERS - {"meeting"},
            frozenset({"karte", "luecken", "workshop", "info"}),
            incident_points=False,
            meeting_points=False,
            min_count=k,
        )
    if role == "public":
        return Policy(role, frozenset({"districts"}), frozenset({"karte", "info"}), False, False, k, district_only=True)
    return Policy(role, frozenset(), frozenset(), False, False, k, district_only=True)


def suppress_small(frame: pd.DataFrame, columns, k: int) -> pd.DataFrame:
    """Replace counts 1..k-1 by missing values (zero stays: it identifies nobody)."""
    if k <= 1:
        return frame
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            values = pd.to_numeric(out[col], errors="coerce")
            out[col] = values.where(~((values > 0) & (values < k)), np.nan)
    return out


def suppress_array(counts: np.ndarray, k: int) -> np.ndarray:
    """The same for an array of counts (e.g. an hour x weekday grid)."""
    if k <= 1:
        return counts
    out = np.asarray(counts, dtype=float).copy()
    out[(out > 0) & (out < k)] = np.nan
    return out


# -- cell key method --------------------------------------------------------------

NOISE = np.array([-2, -1, 0, 1, 2])
NOISE_P = np.array([0.05, 0.20, 0.50, 0.20, 0.05])
MAX_NOISE = int(np.abs(NOISE).max())
_NOISE_CDF = np.cumsum(NOISE_P)


def record_keys(ids, secret: bytes) -> np.ndarray:
    """Record keys in [0, 1): a keyed hash of each id (stable for a given secret)."""
    if not secret:
        raise ValueError("record keys need a secret")
    out = np.empty(len(ids), dtype=float)
    for i, value in enumerate(ids):
        digest = hashlib.blake2b(str(value).encode("utf-8"), key=secret[:64], digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / 2.0**64
    return out


def noise(cell_keys) -> np.ndarray:
    """The perturbation of cells with these cell keys."""
    idx = np.searchsorted(_NOISE_CDF, np.asarray(cell_keys, dtype=float) % 1.0, side="right")
    return NOISE[np.minimum(idx, len(NOISE) - 1)]


def release(n, keysum, k: int) -> np.ndarray:
    """Released counts (float; NaN = suppressed) of cells with true counts ``n`` and
    record-key sums ``keysum``. With ``k <= 1`` the true counts."""
    n = np.asarray(n, dtype=float)
    if k <= 1:
        return n.copy()
    out = n + noise(np.asarray(keysum, dtype=float) % 1.0)
    out = np.where(n == 0, 0.0, out)
    small = (n > 0) & ((n < k) | (out < k))
    return np.where(small, np.nan, out)


def release_by(labels, keys, k: int, index=None) -> pd.Series:
    """Released counts of the records grouped by ``labels`` (one per record), on ``index``
    (default: the labels present); labels without records count 0."""
    labels = pd.Series(np.asarray(labels, dtype=object))
    keys = np.asarray(keys, dtype=float)
    grouped = pd.DataFrame({"label": labels, "key": keys}).groupby("label", sort=False)["key"].agg(["size", "sum"])
    if index is not None:
        grouped = grouped.reindex(pd.Index(index, dtype=object), fill_value=0)
    return pd.Series(release(grouped["size"].to_numpy(), grouped["sum"].to_numpy(), k), index=grouped.index)


def release_total(keys, k: int) -> float:
    """The released count of one cell holding these records."""
    keys = np.asarray(keys, dtype=float)
    return float(release(np.array([len(keys)]), np.array([keys.sum()]), k)[0])


def release_grid(weekday, hour, keys, k: int) -> np.ndarray:
    """Released counts per weekday and hour: array (7, 24), NaN where suppressed."""
    slot = np.asarray(weekday, dtype=int) * 24 + np.asarray(hour, dtype=int)
    n = np.bincount(slot, minlength=168)
    keysum = np.bincount(slot, weights=np.asarray(keys, dtype=float), minlength=168)
    return release(n, keysum, k).reshape(7, 24)


def release_districts(table: pd.DataFrame, incidents: pd.DataFrame, k: int, small: int = 5) -> pd.DataFrame:
    """The district table as a role with threshold ``k`` may receive it.

    ``table`` is ``analysis.Result.districts``; ``incidents`` the selected
    incidents with ``district``, ``covered``, ``patrol_nearby`` and ``ckey``.
    Counts are released per cell; every rate, score, share and rank is computed
    again from the released counts (NaN where a count is suppressed). ``small``
    is the gap ranking's smallest count to rank.
    """
    if k <= 1:
        return table
    out = table.copy()
    codes = out["code"].to_numpy()
    inc = incidents
    for col, mask in (
        ("incidents", None),
        ("incidents_uncovered", ~inc["covered"].to_numpy(dtype=bool) if "covered" in inc else None),
        ("incidents_patrol_nearby", inc["patrol_nearby"].to_numpy(dtype=bool) if "patrol_nearby" in inc else None),
    ):
        if col not in out:
            continue
        if col != "incidents" and mask is None:
            out[col] = np.nan
            continue
        sel = inc if mask is None else inc[mask]
        out[col] = release_by(sel["district"], sel["ckey"], k, codes).to_numpy()
    pop = pd.to_numeric(out.get("population"), errors="coerce")
    with np.errstate(divide="ignore", invalid="ignore"):
        if "incidents_per_1000" in out:
            out["incidents_per_1000"] = np.where(pop > 0, out["incidents"] / pop * 1000, np.nan)
        if "incidents_per_km2" in out:
            out["incidents_per_km2"] = np.where(out["area_km2"] > 0, out["incidents"] / out["area_km2"], np.nan)
    if "small_count" in out:
        out["small_count"] = out["incidents"].isna() | (out["incidents"] < small)
    if "gap_score" in out:
        unc = out["incidents_uncovered"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["gap_score"] = np.where(pop > 0, unc / pop * 1000, np.nan)
        out["too_small"] = unc.isna() | (unc < small)
        rankable = out["in_scope"].astype(bool) & ~out["too_small"] & out["gap_score"].notna()
        order = out[rankable].sort_values(["gap_score", "incidents_uncovered"], ascending=False).index
        out["rank"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
        out.loc[order, "rank"] = np.arange(1, len(order) + 1)
    if "incident_share" in out:
        scope = out["in_scope"].to_numpy(dtype=bool)
        total = release_total(inc["ckey"].to_numpy(), k) if len(inc) else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out["incident_share"] = np.where(scope & (total > 0), out["incidents"] / total, np.nan)
            out["supply_ratio"] = np.where(out["incident_share"] > 0, out["patrol_hour_share"] / out["incident_share"], np.nan)
    return out
