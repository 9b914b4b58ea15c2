"""Map building: local assets only, escaped text, sensible classes."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from dashboard import assets, mapview
from geodata import analysis
from streamlit_folium import _get_feature_group_string

EVIL = '<img src=x onerror=alert(1)>'


def render(fg, fmap=None):
    fmap = fmap or mapview.base_map("none")
    return _get_feature_group_string(fg, fmap)


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
    assert mapview.metric_text(row, "coverage_share", "de") == "25 % (0,50 / 2,00 km²)"


def test_points_in_bounds():
    pts = gpd.GeoDataFrame(geometry=[Point(12.9, 50.8), Point(13.0, 50.9)], crs=4326)
    b = {"_southWest": {"lat": 50.79, "lng": 12.89}, "_northEast": {"lat": 50.81, "lng": 12.91}}
    assert len(mapview.points_in_bounds(pts, b)) == 1
    assert len(mapview.points_in_bounds(pts, None)) == 2
