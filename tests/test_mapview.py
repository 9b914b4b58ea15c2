"""Map building: local assets only, escaped text, sensible classes."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from dashboard import assets, mapview
from geodata import analysis

EVIL = '<img src=x onerror=alert(1)>'


def render(fg, fmap=None):
    """The script that reaches the browser for one layer."""
    return mapview.layer_script(fg, "test")


def test_assets_install_from_packages(tmp_path):
    assets.install(tmp_path)
    assert assets.missing(tmp_path) == []
    assert "Leaflet" in (tmp_path / "leaflet" / "leaflet.js").read_text()[:200] or (tmp_path / "leaflet" / "leaflet.js").stat().st_size > 100_000
    js, css = assets.urls("/component/x")
    assert [u for _, u in js + css if not u.startswith("/component/x/")] == []


def test_map_html_names_no_cdn():
    js, css = assets.urls("/component/vendor")
    import folium

    folium.Map.default_js, folium.Map.default_css = js, css
    html = mapview.base_map("none").get_root().render()
    for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "netdna.bootstrapcdn.com", "unpkg.com"):
        assert host not in html


def test_point_popups_and_tooltips_escape_text(city):
    inc = city["incidents"].copy()
    inc["description"] = EVIL
    js = render(mapview.point_layer(inc, "de"))
    # escaped for HTML, then JSON-encoded by folium
    assert EVIL not in js and "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in js
    fac = city["facilities"].assign(name=EVIL)
    js = render(mapview.facility_layer(fac, "de"))
    assert EVIL not in js
    mp = city["meeting_points"].assign(label=EVIL, kind=EVIL)
    js = render(mapview.meeting_layer(mp, "de"))
    assert EVIL not in js


def test_district_layer_escapes_names_and_marks_the_centre(city):
    city["districts"].loc[1, "name"] = EVIL
    res = analysis.analyse(analysis.prepare(city), analysis.Selection())
    fg, cls = mapview.districts_layer(res.districts, "incidents_per_1000", None, "de")
    js = render(fg)
    assert EVIL not in js and "Zentrum (Zentrum)" in js
    assert cls.breaks == sorted(cls.breaks)


def test_metric_text_shows_the_count_next_to_the_rate():
    row = pd.Series({"incidents_per_1000": 12.345, "incidents": 1234, "area_km2": 2.0, "coverage_share": 0.25,
                     "crime_rate": 7348.0, "crime_cases": 1022})
    assert mapview.metric_text(row, "incidents_per_1000", "de") == "12,3 Vorfälle je 1.000 Einw. (n = 1.234)"
    assert mapview.metric_text(row, "crime_rate", "en") == "HZ 7,348 (n = 1,022)"
    assert mapview.metric_text(row, "coverage_share", "de") == "25\u00a0% (0,50 / 2,00 km²)"  # no line break inside a share


def test_points_in_window():
    pts = gpd.GeoDataFrame(geometry=[Point(12.9, 50.8), Point(13.0, 50.9)], crs=4326)
    assert len(mapview.points_in_window(pts, (12.89, 50.79, 12.91, 50.81))) == 1
    assert len(mapview.points_in_window(pts, None)) == 2


def map_script(fmap) -> str:
    from streamlit_folium import _get_map_string

    fmap.get_root().render()
    return _get_map_string(fmap)


def test_base_map_keeps_to_chemnitz_and_brings_its_behaviour():
    bounds = (12.80, 50.75, 13.05, 50.90)
    fmap = mapview.base_map("none", bounds, "en")
    opts = fmap.options
    # folium hands min/max zoom to a tile layer only; the map itself must get them
    assert opts["min_zoom"] == mapview.MIN_ZOOM and opts["max_zoom"] == 18
    (s, w), (n, e) = opts["max_bounds"]
    assert (w, s, e, n) == mapview._reach(bounds)
    assert 12.4 < w < 12.8 and 50.5 < s < 50.75 and 13.05 < e < 13.4 and 50.9 < n < 51.1  # the city and its surroundings
    assert opts["max_bounds_viscosity"] == 1.0
    js = map_script(fmap)
    assert "atlasMapBehaviour(map_div," in js
    assert '"homeLabel": "Back to Chemnitz"' in js and '"home": [[50.75, 12.8], [50.9, 13.05]]' in js
    assert "Ctrl (⌘) + scroll" in js
    assert "popup._source" in js  # streamlit-folium's renaming of folium variables leaves the script alone
    assert '"homeLabel": "Zurück nach Chemnitz"' in map_script(mapview.base_map("none", bounds, "de"))
    header = fmap.get_root().header.render()
    assert f"--atlas-label:{mapview.LABEL_COLOUR}" in header and ".atlas-wheel-hint" in header


def test_base_map_is_the_same_on_every_run():
    """streamlit-folium keeps the Leaflet map only while the base map's script stays the same."""
    bounds = (12.80, 50.75, 13.05, 50.90)
    assert map_script(mapview.base_map("none", bounds, "de")) == map_script(mapview.base_map("none", bounds, "de"))


def test_outlines_and_labels_lie_above_every_marker():
    top = min(mapview.TOP_PANES.values())
    assert top > max(mapview.PANES.values())
    assert mapview.TOP_PANES["labels"] > mapview.TOP_PANES["outlines"]
    js = map_script(mapview.base_map("none"))
    for pane in mapview.TOP_PANES:
        assert f'createPane(\n                "{pane}");' in js
    assert js.count("style.pointerEvents = 'none'") == len(mapview.TOP_PANES)  # clicks go through


def test_districts_get_labels_and_the_centre_and_selection_an_outline_on_top(city):
    city["districts"].loc[1, "name"] = EVIL
    res = analysis.analyse(analysis.prepare(city), analysis.Selection())
    js = render(mapview.districts_layer(res.districts, "incidents_per_1000", "02", "de")[0])
    assert EVIL not in js
    assert js.count('"pane": "labels"') == 2 and js.count("atlas-label-text") == 2
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in js  # the label is escaped, then JSON-encoded
    assert 'atlas-label-text atlas-label-selected' in js  # the selected district's label
    # centre (dashed) and selected district: each a white halo and the line itself, not clickable
    assert js.count('"pane": "outlines"') == 4 and js.count('"interactive": false') >= 4
    assert f'"color": "{mapview.CENTRE_COLOUR}", "dashArray": "9 6"' in js
    # without a selection only the centre is outlined
    js = render(mapview.districts_layer(res.districts, "incidents_per_1000", None, "de")[0])
    assert js.count('"pane": "outlines"') == 2 and "atlas-label-selected" not in js


def test_hexagon_classes_are_ranges_of_whole_counts():
    hexes = gpd.GeoDataFrame({"count": [1, 1, 2, 3, 3, 4, 7, 9, 15, 40, 2.0, None]}, geometry=[Point(0, 0)] * 12, crs=4326)
    cls = mapview.hex_classes(hexes, min_count=2)
    assert cls.lowest == 2 and all(b == int(b) for b in cls.breaks) and cls.breaks[-1] == 40
    assert cls.colours == mapview.HEX_COLOURS[-len(cls.breaks):]
    legend = mapview.hex_legend(cls, "de")
    lows = [2] + [int(b) + 1 for b in cls.breaks[:-1]]
    for low, high in zip(lows, cls.breaks):
        assert (f"{low}–{int(high)}" if low < high else f">{int(high)}<") in legend
    assert "Vorfälle je Sechseck" in legend
    assert mapview.hex_legend(mapview.hex_classes(hexes.iloc[:0]), "de") == ""  # nothing drawn, no legend


def test_hexagons_use_their_own_scale(city):
    hexes = gpd.GeoDataFrame({"count": [3, 8, 20]}, geometry=[Point(12.9, 50.8).buffer(0.001)] * 3, crs=4326)
    js = render(mapview.hex_layer(hexes, "de"))
    assert all(c not in js for c in mapview.CHOROPLETH_COLOURS)
    assert mapview.HEX_COLOURS[-1] in js


def test_green_spaces_are_hatched_where_not_patrolled(city):
    assert mapview.green_hatch(0.0) == mapview.green_hatch(None) == mapview.HATCH["green_none"]["id"]
    assert mapview.green_hatch(0.2) == mapview.HATCH["green_part"]["id"]
    assert mapview.green_hatch(mapview.GREEN_PATROLLED) is None
    green = city["green_spaces"].to_crs(4326).assign(coverage_share=[0.0, 0.9])
    js = render(mapview.green_layer(green, "de"))
    assert f'url(#{mapview.HATCH["green_none"]["id"]})' in js and mapview.GREEN_COLOUR in js
    legend = mapview.green_legend("de")
    assert f"{mapview.pct(0, 'de')} – dicht schraffiert" in legend and f"unter {mapview.pct(0.5, 'de')}" in legend


def test_hotspots_are_outlines_hatched_where_unpatrolled():
    cells = gpd.GeoDataFrame(
        {"kind": ["hot", "hot", "cold"], "count": [12, 30, 4], "gi_z": [2.5, 3.1, -2.0], "outside_coverage": [False, True, False]},
        geometry=[Point(12.9, 50.8).buffer(0.001)] * 3,
        crs=4326,
    )
    js = render(mapview.hotspot_layer(cells, "de"))
    assert js.count('"weight": 4') == 2 and js.count('"weight"') == 2  # both kinds of hot cell: the thick outline
    assert f'url(#{mapview.HATCH["hot"]["id"]})' in js and mapview.HOT_COLOUR in js
    assert "Brennpunkt: dicker Rand" in mapview.hotspot_legend("de")


def test_coverage_is_a_strong_blue_that_lets_clicks_through(city):
    covered = gpd.GeoSeries([Point(12.9, 50.8).buffer(0.01), Point(12.9, 50.8).buffer(0.005)], crs=4326)
    js = render(mapview.coverage_layer(covered))
    assert js.count(mapview.COVERAGE_COLOUR) >= 4 and js.count('"interactive": false') == 2
    legend = mapview.coverage_legend("en")
    assert "regular patrol in some hours" in legend


def test_incident_points_lie_above_the_outlined_layers(city):
    js = render(mapview.point_layer(city["incidents"].to_crs(4326), "de"))
    assert '"pane": "incident_points"' in js and mapview.POINT_COLOUR in js
    assert mapview.PANES["incident_points"] > max(mapview.PANES[k] for k in ("incidents", "green", "coverage", "hotspots"))


def test_legends_name_only_what_is_given():
    assert mapview.symbol_legend([], "de") == ""
    legend = mapview.symbol_legend(["facilities", "centre"], "de")
    assert "Jugend- und Präventionsangebote" in legend and "Zentrum" in legend and "Treffpunkte" not in legend
    cls = mapview.classes(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), mapview.CHOROPLETH_COLOURS)
    legend = mapview.choropleth_legend(cls, "incidents_per_1000", "de")
    assert legend.count("background:") == len(cls.colours) + 1  # the classes and "no data"
    assert mapview.blend(mapview.CHOROPLETH_COLOURS[0], mapview.CHOROPLETH_OPACITY) in legend  # as drawn over white


from hypothesis import given, strategies as st  # noqa: E402


@given(
    w=st.floats(12.7, 13.1), s=st.floats(50.7, 50.95),
    dw=st.floats(0.001, 0.2), dh=st.floats(0.001, 0.1),
)
def test_view_window_holds_the_view_with_a_margin_on_the_grid(w, s, dw, dh):
    bounds = {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": s + dh, "lng": w + dw}}
    W, S, E, N = mapview.view_window(bounds)
    assert W <= w - dw / 2 + 1e-9 and E >= w + dw * 1.5 - 1e-9 and S <= s - dh / 2 + 1e-9 and N >= s + dh * 1.5 - 1e-9
    for v in (W, S, E, N):  # snapped, so a small pan gives the same box
        assert abs(v / mapview.VIEW_GRID - round(v / mapview.VIEW_GRID)) < 1e-6
    nudged = {"_southWest": {"lat": s + dh * 0.01, "lng": w}, "_northEast": {"lat": s + dh * 1.01, "lng": w + dw}}
    assert mapview.view_window(nudged) in {(W, S, E, N), mapview.view_window(nudged)}


def test_view_window_without_bounds():
    assert mapview.view_window(None) is None
    assert mapview.view_window({"_southWest": {}}) is None


def test_hexagons_around_the_view_keep_whole_cells():
    import numpy as np

    from geodata import hexbin

    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(12.85, 13.0, 5000), rng.uniform(50.8, 50.87, 5000)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    cells = hexbin.cells(pts, 10)
    window = (12.9, 50.82, 12.92, 50.83)
    keep = hexbin.in_cells_touching(cells, lon, lat, window)
    inside = (lon >= 12.9) & (lon <= 12.92) & (lat >= 50.82) & (lat <= 50.83)
    assert keep[inside].all() and 0 < keep.sum() < len(keep)
    full = hexbin.hexagons(pd.Series(cells)).set_index("cell")["count"]
    part = hexbin.hexagons(pd.Series(cells[keep])).set_index("cell")["count"]
    assert (full.loc[part.index] == part).all()  # every drawn hexagon has its whole count


def test_the_layer_set_is_the_group_streamlit_folium_adds_and_tracks():
    """streamlit-folium removes the groups listed in ``window.feature_group`` before it
    evaluates the new script: the layer set must add and list exactly one group, under
    the name st_folium itself gives its first group, or every rerun would leave one behind."""
    import re

    from streamlit_folium import _get_feature_group_string  # what st_folium itself sends

    script = mapview.layer_script(mapview.facility_layer(gpd.GeoDataFrame(
        {"name": ["x"], "kind": ["youth"]}, geometry=[Point(12.9, 50.8)], crs=4326), "de"), "facilities")
    js = mapview.layer_set_script([("facilities", "d1", script)])
    theirs = _get_feature_group_string(folium.FeatureGroup(), mapview.base_map("none", lang="de"))
    added = re.findall(r"map_div\.addLayer\((\w+)\)", js)
    pushed = re.findall(r"window\.feature_group\.push\((\w+)\)", js)
    assert added == pushed == re.findall(r"window\.feature_group\.push\((\w+)\)", theirs)
    assert re.search(rf"var {added[0]} = L\.featureGroup", js)
    assert js.index("window.feature_group = [];") < js.index("window.feature_group.push(")
    assert 'atlasSyncLayers(map_div, [\n["facilities", "d1", function (atlas_map)' in js


def test_the_map_shell_is_what_st_folium_sends():
    """The pre-rendered shell holds what st_folium would send for the same base map
    (the same script, so the browser keeps its live map across runs)."""
    from unittest import mock

    import streamlit_folium as sf

    sent = {}
    with mock.patch.object(sf, "_component_func", side_effect=lambda **kw: sent.update(kw)):
        sf.st_folium(mapview.base_map("none", lang="de"), key="m", returned_objects=["zoom", "bounds"])
    shell = mapview.map_shell(mapview.base_map("none", lang="de"))
    assert (shell.script, shell.header, shell.html, shell.id) == (sent["script"], sent["header"], sent["html"], sent["id"])
    assert list(shell.css_links) == sent["css_links"] and list(shell.js_links) == sent["js_links"]
    assert {"bounds": shell.bounds, "zoom": shell.zoom} == sent["default"]
    assert "atlasMapBehaviour(map_div" in shell.script




def test_drawn_geojson_is_the_geodataframes_own_mapping_rounded():
    """What the layers draw: the same features, ids and properties as geopandas' own GeoJSON
    mapping (without boxes), coordinates rounded to about a metre; missing values as null."""
    import math

    import numpy as np
    from shapely.geometry import Polygon

    gdf = gpd.GeoDataFrame(
        {"name": ["Zentrum <b>", "Süd"], "n": [3, np.nan], "flag": [True, False], "share": [0.123456, None]},
        geometry=[Polygon([(12.9213859, 50.8387425), (12.93, 50.84), (12.92, 50.85)]), Point(12.91, 50.82)],
        index=[7, 11],
        crs=4326,
    )
    drawn = mapview.geojson(gdf)
    theirs = gdf.to_geo_dict(na="null", show_bbox=False, drop_id=False)
    assert [f["id"] for f in drawn["features"]] == [f["id"] for f in theirs["features"]] == ["7", "11"]
    for mine, ref in zip(drawn["features"], theirs["features"]):
        assert mine["properties"].keys() == ref["properties"].keys()
        for key, value in ref["properties"].items():
            got = mine["properties"][key]
            assert got == value or (got is None and (value is None or math.isnan(value))), key
        assert mine["geometry"]["type"] == ref["geometry"]["type"]
        flat = lambda c: np.array(c, dtype=float).ravel()  # noqa: E731
        assert np.allclose(flat(mine["geometry"]["coordinates"]), flat(ref["geometry"]["coordinates"]), atol=1e-5)
        assert all(len(repr(float(v))) <= 9 for v in flat(mine["geometry"]["coordinates"]))  # 12.92139, not 12.9213859
    assert drawn["features"][0]["geometry"]["coordinates"][0][0] == [12.92139, 50.83874]
