"""Regular patrol presence: where and when a patrol is there *as a rule*.

The council's question is "where and when does nobody patrol, as a rule?",
not "was a patrol passing at that minute?". This module answers the first.

Definitions (also in the README and the app's help):

- The city is cut into square cells of ``grid_m`` metres (default 100 m) in
  EPSG:25833. A cell belongs to the district its centre lies in.
- A shift *reaches* a cell when the cell's centre lies in the shift's
  footprint (its track, post or area buffered by the reach of its mode).
- *Presence share* of a cell in an hour of the week (Monday 20:00–20:59, …):
  the share of the weeks of the period in which some shift reached the cell
  while on duty for at least ``MIN_MINUTES`` minutes of that clock hour. The
  period is the filter's date range (or, without one, the whole data span);
  only shifts of the selected units and modes count.
- A cell has *regular presence* in an hour of the week when its presence share
  is at least ``regular_share`` (default 0.5: in at least every second week).
- An incident is *covered* when its cell had regular presence in the hour of
  the week in which it happened. Everything else is *uncovered* ("ohne
  Streife").
- *Coverage* of an area (district, green space) is the same thing measured
  over area and time: the share of (cell, hour of the week) pairs of the area
  and the filter's hours that have regular presence.

Everything that does not depend on the filters (which cells each shift
reaches, the shift's clock hours, each incident's cell) is computed once per
data version by ``build``; ``regular`` then works on flat arrays and runs in
milliseconds after a filter change.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.domain import METRIC_CRS
from geodata.timewindow import TimeWindow, local_parts

DEFAULT_GRID_M = 100.0
DEFAULT_REGULAR_SHARE = 0.5
MIN_MINUTES = 15
SLOTS = 168


@dataclass
class PresenceIndex:
    """Per data version: the grid and the presence records the measure works on.

    A record holds, for one cell, one local day and one (unit, mode) group, the
    clock hours in which a shift of that group reached the cell, as a 24-bit
    mask. Records are sorted by (cell, weekday, day, group): the records of one
    (cell, day) form a *segment*, the segments of one (cell, weekday) a *key*.
    A key's 24 hours are the (cell, hour of the week) *pairs* the measure is
    reported on: pair = key * 24 + hour.
    """

    grid_m: float
    x0: float
    y0: float
    nx: int
    lookup: np.ndarray  # (ny * nx) grid position -> city cell number, -1 outside the city
    cell_x: np.ndarray  # centres of the city cells (EPSG:25833)
    cell_y: np.ndarray
    cell_district: np.ndarray  # district position of each cell
    n_districts: int
    rec_day: np.ndarray  # local day (days since epoch)
    rec_weekday: np.ndarray
    rec_group: np.ndarray  # position in ``groups``
    rec_mask: np.ndarray  # bit h set: reached in clock hour h
    seg_start: np.ndarray  # first record of each (cell, day) segment
    key_seg_start: np.ndarray  # first segment of each (cell, weekday) key
    key_cell: np.ndarray
    key_weekday: np.ndarray
    groups: tuple[tuple[str, str], ...]
    first_day: int | None  # data span (days since epoch), for windows without dates
    last_day: int | None

    @property
    def n_cells(self) -> int:
        return len(self.cell_x)

    @property
    def pair_cell(self) -> np.ndarray:
        return np.repeat(self.key_cell, 24)

    @property
    def pair_slot(self) -> np.ndarray:
        return (self.key_weekday.astype(np.int64)[:, None] * 24 + np.arange(24)[None, :]).ravel()

    def pair_of(self, cells: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Pair number of (cell, hour of the week), -1 where no patrol ever was."""
        cells = np.asarray(cells, dtype=np.int64)
        slots = np.asarray(slots, dtype=np.int64)
        out = np.full(len(cells), -1, dtype=np.int64)
        if not len(self.key_cell):
            return out
        keys = self.key_cell.astype(np.int64) * 7 + self.key_weekday  # sorted by construction
        want = cells * 7 + slots // 24
        pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
        hit = (cells >= 0) & (keys[pos] == want)
        out[hit] = pos[hit] * 24 + slots[hit] % 24
        return out

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """City cell number of metric points, -1 outside the city."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.full(len(x), -1, dtype=np.int64)
        if not len(self.lookup):
            return out
        ny = len(self.lookup) // self.nx
        ok = np.isfinite(x) & np.isfinite(y)
        ix = np.full(len(x), -1, dtype=np.int64)
        iy = np.full(len(x), -1, dtype=np.int64)
        ix[ok] = np.floor((x[ok] - self.x0) / self.grid_m).astype(np.int64)
        iy[ok] = np.floor((y[ok] - self.y0) / self.grid_m).astype(np.int64)
        ok &= (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < ny)
        out[ok] = self.lookup[iy[ok] * self.nx + ix[ok]]
        return out


def _grid(districts: gpd.GeoDataFrame, grid_m: float):
    metric = districts.to_crs(METRIC_CRS).geometry.to_numpy() if len(districts) else np.array([])
    if not len(metric):
        return 0.0, 0.0, 0, np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    minx, miny, maxx, maxy = shapely.total_bounds(metric)
    x0 = np.floor(minx / grid_m) * grid_m
    y0 = np.floor(miny / grid_m) * grid_m
    nx = int(np.ceil((maxx - x0) / grid_m)) + 1
    ny = int(np.ceil((maxy - y0) / grid_m)) + 1
    gx, gy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * grid_m, y0 + (np.arange(ny) + 0.5) * grid_m)
    gx, gy = gx.ravel(), gy.ravel()
    tree = shapely.STRtree(metric)
    pt, dist = tree.query(shapely.points(gx, gy), predicate="intersects")
    first = np.unique(pt, return_index=True)[1]  # a centre on a shared boundary: first district
    pt, dist = pt[first], dist[first]
    lookup = np.full(nx * ny, -1, dtype=np.int64)
    lookup[pt] = np.arange(len(pt))
    return float(x0), float(y0), nx, lookup, gx[pt], gy[pt], dist.astype(np.int64)


def reached_cells(index: PresenceIndex, footprints: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(footprint, cell) pairs: the cell's centre lies in the footprint (EPSG:25833).

    A footprint that holds no centre (smaller than a cell) reaches the cell of
    its representative point, so that no shift is lost to the grid. Also used
    for green spaces (``area_cells``).
    """
    geoms = footprints.geometry.to_numpy() if len(footprints) else np.array([])
    if not len(geoms) or not index.n_cells:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    tree = shapely.STRtree(np.where(valid, geoms, None))
    cell, shift = tree.query(shapely.points(index.cell_x, index.cell_y), predicate="within")
    has = np.zeros(len(geoms), dtype=bool)
    has[shift] = True
    lonely = np.flatnonzero(valid & ~has)
    if len(lonely):
        rep = shapely.point_on_surface(geoms[lonely])
        c = index.cell_of(shapely.get_x(rep), shapely.get_y(rep))
        keep = c >= 0
        shift = np.concatenate([shift, lonely[keep]])
        cell = np.concatenate([cell, c[keep]])
    return shift.astype(np.int64), cell.astype(np.int64)


def _first_of_runs(*columns: np.ndarray) -> np.ndarray:
    """Positions where any of the (sorted) columns changes value: the starts of runs."""
    n = len(columns[0])
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
        for col in columns:
            change[1:] |= col[1:] != col[:-1]
    return np.flatnonzero(change)


def build(
    districts: gpd.GeoDataFrame,
    patrols: pd.DataFrame,
    footprints: gpd.GeoDataFrame,
    slot_shift: np.ndarray,
    slot_parts: pd.DataFrame,
    slot_hours: np.ndarray,
    data_days: tuple[int | None, int | None] = (None, None),
    grid_m: float = DEFAULT_GRID_M,
) -> PresenceIndex:
    """The presence index for one data version.

    ``slot_shift``, ``slot_parts`` and ``slot_hours`` are the shifts' local
    clock hours as returned by ``gaps.shift_slots``; ``footprints`` is aligned
    with ``patrols``; ``data_days`` the first and last local day of the data.
    Shifts with identical footprints (posts, patrol areas, planned routes)
    share the work: their cells are found once.
    """
    if grid_m <= 0:
        raise ValueError(f"grid_m must be positive, got {grid_m!r}")
    x0, y0, nx, lookup, cx, cy, cd = _grid(districts, grid_m)
    e = np.zeros(0, np.int64)
    index = PresenceIndex(grid_m, x0, y0, nx, lookup, cx, cy, cd, len(districts), e, e, e, e, e, e, e, e, (), *data_days)
    if not len(patrols) or not len(slot_shift):
        return index
    combos = pd.MultiIndex.from_arrays([patrols["unit"].astype(str), patrols["mode"].astype(str)])
    group_of_shift, groups = pd.factorize(combos)
    index.groups = tuple((str(u), str(m)) for u, m in groups)
    # identical footprints once
    geoms = footprints.geometry.to_numpy()
    first_shift, print_of_shift = np.unique(shapely.to_wkb(geoms), return_index=True, return_inverse=True)[1:]
    fp, cell = reached_cells(index, footprints.iloc[first_shift])
    if not len(fp):
        return index
    # per (footprint, day, group): the clock hours on duty (>= MIN_MINUTES) as a bit mask
    enough = slot_hours >= MIN_MINUTES / 60
    s = slot_shift[enough]
    day = slot_parts["day"].to_numpy().astype(np.int64)[enough]
    bit = np.left_shift(1, slot_parts["hour"].to_numpy().astype(np.int64)[enough])
    u = print_of_shift[s].astype(np.int64)
    g = group_of_shift[s].astype(np.int64)
    day0 = int(day.min()) if len(day) else 0
    n_days = int(day.max()) - day0 + 1 if len(day) else 1
    key = (u * n_days + (day - day0)) * len(groups) + g
    order = np.argsort(key, kind="stable")
    starts = _first_of_runs(key[order])
    k = key[order][starts]
    mask = np.bitwise_or.reduceat(bit[order], starts) if len(starts) else bit[:0]
    fday = (k // len(groups)) % n_days + day0
    fgrp = k % len(groups)
    fprint = k // len(groups) // n_days
    # expand to every cell each footprint reaches
    order = np.argsort(fp, kind="stable")
    fp, cell = fp[order], cell[order]
    start = np.searchsorted(fp, np.arange(len(first_shift)))
    n_cells = np.bincount(fp, minlength=len(first_shift))
    reps = n_cells[fprint]
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    r_cell = cell[np.repeat(start[fprint], reps) + offset]
    r_day = np.repeat(fday, reps)
    r_grp = np.repeat(fgrp, reps)
    r_mask = np.repeat(mask, reps)
    if not len(r_cell):
        return index
    # one record per (cell, day, group), sorted by (cell, weekday, day, group)
    r_wd = (r_day + 3) % 7  # 1970-01-01 was a Thursday
    key = ((r_cell * 7 + r_wd) * n_days + (r_day - day0)) * len(groups) + r_grp
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = _first_of_runs(key)
    index.rec_mask = np.bitwise_or.reduceat(r_mask[order], starts).astype(np.int32)
    r_cell, r_wd, r_day, r_grp = (a[order][starts] for a in (r_cell, r_wd, r_day, r_grp))
    index.rec_day = r_day.astype(np.int32)
    index.rec_weekday = r_wd.astype(np.int8)
    index.rec_group = r_grp.astype(np.int16)
    index.seg_start = _first_of_runs(r_cell, r_day)
    seg_cell, seg_wd = r_cell[index.seg_start], r_wd[index.seg_start]
    index.key_seg_start = _first_of_runs(seg_cell, seg_wd)
    index.key_cell = seg_cell[index.key_seg_start].astype(np.int64)
    index.key_weekday = seg_wd[index.key_seg_start].astype(np.int64)
    return index


def _day_number(d) -> int:
    return int((pd.Timestamp(d) - pd.Timestamp("1970-01-01")).days)


def period(index: PresenceIndex, window: TimeWindow) -> tuple[int, int] | None:
    """First and last local day (days since epoch) the presence share is taken over."""
    first = _day_number(window.date_from) if window.date_from else index.first_day
    last = _day_number(window.date_to) if window.date_to else index.last_day
    if first is None or last is None or last < first:
        return None
    return first, last


def weeks_per_slot(first: int, last: int) -> np.ndarray:
    """How many times each hour of the week occurs from day ``first`` to ``last``: array (168,)."""
    days = np.arange(first, last + 1)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return np.repeat(np.bincount(weekday, minlength=7), 24)


def allowed_groups(index: PresenceIndex, units=(), modes=()) -> np.ndarray:
    """Boolean per (unit, mode) group: does it count under the unit and mode filters?"""
    return np.array([(not units or u in units) and (not modes or m in modes) for u, m in index.groups], dtype=bool)


@dataclass
class Presence:
    """Regular presence for one selection, on the index's (cell, hour of the week) pairs."""

    share: np.ndarray  # per pair: presence share in the period (0 outside the window's hours)
    regular: np.ndarray  # per pair: regular presence
    regular_hours: np.ndarray  # per cell: share of the window's hours of the week with regular presence
    window_slots: np.ndarray  # (168,) bool: the hours of the week inside the filter
    weeks: np.ndarray  # (168,) weeks of the period per hour of the week

    def grid(self, index: PresenceIndex) -> np.ndarray:
        """Presence share as a dense (cells, 168) array (for inspection and tests)."""
        out = np.zeros((index.n_cells, SLOTS))
        out[index.pair_cell, index.pair_slot] = self.share
        return out


def regular(
    index: PresenceIndex,
    window: TimeWindow,
    units=(),
    modes=(),
    regular_share: float = DEFAULT_REGULAR_SHARE,
) -> Presence:
    """Presence share and regular presence per (cell, hour of the week) pair for a selection."""
    if not 0 < regular_share <= 1:
        raise ValueError(f"regular_share must lie in (0, 1], got {regular_share!r}")
    slots = window.slot_mask()
    span = period(index, window)
    n_pairs = len(index.key_cell) * 24
    if span is None or not n_pairs:
        return Presence(np.zeros(n_pairs), np.zeros(n_pairs, dtype=bool), np.zeros(index.n_cells), slots, np.zeros(SLOTS, dtype=np.int64))
    first, last = span
    weeks = weeks_per_slot(first, last)
    hour_bits = int(np.sum(np.left_shift(1, np.flatnonzero(window.hour_mask()))))
    ok = allowed_groups(index, units, modes)[index.rec_group] & window.weekday_mask()[index.rec_weekday]
    ok &= (index.rec_day >= first) & (index.rec_day <= last)
    m = np.where(ok, index.rec_mask & hour_bits, 0).astype(np.uint32)
    per_day = np.bitwise_or.reduceat(m, index.seg_start)  # one mask per (cell, day)
    counts = _count_hours(per_day, index.key_seg_start)  # (keys, 24): days with presence in each hour
    w = weeks.reshape(7, 24)[index.key_weekday]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(w > 0, counts / np.maximum(w, 1), 0.0)
    share = share.ravel()
    share[~slots[index.pair_slot]] = 0.0
    reg = share >= regular_share - 1e-12
    n_slots = int(slots.sum())
    per_key = reg.reshape(-1, 24).sum(axis=1)
    hours = np.bincount(index.key_cell, weights=per_key, minlength=index.n_cells) / n_slots if n_slots else np.zeros(index.n_cells)
    return Presence(share, reg, hours, slots, weeks)


def _count_hours(masks: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per run of ``masks`` (runs begin at ``starts``): how many masks have bit h set, for h in 0..23.

    The bits are spread into one byte (or two, for runs longer than 255) per
    hour and the runs summed as whole 64-bit words: no field can carry into
    the next, so 24 counters are added in 3 (or 6) additions per mask.
    """
    if not len(masks):
        return np.zeros((0, 24), dtype=np.int64)
    bits = np.unpackbits(masks.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3], axis=1, bitorder="little")
    longest = int(np.diff(np.append(starts, len(masks))).max())
    field = np.uint8 if longest <= 255 else np.uint16
    words = np.ascontiguousarray(bits.astype(field, copy=False)).view(np.uint64)
    sums = np.add.reduceat(words, starts, axis=0)
    return np.ascontiguousarray(sums).view(field).reshape(len(starts), 24).astype(np.int64)


def covered_incidents(presence: Presence, pairs: np.ndarray) -> np.ndarray:
    """Which incidents (by their (cell, hour of the week) pair, -1 for none) happened
    where and when a patrol is there as a rule."""
    pairs = np.asarray(pairs, dtype=np.int64)
    out = np.zeros(len(pairs), dtype=bool)
    ok = pairs >= 0
    out[ok] = presence.regular[pairs[ok]]
    return out


def area_shares(presence: Presence, members: np.ndarray, owners: np.ndarray, n_owners: int) -> np.ndarray:
    """Coverage of areas: share of (cell, window hour) pairs with regular presence.

    ``members`` are cell numbers, ``owners`` the area each belongs to (pairs);
    areas without a cell get NaN.
    """
    per_cell = presence.regular_hours
    total = np.bincount(owners, minlength=n_owners).astype(float)
    hit = np.bincount(owners, weights=per_cell[members], minlength=n_owners)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, hit / total, np.nan)


def district_shares(index: PresenceIndex, presence: Presence) -> np.ndarray:
    """Coverage per district (share of its cells x window hours with regular presence)."""
    cells = np.arange(index.n_cells)
    out = area_shares(presence, cells, index.cell_district, index.n_districts)
    return np.nan_to_num(out, nan=0.0)


def area_cells(index: PresenceIndex, areas: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(area, cell) pairs: cells whose centre lies in the area; an area holding no
    centre gets the cell of its representative point."""
    if not len(areas):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return reached_cells(index, areas.to_crs(METRIC_CRS))


def coverage_geometry(index: PresenceIndex, presence: Presence, min_share: float = 0.0):
    """Cells with regular presence in more than ``min_share`` of the window's hours
    (at least one hour when 0), dissolved into one geometry (EPSG:25833)."""
    per_cell = presence.regular_hours
    pick = np.flatnonzero(per_cell > min_share) if min_share > 0 else np.flatnonzero(per_cell > 0)
    if not len(pick):
        return shapely.Polygon()
    # Squares of one grid never overlap and, rounded to the centimetre, share their edges
    # exactly: a valid coverage, whose union is a matter of milliseconds (union_all: 50x slower).
    h = index.grid_m / 2
    x0, y0 = np.round(index.cell_x[pick] - h, 2), np.round(index.cell_y[pick] - h, 2)
    boxes = shapely.box(x0, y0, np.round(x0 + index.grid_m, 2), np.round(y0 + index.grid_m, 2))
    return shapely.coverage_union_all(boxes)


def local_slots(times: pd.Series) -> np.ndarray:
    """Hour of the week (weekday * 24 + hour, local time) of UTC timestamps."""
    parts = local_parts(times)
    return parts["weekday"].to_numpy().astype(np.int64) * 24 + parts["hour"].to_numpy().astype(np.int64)
