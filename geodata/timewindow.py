"""Time windows: date range, hours of day (may wrap midnight) and weekdays.

Hours are ``(start, end)`` with ``end`` exclusive: ``(8, 18)`` is 08:00–17:59,
``(20, 4)`` is 20:00–03:59 (wrapping midnight), ``(0, 24)`` and any
``start == end`` mean the whole day. The weekday filter applies to the local
calendar day of the moment in question (Monday = 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from geodata.domain import LOCAL_TZ

ALL_WEEKDAYS = frozenset(range(7))


@dataclass(frozen=True)
class TimeWindow:
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    hours: tuple[int, int] = (0, 24)
    weekdays: frozenset[int] = field(default=ALL_WEEKDAYS)

    def hour_mask(self) -> np.ndarray:
        """Boolean array of 24: which local hours are inside the window."""
        start, end = self.hours
        if not (0 <= start <= 24 and 0 <= end <= 24):
            raise ValueError(f"hours must be within 0..24, got {self.hours}")
        hours = np.arange(24)
        start %= 24
        end %= 24
        if start == end:
            return np.ones(24, dtype=bool)
        if start < end:
            return (hours >= start) & (hours < end)
        return (hours >= start) | (hours < end)

    def weekday_mask(self) -> np.ndarray:
        mask = np.zeros(7, dtype=bool)
        mask[list(self.weekdays)] = True
        return mask

    def slot_mask(self) -> np.ndarray:
        """Boolean array of 168 hour-of-week slots (weekday * 24 + hour)."""
        return (self.weekday_mask()[:, None] & self.hour_mask()[None, :]).ravel()

    @property
    def is_all_day(self) -> bool:
        return bool(self.hour_mask().all())


def local_parts(times: pd.Series) -> pd.DataFrame:
    """Local date (as days since epoch), hour and weekday for UTC timestamps."""
    local = pd.DatetimeIndex(times).tz_convert(LOCAL_TZ)
    days = (local.tz_localize(None).normalize() - pd.Timestamp("1970-01-01")).days
    return pd.DataFrame(
        {
            "day": np.asarray(days, dtype=np.int32),
            "hour": np.asarray(local.hour, dtype=np.int8),
            "weekday": np.asarray(local.day_of_week, dtype=np.int8),
        },
        index=times.index,
    )


def _day_number(d: date | None, default: int) -> int:
    if d is None:
        return default
    return int((pd.Timestamp(d) - pd.Timestamp("1970-01-01")).days)


def moments_in_window(parts: pd.DataFrame, window: TimeWindow) -> np.ndarray:
    """Boolean mask: which moments (from ``local_parts``) fall in the window."""
    day = parts["day"].to_numpy()
    ok = (day >= _day_number(window.date_from, -(10**9))) & (day <= _day_number(window.date_to, 10**9))
    slot = parts["weekday"].to_numpy().astype(np.int16) * 24 + parts["hour"].to_numpy()
    return ok & window.slot_mask()[slot]


def shifts_in_window(starts: pd.Series, ends: pd.Series, window: TimeWindow) -> np.ndarray:
    """Boolean mask: which shifts ``[start, end)`` are on duty at some moment of the window.

    Shifts are expanded into the local clock hours they touch; a shift is
    active when any of those hours lies in the window.
    """
    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    start_h = pd.DatetimeIndex(starts).floor("h")
    end = pd.DatetimeIndex(ends)
    n_hours = np.maximum(1, np.ceil(np.asarray((end - start_h) / pd.Timedelta(hours=1), dtype=float)).astype(int))
    n_hours = np.minimum(n_hours, 24 * 31)  # a shift longer than a month is treated as a month
    owner = np.repeat(np.arange(n), n_hours)
    offset = np.arange(n_hours.sum()) - np.repeat(np.cumsum(n_hours) - n_hours, n_hours)
    slots = pd.Series(start_h[owner] + pd.to_timedelta(offset, unit="h"))
    hit = moments_in_window(local_parts(slots), window)
    return np.bincount(owner[hit], minlength=n) > 0
