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


# -- temp copies of uploads: one per upload, removed when no longer needed -------------

@pytest.fixture
def tmpdir_for_uploads(tmp_path, monkeypatch):
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def copies(folder) -> list:
    """The upload copies in the temp folder, as (folder name, [files])."""
    return [(p.name, sorted(f.name for f in p.iterdir())) for p in sorted(folder.glob("atlas-upload-*"))]


def upload_file(at, name, content):
    at.file_uploader(key="imp_file").set_value((name, content, "text/csv")).run()
    assert not at.exception


def test_one_temp_copy_per_upload_removed_on_commit(page, tmpdir_for_uploads):
    at, db = page
    at.selectbox(key="imp_layer").set_value("incidents").run()
    upload_file(at, "meldungen.csv", GERMAN_CSV)
    assert [files for _, files in copies(tmpdir_for_uploads)] == [["meldungen.csv"]]
    at.text_input[0].set_value("CC-BY-4.0").run()  # reruns with the file selected
    at.run()
    assert [files for _, files in copies(tmpdir_for_uploads)] == [["meldungen.csv"]]
    next(b for b in at.button if b.label == "Übernehmen").click().run()
    assert any("Übernommen" in s.value for s in at.success)
    assert copies(tmpdir_for_uploads) == []
    at.run()  # still selected: shown as imported, neither copied nor stored again
    assert copies(tmpdir_for_uploads) == []
    assert any("bereits übernommen" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Übernehmen"]
    assert len(GeoPackageStore(db).read("incidents")) == 2


def test_refused_upload_leaves_no_copy(page, tmpdir_for_uploads):
    at, db = page
    before = digest(db)
    at.selectbox(key="imp_layer").set_value("incidents").run()
    upload_file(at, "kaputt.csv", GERMAN_CSV.replace(b"Verbale Gewalt", b"Ruhestoerung"))
    assert any("kann nicht übernommen werden" in e.value for e in at.error)
    assert copies(tmpdir_for_uploads) == []
    at.run()
    assert copies(tmpdir_for_uploads) == [] and digest(db) == before


def test_replaced_and_cleared_uploads_leave_no_copy(page, tmpdir_for_uploads):
    at, _ = page
    at.selectbox(key="imp_layer").set_value("incidents").run()
    upload_file(at, "erste.csv", GERMAN_CSV)
    first = copies(tmpdir_for_uploads)
    upload_file(at, "zweite.csv", GERMAN_CSV)
    second = copies(tmpdir_for_uploads)
    assert [files for _, files in second] == [["zweite.csv"]] and second[0][0] != first[0][0]
    at.file_uploader(key="imp_file").clear().run()
    assert copies(tmpdir_for_uploads) == []


def test_stale_copies_and_copies_of_ended_sessions_are_swept(page, tmpdir_for_uploads, monkeypatch):
    import os
    import time

    from dashboard import uploads

    at, _ = page
    old = tmpdir_for_uploads / "atlas-upload-vorgestern"
    fresh = tmpdir_for_uploads / "atlas-upload-eben"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "x.csv").write_text("id\n1\n")
    hours_ago = time.time() - 3 * 3600
    os.utime(old, (hours_ago, hours_ago))
    at.selectbox(key="imp_layer").set_value("incidents").run()
    upload_file(at, "meldungen.csv", GERMAN_CSV)  # the next use sweeps
    names = [name for name, _ in copies(tmpdir_for_uploads)]
    assert "atlas-upload-vorgestern" not in names and "atlas-upload-eben" in names and len(names) == 2
    # the session that staged a copy ends: its copy goes on the next sweep
    monkeypatch.setattr(uploads, "_session_live", lambda session_id: False)
    uploads.sweep()
    assert [name for name, _ in copies(tmpdir_for_uploads)] == ["atlas-upload-eben"]


def test_only_an_admin_on_the_import_page_may_upload(db, monkeypatch):
    from dashboard import server_guard

    session = "test session id"  # the session id of every AppTest run
    at = open_app(db, monkeypatch, role="admin")
    at.run()
    assert not server_guard.may_upload(session)  # the map
    at.switch_page("views/importieren.py").run()
    assert server_guard.may_upload(session)
    at.switch_page("views/info.py").run()
    assert not server_guard.may_upload(session)
    for role in ("council", "workshop", "public", None):
        at = open_app(db, monkeypatch, role=role)
        server_guard.set_uploads(True, session)
        at.run()
        assert not server_guard.may_upload(session), role
