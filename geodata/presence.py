"""Regular patrol presence: where and when a patrol is there *as a rule*.

The council's question is "where and when does nobody patrol, as a rule?",
not "was a patrol passing at that minute?". This module answers the first.

Definitions (also in the README and the app's help):

- The city is cut into square cells of ``grid_m`` metres (default 50 m) in
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

DEFAULT_GRID_M = 50.0
DEFAULT_REGULAR_SHARE = 0.5
MIN_MINUTES = 15
SLOTS = 168


@dataclass
class PresenceIndex:
    """Per data version: the grid and the presence records the measure works on."""

    grid_m: float
    x0: float
    y0: float
    nx: int
    lookup: np.ndarray  # (ny * nx) grid position -> city cell number, -1 outside the city
    cell_x: np.ndarray  # centres of the city cells (EPSG:25833)
    cell_y: np.ndarray
    cell_district: np.ndarray  # district position of each cell
    n_districts: int
    # one record per (cell, local day, hour) in which some shift reached the cell,
    # with a bit per (unit, mode) group that did; records point to their
    # (cell, hour of the week) pair
    rec_pair: np.ndarray
    rec_day: np.ndarray
    rec_slot: np.ndarray  # weekday * 24 + hour
    rec_bits: np.ndarray
    pair_cell: np.ndarray  # the (cell, hour of the week) pairs that ever had a patrol
    pair_slot: np.ndarray
    groups: tuple[tuple[str, str], ...]  # bit i <-> groups[i]
    first_day: int | None  # data span (days since epoch), for windows without dates
    last_day: int | None

    @property
    def n_cells(self) -> int:
        return len(self.cell_x)

    def pair_of(self, cells: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Pair number of (cell, hour of the week), -1 where no patrol ever was."""
        cells = np.asarray(cells, dtype=np.int64)
        slots = np.asarray(slots, dtype=np.int64)
        out = np.full(len(cells), -1, dtype=np.int64)
        if not len(self.pair_cell):
            return out
        keys = self.pair_cell * SLOTS + self.pair_slot  # sorted by construction
        want = cells * SLOTS + slots
        pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
        hit = (cells >= 0) & (keys[pos] == want)
        out[hit] = pos[hit]
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
    """(shift, cell) pairs: the cell's centre lies in the shift's footprint.

    A footprint smaller than a cell that holds no centre reaches the cell of
    its representative point, so that no shift is lost to the grid.
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
    """
    if grid_m <= 0:
        raise ValueError(f"grid_m must be positive, got {grid_m!r}")
    x0, y0, nx, lookup, cx, cy, cd = _grid(districts, grid_m)
    empty = np.zeros(0, np.int64)
    index = PresenceIndex(grid_m, x0, y0, nx, lookup, cx, cy, cd, len(districts), empty, empty, empty, empty, empty, empty, (), *data_days)
    if not len(patrols) or not len(slot_shift):
        return index
    combos = pd.MultiIndex.from_arrays([patrols["unit"].astype(str), patrols["mode"].astype(str)])
    group_of_shift, groups = pd.factorize(combos)
    if len(groups) > 63:
        raise ValueError(f"too many (unit, mode) combinations for the presence index: {len(groups)}")
    shift, cell = reached_cells(index, footprints)
    if not len(shift):
        return index
    # expand: every clock hour of a shift (on duty >= MIN_MINUTES) x every cell it reaches
    enough = slot_hours >= MIN_MINUTES / 60
    s_shift = slot_shift[enough]
    s_day = slot_parts["day"].to_numpy().astype(np.int64)[enough]
    s_slot = (slot_parts["weekday"].to_numpy().astype(np.int64) * 24 + slot_parts["hour"].to_numpy().astype(np.int64))[enough]
    order = np.argsort(shift, kind="stable")
    shift, cell = shift[order], cell[order]
    start = np.searchsorted(shift, np.arange(len(patrols)))
    n_cells = np.bincount(shift, minlength=len(patrols))
    reps = n_cells[s_shift]
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    rec_cell = cell[np.repeat(start[s_shift], reps) + offset]
    rec_day = np.repeat(s_day, reps)
    rec_slot = np.repeat(s_slot, reps)
    rec_bits = np.repeat(np.left_shift(np.int64(1), group_of_shift.astype(np.int64))[s_shift], reps)
    if not len(rec_cell):
        return index
    # one record per (cell, day, hour); the groups that were there OR-ed together
    day0 = int(rec_day.min())
    hour = rec_slot % 24
    key = (rec_cell * (int(rec_day.max()) - day0 + 1) + (rec_day - day0)) * 24 + hour
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    cell_u = rec_cell[order][first]
    slot_u = rec_slot[order][first]
    index.rec_day = rec_day[order][first].astype(np.int32)
    index.rec_slot = slot_u.astype(np.int16)
    index.rec_bits = np.bitwise_or.reduceat(rec_bits[order], first)
    pair_keys, index.rec_pair = np.unique(cell_u * SLOTS + slot_u, return_inverse=True)
    index.pair_cell = pair_keys // SLOTS
    index.pair_slot = pair_keys % SLOTS
    index.groups = tuple((str(u), str(m)) for u, m in groups)
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


def allowed_bits(index: PresenceIndex, units=(), modes=()) -> np.int64:
    bits = np.int64(0)
    for i, (unit, mode) in enumerate(index.groups):
        if (not units or unit in units) and (not modes or mode in modes):
            bits |= np.int64(1) << np.int64(i)
    return bits


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
    """Presence share and regular presence per cell and hour of the week for a selection."""
    if not 0 < regular_share <= 1:
        raise ValueError(f"regular_share must lie in (0, 1], got {regular_share!r}")
    slots = window.slot_mask()
    span = period(index, window)
    n_pairs = len(index.pair_cell)
    if span is None or not n_pairs:
        return Presence(np.zeros(n_pairs), np.zeros(n_pairs, dtype=bool), np.zeros(index.n_cells), slots, np.zeros(SLOTS, dtype=np.int64))
    first, last = span
    weeks = weeks_per_slot(first, last)
    ok = (index.rec_day >= first) & (index.rec_day <= last) & slots[index.rec_slot]
    ok &= (index.rec_bits & allowed_bits(index, units, modes)) != 0
    counts = np.bincount(index.rec_pair[ok], minlength=n_pairs)
    w = weeks[index.pair_slot]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(w > 0, counts / np.maximum(w, 1), 0.0)
    share[~slots[index.pair_slot]] = 0.0
    reg = share >= regular_share - 1e-12
    n_slots = int(slots.sum())
    hours = np.bincount(index.pair_cell[reg], minlength=index.n_cells) / n_slots if n_slots else np.zeros(index.n_cells)
    return Presence(share, reg, hours, slots, weeks)


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
    if not len(areas) or not index.n_cells:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    geoms = areas.to_crs(METRIC_CRS).geometry.to_numpy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    tree = shapely.STRtree(np.where(valid, geoms, None))
    cell, area = tree.query(shapely.points(index.cell_x, index.cell_y), predicate="within")
    has = np.zeros(len(geoms), dtype=bool)
    has[area] = True
    lonely = np.flatnonzero(valid & ~has)
    if len(lonely):
        rep = shapely.point_on_surface(geoms[lonely])
        c = index.cell_of(shapely.get_x(rep), shapely.get_y(rep))
        keep = c >= 0
        area = np.concatenate([area, lonely[keep]])
        cell = np.concatenate([cell, c[keep]])
    return area.astype(np.int64), cell.astype(np.int64)


def coverage_geometry(index: PresenceIndex, presence: Presence, min_share: float = 0.0):
    """Cells with regular presence in more than ``min_share`` of the window's hours
    (at least one hour when 0), dissolved into one geometry (EPSG:25833)."""
    per_cell = presence.regular_hours
    pick = np.flatnonzero(per_cell > min_share) if min_share > 0 else np.flatnonzero(per_cell > 0)
    if not len(pick):
        return shapely.Polygon()
    h = index.grid_m / 2
    boxes = shapely.box(index.cell_x[pick] - h, index.cell_y[pick] - h, index.cell_x[pick] + h, index.cell_y[pick] + h)
    return shapely.union_all(boxes, grid_size=0.01)


def local_slots(times: pd.Series) -> np.ndarray:
    """Hour of the week (weekday * 24 + hour, local time) of UTC timestamps."""
    parts = local_parts(times)
    return parts["weekday"].to_numpy().astype(np.int64) * 24 + parts["hour"].to_numpy().astype(np.int64)
