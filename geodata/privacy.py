"""Who may see what: the access policy per role, and small-count suppression.

The policy is applied on the server before anything is rendered: layers a
role may not see are never built, incident points and descriptions never
leave the server below ``council``, and counts below the threshold are
suppressed wherever incidents are shown aggregated.
"""

from __future__ import annotations

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
