"""Remote sources through the CLI against a local server speaking the real formats."""

from __future__ import annotations

import json

from shapely.geometry import Point, box, mapping

from loaders.__main__ import main
from tests.conftest import digest
from loaders.sources import arcgis
from loaders.store import GeoPackageStore
from tests.httpserver import closed_port_url, serve


def district_features(n=39):
    """n small squares in a grid over Chemnitz, with the portal's field names."""
    from loaders.demo import facts

    f = facts()
    feats = []
    for i, row in f.head(n).iterrows():
        x, y = 12.80 + (i % 8) * 0.03, 50.76 + (i // 8) * 0.025
        feats.append({
            "type": "Feature",
            "id": i + 1,
            "geometry": mapping(box(x, y, x + 0.028, y + 0.023)),
            "properties": {"OBJECTID": i + 1, "ID": i + 1, "STADTTS": row["code"], "STADTTNAME": row["name"], "KGGS": row["code"] + "00000", "FLAECHE": 5},
        })
    return feats


def paged(features, page_limit=10):
    """An ArcGIS query endpoint that returns at most page_limit features per request."""

    def handler(path, query, body):
        assert path.endswith("/query") and query["f"] == ["geojson"] and query["outSR"] == ["4326"]
        offset = int(query.get("resultOffset", ["0"])[0])
        count = min(int(query.get("resultRecordCount", ["1000"])[0]), page_limit)
        page = features[offset:offset + count]
        doc = {"type": "FeatureCollection", "features": page}
        if offset + count < len(features):
            doc["properties"] = {"exceededTransferLimit": True}
        return 200, "application/geo+json", json.dumps(doc).encode()

    return handler


def test_districts_are_paged_and_replace_the_layer(db, capsys):
    with serve(paged(district_features())) as base:
        assert main(["--db", str(db), "fetch", "districts", "--url", f"{base}/Stadtteile_FL_1/FeatureServer/0"]) == 0
        pages = [q for p, q in serve.requests if p.endswith("/query")]
    assert len(pages) == 4  # 39 features, 10 per page
    store = GeoPackageStore(db)
    d = store.read("districts")
    assert len(d) == 39 and d["code"].iloc[0] == "01" and d["name"].iloc[0] == "Zentrum"
    assert d["population"].iloc[0] == 16092  # the atlas estimate, joined by code
    src = store.sources().set_index("layer").loc["districts"]
    assert "dl-de/by-2-0" in src["licence"] and base in src["source"] and src["retrieved_at"]
    assert "39 rows into 'districts'" in capsys.readouterr().out


def test_facilities_from_three_portal_layers(db):
    layers = {
        "Schulsozialarbeit_FL_1": [{"type": "Feature", "geometry": mapping(Point(12.92, 50.83)), "properties": {"OBJECTID": 1, "TRAEGER": "Verein <b>X</b> e. V. ", "LEISTUNGEN": "Schulsozialarbeit", "BEZEICHNUNG": None, "STRASSE": "Hauptstraße 1"}}],
        "Jugendberufshilfen_FL_1": [{"type": "Feature", "geometry": mapping(Point(12.93, 50.84)), "properties": {"OBJECTID": 7, "TRAEGER": "Y", "LEISTUNGEN": "Jugendberufshilfe", "BEZEICHNUNG": "JBH Mitte"}}],
        "Schulen_OpenData": [{"type": "Feature", "geometry": mapping(Point(12.94, 50.85)), "properties": {"OBJECTID": 3, "BEZEICHNUNG": "Grundschule Nord", "ART": "Grundschule"}}],
    }

    def handler(path, query, body):
        service = path.split("/")[1]
        return paged(layers[service])(path, query, body)

    with serve(handler) as base:
        assert main(["--db", str(db), "fetch", "facilities", "--url", base]) == 0
    fac = GeoPackageStore(db).read("facilities").set_index("id")
    assert fac.loc["SSA-1", "kind"] == "school_social_work"
    assert fac.loc["SSA-1", "name"] == "Schulsozialarbeit – Verein <b>X</b> e. V. (Hauptstraße 1)"  # stored as text
    assert fac.loc["JBH-7", "name"] == "JBH Mitte" and fac.loc["SCH-3", "kind"] == "school"


def test_service_error_and_offline_leave_the_store_unchanged(db, capsys):
    before = digest(db)

    def error(path, query, body):
        return 200, "application/json", json.dumps({"error": {"code": 400, "message": "Invalid query"}}).encode()

    with serve(error) as base:
        assert main(["--db", str(db), "fetch", "districts", "--url", base]) == 2
    assert "Invalid query" in capsys.readouterr().err
    assert main(["--db", str(db), "fetch", "districts", "--url", closed_port_url()]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not reachable" in err[0] and "nothing changed" in err[0]
    assert digest(db) == before


def test_incomplete_district_answer_fails_validation(db, capsys):
    feats = district_features(5)
    feats[2]["geometry"]["coordinates"] = [[[c[1], c[0]] for c in feats[2]["geometry"]["coordinates"][0]]]
    before = digest(db)
    with serve(paged(feats)) as base:
        assert main(["--db", str(db), "fetch", "districts", "--url", base]) == 2
    assert "swapped" in capsys.readouterr().err
    assert digest(db) == before


def test_query_url_accepts_layer_or_query_address():
    assert arcgis._query_url("http://x/FeatureServer/0") == "http://x/FeatureServer/0/query"
    assert arcgis._query_url("http://x/FeatureServer/0/query") == "http://x/FeatureServer/0/query"
