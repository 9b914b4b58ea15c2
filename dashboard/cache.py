"""All caching of the dashboard lives here.

Data-dependent work is keyed on the store's version, so an import shows up on
the next rerun, and filter-dependent work is keyed on the ``Selection``.
Large frames are held with ``cache_resource`` (shared, not copied): callers
must treat them as read-only.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from streamlit.logger import get_logger

from geodata import analysis, domain, gaps, hexbin, hotspots, privacy
from geodata.analysis import Prepared, Result, Selection
from geodata.timewindow import TimeWindow
from loaders import bootstrap
from loaders.paths import DEFAULT_DB
from loaders.store import GeoPackageStore, open_store

_log = get_logger(__name__)  # Streamlit's logging setup (level ``logger.level``, to stderr)

_HASH = {Selection: repr, TimeWindow: repr}
HOTSPOT_RESOLUTION = 9  # the H3 cells of the Gi* hot spots


def default_location() -> str:
    """The store the app opens: ``ATLAS_DB``, else the project's default GeoPackage."""
    return os.environ.get("ATLAS_DB") or str(DEFAULT_DB)


def warm_up(location: str) -> None:
    """Started with the server: the heavy imports, demo data on an empty store, the
    prepared data and what a first visit's map page computes (the default filter's
    analysis for every role's disclosure threshold, its key figures, hexagons and
    patrol coverage), so the first sign-in finds them ready (a visitor arriving
    meanwhile waits for the same work, never repeats it). A failure is left to the
    first visit, which reports it."""
    started = time.perf_counter()
    try:
        # libraries only: a Streamlit component (streamlit-folium) must be declared by a
        # script run, or the server would not serve its frontend
        import folium  # noqa: F401
        import folium.plugins  # noqa: F401
        import plotly.express  # noqa: F401
        import plotly.graph_objects  # noqa: F401

        ensure_data(location)
        version = store(location).version()
        prepared(location, version)
        selection = default_selection()
        for k in sorted({privacy.policy(role).min_count for role in ("council", "workshop", "public")}):
            released(location, version, selection, k)
            totals(location, version, selection, k)
            incident_hexagons(location, version, selection, hexbin.resolution_for_zoom(None), k)
        coverage_wgs84(location, version, selection)
    except Exception:  # noqa: BLE001 - reported by the page that needs the data
        _log.exception("warm-up failed; the first visit will try again")
    else:
        _log.info("warm-up finished in %.1f s", time.perf_counter() - started)


def default_selection() -> Selection:
    """The filter a visit opens with when its address holds none (the map page's default)."""
    from dashboard import state, ui  # ui draws the pages and imports this module

    return state.from_params({}, (), ui.centre_name()).selection


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
def patrol_presence(location: str, version: str, window, units: tuple, modes: tuple):
    """Regular patrol presence (and the incidents it covers) for a time window, units and modes:
    kept while only categories, sources or districts change."""
    return analysis.patrol_presence(prepared(location, version), Selection(window=window, units=units, modes=modes))


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=_HASH)
def analysed(location: str, version: str, selection: Selection) -> Result:
    patrols = patrol_presence(location, version, selection.window, selection.units, selection.modes)
    return analysis.analyse(prepared(location, version), selection, patrols)


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=_HASH)
def released(location: str, version: str, selection: Selection, k: int) -> Result:
    """The analysis as a role with disclosure threshold ``k`` may receive it: the
    district table's counts released by the cell key method (``privacy``), with
    rates, scores, shares and ranks computed from them. ``k <= 1``: unchanged."""
    result = analysed(location, version, selection)
    if k <= 1:
        return result
    return replace(result, districts=privacy.release_districts(result.districts, result.incidents, k))


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def totals(location: str, version: str, selection: Selection, k: int) -> dict[str, float]:
    """Key figures, each released as a cell of its own: all incidents in the filter,
    uncovered ones, ones with a patrol nearby, and those outside the centre."""
    result = analysed(location, version, selection)
    inc = result.incidents
    codes = result.districts.loc[result.districts["is_centre"], "code"]
    parts = {
        "incidents": inc,
        "uncovered": inc[~inc["covered"]],
        "nearby": inc[inc["patrol_nearby"]],
        "outside_centre": inc[~inc["district"].isin(codes)],
    }
    return {name: privacy.release_total(frame["ckey"].to_numpy(), k) for name, frame in parts.items()}


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def district_breakdown(location: str, version: str, selection: Selection, code: str, k: int):
    """Incidents of one district (``code=None``: all in the filter) by category and by hour (released counts)."""
    inc = analysed(location, version, selection).incidents
    sel = inc if code is None else inc[inc["district"] == code]
    by_cat = privacy.release_by(sel["category"], sel["ckey"], k)
    by_cat = by_cat.sort_values(ascending=False, na_position="last")
    by_hour = privacy.release_by(sel["hour"].astype(int), sel["ckey"], k, range(24))
    return by_cat, by_hour


@st.cache_resource(max_entries=8, show_spinner=False)
def incident_cells(location: str, version: str, resolution: int) -> np.ndarray:
    return hexbin.cells(prepared(location, version).incidents, resolution)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def incident_hexagons(location: str, version: str, selection: Selection, resolution: int, k: int = 1,
                      window: tuple[float, float, float, float] | None = None):
    """Incidents per H3 hexagon; counts released for ``k > 1`` (NaN: suppressed).
    ``window`` (lon/lat box): only the hexagons with an incident inside it, each with all its incidents."""
    result = analysed(location, version, selection)
    cells = pd.Series(incident_cells(location, version, resolution)[result.incidents.index.to_numpy()])
    if window is not None and len(cells):
        geom = result.incidents.geometry
        keep = hexbin.in_cells_touching(cells.to_numpy(), geom.x.to_numpy(), geom.y.to_numpy(), window)
        result = replace(result, incidents=result.incidents[keep])
        cells = cells[keep].reset_index(drop=True)
    hexes = hexbin.hexagons(cells)
    if k > 1 and len(hexes):
        shown = privacy.release_by(cells.to_numpy(), result.incidents["ckey"].to_numpy(), k, hexes["cell"].to_numpy())
        hexes["count"] = shown.to_numpy()
    return hexes


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


@st.cache_resource(max_entries=32, show_spinner=False)
def map_shell(basemap: str, bounds: tuple | None, lang: str, present: bool, assets_prefix: str):
    """The base map as streamlit-folium sends it, rendered once per basemap, city bounds,
    language and presentation mode (``assets_prefix``: where the self-hosted assets are served)."""
    import folium

    from dashboard import mapview, ui

    fmap = mapview.base_map(basemap, bounds, lang)
    if present:  # the map fills its frame, which the presentation style sizes to the window
        fmap.get_root().header.add_child(folium.Element(ui.PRESENT_MAP_CSS))
    return mapview.map_shell(fmap)


@st.cache_resource(max_entries=256, show_spinner=False)
def layer(name: str, key: tuple, _build) -> tuple[str, str, object]:
    """One map layer as ``(digest, script, extra)``, built once per ``key``.

    ``key`` must hold everything the layer depends on (data version, selection,
    role's threshold, language, colouring…): layers are shared between sessions.
    ``_build()`` returns the feature group and anything drawn with it (a legend's classes)."""
    from dashboard import mapview

    built = _build()
    group, extra = built if isinstance(built, tuple) else (built, None)
    return mapview.digest(name, key), mapview.layer_script(group, name), extra


def district_at(location: str, version: str, lat: float, lon: float) -> str | None:
    """Code of the district containing a clicked point, or None."""
    districts = prepared(location, version).districts
    hit = districts.sindex.query(shapely.Point(lon, lat), predicate="intersects")
    return str(districts["code"].iloc[hit[0]]) if len(hit) else None


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=_HASH)
def week_profile(location: str, version: str, selection: Selection, district: str | None, k: int = 1):
    """Incidents, patrol hours and uncovered incidents per weekday and hour (7 x 24 each),
    for the districts in scope or one district. The uncovered ones sum to the
    ranking's "ohne Streife". Incident counts released for ``k > 1`` (NaN: suppressed)."""
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    inc = result.incidents if district is None else result.incidents[result.incidents["district"] == district]
    hours = gaps.presence(prep.gaps, result.shift_ok, selection.window, len(prep.districts))
    codes = prep.districts["code"].to_numpy()
    rows = np.isin(codes, result.district_codes) if district is None else codes == district
    uncovered = inc[~inc["covered"]]
    if k > 1:
        grids = [privacy.release_grid(f["weekday"], f["hour"], f["ckey"], k) for f in (inc, uncovered)]
        return grids[0], hours[rows].sum(axis=0), grids[1]
    return gaps.incidents_by_week(inc), hours[rows].sum(axis=0), gaps.incidents_by_week(uncovered)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_HASH)
def hotspot_cells(location: str, version: str, selection: Selection, k: int = 1):
    """Gi* cells; their incident counts released for ``k > 1`` (the statistics use true counts)."""
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    scope = prep.districts[prep.districts["code"].isin(result.district_codes)]
    inc = result.incidents
    cells = incident_cells(location, version, HOTSPOT_RESOLUTION)[inc.index.to_numpy()]  # computed once per data version
    out = hotspots.hotspots(inc, scope, inc["covered"].to_numpy(), resolution=HOTSPOT_RESOLUTION, cell_ids=cells)
    if k > 1 and len(out):
        unc = ~inc["covered"].to_numpy()
        out["count"] = privacy.release_by(cells, inc["ckey"].to_numpy(), k, out["cell"].to_numpy()).to_numpy()
        out["uncovered"] = privacy.release_by(cells[unc], inc["ckey"].to_numpy()[unc], k, out["cell"].to_numpy()).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out["coverage_share"] = np.where(out["count"] > 0, 1 - out["uncovered"] / out["count"], np.nan)
    return out


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_HASH)
def green_ranking(location: str, version: str, selection: Selection, k: int = 1):
    """Green spaces by incidents and uncovered incidents inside (released for ``k > 1``)."""
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    covered = np.zeros(len(prep.incidents), dtype=bool)
    covered[result.incidents.index[result.incidents["covered"].to_numpy()]] = True
    out = gaps.green_ranking(result.green_spaces, prep.gaps, result.incident_mask, covered)
    if k > 1 and len(out):
        index = prep.gaps
        use = result.incident_mask[index.green_incident] if len(index.green_incident) else np.zeros(0, bool)
        g, inc = index.green_space[use], index.green_incident[use]
        keys = prep.incidents["ckey"].to_numpy()[inc]
        unc = ~covered[inc]
        out["incidents"] = privacy.release_by(g, keys, k, out.index.to_numpy()).to_numpy()
        out["incidents_uncovered"] = privacy.release_by(g[unc], keys[unc], k, out.index.to_numpy()).to_numpy()
    return out


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_HASH)
def meeting_report(location: str, version: str, selection: Selection):
    prep = prepared(location, version)
    result = analysed(location, version, selection)
    return gaps.meeting_point_report(prep.meeting_points, prep.facilities, result.incidents, result.meeting_covered)
