"""All caching of the dashboard lives here.

Data-dependent work is keyed on the store's version, so an import shows up on
the next rerun, and filter-dependent work is keyed on the ``Selection``.
Large frames are held with ``cache_resource`` (shared, not copied): callers
must treat them as read-only.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geodata import analysis, domain, gaps, hexbin, hotspots
from geodata.analysis import Prepared, Result, Selection
from loaders import bootstrap
from loaders.store import GeoPackageStore, open_store

_HASH = {Selection: repr}


@st.cache_resource(show_spinner=False)
def store(location: str | None = None) -> GeoPackageStore:
    return open_store(location)


@st.cache_resource(show_spinner=False)
def ensure_data(location: str) -> bool:
    """Create the demo dataset once if the store is empty. True if it did."""
    return bootstrap.ensure_data(store(location))


@st.cache_resource(max_entries=2, show_spinner="Daten werden geladen …")
def prepared(location: str, version: str) -> Prepared:
    return bootstrap.load_prepared(store(location))


@st.cache_resource(max_entries=2, show_spinner=False)
def is_demo(location: str, version: str) -> bool:
    return store(location).is_demo()


@st.cache_resource(max_entries=2, show_spinner=False)
def sources(location: str, version: str):
    return store(location).sources()


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=_HASH)
def analysed(location: str, version: str, selection: Selection) -> Result:
    return analysis.analyse(prepared(location, version), selection)


@st.cache_resource(max_entries=8, show_spinner=False)
def incident_cells(location: str, version: str, resolution: int) -> np.ndarray:
    return hexbin.cells(prepared(location, version).incidents, resolution)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def incident_hexagons(location: str, version: str, selection: Selection, resolution: int):
    result = analysed(location, version, selection)
    cells = incident_cells(location, version, resolution)
    return hexbin.hexagons(pd.Series(cells[result.incidents.index.to_numpy()]))


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def coverage_wgs84(location: str, version: str, selection: Selection):
    """Regular patrol presence for drawing, as a GeoSeries in EPSG:4326: first the
    cells with regular presence in some hour of the filter, then those with
    regular presence in at least half of its hours."""
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    some = analysis.coverage_area(prep, result)
    most = analysis.coverage_area(prep, result, min_share=0.4999)
    return gpd.GeoSeries([shapely.simplify(some, 5.0), shapely.simplify(most, 5.0)], crs=domain.METRIC_CRS).to_crs(domain.STORE_CRS)


def district_at(location: str, version: str, lat: float, lon: float) -> str | None:
    """Code of the district containing a clicked point, or None."""
    districts = prepared(location, version).districts
    hit = districts.sindex.query(shapely.Point(lon, lat), predicate="intersects")
    return str(districts["code"].iloc[hit[0]]) if len(hit) else None


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def week_profile(location: str, version: str, selection: Selection, district: str | None):
    """Incidents, patrol hours and uncovered incidents per weekday and hour (7 x 24 each),
    for the districts in scope or one district. The uncovered ones sum to the
    ranking's "ohne Streife"."""
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    inc = result.incidents if district is None else result.incidents[result.incidents["district"] == district]
    hours = gaps.presence(prep.gaps, result.shift_ok, selection.window, len(prep.districts))
    codes = prep.districts["code"].to_numpy()
    rows = np.isin(codes, result.district_codes) if district is None else codes == district
    uncovered = inc[~inc["covered"]]
    return gaps.incidents_by_week(inc), hours[rows].sum(axis=0), gaps.incidents_by_week(uncovered)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_HASH)
def hotspot_cells(location: str, version: str, selection: Selection):
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    scope = prep.districts[prep.districts["code"].isin(result.district_codes)]
    return hotspots.hotspots(result.incidents, scope, result.incidents["covered"].to_numpy())


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_HASH)
def green_ranking(location: str, version: str, selection: Selection):
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    covered = np.zeros(len(prep.incidents), dtype=bool)
    covered[result.incidents.index[result.incidents["covered"].to_numpy()]] = True
    return gaps.green_ranking(result.green_spaces, prep.gaps, result.incident_mask, covered)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_HASH)
def meeting_report(location: str, version: str, selection: Selection):
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    return gaps.meeting_point_report(prep.meeting_points, prep.facilities, result.incidents, result.meeting_covered)
