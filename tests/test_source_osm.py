"""Green spaces from OpenStreetMap: Overpass JSON in, valid green polygons out.

A local HTTP server answers with small hand-made Overpass documents in the
real ``out geom;`` format (ways with inline "geometry", relations with member
ways carrying their own "geometry").
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

import loaders.sources
from geodata import domain
from loaders import schema
from loaders.http import SourceFormatError, SourceUnavailable
from loaders.sources import osm
from loaders.store import GeoPackageStore
from tests.httpserver import closed_port_url, serve

# -- building Overpass elements in the real format -----------------------------


def geometry(coords):
    return [{"lat": lat, "lon": lon} for lon, lat in coords]


def bounds(coords):
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    return {"minlat": min(lats), "minlon": min(lons), "maxlat": max(lats), "maxlon": max(lons)}


def way(way_id, coords, tags=None):
    element = {
        "type": "way",
        "id": way_id,
        "bounds": bounds(coords),
        "nodes": [way_id * 100 + i for i in range(len(coords))],
        "geometry": geometry(coords),
    }
    if len(coords) > 1 and coords[0] == coords[-1]:
        element["nodes"][-1] = element["nodes"][0]
    if tags is not None:
        element["tags"] = tags
    return element


def member(way_id, coords, role="outer"):
    return {"type": "way", "ref": way_id, "role": role, "geometry": geometry(coords)}


def relation(rel_id, members, tags):
    coords = [(p["lon"], p["lat"]) for m in members for p in m["geometry"]]
    return {"type": "relation", "id": rel_id, "bounds": bounds(coords), "members": members, "tags": tags}


def ring(minx, miny, maxx, maxy):
    """A closed counter-clockwise rectangle ring (lon, lat)."""
    return [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]


def metric_area(geom) -> float:
    return float(gpd.GeoSeries([geom], crs=domain.STORE_CRS).to_crs(domain.METRIC_CRS).area.iloc[0])


# The Zeisigwald-like forest: outer ring split into two open ways (one reversed), one hole.
FOREST_OUTER = ring(12.910, 50.830, 12.920, 50.836)
FOREST_INNER = ring(12.913, 50.832, 12.916, 50.834)
# The two cemetery parts.
CEMETERY_A = ring(12.925, 50.825, 12.928, 50.827)
CEMETERY_B = ring(12.930, 50.825, 12.933, 50.827)
BOWTIE = [(12.940, 50.840), (12.942, 50.842), (12.942, 50.840), (12.940, 50.842), (12.940, 50.840)]

DOC = {
    "version": 0.6,
    "generator": "Overpass API 0.7.62.1 084b4234",
    "osm3s": {"timestamp_osm_base": "2025-06-01T12:00:00Z", "timestamp_areas_base": "2025-06-01T10:00:00Z",
              "copyright": "The data included in this document is from www.openstreetmap.org. "
                           "The data is made available under ODbL."},
    "elements": [
        # a plain park as one closed way, written out verbatim in the Overpass format
        {
            "type": "way",
            "id": 101,
            "bounds": {"minlat": 50.820, "minlon": 12.900, "maxlat": 50.823, "maxlon": 12.905},
            "nodes": [1001, 1002, 1003, 1004, 1001],
            "geometry": [
                {"lat": 50.820, "lon": 12.900},
                {"lat": 50.820, "lon": 12.905},
                {"lat": 50.823, "lon": 12.905},
                {"lat": 50.823, "lon": 12.900},
                {"lat": 50.820, "lon": 12.900},
            ],
            "tags": {"leisure": "park", "name": "Stadtpark"},
        },
        # a self-intersecting playground (bow-tie)
        way(102, BOWTIE, {"leisure": "playground", "name": "Spielplatz Achterbahn"}),
        # an open way tagged as park (not a relation member): skipped
        way(103, [(12.900, 50.845), (12.903, 50.846), (12.905, 50.845)], {"leisure": "park"}),
        # a garden without a name -> park, name None
        way(104, ring(12.945, 50.845, 12.947, 50.846), {"leisure": "garden"}),
        # a recreation ground by landuse
        way(105, ring(12.935, 50.845, 12.938, 50.847), {"landuse": "recreation_ground", "name": "Sportforum"}),
        # a tiny playground below 50 m²: dropped
        way(106, ring(12.9500, 50.8400, 12.95004, 50.84004), {"leisure": "playground"}),
        # not green at all
        way(107, ring(12.921, 50.821, 12.923, 50.822), {"leisure": "pitch"}),
        # the forest's inner ring is delivered as an untagged way: not a feature of its own
        way(303, FOREST_INNER),
        # the cemetery's first outer carries the relation's tags as well (old-style): no duplicate
        way(311, CEMETERY_A, {"amenity": "grave_yard"}),
        relation(
            201,
            [
                member(301, FOREST_OUTER[0:3]),  # SW -> SE -> NE
                member(302, list(reversed(FOREST_OUTER[2:]))),  # SW -> NW -> NE, i.e. reversed
                member(303, FOREST_INNER, role="inner"),
            ],
            {"type": "multipolygon", "natural": "wood", "name": "Zeisigwald"},
        ),
        relation(
            202,
            [member(311, CEMETERY_A), member(312, CEMETERY_B)],
            {"type": "multipolygon", "amenity": "grave_yard", "name": "Städtischer Friedhof"},
        ),
        # a relation that is not a multipolygon (a route through the park): ignored
        relation(203, [member(401, [(12.900, 50.820), (12.905, 50.823)], role="")],
                 {"type": "route", "route": "hiking", "leisure": "park"}),
    ],
}


def json_handler(doc, status=200):
    body = json.dumps(doc).encode()

    def handler(path, query, raw):
        return status, "application/json", body

    return handler


@pytest.fixture(scope="module")
def parsed():
    return osm.parse_overpass(DOC).set_index("osm_id")


# -- parsing -----------------------------------------------------------------


def test_columns_and_crs(parsed):
    frame = osm.parse_overpass(DOC)
    assert list(frame.columns) == ["name", "kind", "osm_id", "geometry"]
    assert frame.crs.equals(domain.STORE_CRS)
    assert frame.geometry.is_valid.all()
    assert set(frame.geometry.geom_type) <= {"Polygon", "MultiPolygon"}


def test_expected_features(parsed):
    assert sorted(parsed.index) == ["relation/201", "relation/202", "way/101", "way/102", "way/104", "way/105"]


def test_closed_way_park(parsed):
    park = parsed.loc["way/101"]
    assert park["kind"] == "park" and park["name"] == "Stadtpark"
    assert park.geometry.geom_type == "Polygon"
    assert metric_area(park.geometry) == pytest.approx(metric_area(Polygon(ring(12.900, 50.820, 12.905, 50.823))), rel=1e-6)


def test_multipolygon_with_split_outer_and_hole(parsed):
    forest = parsed.loc["relation/201"]
    assert forest["kind"] == "forest" and forest["name"] == "Zeisigwald"
    geom = forest.geometry
    assert geom.geom_type == "Polygon" and geom.is_valid
    assert len(geom.interiors) == 1
    expected = metric_area(Polygon(FOREST_OUTER)) - metric_area(Polygon(FOREST_INNER))
    assert metric_area(geom) == pytest.approx(expected, rel=0.01)
    assert not geom.contains(Polygon(FOREST_INNER).centroid)


def test_relation_with_two_outers_is_multipolygon(parsed):
    cemetery = parsed.loc["relation/202"]
    assert cemetery["kind"] == "cemetery"
    assert cemetery.geometry.geom_type == "MultiPolygon"
    assert len(cemetery.geometry.geoms) == 2
    expected = metric_area(Polygon(CEMETERY_A)) + metric_area(Polygon(CEMETERY_B))
    assert metric_area(cemetery.geometry) == pytest.approx(expected, rel=0.01)


def test_bowtie_is_repaired(parsed):
    playground = parsed.loc["way/102"]
    assert playground["kind"] == "playground"
    assert playground.geometry.is_valid
    # the two triangles of the bow-tie: half the bounding square
    assert metric_area(playground.geometry) == pytest.approx(metric_area(box(12.940, 50.840, 12.942, 50.842)) / 2, rel=0.01)


def test_members_and_open_ways_are_not_features(parsed):
    assert "way/303" not in parsed.index  # untagged inner member
    assert "way/311" not in parsed.index  # outer member tagged like its relation
    assert "way/103" not in parsed.index  # open, not a member
    assert "way/106" not in parsed.index  # below 50 m²
    assert "way/107" not in parsed.index  # not green
    assert "relation/203" not in parsed.index  # not a multipolygon


def test_tag_mapping(parsed):
    assert parsed.loc["way/104", "kind"] == "park"  # leisure=garden
    assert parsed.loc["relation/201", "kind"] == "forest"  # natural=wood
    assert parsed.loc["relation/202", "kind"] == "cemetery"  # amenity=grave_yard
    assert parsed.loc["way/105", "kind"] == "recreation_ground"
    assert parsed.loc["way/104", "name"] is None
    assert osm.green_kind({"landuse": "forest"}) == "forest"
    assert osm.green_kind({"landuse": "cemetery"}) == "cemetery"
    assert osm.green_kind({"leisure": "recreation_ground"}) == "recreation_ground"
    assert osm.green_kind({"leisure": "pitch"}) is None
    assert osm.green_kind(None) is None


def test_passes_the_layer_schema():
    frame = osm.parse_overpass(DOC)
    out, report = schema.validated("green_spaces", frame)
    assert report.ok and len(out) == len(frame)


def test_island_in_a_hole_is_kept():
    outer, hole, island = ring(12.90, 50.82, 12.93, 50.84), ring(12.91, 50.825, 12.92, 50.835), ring(12.913, 50.828, 12.917, 50.832)
    doc = {"elements": [relation(1, [member(1, outer), member(2, hole, "inner"), member(3, island)],
                                 {"type": "multipolygon", "landuse": "forest"})]}
    geom = osm.parse_overpass(doc).geometry.iloc[0]
    expected = metric_area(Polygon(outer)) - metric_area(Polygon(hole)) + metric_area(Polygon(island))
    assert geom.geom_type == "MultiPolygon" and metric_area(geom) == pytest.approx(expected, rel=0.01)


def test_feature_across_the_city_limits_is_clipped():
    minx, miny, maxx, maxy = domain.CHEMNITZ_BBOX
    doc = {"elements": [way(1, ring(maxx - 0.01, 50.80, maxx + 0.01, 50.81), {"landuse": "forest"})]}
    frame = osm.parse_overpass(doc)
    assert frame.total_bounds[2] <= maxx
    schema.validated("green_spaces", frame)


def test_document_without_elements_is_rejected():
    with pytest.raises(SourceFormatError, match="elements"):
        osm.parse_overpass({"remark": "nothing"})
    with pytest.raises(SourceFormatError, match="elements"):
        osm.parse_overpass({"elements": "no list"})


def test_incomplete_geometry_is_skipped():
    broken = way(1, ring(12.90, 50.82, 12.91, 50.83), {"leisure": "park"})
    broken["geometry"][2] = None
    assert osm.parse_overpass({"elements": [broken, {"type": "node", "id": 5, "lat": 50.8, "lon": 12.9}]}).empty


# -- downloading -------------------------------------------------------------


def test_fetch_posts_the_query():
    with serve(json_handler(DOC)) as base_url:
        frame = osm.fetch_green_spaces(base_url + "/api/interpreter")
        requests = list(serve.requests)
    assert len(frame) == 6
    assert len(requests) == 1
    path, form = requests[0]
    assert path == "/api/interpreter"
    assert form["data"] == [osm.QUERY]
    assert '["name"="Chemnitz"]["admin_level"="6"]' in osm.QUERY
    assert "out geom;" in osm.QUERY


def test_query_asks_for_every_green_tag():
    for tag in ("park", "playground", "garden", "recreation_ground", "forest", "cemetery", "grave_yard",
                '"natural"="wood"', "way[", "relation["):
        assert tag in osm.QUERY


def test_progress_is_reported():
    seen = []
    with serve(json_handler(DOC)) as base_url:
        osm.fetch_green_spaces(base_url, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == len(json.dumps(DOC).encode())


def test_offline_raises_source_unavailable():
    with pytest.raises(SourceUnavailable):
        osm.fetch_green_spaces(closed_port_url())


def test_http_error_raises_source_unavailable():
    with serve(lambda p, q, b: (429, "text/plain", b"rate limited")) as base_url:
        with pytest.raises(SourceUnavailable, match="429"):
            osm.fetch_green_spaces(base_url)


def test_non_json_answer_raises_format_error():
    html = b"<html><body><p>The server is probably too busy to handle your request.</p></body></html>"
    with serve(lambda p, q, b: (200, "text/html", html)) as base_url:
        with pytest.raises(SourceFormatError, match="not JSON"):
            osm.fetch_green_spaces(base_url)


def test_answer_without_green_raises_format_error():
    doc = {"elements": [way(1, ring(12.90, 50.82, 12.91, 50.83), {"leisure": "pitch"})]}
    with serve(json_handler(doc)) as base_url:
        with pytest.raises(SourceFormatError, match="no green spaces"):
            osm.fetch_green_spaces(base_url)


def test_overpass_runtime_error_raises_source_unavailable():
    doc = dict(DOC, remark="runtime error: Query timed out in \"query\" at line 4 after 181 seconds.")
    with serve(json_handler(doc)) as base_url:
        with pytest.raises(SourceUnavailable, match="timed out"):
            osm.fetch_green_spaces(base_url)


# -- end to end ----------------------------------------------------------------


def check_stored(store: GeoPackageStore, base_url: str, count: int) -> None:
    layer = store.read("green_spaces")
    assert len(layer) == count == 6
    assert set(layer["kind"]) == {"park", "forest", "cemetery", "playground", "recreation_ground"}
    sources = store.sources().set_index("layer")
    assert sources.loc["green_spaces", "licence"] == "ODbL 1.0, © OpenStreetMap contributors"
    assert base_url in sources.loc["green_spaces", "source"]
    assert "Overpass" in sources.loc["green_spaces", "source"]


def test_run_fills_the_layer(tmp_path, monkeypatch):
    monkeypatch.setattr(loaders.sources, "registry", lambda: {s.name: s for s in osm.SOURCES})
    store = GeoPackageStore(tmp_path / "a.gpkg")
    with serve(json_handler(DOC)) as base_url:
        source, count = loaders.sources.run(store, "green_spaces", url=base_url)
    assert source.layer == "green_spaces"
    check_stored(store, base_url, count)


def test_run_through_the_real_registry(tmp_path):
    pytest.importorskip("loaders.sources.arcgis")
    pytest.importorskip("loaders.sources.atlas")
    assert loaders.sources.registry()["green_spaces"] is osm.SOURCES[0]
    store = GeoPackageStore(tmp_path / "a.gpkg")
    with serve(json_handler(DOC)) as base_url:
        _, count = loaders.sources.run(store, "green_spaces", url=base_url)
    check_stored(store, base_url, count)


# -- property: rectangles survive the round trip -----------------------------

rectangles = st.tuples(
    st.floats(12.90, 12.94),  # west
    st.floats(50.82, 50.84),  # south
    st.floats(0.0005, 0.01),  # width (deg)
    st.floats(0.0005, 0.01),  # height (deg)
    st.sampled_from([1, 2, 3]),  # 1: closed way; 2 or 3: open member ways of a relation
    st.randoms(use_true_random=False),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rectangles, min_size=1, max_size=4))
def test_rectangles_come_back_valid_with_their_area(specs):
    elements, expected = [], {}
    for i, (west, south, width, height, pieces, rnd) in enumerate(specs, start=1):
        coords = ring(west, south, west + width, south + height)
        if rnd.random() < 0.5:
            coords = list(reversed(coords))
        if pieces == 1:
            elements.append(way(i, coords, {"leisure": "park"}))
            osm_id = f"way/{i}"
        else:
            cuts = sorted(rnd.sample(range(1, 4), pieces - 1))
            bounds_ = [0, *cuts, 4]
            parts = [coords[a : b + 1] for a, b in zip(bounds_, bounds_[1:])]
            parts = [list(reversed(p)) if rnd.random() < 0.5 else p for p in parts]
            rnd.shuffle(parts)
            members = [member(1000 * i + k, p) for k, p in enumerate(parts)]
            elements.append(relation(i, members, {"type": "multipolygon", "landuse": "forest"}))
            osm_id = f"relation/{i}"
        expected[osm_id] = metric_area(Polygon(coords))
    frame = osm.parse_overpass({"elements": elements})
    assert sorted(frame["osm_id"]) == sorted(expected)
    assert frame.geometry.is_valid.all()
    assert set(frame.geometry.geom_type) == {"Polygon"}
    for osm_id, geom in zip(frame["osm_id"], frame.geometry):
        assert metric_area(geom) == pytest.approx(expected[osm_id], rel=0.01)
