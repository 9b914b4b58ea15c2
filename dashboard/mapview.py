"""Building the folium map: a constant base map and one feature group per layer.

The base map (tiles, panes) stays the same across reruns, so streamlit-folium
keeps the Leaflet map alive and only swaps the feature groups after a filter
change: no flicker, zoom and position are kept. Every text that reaches a
tooltip or popup is HTML-escaped here, because folium inserts it as HTML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

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

# Leaflet panes, bottom to top; each layer draws in its own pane.
PANES = {"districts": 405, "green": 410, "coverage": 415, "incidents": 420, "hotspots": 425, "facilities": 430, "meeting": 440}

COLOURS = {
    "incidents_per_1000": ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    "incidents_per_km2": ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    "crime_rate": ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"],
    "coverage_share": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    "gap_score": ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"],
}
HOT_COLOUR = "#b2182b"
NO_DATA = "#d9d9d9"
COVERAGE_COLOUR = "#2b6cb0"
FACILITY_COLOUR = "#1b7837"
MEETING_COLOUR = "#40004b"
HEX_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
POINT_LIMIT = 3000
POINT_ZOOM = 15


def basemap_choice() -> str:
    choice = os.environ.get("ATLAS_BASEMAP", DEFAULT_BASEMAP)
    return choice if choice in BASEMAPS else DEFAULT_BASEMAP


def use_local_assets() -> None:
    """Serve the vendored assets and point folium at them (call on every run)."""
    assets.ensure_installed()
    served = components.declare_component("vendor", path=str(assets.VENDOR_DIR))
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}/component/{served.name}" if base else f"/component/{served.name}"
    js, css = assets.urls(prefix)
    folium.Map.default_js = js
    folium.Map.default_css = css


def base_map(basemap: str, bounds: tuple[float, float, float, float] | None = None) -> folium.Map:
    """The constant part of the map; ``bounds`` (lon/lat) is fitted on first draw."""
    m = folium.Map(
        location=list(domain.CHEMNITZ_CENTER),
        zoom_start=12,
        min_zoom=10,
        max_zoom=18,
        tiles=None,
        control_scale=True,
        max_bounds=True,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    url, attribution = BASEMAPS[basemap]
    if url:
        folium.TileLayer(url, attr=attribution, name=basemap, max_zoom=18, control=False).add_to(m)
    for name, z in PANES.items():
        folium.map.CustomPane(name, z_index=z, pointer_events=True).add_to(m)
    if bounds is not None:
        w, s, e, n = (round(float(v), 3) for v in bounds)
        m.fit_bounds([[s, w], [n, e]])
    return m


# -- formatting ------------------------------------------------------------

def fmt(value, lang: str, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang != "en":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return text


def pct(share, lang: str) -> str:
    return "–" if share is None or pd.isna(share) else f"{fmt(100 * share, lang, 0)} %"


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
    return Classes(list(qs), colours[-len(qs):] if len(qs) < len(colours) else colours)


# -- layers ----------------------------------------------------------------

def circle_marker(pane: str, **options) -> folium.CircleMarker:
    """A circle marker for GeoJson points, drawn in ``pane`` (folium drops the option)."""
    marker = folium.CircleMarker(**options)
    marker.options["pane"] = pane
    return marker


def tooltip(fields: list[str], aliases: list[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(fields=fields, aliases=[esc(a) for a in aliases], sticky=False)


def districts_layer(table: gpd.GeoDataFrame, metric: str, selected: str | None, lang: str) -> tuple[folium.FeatureGroup, Classes]:
    scope = table[table["in_scope"]]
    cls = classes(scope[metric], COLOURS[metric])
    props = pd.DataFrame(
        {
            "district_code": table["code"].map(esc),
            "name": table["name"].map(esc) + np.where(table["is_centre"], f" ({esc(t('centre', lang))})", ""),
            "value": [esc(metric_text(r, metric, lang)) for _, r in table.iterrows()],
            "fill": [cls.colour(v) if s else NO_DATA for v, s in zip(table[metric], table["in_scope"])],
            "scope": table["in_scope"].to_numpy(),
            "centre": table["is_centre"].to_numpy(),
            "selected": (table["code"] == selected).to_numpy(),
        }
    )
    gdf = gpd.GeoDataFrame(props, geometry=table.geometry.simplify(0.0001).to_numpy(), crs=table.crs)

    def style(feature):
        p = feature["properties"]
        return {
            "fillColor": p["fill"],
            "fillOpacity": 0.65 if p["scope"] else 0.15,
            "color": "#111111" if p["selected"] else ("#5b2c83" if p["centre"] else "#555555"),
            "weight": 4 if p["selected"] else (3 if p["centre"] else 1),
            "dashArray": "6 4" if p["centre"] and not p["selected"] else None,
        }

    fg = folium.FeatureGroup(name="districts")
    folium.GeoJson(
        gdf,
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=tooltip(["name", "district_code", "value"], [t("col_name", lang), t("col_code", lang), t(f"m_{metric}", lang)]),
        pane="districts",
        name="districts",
    ).add_to(fg)
    return fg, cls


def share_colour(share: float) -> str:
    """Red (not patrolled) through yellow to green (fully patrolled)."""
    stops = [(0.0, (215, 48, 31)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80))]
    s = float(np.clip(0 if pd.isna(share) else share, 0, 1))
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if s <= b:
            f = (s - a) / (b - a)
            rgb = [round(x + (y - x) * f) for x, y in zip(ca, cb)]
            return "#%02x%02x%02x" % tuple(rgb)
    return "#1a9850"


def green_layer(green: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    props = pd.DataFrame(
        {
            "name": green["name"].map(esc),
            "kind": green["kind"].map(lambda k: esc(term(domain.GREEN_KINDS, k, lang))),
            "coverage": green["coverage_share"].map(lambda s: pct(s, lang)),
            "fill": green["coverage_share"].map(share_colour),
        }
    )
    gdf = gpd.GeoDataFrame(props, geometry=green.geometry.to_numpy(), crs=green.crs)
    fg = folium.FeatureGroup(name="green")
    folium.GeoJson(
        gdf,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.7, "color": "#2f5d1e", "weight": 1},
        tooltip=tooltip(["name", "kind", "coverage"], [t("name", lang), t("kind", lang), t("coverage", lang)]),
        pane="green",
        name="green",
    ).add_to(fg)
    return fg


def coverage_layer(covered: gpd.GeoSeries) -> folium.FeatureGroup:
    """Regular patrol presence: ``covered`` holds the area with regular presence in
    some hour of the filter and, if given, the area with it in most hours (stronger)."""
    fg = folium.FeatureGroup(name="coverage")
    for i, geom in enumerate(covered.iloc[:2]):
        if geom is None or geom.is_empty:
            continue
        opacity = 0.25 if i == 0 else 0.45
        folium.GeoJson(
            gpd.GeoDataFrame(geometry=[geom], crs=covered.crs),
            style_function=lambda f, o=opacity: {"fillColor": COVERAGE_COLOUR, "fillOpacity": o, "color": COVERAGE_COLOUR, "weight": 1},
            pane="coverage",
            name="coverage",
        ).add_to(fg)
    return fg


def hex_layer(hexes: gpd.GeoDataFrame, lang: str, min_count: int = 1) -> folium.FeatureGroup:
    """Incident counts per hexagon; cells with fewer than ``min_count`` incidents are left out."""
    fg = folium.FeatureGroup(name="incidents")
    hexes = hexes[hexes["count"] >= min_count] if len(hexes) else hexes
    if not len(hexes):
        return fg
    cls = classes(hexes["count"], HEX_COLOURS)
    # few incidents: faint; many: strong, so the districts beneath stay readable
    opacity = {c: 0.2 + 0.6 * i / max(1, len(cls.colours) - 1) for i, c in enumerate(cls.colours)}
    fill = hexes["count"].map(cls.colour)
    gdf = hexes.assign(fill=fill, alpha=fill.map(opacity), n=hexes["count"].map(lambda c: fmt(c, lang)))
    folium.GeoJson(
        gdf[["n", "fill", "alpha", "geometry"]],
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": f["properties"]["alpha"], "stroke": False},
        tooltip=tooltip(["n"], [t("l_incidents", lang)]),
        pane="incidents",
        name="incidents",
    ).add_to(fg)
    return fg


def _point_group(pane: str, points: gpd.GeoDataFrame, props: dict, lang: str, detail: str, marker: dict, style=None):
    """A feature group of circle markers in ``pane``; ``props`` must already be escaped.

    ``detail`` is "popup" or "tooltip": the properties (bar internal ones
    starting with "_") are listed there under their translated names.
    """
    fg = folium.FeatureGroup(name=pane)
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
    folium.GeoJson(gdf, marker=circle_marker(pane, **marker), style_function=style, pane=pane, name=pane, **details).add_to(fg)
    return fg


def hotspot_layer(cells: gpd.GeoDataFrame, lang: str, min_count: int = 1) -> folium.FeatureGroup:
    """Significant hot cells: outlined; a dashed, thicker outline where no patrol covers them."""
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
        props,
        style_function=lambda f: {
            "color": HOT_COLOUR,
            "weight": 4 if f["properties"]["_outside"] else 2,
            "dashArray": "6 3" if f["properties"]["_outside"] else None,
            "fillColor": HOT_COLOUR,
            "fillOpacity": 0.15,
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
    marker = dict(radius=5, fill=True, fill_opacity=0.85, color="#a50f15", fill_color="#fb6a4a", weight=1)
    return _point_group("incidents", points, props, lang, "popup", marker)


def meeting_layer(points: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    confirmed = pd.to_datetime(points["last_confirmed"], utc=True)
    props = {
        "label": points["label"].map(esc).to_numpy(),
        "kind": points["kind"].map(esc).to_numpy(),
        "status": points["status"].map(lambda k: esc(term(domain.MEETING_STATUS, k, lang))).to_numpy(),
        "last_confirmed": [esc(x.strftime("%d.%m.%Y")) if not pd.isna(x) else "–" for x in confirmed],
        "_active": points["status"].eq("active").to_numpy(),
    }
    marker = dict(radius=7, fill=True, fill_opacity=0.9, weight=2)

    def style(feature):
        return {"color": "#ffffff", "fillColor": MEETING_COLOUR if feature["properties"]["_active"] else "#9e9ac8"}

    return _point_group("meeting", points, props, lang, "popup", marker, style if len(points) else None)


def facility_layer(points: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    props = {
        "name": points["name"].map(esc).to_numpy(),
        "kind": points["kind"].map(lambda k: esc(term(domain.FACILITY_KINDS, k, lang))).to_numpy(),
    }
    marker = dict(radius=6, fill=True, fill_opacity=0.9, color="#ffffff", fill_color=FACILITY_COLOUR, weight=2)
    return _point_group("facilities", points, props, lang, "tooltip", marker)


def points_in_bounds(points: gpd.GeoDataFrame, bounds: dict | None) -> gpd.GeoDataFrame:
    if not bounds or not len(points):
        return points
    try:
        sw, ne = bounds["_southWest"], bounds["_northEast"]
        x, y = points.geometry.x, points.geometry.y
        mask = (x >= sw["lng"]) & (x <= ne["lng"]) & (y >= sw["lat"]) & (y <= ne["lat"])
        return points[mask]
    except (KeyError, TypeError):
        return points


# -- legends (drawn beside the map; built only from our own constants) -------

def _swatch(colour: str, shape: str = "square") -> str:
    radius = "50%" if shape == "circle" else "2px"
    return (
        f'<span style="display:inline-block;width:0.9em;height:0.9em;background:{colour};'
        f'border-radius:{radius};border:1px solid #555;vertical-align:middle;margin-right:0.4em"></span>'
    )


def choropleth_legend(cls: Classes, metric: str, lang: str) -> str:
    decimals = 0 if metric in ("crime_rate",) else 1
    rows = []
    for upper, colour in zip(cls.breaks, cls.colours):
        label = f"≤ {pct(upper, lang)}" if metric == "coverage_share" else f"≤ {fmt(upper, lang, decimals)}"
        rows.append(f"<div>{_swatch(colour)}{esc(label)}</div>")
    rows.append(f"<div>{_swatch(NO_DATA)}{esc(t('none', lang))}</div>")
    return f'<div class="atlas-legend" style="font-size:0.85em"><b>{esc(t(f"m_{metric}", lang))}</b>{"".join(rows)}</div>'


def layer_legend(lang: str) -> str:
    items = [
        (_swatch(share_colour(0.0)) + _swatch(share_colour(1.0)), t("l_green", lang)),
        (_swatch(COVERAGE_COLOUR), t("l_coverage", lang)),
        (_swatch(HEX_COLOURS[3]), t("l_incidents", lang)),
        (f'<span style="display:inline-block;width:0.9em;height:0.9em;border:2px dashed {HOT_COLOUR};vertical-align:middle;margin-right:0.4em"></span>', t("l_hotspots", lang) + " – " + t("hot_outside", lang)),
        (_swatch(MEETING_COLOUR, "circle"), t("l_meeting", lang)),
        (_swatch(FACILITY_COLOUR, "circle"), t("l_facilities", lang)),
        ('<span style="display:inline-block;width:1.4em;border-top:3px dashed #5b2c83;vertical-align:middle;margin-right:0.4em"></span>', t("centre", lang)),
    ]
    body = "".join(f"<div>{sw}{esc(label)}</div>" for sw, label in items)
    return f'<div class="atlas-legend" style="font-size:0.85em;margin-top:0.5em">{body}</div>'
