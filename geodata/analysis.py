"""From stored layers to the figures the map shows, for one selection.

``prepare`` does the work that depends only on the data (local times, district
of every point, patrol footprints, green space per district) and runs once per
data version. ``analyse`` applies a ``Selection`` (the filters) and is what runs
after every filter change, so it sticks to masks, one union and a few
intersections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata import coverage, domain, figures, gaps, presence, privacy
from geodata.timewindow import TimeWindow, local_parts, moments_in_window, shifts_in_window


_PROCESS_SECRET = os.urandom(32)


@dataclass(frozen=True)
class Selection:
    """Everything the sidebar filters. Empty tuples mean "all"."""

    window: TimeWindow = field(default_factory=TimeWindow)
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # district codes
    outside_centre: bool = False
    centre: str = domain.DEFAULT_CENTRE_DISTRICT  # district name or code


@dataclass
class Prepared:
    districts: gpd.GeoDataFrame
    green_spaces: gpd.GeoDataFrame
    patrols: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame  # + district, day, hour, weekday, x_m, y_m (EPSG:25833), ckey (record key)
    meeting_points: gpd.GeoDataFrame  # + district
    facilities: gpd.GeoDataFrame  # + district
    crime_stats: pd.DataFrame
    footprints: gpd.GeoDataFrame  # EPSG:25833, aligned with patrols
    green_by_district: gpd.GeoDataFrame  # EPSG:25833, aligned with districts
    gaps: gaps.GapIndex  # which shift could cover which incident, shift hours, …

    @property
    def date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        if not len(self.incidents):
            return None, None
        day = self.incidents["day"]
        epoch = pd.Timestamp("1970-01-01")
        return epoch + pd.Timedelta(days=int(day.min())), epoch + pd.Timedelta(days=int(day.max()))


@dataclass
class Result:
    selection: Selection
    incidents: gpd.GeoDataFrame  # the selected incidents, + covered (bool)
    active_shifts: np.ndarray  # boolean mask over patrols: on duty in the window, unit and mode
    presence: presence.Presence  # regular presence per grid cell and hour of the week
    districts: gpd.GeoDataFrame  # district figures and gap ranking (all districts)
    green_spaces: gpd.GeoDataFrame  # + coverage_share
    district_codes: tuple[str, ...]  # the districts in scope
    shift_ok: np.ndarray  # boolean mask over patrols: unit and mode only (for covered incidents)
    incident_mask: np.ndarray  # boolean mask over all incidents: the selection
    meeting_covered: np.ndarray  # per meeting point: regular presence in some hour of the filter


def prepare(
    frames: Mapping[str, pd.DataFrame],
    reach: Mapping[str, float] | None = None,
    tolerance_min: int = gaps.DEFAULT_TOLERANCE_MIN,
    regular_share: float = presence.DEFAULT_REGULAR_SHARE,
    grid_m: float = presence.DEFAULT_GRID_M,
    record_secret: bytes | None = None,
) -> Prepared:
    """The once-per-data-version work. ``record_secret`` keys the incidents' record
    keys for disclosure control (``privacy``); without one a random secret of
    this process is used."""
    districts = frames["districts"].reset_index(drop=True)
    incidents = figures.assign_district(frames["incidents"].reset_index(drop=True), districts)
    parts = local_parts(incidents["occurred_at"]) if len(incidents) else pd.DataFrame(
        {"day": pd.Series([], dtype="int32"), "hour": pd.Series([], dtype="int8"), "weekday": pd.Series([], dtype="int8")}
    )
    incidents = pd.concat([incidents, parts], axis=1)
    ids = incidents["id"] if "id" in incidents else pd.Series(np.arange(len(incidents)))
    incidents["ckey"] = privacy.record_keys(ids.to_numpy(), record_secret or _PROCESS_SECRET) if len(incidents) else np.zeros(0)
    if len(incidents):
        metric = incidents.geometry.to_crs(domain.METRIC_CRS)
        incidents["x_m"], incidents["y_m"] = metric.x.to_numpy(), metric.y.to_numpy()
    else:
        incidents["x_m"], incidents["y_m"] = np.zeros(0), np.zeros(0)
    patrols = frames["patrols"].reset_index(drop=True)
    green = frames["green_spaces"].reset_index(drop=True)
    prints = coverage.footprints(patrols, reach) if len(patrols) else gpd.GeoDataFrame(geometry=[], crs=domain.METRIC_CRS)
    meeting = figures.assign_district(frames["meeting_points"].reset_index(drop=True), districts)
    return Prepared(
        districts=districts,
        green_spaces=green,
        patrols=patrols,
        incidents=incidents,
        meeting_points=meeting,
        facilities=figures.assign_district(frames["facilities"].reset_index(drop=True), districts),
        crime_stats=frames["crime_stats"],
        footprints=prints,
        green_by_district=figures.green_by_district(green, districts),
        gaps=gaps.build_index(incidents, patrols, prints, districts, green, tolerance_min, meeting, regular_share, grid_m),
    )


def districts_in_scope(prep: Prepared, sel: Selection) -> tuple[str, ...]:
    d = prep.districts
    codes = d["code"].tolist() if not sel.districts else [c for c in d["code"] if c in set(sel.districts)]
    if sel.outside_centre:
        centre = set(d.loc[d["name"].eq(sel.centre) | d["code"].eq(sel.centre), "code"])
        codes = [c for c in codes if c not in centre]
    return tuple(codes)


def incident_mask(prep: Prepared, sel: Selection, codes: tuple[str, ...]) -> np.ndarray:
    inc = prep.incidents
    if not len(inc):
        return np.zeros(0, dtype=bool)
    mask = moments_in_window(inc[["day", "hour", "weekday"]], sel.window)
    if sel.categories:
        mask &= inc["category"].isin(sel.categories).to_numpy()
    if sel.sources:
        mask &= inc["source"].isin(sel.sources).to_numpy()
    if sel.districts or sel.outside_centre:
        mask &= inc["district"].isin(codes).to_numpy()
    return mask


def unit_mask(prep: Prepared, sel: Selection) -> np.ndarray:
    """Shifts of the selected units and modes, at any time."""
    p = prep.patrols
    mask = np.ones(len(p), dtype=bool)
    if sel.units:
        mask &= p["unit"].isin(sel.units).to_numpy()
    if sel.modes:
        mask &= p["mode"].isin(sel.modes).to_numpy()
    return mask


def shift_mask(prep: Prepared, sel: Selection) -> np.ndarray:
    p = prep.patrols
    if not len(p):
        return np.zeros(0, dtype=bool)
    mask = shifts_in_window(p["start"], p["end"], sel.window) & unit_mask(prep, sel)
    return mask


def patrol_presence(prep: Prepared, sel: Selection) -> tuple[presence.Presence, np.ndarray]:
    """Regular patrol presence for the selection's time window, units and modes, and which
    incidents (of all) it covers. Depends on nothing else in the selection, so a caller may
    keep it across changes of categories, sources or districts and pass it to ``analyse``."""
    pres = gaps.regular_presence(prep.gaps, sel.window, sel.units, sel.modes)
    return pres, gaps.covered_regular(prep.gaps, pres)


def analyse(prep: Prepared, sel: Selection, patrols: tuple[presence.Presence, np.ndarray] | None = None) -> Result:
    """The figures for one selection; ``patrols`` is ``patrol_presence(prep, sel)`` if already known."""
    codes = districts_in_scope(prep, sel)
    selected = incident_mask(prep, sel, codes)
    shift_ok = unit_mask(prep, sel)
    index = prep.gaps
    pres, covered_all = patrols if patrols is not None else patrol_presence(prep, sel)
    nearby_all = gaps.covered_flags(index, len(prep.incidents), shift_ok)
    inc = prep.incidents[selected].assign(covered=covered_all[selected], patrol_nearby=nearby_all[selected])
    active = shift_mask(prep, sel)
    table = figures.district_figures(
        prep.districts,
        inc,
        None,
        prep.green_by_district,
        prep.meeting_points,
        prep.facilities,
        prep.crime_stats,
        centre=sel.centre,
    )
    # coverage: share of the area's cells x the filter's hours with regular presence
    table["coverage_share"] = presence.district_shares(index.presence, pres)
    green_cells = np.unique(index.green_cell)
    green_share = presence.area_shares(pres, green_cells, index.presence.cell_district[green_cells], len(prep.districts))
    table["green_coverage_share"] = np.where(table["green_km2"] > 0, np.nan_to_num(green_share, nan=0.0), np.nan)
    table["in_scope"] = table["code"].isin(codes)
    uncovered = inc.loc[~inc["covered"], "district"].value_counts() if len(inc) else pd.Series(dtype=int)
    table["incidents_uncovered"] = table["code"].map(uncovered).fillna(0).astype(int)
    nearby = inc.loc[inc["patrol_nearby"], "district"].value_counts() if len(inc) else pd.Series(dtype=int)
    table["incidents_patrol_nearby"] = table["code"].map(nearby).fillna(0).astype(int)
    table = gaps.rank_districts(table)
    hours = gaps.presence(index, shift_ok, sel.window, len(prep.districts)).reshape(len(prep.districts), -1).sum(axis=1)
    table = gaps.need_supply(table, hours)
    mp = prep.meeting_points
    if len(mp):
        regular_hours = pres.regular_hours
        cell = index.meeting_cell
        mp_covered = np.where(cell >= 0, regular_hours[np.maximum(cell, 0)] > 0, False)
    else:
        mp_covered = np.zeros(0, dtype=bool)
    outside = mp[mp["status"].eq("active").to_numpy() & ~mp_covered] if len(mp) else mp
    table["meeting_points_uncovered"] = table["code"].map(outside["district"].value_counts() if len(outside) else {}).fillna(0).astype(int)
    green = prep.green_spaces.copy()
    if len(green):
        share = presence.area_shares(pres, index.green_cell, index.green_area, len(green))
        green["coverage_share"] = np.nan_to_num(share, nan=0.0)
    else:
        green["coverage_share"] = []
    return Result(sel, inc, active, pres, table, green, codes, shift_ok, selected, mp_covered)


def coverage_area(prep: Prepared, result: Result, min_share: float = 0.0):
    """Cells with regular presence in some hour of the filter (or in more than
    ``min_share`` of its hours), as one geometry in EPSG:25833."""
    return presence.coverage_geometry(prep.gaps.presence, result.presence, min_share)
