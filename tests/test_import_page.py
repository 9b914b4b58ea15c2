"""The import page: the same checks as the CLI, a summary and preview before storing."""

from __future__ import annotations

import pytest

from loaders.store import GeoPackageStore
from tests.conftest import digest, open_app

GERMAN_CSV = (
    "ID;Datum;Uhrzeit;Kategorie;Quelle;Beschreibung;Breite;Länge\n"
    "U1;01.03.2025;21:15;Sexistische Beleidigung;Beschwerdestelle;<img src=x onerror=alert(1)>;50,8322;12,9190\n"
    "U2;02.03.2025;22:40;Verbale Gewalt;Polizei;an der Zentralhaltestelle;50,8330;12,9200\n"
).encode("cp1252")


@pytest.fixture
def page(db, monkeypatch):
    return open_app(db, monkeypatch, "importieren"), db


def codes(at) -> str:
    return "\n".join(c.value for c in at.code)


def test_upload_shows_summary_and_preview_then_stores(page):
    at, db = page
    at.selectbox(key="imp_layer").set_value("incidents").run()
    at.file_uploader(key="imp_file").set_value(("meldungen.csv", GERMAN_CSV, "text/csv")).run()
    assert not at.exception
    text = codes(at)
    assert "meldungen.csv: 2 rows into 'incidents'" in text and "EPSG:4326" in text and "Windows-1252" in text
    preview = at.dataframe[0].value
    assert list(preview["category"]) == ["sexist_insult", "verbal_violence"]
    assert len(GeoPackageStore(db).read("incidents")) == 5  # nothing stored yet
    next(b for b in at.button if b.label == "Übernehmen").click().run()
    assert not at.exception
    assert any("Übernommen" in s.value for s in at.success)
    stored = GeoPackageStore(db).read("incidents")
    assert set(stored["id"]) == {"U1", "U2"}
    assert stored.set_index("id").loc["U1", "description"] == "<img src=x onerror=alert(1)>"


def test_bad_upload_names_file_row_and_problem_and_changes_nothing(page):
    at, db = page
    before = digest(db)
    at.selectbox(key="imp_layer").set_value("incidents").run()
    bad = GERMAN_CSV.replace(b"Verbale Gewalt", b"Ruhestoerung")
    at.file_uploader(key="imp_file").set_value(("kaputt.csv", bad, "text/csv")).run()
    assert any("kann nicht übernommen werden" in e.value for e in at.error)
    assert "kaputt.csv: row 3 column 'category': unknown value 'Ruhestoerung'" in codes(at)
    assert not [b for b in at.button if b.label == "Übernehmen"]
    assert digest(db) == before


def test_type_is_checked_by_content_not_name(page):
    at, db = page
    at.selectbox(key="imp_layer").set_value("facilities").run()
    at.file_uploader(key="imp_file").set_value(("angebote.geojson", b"\x89PNG\r\n\x1a\n" + bytes(200), "application/geo+json")).run()
    assert "angebote.geojson: not a recognised file format" in codes(at)


def test_fetch_button_reports_an_unreachable_source_and_changes_nothing(page, monkeypatch):
    at, db = page
    labels = " ".join(m.value for m in at.markdown)
    for name in ("districts", "facilities", "green_spaces", "crime_stats"):
        assert f"**{name}**" in labels
    from dataclasses import replace

    from loaders import sources
    from tests.httpserver import closed_port_url

    real = sources.registry()
    offline = {k: replace(v, default_url=closed_port_url()) for k, v in real.items()}
    monkeypatch.setattr(sources, "registry", lambda: offline)
    before = digest(db)
    at.button(key="fetch_districts").click().run()
    assert not at.exception
    assert any("unverändert" in e.value for e in at.error)
    assert "not reachable" in codes(at)
    assert digest(db) == before
