"""Gap analysis: where incidents happen and nobody patrols, as a rule.

Definitions (also in the README and the app's help):

- An incident is *covered* when it happened at a place and hour of the week
  with *regular patrol presence* (``geodata.presence``: a patrol was within
  reach there in that hour in at least half of the weeks of the period);
  otherwise it is *uncovered* ("ohne Streife"). Every page, table, map,
  heatmap, report and CSV uses this one definition.
- *Patrol nearby* ("Streife direkt in der Nähe"), a second, stricter figure:
  the incident lies in the footprint of a shift that was on duty within
  ±``tolerance`` minutes (default 60) of its time.
- *Patrol hours*: per district and hour of the week (168 slots). A shift
  contributes the part of each clock hour it is on duty, spread over the
  districts its footprint touches in proportion to the footprint's area in
  each (of the part inside the city).
- *Gap score* of a district: uncovered incidents per 1,000 inhabitants. Counts
  stand beside every rate; districts with fewer than 5 uncovered incidents are
  flagged as too small to rank.
- *Need against supply*: a district's share of the incidents in the filter
  against its share of the patrol hours in the filter.

The expensive parts (presence records per cell and hour, which shift could
cover which incident, shift hours, footprint shares per district, incidents
and cells in green spaces) are computed once per data version by
``build_index``; everything after a filter change works on those arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata import presence as presence_mod
from geodata.domain import METRIC_CRS
from geodata.timewindow import TimeWindow, local_parts, moments_in_window

DEFAULT_TOLERANCE_MIN = 60
SMALL_COUNT = 5
NEAR_M = 300.0
YOUTH_KINDS = ("youth_club", "school_social_work", "counselling", "youth_vocational")


@dataclass
class GapIndex:
    """Per data version: the arrays the gap analysis works on."""

    pair_incident: np.ndarray  # (incident, shift) pairs: the shift could cover the incident
    pair_shift: np.ndarray
    slot_shift: np.ndarray  # one row per shift and local clock hour on duty
    slot_parts: pd.DataFrame  # day, hour, weekday of each slot
    slot_hours: np.ndarray  # share of the hour on duty
    weight_shift: np.ndarray  # footprint share of a shift in a district
    weight_district: np.ndarray  # district position
    weight_value: np.ndarray
    green_incident: np.ndarray  # (incident, green space) pairs
    green_space: np.ndarray
    tolerance_min: int
    presence: presence_mod.PresenceIndex  # grid cells and presence records
    incident_cell: np.ndarray  # grid cell of each incident (-1 outside the city)
    incident_pair: np.ndarray  # (cell, hour of the week) pair of each incident (-1: never patrolled)
    green_area: np.ndarray  # (green space, cell) pairs
    green_cell: np.ndarray
    meeting_cell: np.ndarray  # grid cell of each meeting point
    regular_share: float = presence_mod.DEFAULT_REGULAR_SHARE


def _metric_xy(points: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in EPSG:25833; uses the ``x_m``/``y_m`` columns when ``prepare`` added them."""
    if "x_m" in points.columns and "y_m" in points.columns:
        return points["x_m"].to_numpy(), points["y_m"].to_numpy()
    metric = points.geometry.to_crs(METRIC_CRS)
    return metric.x.to_numpy(), metric.y.to_numpy()


def _ms(times: pd.Series) -> np.ndarray:
    """UTC timestamps as integer milliseconds."""
    return pd.DatetimeIndex(times).as_unit("ms").asi8


def cover_pairs(incidents: gpd.GeoDataFrame, patrols: pd.DataFrame, footprints: gpd.GeoDataFrame, tolerance_min: int = DEFAULT_TOLERANCE_MIN):
    """All (incident, shift) pairs where the shift's footprint holds the incident and
    the shift was on duty within ±tolerance of the incident's time."""
    if not len(incidents) or not len(patrols):
        return np.zeros(0, int), np.zeros(0, int)
    t = _ms(incidents["occurred_at"])
    order = np.argsort(t, kind="stable")
    t_sorted = t[order]
    tol = tolerance_min * 60_000
    start = _ms(patrols["start"]) - tol
    end = _ms(patrols["end"]) + tol
    lo = np.searchsorted(t_sorted, start, side="left")
    hi = np.searchsorted(t_sorted, end, side="right")
    n = hi - lo
    shift = np.repeat(np.arange(len(patrols)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    inc = order[np.repeat(lo, n) + offset]
    if len(inc) == 0:
        return inc, shift
    x, y = _metric_xy(incidents)
    geoms = footprints.geometry.to_numpy()
    shapely.prepare(geoms)
    inside = shapely.contains_xy(geoms[shift], x[inc], y[inc]) | shapely.intersects_xy(geoms[shift], x[inc], y[inc])
    return inc[inside], shift[inside]


def shift_slots(patrols: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Each shift's local clock hours with the share of each hour it is on duty."""
    if not len(patrols):
        return np.zeros(0, int), pd.DataFrame({"day": [], "hour": [], "weekday": []}), np.zeros(0)
    start = pd.DatetimeIndex(patrols["start"])
    end = pd.DatetimeIndex(patrols["end"])
    first = start.floor("h")
    n = np.maximum(1, np.ceil(np.asarray((end - first) / pd.Timedelta(hours=1), dtype=float)).astype(int))
    n = np.minimum(n, 24 * 31)
    shift = np.repeat(np.arange(len(patrols)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    slot_start = first[shift] + pd.to_timedelta(offset, unit="h")
    ns = lambda index: index.as_unit("ns").asi8  # noqa: E731
    on = np.minimum(ns(slot_start) + 3_600_000_000_000, ns(end)[shift]) - np.maximum(ns(slot_start), ns(start)[shift])
    hours = np.clip(on / 3.6e12, 0.0, 1.0)
    parts = local_parts(pd.Series(slot_start))
    return shift, parts.reset_index(drop=True), hours


def district_weights(footprints: gpd.GeoDataFrame, districts: gpd.GeoDataFrame):
    """Share of each footprint's area in each district (sparse: shift, district, share).

    Identical footprints (the same post, area or route on many days) are cut
    with the districts once.
    """
    if not len(footprints) or not len(districts):
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    all_fp = footprints.geometry.to_numpy()
    first, inverse = np.unique(shapely.to_wkb(all_fp), return_index=True, return_inverse=True)[1:]
    fp = all_fp[first]
    dist = districts.to_crs(METRIC_CRS).geometry.to_numpy()
    tree = shapely.STRtree(dist)
    u, d = tree.query(fp, predicate="intersects")
    area = shapely.area(shapely.intersection(fp[u], dist[d]))
    # shares of the part inside the districts: a shift at the city edge still counts in full
    total = np.bincount(u, weights=area, minlength=len(fp))[u]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, area / total, 0.0)
    keep = share > 0
    u, d, share = u[keep], d[keep], share[keep]
    # back to shifts: every shift gets the pieces of its footprint
    order = np.argsort(u, kind="stable")
    u, d, share = u[order], d[order], share[order]
    start = np.searchsorted(u, np.arange(len(fp)))
    n = np.bincount(u, minlength=len(fp))[inverse]
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    pos = np.repeat(start[inverse], n) + offset
    return np.repeat(np.arange(len(all_fp)), n), d[pos], share[pos]


def green_pairs(incidents: gpd.GeoDataFrame, green: gpd.GeoDataFrame):
    if not len(incidents) or not len(green):
        return np.zeros(0, int), np.zeros(0, int)
    tree = shapely.STRtree(green.geometry.to_numpy())
    inc, g = tree.query(incidents.geometry.to_numpy(), predicate="intersects")
    return inc, g


def _data_days(incidents: pd.DataFrame, slot_parts: pd.DataFrame) -> tuple[int | None, int | None]:
    """First and last local day of incidents and patrol hours together."""
    days = [frame["day"].to_numpy() for frame in (incidents, slot_parts) if "day" in frame and len(frame)]
    if not days:
        return None, None
    joined = np.concatenate(days)
    return int(joined.min()), int(joined.max())


def build_index(
    incidents,
    patrols,
    footprints,
    districts,
    green,
    tolerance_min: int = DEFAULT_TOLERANCE_MIN,
    meeting_points=None,
    regular_share: float = presence_mod.DEFAULT_REGULAR_SHARE,
    grid_m: float = presence_mod.DEFAULT_GRID_M,
) -> GapIndex:
    """``incidents`` need the columns of ``analysis.prepare`` (day, hour, weekday, x_m, y_m)."""
    pi, ps = cover_pairs(incidents, patrols, footprints, tolerance_min)
    slot_shift, slot_parts, slot_hours = shift_slots(patrols)
    ws, wd, wv = district_weights(footprints, districts)
    gi, gg = green_pairs(incidents, green)
    pres = presence_mod.build(districts, patrols, footprints, slot_shift, slot_parts, slot_hours,
                              _data_days(incidents, slot_parts), grid_m)
    if len(incidents):
        x, y = _metric_xy(incidents)
        inc_cell = pres.cell_of(x, y)
        inc_slot = incidents["weekday"].to_numpy().astype(np.int64) * 24 + incidents["hour"].to_numpy().astype(np.int64)
        inc_pair = pres.pair_of(inc_cell, inc_slot)
    else:
        inc_cell = inc_pair = np.zeros(0, np.int64)
    ga, gc = presence_mod.area_cells(pres, green) if len(green) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if meeting_points is not None and len(meeting_points):
        mxy = meeting_points.geometry.to_crs(METRIC_CRS)
        m_cell = pres.cell_of(mxy.x.to_numpy(), mxy.y.to_numpy())
    else:
        m_cell = np.zeros(0, np.int64)
    return GapIndex(pi, ps, slot_shift, slot_parts, slot_hours, ws, wd, wv, gi, gg, tolerance_min,
                    pres, inc_cell, inc_pair, ga, gc, m_cell, float(regular_share))


# -- after a filter change ---------------------------------------------------

def regular_presence(index: GapIndex, window: TimeWindow, units=(), modes=()) -> presence_mod.Presence:
    """Regular presence per grid cell and hour of the week for a selection."""
    return presence_mod.regular(index.presence, window, units, modes, index.regular_share)


def covered_regular(index: GapIndex, pres: presence_mod.Presence) -> np.ndarray:
    """Which incidents (all of them, by position) happened at a place and hour with regular presence."""
    return presence_mod.covered_incidents(pres, index.incident_pair)


def covered_flags(index: GapIndex, n_incidents: int, shift_ok: np.ndarray) -> np.ndarray:
    """Which incidents (all of them, by position) had an allowed shift nearby within
    ±tolerance minutes (the strict measure, "patrol nearby")."""
    covered = np.zeros(n_incidents, dtype=bool)
    if len(index.pair_incident):
        ok = np.asarray(shift_ok, dtype=bool)[index.pair_shift]
        covered[index.pair_incident[ok]] = True
    return covered


def presence(index: GapIndex, shift_ok: np.ndarray, window: TimeWindow, n_districts: int) -> np.ndarray:
    """Patrol-hours per district and hour of the week: array (districts, 7, 24)."""
    if not len(index.slot_shift) or not len(index.weight_shift):
        return np.zeros((n_districts, 7, 24))
    in_window = moments_in_window(index.slot_parts, window) & np.asarray(shift_ok, dtype=bool)[index.slot_shift]
    slot_of_week = (index.slot_parts["weekday"].to_numpy().astype(np.int64) * 24 + index.slot_parts["hour"].to_numpy())[in_window]
    hours = index.slot_hours[in_window]
    shifts = index.slot_shift[in_window]
    # spread each shift hour over the districts of its footprint (weights are sorted by shift)
    n_shifts = len(shift_ok)
    start = np.searchsorted(index.weight_shift, np.arange(n_shifts))
    count = np.bincount(index.weight_shift, minlength=n_shifts)
    reps = count[shifts]
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    pos = np.repeat(start[shifts], reps) + offset
    key = index.weight_district[pos] * 168 + np.repeat(slot_of_week, reps)
    out = np.bincount(key, weights=np.repeat(hours, reps) * index.weight_value[pos], minlength=n_districts * 168)
    return out.reshape(n_districts, 7, 24)


def incidents_by_week(incidents: pd.DataFrame) -> np.ndarray:
    """Incidents per weekday and hour: array (7, 24); needs ``weekday`` and ``hour`` columns."""
    out = np.zeros(7 * 24, dtype=int)
    if len(incidents):
        np.add.at(out, incidents["weekday"].to_numpy().astype(int) * 24 + incidents["hour"].to_numpy().astype(int), 1)
    return out.reshape(7, 24)


def rank_districts(table: pd.DataFrame) -> pd.DataFrame:
    """Add gap_score, too_small and rank (1 = worst gap) to a district table.

    Needs columns population, incidents_uncovered, in_scope. Only districts in
    scope with at least SMALL_COUNT uncovered incidents get a rank.
    """
    out = table.copy()
    pop = pd.to_numeric(out["population"], errors="coerce")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gap_score"] = np.where(pop > 0, out["incidents_uncovered"] / pop * 1000, np.nan)
    out["too_small"] = out["incidents_uncovered"] < SMALL_COUNT
    rankable = out["in_scope"] & ~out["too_small"] & out["gap_score"].notna()
    order = out[rankable].sort_values(["gap_score", "incidents_uncovered"], ascending=False).index
    out["rank"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out.loc[order, "rank"] = np.arange(1, len(order) + 1)
    return out


def green_ranking(green: gpd.GeoDataFrame, index: GapIndex, selected: np.ndarray, covered: np.ndarray) -> gpd.GeoDataFrame:
    """Green spaces with incidents and uncovered incidents inside, worst first.

    ``selected`` and ``covered`` are boolean arrays over all incidents.
    """
    out = green.copy()
    n = len(out)
    use = selected[index.green_incident] if len(index.green_incident) else np.zeros(0, bool)
    g = index.green_space[use]
    inc = index.green_incident[use]
    out["incidents"] = np.bincount(g, minlength=n)
    out["incidents_uncovered"] = np.bincount(g[~covered[inc]], minlength=n)
    out["area_ha"] = out.to_crs(METRIC_CRS).area.to_numpy() / 1e4
    return out.sort_values(["incidents_uncovered", "incidents"], ascending=False)


def meeting_point_report(meeting: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, covered=None) -> gpd.GeoDataFrame:
    """Per meeting point: nearest youth facility and school (m), covered, incidents within 300 m.

    ``covered`` holds one flag per meeting point: regular patrol presence there
    in at least one hour of the filter (None: none).
    """
    out = meeting.copy()
    if not len(out):
        for col in ("youth_facility", "youth_facility_m", "school_m", "covered", "incidents_300m"):
            out[col] = []
        return out
    pts = out.geometry.to_crs(METRIC_CRS).to_numpy()
    fac = facilities.to_crs(METRIC_CRS) if len(facilities) else facilities
    for col, kinds in (("youth_facility_m", YOUTH_KINDS), ("school_m", ("school",))):
        sel = fac[fac["kind"].isin(kinds)] if len(fac) else fac
        if len(sel):
            tree = shapely.STRtree(sel.geometry.to_numpy())
            (i, j), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
            values = np.full(len(pts), np.nan)
            values[i] = dist
            out[col] = values
            if col == "youth_facility_m":
                names = np.full(len(pts), None, dtype=object)
                names[i] = sel["name"].to_numpy()[j]
                out["youth_facility"] = names
        else:
            out[col] = np.nan
            if col == "youth_facility_m":
                out["youth_facility"] = None
    if covered is None:
        out["covered"] = False
    else:
        flags = np.asarray(covered, dtype=bool)
        if flags.shape != (len(out),):
            raise ValueError(f"covered must hold one flag per meeting point, got shape {flags.shape}")
        out["covered"] = flags
    if len(incidents):
        x, y = _metric_xy(incidents)
        px, py = shapely.get_x(pts), shapely.get_y(pts)
        counts = np.zeros(len(pts), dtype=int)
        step = max(1, 20_000_000 // max(1, len(x)))  # bound the distance matrix's memory
        for i in range(0, len(pts), step):
            d2 = (px[i : i + step, None] - x[None, :]) ** 2 + (py[i : i + step, None] - y[None, :]) ** 2
            counts[i : i + step] = (d2 <= NEAR_M**2).sum(axis=1)
        out["incidents_300m"] = counts
    else:
        out["incidents_300m"] = 0
    return out


RANKING_COLUMNS = [
    "rank", "code", "name", "area_km2", "population", "coverage_share", "incidents", "incidents_uncovered",
    "gap_score", "too_small", "incidents_patrol_nearby", "incident_share", "patrol_hours", "patrol_hour_share",
    "green_coverage_share", "meeting_points_uncovered", "is_centre",
]


def need_supply(table: pd.DataFrame, hours: np.ndarray) -> pd.DataFrame:
    """Add need against supply to a district table (all districts, ``in_scope`` column).

    ``hours`` are the patrol hours per district in the filter (aligned with the
    table). Shares are of the districts in scope: ``incident_share`` of their
    incidents, ``patrol_hour_share`` of their patrol hours;
    ``supply_ratio`` = patrol_hour_share / incident_share (below 1: fewer
    patrol hours than the district's share of the incidents).
    """
    out = table.copy()
    out["patrol_hours"] = np.asarray(hours, dtype=float)
    scope = out["in_scope"].to_numpy(dtype=bool)
    n_inc = out.loc[scope, "incidents"].sum()
    n_hours = out.loc[scope, "patrol_hours"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["incident_share"] = np.where(scope & (n_inc > 0), out["incidents"] / max(n_inc, 1), np.nan)
        out["patrol_hour_share"] = np.where(scope & (n_hours > 0), out["patrol_hours"] / max(n_hours, 1e-12), np.nan)
        out["supply_ratio"] = np.where(out["incident_share"] > 0, out["patrol_hour_share"] / out["incident_share"], np.nan)
    return out


def ranking_table(result) -> pd.DataFrame:
    """The districts in scope, worst gap first; districts too small to rank at the end."""
    table = result.districts[result.districts["in_scope"]]
    table = table.assign(_r=table["rank"].astype("Float64").fillna(np.inf)).sort_values(["_r", "incidents_uncovered"], ascending=[True, False])
    return pd.DataFrame(table[RANKING_COLUMNS]).reset_index(drop=True)


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: plain numbers, None for missing values."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if value is pd.NA or (isinstance(value, float) and not np.isfinite(value)):
                value = None
            elif isinstance(value, (np.integer,)):
                value = int(value)
            elif isinstance(value, (np.floating,)):
                value = float(value)
            elif isinstance(value, np.bool_):
                value = bool(value)
            clean[key] = round(value, 4) if isinstance(value, float) else value
        out.append(clean)
    return out
