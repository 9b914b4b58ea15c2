"""The gaps page: ranking, heatmaps, hotspots, report; all following the filters."""

from __future__ import annotations

import pytest

from loaders.store import GeoPackageStore
from tests.conftest import demo_store, open_app


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory, seed=11, n_incidents=6000)


@pytest.fixture
def page(demo_db, monkeypatch):
    return open_app(demo_db, monkeypatch, "luecken")


def ranking(at):
    return at.dataframe[0].value


def test_ranking_table_and_downloads(page):
    table = ranking(page)
    ranked = table[table["Rang"].notna()]
    assert list(ranked["Rang"]) == list(range(1, len(ranked) + 1))
    scores = ranked["Lückenwert (je 1.000 Einw.)"].tolist()
    assert scores == sorted(scores, reverse=True)
    labels = [d.label for d in page.get("download_button")]
    assert "Bericht für die Sitzung (HTML, druckbar)" in labels and "Tabelle als CSV herunterladen" in labels
    assert len(page.get("plotly_chart")) == 3  # incidents without patrol, incidents, patrol hours


def test_outside_centre_removes_the_centre_from_the_ranking(page):
    assert "Zentrum" in set(ranking(page)["Stadtteil"])
    page.sidebar.toggle(key="f_outside").set_value(True).run()
    assert "Zentrum" not in set(ranking(page)["Stadtteil"])


def test_night_filter_changes_the_ranking(page):
    before = ranking(page)["ohne Streife"].sum()
    page.sidebar.selectbox(key="f_h_from").set_value(22)
    page.sidebar.selectbox(key="f_h_to").set_value(3).run()
    assert not page.exception
    assert 0 < ranking(page)["ohne Streife"].sum() < before


def test_heatmap_for_one_district(page):
    page.selectbox(key="gap_scope__de").set_value("21").run()
    assert not page.exception
    assert len(page.get("plotly_chart")) == 3


def test_report_is_self_contained_and_escaped(demo_db):
    from dashboard import report
    from geodata.analysis import Selection, analyse
    from geodata.gaps import ranking_table
    from loaders.bootstrap import load_prepared

    prep = load_prepared(GeoPackageStore(demo_db))
    prep.districts.loc[0, "name"] = "<script>alert(1)</script>"
    result = analyse(prep, Selection())
    html = report.report_html(result.districts, ranking_table(result), ["Zeitraum: <b>alles</b>"], "de", True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;alles&lt;/b&gt;" in html
    assert "<svg" in html and html.count("<path") == 39
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert "Demo-Daten" in html
