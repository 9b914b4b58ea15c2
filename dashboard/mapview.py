"""Building the folium map: a constant base map and one feature group per layer.

The base map (tiles, panes, the browser-side behaviour in map_behaviour.js)
stays the same across reruns, so streamlit-folium keeps the Leaflet map alive:
no flicker, zoom and position are kept. It is rendered once (``map_shell``) and
sent by ``show_map``. The layers reach it as one layer set (``layer_set_script``):
each layer is a script that builds it (``layer_script``, cached by the caller
per data version and inputs) with a digest of those inputs, and the browser
rebuilds only the layers whose digest changed (``atlasSyncLayers``). Every text that reaches a tooltip or popup is HTML-escaped
here, because folium inserts it as HTML.

Each layer has a visual channel of its own (see the colour constants below) and
a legend function whose HTML the page shows beside the map.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components
from branca.element import MacroElement
from folium.template import Template
from streamlit_folium import generate_leaflet_string
from shapely.ops import polylabel

from dashboard import assets
from dashboard.safe import esc
from dashboard.i18n import t, term
from geodata import domain

BASEMAPS = {
    "basemapde": (
        "https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/de_basemapde_web_raster_farbe/default/GLOBAL_WEBMERCATOR/{z}/{y}/{x}.png",
        '&copy; <a href="https://basemap.de">basemap.de</a> / BKG (CC BY 4.0)',
    ),
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-Mitwirkende (ODbL)',
    ),
    "none": (None, None),
}
DEFAULT_BASEMAP = "basemapde"

# Leaflet panes, bottom to top; each layer draws in its own pane. The two fills (the
# district choropleth, the incident hexagons) lie at the bottom, outlines and hatching
# above them, then the points (single incidents in a pane of their own, above the
# green spaces they may lie in). District names and the outlines of the centre and of
# the selected district lie above every marker and let clicks through.
PANES = {"districts": 405, "incidents": 410, "green": 415, "coverage": 420, "hotspots": 425, "incident_points": 428,
         "facilities": 430, "meeting": 440}
TOP_PANES = {"outlines": 450, "labels": 455}

# -- colours: one visual channel per layer -------------------------------------------
# Districts: the chosen metric as the one choropleth (orange to brown; no pale-yellow
# class that a washed-out projector would swallow). Incidents: a purple scale of their
# own. Patrol coverage: a saturated blue fill with its outline. Green spaces: a green
# outline, hatched where they are not regularly patrolled. Hotspots: thick magenta
# outlines, hatched where most incidents are not patrolled. Points: black (meeting
# points), teal (facilities), purple (single incidents), each with a white ring.
# tests/test_legibility.py checks that the layers' colours stay apart (CIEDE2000) and
# that lines and labels stand out from a light basemap (WCAG contrast).
CHOROPLETH_COLOURS = ["#fdb863", "#f98e2f", "#d95f0e", "#a63603", "#6b2508"]
CHOROPLETH_OPACITY = 0.7
NO_DATA = "#bdbdbd"
NO_DATA_OPACITY = 0.35
HEX_COLOURS = ["#c6c2e6", "#a59fd0", "#8073b8", "#62409d", "#3f007d"]
HEX_OPACITY = 0.85
POINT_COLOUR = "#62409d"
COVERAGE_COLOUR = "#0571b0"
COVERAGE_OPACITY = (0.25, 0.45)  # some hours of the filter, at least half of them
GREEN_COLOUR = "#1b7837"
HOT_COLOUR = "#c51b7d"
MEETING_COLOUR = "#000000"
MEETING_INACTIVE = "#737373"
FACILITY_COLOUR = "#00838f"
OUTLINE_COLOUR = "#4d4d4d"  # district borders
CENTRE_COLOUR = "#525252"  # the centre's dashed border
SELECTED_COLOUR = "#000000"
LABEL_COLOUR = "#1a1a1a"
HALO_COLOUR = "#ffffff"
BASEMAP_BACKGROUNDS = ("#f2efe9", "#ffffff")  # typical light basemap colours (land, paper)

# The key colours of each layer as its legend shows them.
LAYER_COLOURS: dict[str, tuple[str, ...]] = {
    "districts": (*CHOROPLETH_COLOURS, NO_DATA),
    "green": (GREEN_COLOUR,),
    "coverage": (COVERAGE_COLOUR,),
    "incidents": (*HEX_COLOURS, POINT_COLOUR),
    "hotspots": (HOT_COLOUR,),
    "meeting": (MEETING_COLOUR,),
    "facilities": (FACILITY_COLOUR,),
    "centre": (CENTRE_COLOUR,),
}
# Lines, marker fills and label text drawn straight onto the basemap.
LINE_COLOURS: dict[str, str] = {
    "district border": OUTLINE_COLOUR,
    "centre border": CENTRE_COLOUR,
    "selected district": SELECTED_COLOUR,
    "green space outline": GREEN_COLOUR,
    "coverage outline": COVERAGE_COLOUR,
    "hotspot outline": HOT_COLOUR,
    "incident point": POINT_COLOUR,
    "meeting point": MEETING_COLOUR,
    "facility": FACILITY_COLOUR,
    "district label": LABEL_COLOUR,
}

# Hatching (SVG patterns made in the browser by map_behaviour.js): "no regular patrol".
# ``angle``: clockwise from vertical, so green (/) and hotspot (\) hatching cross where they meet.
HATCH = {
    "green_none": {"id": "atlas-hatch-green-dense", "colour": GREEN_COLOUR, "spacing": 6, "width": 2.2, "angle": 45},
    "green_part": {"id": "atlas-hatch-green-sparse", "colour": GREEN_COLOUR, "spacing": 12, "width": 1.6, "angle": 45},
    "hot": {"id": "atlas-hatch-hot", "colour": HOT_COLOUR, "spacing": 7, "width": 2.2, "angle": -45},
}
GREEN_PATROLLED = 0.5  # share of a green space with regular patrol from which it is not hatched

POINT_LIMIT = 3000
POINT_ZOOM = 15
STREET_RESOLUTION = 10  # H3 resolution from which the hexagons are drawn around the view only
LABEL_ZOOM = 11.5  # district names from this zoom on (the whole city on a projector: about 11.75)
MIN_ZOOM = 11  # lower still on a small screen, as far as the whole city needs


def basemap_choice() -> str:
    choice = os.environ.get("ATLAS_BASEMAP", DEFAULT_BASEMAP)
    return choice if choice in BASEMAPS else DEFAULT_BASEMAP


def use_local_assets() -> str:
    """Serve the vendored assets and point folium at them (call on every run); returns
    the address they are served under."""
    assets.ensure_installed()
    served = components.declare_component("vendor", path=str(assets.VENDOR_DIR))
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}/component/{served.name}" if base else f"/component/{served.name}"
    js, css = assets.urls(prefix)
    folium.Map.default_js = js
    folium.Map.default_css = css
    return prefix


def base_map(basemap: str, bounds: tuple[float, float, float, float] | None = None, lang: str | None = None) -> folium.Map:
    """The constant part of the map; ``bounds`` (lon/lat) is the city, fitted on first
    draw and by the "Back to Chemnitz" button (labelled in ``lang``, by default the
    session's UI language). The view cannot leave the city's surroundings."""
    home = tuple(float(v) for v in bounds) if bounds is not None else domain.CHEMNITZ_BBOX
    w, s, e, n = (round(v, 3) for v in home)
    m = folium.Map(
        location=list(domain.CHEMNITZ_CENTER),
        zoom_start=12,
        tiles=None,
        control_scale=True,
        max_bounds=True,
        **dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), _reach(home))),
        zoom_snap=0.25,
        zoom_delta=0.5,
        max_bounds_viscosity=1.0,
    )
    m.options.update(min_zoom=MIN_ZOOM, max_zoom=18)  # folium passes these to a tile layer only
    url, attribution = BASEMAPS[basemap]
    if url:
        folium.TileLayer(url, attr=attribution, name=basemap, max_zoom=18, control=False).add_to(m)
    for name, z in PANES.items():
        folium.map.CustomPane(name, z_index=z, pointer_events=True).add_to(m)
    for name, z in TOP_PANES.items():
        folium.map.CustomPane(name, z_index=z, pointer_events=False).add_to(m)
    MapBehaviour([[s, w], [n, e]], lang or _session_language()).add_to(m)
    m.fit_bounds([[s, w], [n, e]])
    return m


def _reach(bounds) -> tuple[float, float, float, float]:
    """How far the map may be panned: the city's box and the given bounds, with a margin."""
    cw, cs, ce, cn = domain.CHEMNITZ_BBOX
    w, s, e, n = bounds
    return (round(min(w, cw) - 0.15, 3), round(min(s, cs) - 0.1, 3), round(max(e, ce) + 0.15, 3), round(max(n, cn) + 0.1, 3))


def _session_language() -> str:
    from dashboard.ui import current_language  # ui imports much of the app; only needed here

    return current_language()


_BEHAVIOUR_DIR = Path(__file__).resolve().parent


class MapBehaviour(MacroElement):
    """The map's behaviour in the browser (``map_behaviour.js``, ``map_behaviour.css``):
    wheel zoom only when the map is active or with Ctrl/⌘, a "Back to Chemnitz" button,
    zoom limits, district labels from ``LABEL_ZOOM`` on, the hatching patterns, and
    popups that stay open when the layers are swapped after a rerun."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}{{ this.js }}
        atlasMapBehaviour({{ this._parent.get_name() }}, {{ this.config }});
        {% endmacro %}
        """
    )

    def __init__(self, home: list[list[float]], lang: str):
        super().__init__()
        self._name = "MapBehaviour"
        config = {
            "home": home,
            "homeLabel": t("map_home", lang),
            "wheelHint": t("map_wheel_hint", lang),
            "minZoom": MIN_ZOOM,
            "floorZoom": 8,
            "zoomMargin": 0.5,
            "labelPane": "labels",
            "labelZoom": LABEL_ZOOM,
            "patterns": list(HATCH.values()),
        }
        # JSON inside a <script>: no "</" can end it early
        self.config = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        self.js = (_BEHAVIOUR_DIR / "map_behaviour.js").read_text(encoding="utf-8")
        self.css = (
            f".leaflet-container{{--atlas-label:{LABEL_COLOUR};--atlas-halo:{HALO_COLOUR}}}\n"
            + (_BEHAVIOUR_DIR / "map_behaviour.css").read_text(encoding="utf-8")
        )


# -- layers as scripts, synchronised in the browser --------------------------------

# coordinates drawn to 1e-5 degrees (about 1 m), without per-feature boxes: half the bytes
# of full precision, for a map that cannot show the difference
DRAW_PRECISION = 1e-5


def geojson(gdf: gpd.GeoDataFrame) -> dict:
    """``gdf`` (EPSG:4326) as a GeoJSON mapping for folium, coordinates rounded to
    ``DRAW_PRECISION`` and no per-feature ``bbox``; the ids are the index as text, as folium
    expects. The same mapping as ``GeoDataFrame.to_geo_dict`` (a test checks it), built by
    pandas' and GEOS' JSON writers instead of a loop over the rows (ten times faster)."""
    import shapely

    geoms = shapely.set_precision(gdf.geometry.to_numpy(), DRAW_PRECISION, mode="pointwise")
    shapes = shapely.to_geojson(geoms)
    props = gdf.drop(columns=gdf.geometry.name)
    rows = json.loads(props.to_json(orient="records", force_ascii=False)) if len(props.columns) else [{}] * len(gdf)
    return {
        "type": "FeatureCollection",
        "features": [
            {"id": str(i), "type": "Feature", "properties": p, "geometry": None if g is None else json.loads(g)}
            for i, p, g in zip(gdf.index, rows, shapes)
        ],
    }


def layer_script(group: folium.FeatureGroup, name: str) -> str:
    """A JavaScript function that builds ``group`` (not yet on a map) and returns it.

    Rendered once against a stand-in map: the layer's own code never refers to the
    map (it is added by ``atlasSyncLayers``), and its variables are local to the
    function, whose argument is the map, so scripts of different layers and runs never collide."""
    host = folium.Map(location=list(domain.CHEMNITZ_CENTER), tiles=None)
    group.add_to(host)
    group.render()
    body = generate_leaflet_string(group, base_id=f"atlas_{name}").replace(host.get_name(), "atlas_map")
    return f"function (atlas_map) {{\n{body}\nreturn {group.get_name()};\n}}"


def digest(*parts) -> str:
    """A short digest of what a layer was built from (the browser keeps a layer while it is unchanged)."""
    import hashlib

    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


# -- the map component: a constant shell and the layer set --------------------------

# streamlit-folium adds and tracks the feature group of this name (st_folium's first
# ``feature_group_to_add``); the layer set declares it empty, so the tracked list stays at one
LAYER_SET_GROUP = "feature_group_feature_group_0"

RETURNED_DEFAULTS = {
    "last_clicked": None,
    "last_object_clicked": None,
    "last_object_clicked_count": None,
    "last_object_clicked_tooltip": None,
    "last_object_clicked_popup": None,
}


@dataclass(frozen=True)
class MapShell:
    """What streamlit-folium sends for the base map, rendered once (``map_shell``):
    the same text on every run, so the live Leaflet map is kept."""

    script: str
    header: str
    html: str
    id: str
    bounds: dict
    zoom: float
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


def map_shell(fmap: folium.Map) -> MapShell:
    """The base map as ``st_folium`` would send it (its own functions), without layers.

    Rendering a folium map compiles a template per element (about 0.1 s); the shell is
    kept by the caller (``cache.map_shell``) and reused on every run."""
    import streamlit_folium as sf

    fmap.get_root().render()
    fmap.render()
    html = sf._get_html(fmap)
    header = sf._get_header(fmap)
    script = sf._get_map_string(fmap)
    (south, west), (north, east) = fmap.get_bounds()
    css, js = [], []

    def walk(element):
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(fmap):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return MapShell(
        script=script,
        header=header,
        html=html,
        id=sf.get_full_id(fmap),
        bounds={"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}},
        zoom=fmap.options.get("zoom"),
        css_links=tuple(dict.fromkeys(css)),
        js_links=tuple(dict.fromkeys(js)),
    )


def layer_set_script(layers: list[tuple[str, str, str]]) -> str:
    """The layers as the script streamlit-folium evaluates after each run.

    ``layers`` is a list of ``(name, digest, script)``. In the browser, a layer whose
    digest is unchanged stays as it is (no rebuild, its popup stays open); the others
    are built and swapped, and layers no longer listed are removed (``atlasSyncLayers``).
    streamlit-folium removes the groups it tracks (``window.feature_group``) and adds this
    one empty group: its list never grows."""
    entries = ",\n".join(f"[{json.dumps(name)}, {json.dumps(key)}, {script}]" for name, key, script in layers)
    return (
        f"var {LAYER_SET_GROUP} = L.featureGroup({{}});\n"
        "window.feature_group = [];\n"
        f"atlasSyncLayers(map_div, [\n{entries}\n]);\n"
        f"map_div.addLayer({LAYER_SET_GROUP});\n"
        "window.feature_group = window.feature_group || [];\n"
        f"window.feature_group.push({LAYER_SET_GROUP});\n"
    )


def show_map(
    shell: MapShell,
    layers: list[tuple[str, str, str]],
    *,
    key: str,
    height: int,
    returned_objects: tuple[str, ...] = (),
    zoom: float | None = None,
    center: list[float] | None = None,
):
    """Draw the map: ``st_folium`` with a pre-rendered shell and the layer set (the same
    component, arguments and returned values; nothing of the shell is rendered again).
    Returns what the browser reported, like ``st_folium``; ``st.session_state[key]`` holds it too."""
    import streamlit_folium as sf

    hash_key = sf.generate_js_hash(shell.script, key, False)

    def _on_change():
        st.session_state[key] = st.session_state.get(hash_key, {})

    defaults = {**RETURNED_DEFAULTS, "bounds": shell.bounds, "zoom": shell.zoom}
    return sf._component_func(
        script=shell.script,
        header=shell.header,
        html=shell.html,
        id=shell.id,
        key=hash_key,
        height=height,
        width="stretch",
        returned_objects=list(returned_objects),
        default={k: v for k, v in defaults.items() if k in returned_objects},
        zoom=zoom,
        center=center,
        feature_group=layer_set_script(layers),
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(shell.css_links),
        js_links=list(shell.js_links),
        on_change=_on_change,
        wrap_longitude=False,
    )


# -- formatting: numbers and shares in the UI language (dashboard.formats) --------

from dashboard import formats as _formats  # noqa: E402

fmt = _formats.number
pct = _formats.percent


def metric_text(row, metric: str, lang: str) -> str:
    """A rate next to the count it is based on."""
    if metric == "incidents_per_1000":
        return f"{fmt(row['incidents_per_1000'], lang, 1)} {t('m_incidents_per_1000', lang)} (n = {fmt(row['incidents'], lang)})"
    if metric == "incidents_per_km2":
        return f"{fmt(row['incidents_per_km2'], lang, 1)} {t('m_incidents_per_km2', lang)} (n = {fmt(row['incidents'], lang)})"
    if metric == "coverage_share":
        covered = row["coverage_share"] * row["area_km2"]
        return f"{pct(row['coverage_share'], lang)} ({fmt(covered, lang, 2)} / {fmt(row['area_km2'], lang, 2)} km²)"
    if metric == "gap_score":
        rank = row.get("rank")
        ranked = f"{t('rank', lang)} {int(rank)}" if rank is not None and not pd.isna(rank) else t("small_note_gap", lang)
        return f"{fmt(row['gap_score'], lang, 1)} (n = {fmt(row['incidents_uncovered'], lang)}) · {ranked}"
    return f"HZ {fmt(row['crime_rate'], lang)} (n = {fmt(row['crime_cases'], lang)})"


# -- classes and colours ---------------------------------------------------

@dataclass
class Classes:
    breaks: list[float]  # upper bounds of the classes
    colours: list[str]
    lowest: float | None = None  # smallest value classed (counts: the first class starts there)

    def colour(self, value) -> str:
        if value is None or pd.isna(value):
            return NO_DATA
        for upper, colour in zip(self.breaks, self.colours):
            if value <= upper:
                return colour
        return self.colours[-1]


def classes(values: pd.Series, colours: list[str]) -> Classes:
    vals = pd.to_numeric(values, errors="coerce").dropna()
    if vals.empty:
        return Classes([0.0], colours[:1])
    qs = np.unique(np.quantile(vals, np.linspace(0, 1, len(colours) + 1)[1:]))
    return Classes(list(qs), colours[-len(qs):] if len(qs) < len(colours) else colours, float(vals.min()))


def count_classes(counts: pd.Series, colours: list[str]) -> Classes:
    """Classes of whole counts: quantile breaks rounded down, so each class is a range of counts."""
    vals = pd.to_numeric(counts, errors="coerce").dropna()
    if vals.empty:
        return Classes([0.0], colours[:1])
    qs = np.unique(np.floor(np.quantile(vals, np.linspace(0, 1, len(colours) + 1)[1:])))
    return Classes([float(q) for q in qs], colours[-len(qs):] if len(qs) < len(colours) else colours, float(vals.min()))


def hex_classes(hexes: gpd.GeoDataFrame, min_count: int = 1) -> Classes:
    """The count classes of the hexagons drawn (cells below ``min_count`` are left out)."""
    counts = hexes["count"] if len(hexes) else pd.Series(dtype=float)
    return count_classes(counts[counts >= min_count], HEX_COLOURS)


def green_hatch(share) -> str | None:
    """The hatching of a green space: dense where it is not regularly patrolled at all
    (rounded 0 %), sparse below ``GREEN_PATROLLED``, none from there on."""
    s = 0.0 if share is None or pd.isna(share) else float(share)
    if s < 0.005:
        return HATCH["green_none"]["id"]
    if s < GREEN_PATROLLED:
        return HATCH["green_part"]["id"]
    return None


# -- layers ----------------------------------------------------------------

def circle_marker(pane: str, **options) -> folium.CircleMarker:
    """A circle marker for GeoJson points, drawn in ``pane`` (folium drops the option)."""
    marker = folium.CircleMarker(**options)
    marker.options["pane"] = pane
    return marker


def tooltip(fields: list[str], aliases: list[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(fields=fields, aliases=[esc(a) for a in aliases], sticky=False)


def districts_layer(table: gpd.GeoDataFrame, metric: str, selected: str | None, lang: str,
                    marks: bool = True) -> tuple[folium.FeatureGroup, Classes]:
    """The districts filled by ``metric`` (the one choropleth) and, with ``marks``, their
    names and borders (``district_marks_layer``; the map page draws those as a layer of
    their own, which no filter changes)."""
    scope = table[table["in_scope"]]
    cls = classes(scope[metric], CHOROPLETH_COLOURS)
    props = pd.DataFrame(
        {
            "district_code": table["code"].map(esc),
            "name": table["name"].map(esc) + np.where(table["is_centre"], f" ({esc(t('centre', lang))})", ""),
            "value": [esc(metric_text(r, metric, lang)) for _, r in table.iterrows()],
            "fill": [cls.colour(v) if s else NO_DATA for v, s in zip(table[metric], table["in_scope"])],
            "scope": table["in_scope"].to_numpy(),
        }
    )
    simple = table.geometry.simplify(0.0001)
    gdf = gpd.GeoDataFrame(props, geometry=simple.to_numpy(), crs=table.crs)

    def style(feature):
        p = feature["properties"]
        return {
            "fillColor": p["fill"],
            "fillOpacity": CHOROPLETH_OPACITY if p["scope"] else NO_DATA_OPACITY,
            "color": OUTLINE_COLOUR,
            "weight": 1.3,
            "opacity": 0.9,
        }

    fg = folium.FeatureGroup(name="districts")
    folium.GeoJson(
        geojson(gdf),
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": SELECTED_COLOUR},
        tooltip=tooltip(["name", "district_code", "value"], [t("col_name", lang), t("col_code", lang), t(f"m_{metric}", lang)]),
        pane="districts",
        name="districts",
    ).add_to(fg)
    if marks:
        for child in list(district_marks_layer(table, selected)._children.values()):
            child.add_to(fg)
    return fg, cls


def district_marks_layer(table: gpd.GeoDataFrame, selected: str | None) -> folium.FeatureGroup:
    """District names, and on top of every marker the centre's dashed border and the
    selected district's outline. Depends on the districts and the choice only."""
    fg = folium.FeatureGroup(name="district_marks")
    simple = table.geometry.simplify(0.0001)
    # outlines above the markers: a white halo under each line keeps it visible on any fill
    lines = [
        (simple[table["is_centre"].to_numpy()], {"color": CENTRE_COLOUR, "weight": 3.5, "dashArray": "9 6"}),
        (simple[(table["code"] == selected).to_numpy()], {"color": SELECTED_COLOUR, "weight": 4}),
    ]
    for geoms, line in lines:
        if not len(geoms):
            continue
        shapes = gpd.GeoDataFrame(geometry=geoms.to_numpy(), crs=table.crs)
        for style_ in ({"color": HALO_COLOUR, "weight": line["weight"] + 3, "opacity": 0.9}, {**line, "opacity": 1}):
            folium.GeoJson(
                geojson(shapes),
                style_function=lambda f, s=style_: {**s, "fill": False},
                pane="outlines",
                interactive=False,
                name="outlines",
            ).add_to(fg)

    for label in _district_labels(table, selected):
        label.add_to(fg)
    return fg


def _district_labels(table: gpd.GeoDataFrame, selected: str | None) -> list[folium.Marker]:
    """District names at a point well inside each district; where labels would overlap
    (map_behaviour.js), the selected district wins, then the centre, then bigger districts."""
    if not len(table):
        return []
    metric = table.to_crs(domain.METRIC_CRS)
    labels = []
    rows = zip(table["code"], table["name"], table["area_km2"], table["is_centre"], metric.geometry)
    for code, name, area, centre, geom in rows:
        if geom is None or geom.is_empty:
            continue
        part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        where = gpd.GeoSeries([polylabel(part, tolerance=20.0)], crs=domain.METRIC_CRS).to_crs(table.crs).iloc[0]
        chosen = code == selected
        priority = 2e6 if chosen else 1e6 if centre else float(area) if pd.notna(area) else 0.0
        html = (
            f'<span class="atlas-label-text{" atlas-label-selected" if chosen else ""}" '
            f'data-priority="{priority:.3f}">{esc(name)}</span>'
        )
        labels.append(
            folium.Marker(
                [round(where.y, 6), round(where.x, 6)],
                icon=folium.DivIcon(html=html, icon_size=(0, 0), class_name="atlas-label"),
                pane="labels",
                interactive=False,
                keyboard=False,
            )
        )
    return labels


def green_layer(green: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    """Green spaces: a green outline; hatched where they are not regularly patrolled."""
    props = pd.DataFrame(
        {
            "name": green["name"].map(esc),
            "kind": green["kind"].map(lambda k: esc(term(domain.GREEN_KINDS, k, lang))),
            "coverage": green["coverage_share"].map(lambda s: pct(s, lang)),
            "_hatch": green["coverage_share"].map(green_hatch),
        }
    )
    gdf = gpd.GeoDataFrame(props, geometry=green.geometry.to_numpy(), crs=green.crs)

    def style(feature):
        hatch = feature["properties"]["_hatch"]
        return {
            "color": GREEN_COLOUR,
            "weight": 2.5,
            "opacity": 1,
            "fillColor": f"url(#{hatch})" if hatch else GREEN_COLOUR,
            "fillOpacity": 1 if hatch else 0.12,
        }

    fg = folium.FeatureGroup(name="green")
    folium.GeoJson(
        geojson(gdf),
        style_function=style,
        tooltip=tooltip(["name", "kind", "coverage"], [t("name", lang), t("kind", lang), t("coverage", lang)]),
        pane="green",
        name="green",
    ).add_to(fg)
    return fg


def coverage_layer(covered: gpd.GeoSeries) -> folium.FeatureGroup:
    """Regular patrol presence: ``covered`` holds the area with regular presence in
    some hour of the filter and, if given, the area with it in most hours (stronger).
    Drawn as a saturated blue with its outline; clicks and hovers reach the districts."""
    fg = folium.FeatureGroup(name="coverage")
    for i, geom in enumerate(covered.iloc[:2]):
        if geom is None or geom.is_empty:
            continue
        style = {"fillColor": COVERAGE_COLOUR, "fillOpacity": COVERAGE_OPACITY[i], "color": COVERAGE_COLOUR,
                 "weight": 2 if i == 0 else 3, "opacity": 1}
        folium.GeoJson(
            geojson(gpd.GeoDataFrame(geometry=[geom], crs=covered.crs)),
            style_function=lambda f, s=style: s,
            pane="coverage",
            interactive=False,
            name="coverage",
        ).add_to(fg)
    return fg


def hex_layer(hexes: gpd.GeoDataFrame, lang: str, min_count: int = 1) -> folium.FeatureGroup:
    """Incident counts per hexagon in the purple scale (``hex_classes``, ``hex_legend``);
    cells with fewer than ``min_count`` incidents are left out."""
    fg = folium.FeatureGroup(name="incidents")
    hexes = hexes[hexes["count"] >= min_count] if len(hexes) else hexes
    if not len(hexes):
        return fg
    cls = hex_classes(hexes, min_count)
    gdf = hexes.assign(fill=hexes["count"].map(cls.colour), n=hexes["count"].map(lambda c: fmt(c, lang)))
    folium.GeoJson(
        geojson(gdf[["n", "fill", "geometry"]]),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": HEX_OPACITY,
                                  "color": HALO_COLOUR, "weight": 0.6, "opacity": 0.8},
        tooltip=tooltip(["n"], [t("l_incidents", lang)]),
        pane="incidents",
        name="incidents",
    ).add_to(fg)
    return fg


def _point_group(pane: str, points: gpd.GeoDataFrame, props: dict, lang: str, detail: str, marker: dict, style=None,
                 name: str | None = None):
    """A feature group (named ``name``, by default ``pane``) of circle markers in ``pane``;
    ``props`` must already be escaped.

    ``detail`` is "popup" or "tooltip": the properties (bar internal ones
    starting with "_") are listed there under their translated names.
    """
    fg = folium.FeatureGroup(name=name or pane)
    if not len(points):
        return fg
    gdf = gpd.GeoDataFrame(pd.DataFrame(props), geometry=points.geometry.to_numpy(), crs=points.crs)
    fields = [k for k in props if not k.startswith("_")]
    aliases = [esc(t(k, lang)) for k in fields]
    details = (
        {"popup": folium.GeoJsonPopup(fields, aliases)}
        if detail == "popup"
        else {"tooltip": folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=False)}
    )
    folium.GeoJson(geojson(gdf), marker=circle_marker(pane, **marker), style_function=style, pane=pane, name=pane, **details).add_to(fg)
    return fg


def hotspot_layer(cells: gpd.GeoDataFrame, lang: str, min_count: int = 1) -> folium.FeatureGroup:
    """Significant hot cells: a thick magenta outline, hatched where most of their
    incidents happened without regular patrol."""
    fg = folium.FeatureGroup(name="hotspots")
    hot = cells[cells["kind"] == "hot"] if len(cells) else cells
    if not len(hot):
        return fg
    props = gpd.GeoDataFrame(
        {
            "n": hot["count"].map(lambda c: fmt(c, lang) if c >= min_count else f"< {min_count}").to_numpy(),
            "z": hot["gi_z"].map(lambda z: fmt(z, lang, 1)).to_numpy(),
            "where": np.where(hot["outside_coverage"], esc(t("hot_outside", lang)), "").astype(object),
            "_outside": hot["outside_coverage"].to_numpy(),
        },
        geometry=hot.geometry.to_numpy(),
        crs=hot.crs,
    )
    folium.GeoJson(
        geojson(props),
        style_function=lambda f: {
            "color": HOT_COLOUR,
            "weight": 4,
            "opacity": 1,
            "fillColor": f"url(#{HATCH['hot']['id']})" if f["properties"]["_outside"] else HOT_COLOUR,
            "fillOpacity": 1 if f["properties"]["_outside"] else 0,
        },
        tooltip=tooltip(["n", "z", "where"], [t("l_incidents", lang), "Gi* z", ""]),
        pane="hotspots",
        name="hotspots",
    ).add_to(fg)
    return fg


def point_layer(points: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    local = pd.DatetimeIndex(points["occurred_at"]).tz_convert(domain.LOCAL_TZ)
    props = {
        "category": points["category"].map(lambda k: esc(term(domain.CATEGORIES, k, lang))).to_numpy(),
        "time": [esc(x.strftime("%d.%m.%Y %H:%M")) for x in local],
        "source": points["source"].map(lambda k: esc(term(domain.SOURCES, k, lang))).to_numpy(),
        "description": points["description"].map(esc).to_numpy() if "description" in points else [""] * len(points),
    }
    marker = dict(radius=6, fill=True, fill_opacity=0.95, color=HALO_COLOUR, fill_color=POINT_COLOUR, weight=1.5)
    return _point_group("incident_points", points, props, lang, "popup", marker, name="incidents")


def meeting_layer(points: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    confirmed = pd.to_datetime(points["last_confirmed"], utc=True)
    props = {
        "label": points["label"].map(esc).to_numpy(),
        "kind": points["kind"].map(esc).to_numpy(),
        "status": points["status"].map(lambda k: esc(term(domain.MEETING_STATUS, k, lang))).to_numpy(),
        "last_confirmed": [esc(x.strftime("%d.%m.%Y")) if not pd.isna(x) else "–" for x in confirmed],
        "_active": points["status"].eq("active").to_numpy(),
    }
    marker = dict(radius=8, fill=True, fill_opacity=1, weight=2)

    def style(feature):
        return {"color": HALO_COLOUR, "fillColor": MEETING_COLOUR if feature["properties"]["_active"] else MEETING_INACTIVE}

    return _point_group("meeting", points, props, lang, "popup", marker, style if len(points) else None)


def facility_layer(points: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    props = {
        "name": points["name"].map(esc).to_numpy(),
        "kind": points["kind"].map(lambda k: esc(term(domain.FACILITY_KINDS, k, lang))).to_numpy(),
    }
    marker = dict(radius=7, fill=True, fill_opacity=1, color=HALO_COLOUR, fill_color=FACILITY_COLOUR, weight=2)
    return _point_group("facilities", points, props, lang, "tooltip", marker)


VIEW_GRID = 0.02  # degrees: the box around the view snaps to this grid, so small pans reuse it
POINT_MARGIN, POINT_GRID = 0.25, 0.005  # single incidents: a narrower margin on a finer grid


def view_window(bounds: dict | None, grid: float = VIEW_GRID, margin: float = 0.5) -> tuple[float, float, float, float] | None:
    """The view (streamlit-folium's bounds) with ``margin`` views of margin on every side,
    snapped outwards to ``grid``: what street-level layers draw, so a pan within the
    margin needs nothing new. None without bounds."""
    try:
        sw, ne = bounds["_southWest"], bounds["_northEast"]
        w, s, e, n = float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    dx, dy = (e - w) * margin, (n - s) * margin
    snap = lambda v, f: round(f(v / grid) * grid, 6)  # noqa: E731
    return (float(snap(w - dx, np.floor)), float(snap(s - dy, np.floor)), float(snap(e + dx, np.ceil)), float(snap(n + dy, np.ceil)))


def points_in_window(points: gpd.GeoDataFrame, window: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    """The points inside a lon/lat box (all of them without one)."""
    if window is None or not len(points):
        return points
    w, s, e, n = window
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    return points[(x >= w) & (x <= e) & (y >= s) & (y <= n)]


# -- legends (drawn beside the map; built only from our own constants) -------
# One block per drawn scale. Swatches show the colours as the map draws them on a
# light basemap (fills at their opacity over white).

def blend(colour: str, opacity: float, background: str = "#ffffff") -> str:
    """``colour`` drawn at ``opacity`` over ``background``, as #rrggbb."""
    fg = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    bg = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#%02x%02x%02x" % tuple(round(opacity * f + (1 - opacity) * b) for f, b in zip(fg, bg))


_BOX = "display:inline-block;width:1.15em;height:1.15em;vertical-align:middle;margin-right:0.5em;box-sizing:border-box"


def _fill(colour: str, opacity: float = 1.0, border: str = OUTLINE_COLOUR, width: float = 1) -> str:
    return f'<span style="{_BOX};background:{blend(colour, opacity)};border:{width}px solid {border}"></span>'


def _hatch(pattern: dict, border: str, width: float = 2) -> str:
    c, gap, w = pattern["colour"], pattern["spacing"], pattern["width"]
    angle = pattern["angle"] + 90  # a CSS gradient's stripes run across its direction
    return (
        f'<span style="{_BOX};border:{width}px solid {border};'
        f'background:repeating-linear-gradient({angle}deg,{c} 0 {w}px,#ffffff {w}px {gap}px)"></span>'
    )


def _outline(colour: str, width: float = 3) -> str:
    return f'<span style="{_BOX};border:{width}px solid {colour};background:#ffffff"></span>'


def _dot(colour: str) -> str:
    return (
        f'<span style="{_BOX};border-radius:50%;background:{colour};border:2px solid {HALO_COLOUR};'
        f'box-shadow:0 0 0 1px {OUTLINE_COLOUR}"></span>'
    )


def _line(colour: str, dashed: bool = False, width: float = 3) -> str:
    return (
        f'<span style="display:inline-block;width:1.6em;vertical-align:middle;margin-right:0.5em;'
        f'border-top:{width}px {"dashed" if dashed else "solid"} {colour}"></span>'
    )


def _legend(title: str, rows: list[tuple[str, str]]) -> str:
    """A legend block; ``title`` and the row labels are plain text (escaped here)."""
    body = "".join(f'<div style="margin:0.15em 0">{swatch}{esc(label)}</div>' for swatch, label in rows)
    return (
        f'<div class="atlas-legend" style="font-size:0.95em;line-height:1.35;margin:0 0 0.8em 0">'
        f'<div style="font-weight:600;margin-bottom:0.2em">{esc(title)}</div>{body}</div>'
    )


def choropleth_legend(cls: Classes, metric: str, lang: str) -> str:
    decimals = 0 if metric in ("crime_rate",) else 1
    rows = []
    for upper, colour in zip(cls.breaks, cls.colours):
        label = f"≤ {pct(upper, lang)}" if metric == "coverage_share" else f"≤ {fmt(upper, lang, decimals)}"
        rows.append((_fill(colour, CHOROPLETH_OPACITY), label))
    rows.append((_fill(NO_DATA, NO_DATA_OPACITY), t("none", lang)))
    return _legend(t(f"m_{metric}", lang), rows)


def hex_legend(cls: Classes, lang: str) -> str:
    """Incident counts per hexagon: one row per class, as a range of counts."""
    if cls.lowest is None:
        return ""  # no hexagons drawn
    rows = []
    lower = cls.lowest
    for upper, colour in zip(cls.breaks, cls.colours):
        lo = int(lower)
        label = fmt(int(upper), lang) if lo >= int(upper) else f"{fmt(lo, lang)}–{fmt(int(upper), lang)}"
        rows.append((_fill(colour, HEX_OPACITY, border=HALO_COLOUR), label))
        lower = upper + 1
    return _legend(t("lg_hex", lang), rows)


def point_legend(lang: str) -> str:
    return _legend(t("l_incidents", lang), [(_dot(POINT_COLOUR), t("lg_point", lang))])


def green_legend(lang: str) -> str:
    return _legend(
        t("lg_green", lang),
        [
            (_hatch(HATCH["green_none"], GREEN_COLOUR), t("lg_green_none", lang).format(share=pct(0, lang))),
            (_hatch(HATCH["green_part"], GREEN_COLOUR), t("lg_green_part", lang).format(share=pct(GREEN_PATROLLED, lang))),
            (_fill(GREEN_COLOUR, 0.12, border=GREEN_COLOUR, width=2), t("lg_green_most", lang).format(share=pct(GREEN_PATROLLED, lang))),
        ],
    )


def coverage_legend(lang: str) -> str:
    some, most = COVERAGE_OPACITY
    both = 1 - (1 - some) * (1 - most)  # the stronger area lies on top of the lighter one
    return _legend(
        t("lg_coverage", lang),
        [
            (_fill(COVERAGE_COLOUR, some, border=COVERAGE_COLOUR, width=2), t("l_coverage_some", lang)),
            (_fill(COVERAGE_COLOUR, both, border=COVERAGE_COLOUR, width=3), t("l_coverage_most", lang)),
        ],
    )


def hotspot_legend(lang: str) -> str:
    return _legend(
        t("l_hotspots", lang),
        [(_outline(HOT_COLOUR, 4), t("lg_hot", lang)), (_hatch(HATCH["hot"], HOT_COLOUR, 4), t("lg_hot_outside", lang))],
    )


def symbol_legend(keys, lang: str) -> str:
    """Points and outlines: ``keys`` from "meeting", "facilities", "centre", "selected"."""
    items = {
        "meeting": (_dot(MEETING_COLOUR), t("l_meeting", lang)),
        "facilities": (_dot(FACILITY_COLOUR), t("l_facilities", lang)),
        "centre": (_line(CENTRE_COLOUR, dashed=True), t("centre", lang)),
        "selected": (_line(SELECTED_COLOUR, width=4), t("lg_selected", lang)),
    }
    rows = [items[k] for k in items if k in keys]
    return _legend(t("lg_symbols", lang), rows) if rows else ""
