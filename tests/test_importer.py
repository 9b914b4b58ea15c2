"""File imports through the CLI code path: good files, German labels, bad files."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.__main__ import main
from tests.conftest import digest
from loaders.importer import ImportFailed, check
from loaders.store import GeoPackageStore

HEADER = "id,occurred_at,category,source,description,lat,lon\n"


def write(tmp_path, name, text, mode="w"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_replaces_layer(tmp_path, db, capsys):
    csv = write(
        tmp_path,
        "vorfaelle.csv",
        HEADER
        + "A1,2025-03-01T21:15:00,Rassistische Beleidigung,Polizei,an der Haltestelle,50.8322,12.9190\n"
        + 'A2,2025-03-02T10:00:00+01:00,drugs,police,"<script>alert(1)</script>",50.8400,12.9000\n',
    )
    assert main(["--db", str(db), "import", "incidents", str(csv), "--replace"]) == 0
    assert "2 rows into 'incidents'" in capsys.readouterr().out
    inc = GeoPackageStore(db).read("incidents").set_index("id")
    assert inc.loc["A1", "category"] == "racist_insult" and inc.loc["A1", "source"] == "police"
    assert str(inc.loc["A1", "occurred_at"]) == "2025-03-01 20:15:00+00:00"  # local time without offset is Berlin
    assert inc.loc["A2", "description"] == "<script>alert(1)</script>"


def test_geojson_import_appends(tmp_path, db):
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": "F9", "name": "Jugendhaus Süd", "kind": "Offene Jugendarbeit"},
             "geometry": {"type": "Point", "coordinates": [12.93, 50.80]}}
        ],
    }
    path = write(tmp_path, "angebote.geojson", json.dumps(fc))
    assert main(["--db", str(db), "import", "facilities", str(path), "--append"]) == 0
    fac = GeoPackageStore(db).read("facilities")
    assert set(fac["id"]) == {"F1", "F9"} and set(fac["kind"]) == {"youth_club"}


BAD = [
    ("empty.csv", "", "file is empty"),
    ("header.csv", HEADER, "no rows"),
    ("truncated.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feat', "cannot read as GeoJSON"),
    ("garbage.csv", bytes(range(256)) * 20, "not a recognised file format"),
    ("category.csv", HEADER + "A1,2025-03-01T21:15,theft,police,,50.83,12.92\n", "row 2 column 'category': unknown value 'theft'; allowed: verbal_violence"),
    ("date.csv", HEADER + "A1,2025-02-30T21:15,drugs,police,,50.83,12.92\n", "row 2 column 'occurred_at': impossible or unreadable date/time"),
    ("swapped.csv", HEADER + "A1,2025-03-01T21:15,drugs,police,,12.92,50.83\n", "row 2 column 'geometry': latitude and longitude look swapped"),
    ("outside.csv", HEADER + "A1,2025-03-01T21:15,drugs,police,,52.52,13.40\n", "row 2 column 'geometry': coordinates outside Chemnitz"),
    ("nan.csv", HEADER + "A1,2025-03-01T21:15,drugs,police,,nan,12.92\n", "row 2: 'lat'/'lon' is not a number"),
    ("dupes.csv", HEADER + "A1,2025-03-01T21:15,drugs,police,,50.83,12.92\nA1,2025-03-01T22:15,drugs,police,,50.83,12.92\n", "row 3 column 'id': duplicate id 'A1'"),
    ("nolatlon.csv", "id,occurred_at,category,source\nA1,2025-03-01,drugs,police\n", "point layers need coordinate columns"),
    ("wrongtype.geojson", json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "x", "occurred_at": "2025-01-01T10:00Z", "category": "drugs", "source": "police"}, "geometry": {"type": "LineString", "coordinates": [[12.9, 50.8], [12.91, 50.81]]}}]}), "feature 1 column 'geometry': wrong geometry type LineString"),
    ("image.csv", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "not a recognised file format"),
    ("quote.csv", HEADER + 'A1,2025-03-01T21:15,drugs,police,"unterminated,50.83,12.92\n', "cannot read as CSV"),
    ("nullgeom.geojson", json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "x", "occurred_at": "2025-01-01T10:00Z", "category": "drugs", "source": "police"}, "geometry": None}]}), "no geometries in the file"),
    ("notjson.geojson", "{this is not json", "cannot read as GeoJSON"),
    ("emptyfc.geojson", json.dumps({"type": "FeatureCollection", "features": []}), "no rows"),
    ("html.csv", "<html><body>Fehler 404</body></html>", "not a recognised file format"),
    ("badtz.csv", HEADER + "A1,2025-03-01T25:15,drugs,police,,50.83,12.92\n", "row 2 column 'occurred_at': impossible or unreadable date/time '2025-03-01T25:15'"),
    ("missingcol.csv", "id,occurred_at,category,lat,lon\nA1,2025-03-01T21:15,drugs,50.83,12.92\n", "column 'source': required column is missing"),
]


@pytest.mark.parametrize("name,content,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_with_a_clear_message(tmp_path, db, capsys, name, content, expected):
    path = write(tmp_path, name, content)
    before = digest(db)
    assert main(["--db", str(db), "import", "incidents", str(path), "--replace"]) == 2
    err = capsys.readouterr().err
    assert f"{name}: " in err
    assert expected in err
    assert digest(db) == before


def test_one_bad_row_among_thousands_stores_nothing(tmp_path, db, capsys):
    rows = [f"B{i},2025-03-01T21:15,drugs,police,,50.83,12.92\n" for i in range(3000)]
    rows[1717] = "B1717,2025-03-01T21:15,drugs,police,,50.83,129.2\n"
    path = write(tmp_path, "big.csv", HEADER + "".join(rows))
    before = digest(db)
    assert main(["--db", str(db), "import", "incidents", str(path), "--replace"]) == 2
    assert "row 1719" in capsys.readouterr().err
    assert digest(db) == before


# any text a person can type, including quotes, separators, newlines, tabs and markup
text_value = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t\r"), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(descriptions=st.lists(text_value, min_size=1, max_size=8), lat=st.floats(50.75, 50.90), lon=st.floats(12.80, 13.05))
def test_csv_text_fields_survive_any_content(tmp_path, descriptions, lat, lon):
    """Quotes, separators, newlines and markup in a text field never break parsing."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "occurred_at", "category", "source", "description", "lat", "lon"])
    for i, d in enumerate(descriptions):
        w.writerow([f"H{i}", "2025-05-05T12:00", "disorder", "police", d, lat, lon])
    path = write(tmp_path, "h.csv", buf.getvalue())
    frame, summary = check(path, "incidents")
    assert summary.rows == len(descriptions)
    got = [("" if v is None or v != v else v) for v in frame["description"]]
    # the CSV reader strips nothing inside quotes; empty strings read as missing
    assert [g.replace("\r\n", "\n").replace("\r", "\n") for g in got] == [d.replace("\r\n", "\n").replace("\r", "\n") for d in descriptions]


def test_check_raises_import_failed_naming_the_file(tmp_path):
    path = write(tmp_path, "x.csv", HEADER)
    with pytest.raises(ImportFailed) as err:
        check(path, "incidents")
    assert err.value.lines == ["x.csv: no rows (empty file or header only)"]


def test_files_over_the_size_limit_are_refused_unread(tmp_path, db, capsys, monkeypatch):
    import loaders.importer as importer

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as fh:  # a sparse 201 MB file: nothing is read into memory
        fh.truncate(importer.MAX_FILE_BYTES + 1024 * 1024)
    assert main(["--db", str(db), "import", "incidents", str(huge)]) == 2
    assert "huge.csv: file is 201 MB; the limit is 200 MB" in capsys.readouterr().err


german_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüßÄÖÜ ;,.\"'<>&/-", max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(german_text, st.floats(356_000, 360_000), st.floats(5_630_000, 5_636_000), st.sampled_from(["Drogen", "Verbale Gewalt", "drugs"])),
        min_size=1,
        max_size=6,
    ),
    encoding=st.sampled_from(["utf-8", "cp1252"]),
)
def test_german_office_csv_round_trip(tmp_path, rows, encoding):
    """; separator, decimal comma, thousands dots, German headers and dates, either encoding."""
    import csv
    import io

    def german(x: float) -> str:
        return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["ID", "Datum", "Uhrzeit", "Kategorie", "Quelle", "Beschreibung", "Rechtswert", "Hochwert"])
    for i, (text, x, y, cat) in enumerate(rows):
        w.writerow([f"G{i}", "24.12.2025", "23:05", cat, "Polizei", text, german(x), german(y)])
    path = tmp_path / "g.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    frame, summary = check(path, "incidents")
    assert summary.rows == len(rows) and summary.crs == "EPSG:25833"
    back = frame.to_crs(25833)
    for (text, x, y, _), gx, gy in zip(rows, back.geometry.x, back.geometry.y):
        assert abs(gx - round(x, 2)) < 0.01 and abs(gy - round(y, 2)) < 0.01
    assert set(frame["category"]) <= {"drugs", "verbal_violence"}
    assert [("" if v is None or v != v else v) for v in frame["description"]] == [t for t, *_ in rows]


# -- zip archives: size and member limits before anything is unpacked -------------------

def _shapefile_zip(tmp_path, name: str, extra=()) -> "Path":
    """A zipped Shapefile of one point, plus ``extra`` (member name, bytes or size of zeros)."""
    import zipfile

    import geopandas as gpd
    from shapely.geometry import Point

    shp_dir = tmp_path / f"{name}-shp"
    shp_dir.mkdir()
    gpd.GeoDataFrame({"id": ["F1"], "name": ["Treff"], "kind": ["youth_club"]}, geometry=[Point(12.92, 50.83)], crs=4326).to_file(shp_dir / "angebote.shp")
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(shp_dir.iterdir()):
            zf.write(f, f.name)
        for member, content in extra:
            with zf.open(member, "w") as fh:
                if isinstance(content, bytes):
                    fh.write(content)
                else:
                    block = bytes(1024 * 1024)
                    for _ in range(content // len(block)):
                        fh.write(block)
    return path


def _unzip_folders():
    import tempfile
    from pathlib import Path

    return sorted(Path(tempfile.gettempdir()).glob("atlas-unzip-*"))


def test_zip_bomb_is_refused_by_its_directory_before_unpacking(tmp_path, db, capsys, monkeypatch):
    import loaders.importer as importer

    before_store, before_tmp = digest(db), _unzip_folders()
    bomb = _shapefile_zip(tmp_path, "bombe.zip", [("angebote.dbf.bak", 300 * 1024 * 1024)])
    assert bomb.stat().st_size < 2 * 1024 * 1024  # a small archive ...
    unpacked = []
    monkeypatch.setattr(importer, "_unpack", lambda *a: unpacked.append(a))
    assert main(["--db", str(db), "import", "facilities", str(bomb)]) == 2
    err = capsys.readouterr().err
    assert "bombe.zip: the zip archive unpacks to 300 MB; the limit is 200 MB (nothing was unpacked)" in err  # ... that unpacks to 300 MB
    assert unpacked == []
    assert digest(db) == before_store and _unzip_folders() == before_tmp


def test_zip_with_too_many_members_is_refused(tmp_path):
    path = _shapefile_zip(tmp_path, "viele.zip", [(f"x/{i}.txt", b"") for i in range(1000)])
    with pytest.raises(ImportFailed, match=r"viele.zip: the zip archive holds 100\d files; the limit is 1000"):
        check(path, "facilities")


def test_zip_counts_the_bytes_it_really_unpacks(tmp_path, monkeypatch):
    """Even when the directory passed the check, unpacking stops at the limit."""
    import loaders.importer as importer

    path = _shapefile_zip(tmp_path, "gross.zip", [("angebote.shp.xml", 8 * 1024 * 1024)])
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 4 * 1024 * 1024)
    monkeypatch.setattr(importer, "_check_archive", lambda infos: None)  # as if the directory had lied
    before = _unzip_folders()
    with pytest.raises(ImportFailed, match=r"gross.zip: the zip archive unpacks to more than 4 MB, the limit"):
        check(path, "facilities")
    assert _unzip_folders() == before  # the unpacked part is gone


def test_zip_whose_directory_understates_a_member_is_refused(tmp_path):
    """A member that inflates to far more than its directory entry claims is never unpacked past the claim."""
    import struct

    path = _shapefile_zip(tmp_path, "luege.zip", [("angebote.shp.xml", 64 * 1024 * 1024)])
    raw = bytearray(path.read_bytes())
    name = b"angebote.shp.xml"
    # rewrite its uncompressed size in the local header and in the central directory: 1000 bytes
    for sig, name_len_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        at = raw.find(sig)
        while at >= 0:
            n = struct.unpack_from("<H", raw, at + name_len_at)[0]
            if raw[at + name_at: at + name_at + n] == name:
                assert struct.unpack_from("<I", raw, at + size_at)[0] == 64 * 1024 * 1024
                struct.pack_into("<I", raw, at + size_at, 1000)
            at = raw.find(sig, at + 4)
    path.write_bytes(bytes(raw))
    with pytest.raises(ImportFailed, match=r"luege.zip: broken zip archive \(Bad CRC-32"):
        check(path, "facilities")


def test_zipped_shapefile_still_imports(tmp_path, db):
    path = _shapefile_zip(tmp_path, "angebote.zip")
    frame, summary = check(path, "facilities")
    assert list(frame["id"]) == ["F1"] and summary.fmt == "zipped Shapefile"
