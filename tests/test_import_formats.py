"""Real-world file formats: German office CSVs, GeoPackage, zipped Shapefile, GPX, CRS handling."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from loaders import schema
from loaders.__main__ import main
from loaders.importer import ImportFailed, check, infer_crs
from loaders.store import GeoPackageStore


def test_german_office_export_cp1252_semicolon_decimal_comma(tmp_path):
    text = (
        "ID;Datum;Uhrzeit;Kategorie;Quelle;Beschreibung;Rechtswert;Hochwert\n"
        "V-1;01.03.2025;21:15;Rassistische Beleidigung;Stadtordnungsdienst;Beleidigung am Brühl, \"laut\";356.120,5;5.634.210,25\n"
        "V-2;02.03.2025;7.30;Sachbeschädigung;Polizei;Graffiti Größe 2 m²;357000;5633000\n"
    )
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    frame, summary = check(path, "incidents")
    assert list(frame["category"]) == ["racist_insult", "property_damage"]
    assert list(frame["source"]) == ["ordnungsdienst", "police"]
    assert frame["description"].iloc[1] == "Graffiti Größe 2 m²"
    assert str(frame["occurred_at"].iloc[0]) == "2025-03-01 20:15:00+00:00"  # 21:15 CET
    assert str(frame["occurred_at"].iloc[1]) == "2025-03-02 06:30:00+00:00"
    back = gpd.GeoSeries(frame.geometry, crs=4326).to_crs(25833)
    assert abs(back.x.iloc[0] - 356120.5) < 0.01 and abs(back.y.iloc[0] - 5634210.25) < 0.01
    assert summary.crs == "EPSG:25833"
    text = summary.text()
    assert "CRS inferred from the coordinate ranges: EPSG:25833" in text
    assert "Windows-1252" in text and "';'" in text


def test_lat_lon_with_decimal_comma_and_german_headers(tmp_path):
    path = tmp_path / "angebote.csv"
    path.write_text("ID;Name;Art;Breite;Länge\nF1;Jugendtreff Nord;Offene Jugendarbeit;50,8622;12,9163\n", encoding="utf-8")
    frame, summary = check(path, "facilities")
    assert frame["kind"].iloc[0] == "youth_club"
    assert frame.geometry.iloc[0].equals_exact(Point(12.9163, 50.8622), 1e-9)
    assert summary.crs == "EPSG:4326"


def test_swapped_lat_lon_is_named(tmp_path):
    path = tmp_path / "swapped.csv"
    path.write_text("id,name,kind,lat,lon\nF1,X,school,12.92,50.83\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="row 2 column 'geometry': latitude and longitude look swapped"):
        check(path, "facilities")


def test_geopackage_import_picks_the_layer(tmp_path, city):
    path = tmp_path / "daten.gpkg"
    city["facilities"].to_file(path, layer="facilities", driver="GPKG")
    city["incidents"].to_file(path, layer="other", driver="GPKG")
    frame, summary = check(path, "facilities")
    assert list(frame["id"]) == ["F1"] and summary.fmt == "GeoPackage"
    assert "CRS read from the file: EPSG:4326" in summary.text()


def test_zipped_shapefile_in_epsg25833(tmp_path, city):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    city["green_spaces"].to_crs(25833).to_file(shp_dir / "gruen.shp")
    path = tmp_path / "gruen.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    frame, summary = check(path, "green_spaces")
    assert len(frame) == 2 and frame.crs.to_epsg() == 4326
    assert summary.crs == "EPSG:25833" and "reprojected from EPSG:25833" in summary.text()
    assert abs(frame.to_crs(25833).area.iloc[0] - 40_000) < 1


def test_zip_without_dbf_is_refused(tmp_path, city):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    city["green_spaces"].to_file(shp_dir / "g.shp")
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp_dir.iterdir():
            if f.suffix != ".dbf":
                zf.write(f, f.name)
    with pytest.raises(ImportFailed, match=r"broken.zip: the zipped Shapefile lacks its \.dbf file"):
        check(path, "green_spaces")


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>Streife Nord</name><trkseg>
    <trkpt lat="50.8300" lon="12.9200"><time>2025-03-01T19:00:00Z</time></trkpt>
    <trkpt lat="50.8310" lon="12.9215"><time>2025-03-01T19:30:00Z</time></trkpt>
    <trkpt lat="50.8325" lon="12.9230"><time>2025-03-01T21:00:00Z</time></trkpt>
  </trkseg></trk>
  <trk><trkseg>
    <trkpt lat="50.8100" lon="12.9000"><time>2025-03-02T08:00:00Z</time></trkpt>
    <trkpt lat="50.8120" lon="12.9010"><time>2025-03-02T12:00:00Z</time></trkpt>
  </trkseg></trk>
</gpx>"""


def test_gpx_tracks_become_shifts(tmp_path, db, capsys):
    path = tmp_path / "streifen.gpx"
    path.write_text(GPX, encoding="utf-8")
    assert main(["--db", str(db), "import", "patrols", str(path), "--unit", "security", "--mode", "bike", "--append"]) == 0
    out = capsys.readouterr().out
    assert "'unit' set to 'security'" in out
    patrols = GeoPackageStore(db).read("patrols").set_index("shift_id")
    assert str(patrols.loc["Streife Nord", "start"]) == "2025-03-01 19:00:00+00:00"
    assert str(patrols.loc["Streife Nord", "end"]) == "2025-03-01 21:00:00+00:00"
    assert patrols.loc["streifen-2" if "streifen-2" in patrols.index else patrols.index[-1], "mode"] == "bike"
    assert len(patrols) == 3


def test_gpx_without_unit_and_mode_names_the_missing_columns(tmp_path):
    path = tmp_path / "streifen.gpx"
    path.write_text(GPX, encoding="utf-8")
    with pytest.raises(ImportFailed, match="column 'unit': required column is missing"):
        check(path, "patrols")


def test_geojson_in_utm_without_crs_member_is_inferred(tmp_path, city):
    fac = city["facilities"].to_crs(25833)
    doc = json.loads(fac.to_json())
    doc.pop("crs", None)
    path = tmp_path / "utm.geojson"
    path.write_text(json.dumps(doc))
    frame, summary = check(path, "facilities")
    assert summary.crs == "EPSG:25833"
    assert frame.geometry.iloc[0].distance(city["facilities"].geometry.iloc[0]) < 1e-7


def test_declared_crs_that_does_not_fit_the_coordinates(tmp_path, city):
    fac = city["facilities"].to_crs(25833).set_crs(4326, allow_override=True)
    path = tmp_path / "wrong.gpkg"
    fac.to_file(path, driver="GPKG")
    with pytest.raises(ImportFailed, match="declares EPSG:4326, but its coordinates look like EPSG:25833"):
        check(path, "facilities")


def test_self_intersecting_polygon_is_repaired_and_reported(tmp_path):
    bowtie = Polygon([(12.90, 50.82), (12.92, 50.84), (12.92, 50.82), (12.90, 50.84)])
    gdf = gpd.GeoDataFrame({"name": ["Schleife"], "kind": ["park"]}, geometry=[bowtie], crs=4326)
    path = tmp_path / "bowtie.geojson"
    path.write_text(gdf.to_json())
    frame, summary = check(path, "green_spaces")
    assert frame.geometry.iloc[0].is_valid
    assert "feature 1: self-intersecting polygon repaired with make_valid" in summary.text()


def test_infer_crs_ranges():
    assert infer_crs([12.9], [50.8]) == "EPSG:4326"
    assert infer_crs([356000], [5632000]) == "EPSG:25833"
    assert infer_crs([33356000], [5632000]) == "EPSG:5650"
    assert infer_crs([4560000], [5634000]) == "EPSG:31468"
    assert infer_crs([1.0], [2.0]) is None


def test_crime_stats_csv_without_geometry(tmp_path):
    path = tmp_path / "pks.csv"
    path.write_text("Schlüssel;Jahr;Fälle;HZ\n01;2024;5.100;31.700,5\n02;2024;1.000;7.300\n", encoding="utf-8")
    frame, _ = check(path, "crime_stats")
    assert list(frame["crime_total_cases"]) == [5100, 1000]
    assert frame["crime_total_rate"].iloc[0] == 31700.5
    schema.validated("crime_stats", frame)
