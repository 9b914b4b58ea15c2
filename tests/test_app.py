"""The pages, run headless with Streamlit's AppTest: filters change the figures."""

from __future__ import annotations

import re

import pytest

from loaders.store import GeoPackageStore
from tests.conftest import demo_store, open_app


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory, seed=7, n_incidents=4000)


@pytest.fixture
def app(demo_db, monkeypatch):
    return open_app(demo_db, monkeypatch)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def as_int(text: str) -> int:
    return int(text.replace(".", "").replace(",", ""))


def table_names(at) -> list[str]:
    return list(at.dataframe[0].value["Stadtteil"])


def test_map_page_shows_demo_label_figures_and_table(app):
    app.run()
    assert not app.exception
    assert any("Demo-Daten" in w.value for w in app.warning)
    assert as_int(metric(app, "Vorfälle im Filter")) == 4000
    assert len(app.dataframe[0].value) == 39
    assert app.get("download_button")  # CSV download offered


def test_outside_centre_switch_changes_figures_and_url(app):
    app.run()
    before = as_int(metric(app, "Vorfälle im Filter"))
    app.sidebar.toggle(key="f_outside").set_value(True).run()
    after = as_int(metric(app, "Vorfälle im Filter"))
    assert 0 < after < before
    assert "Zentrum" not in table_names(app) and len(table_names(app)) == 38
    assert app.query_params["outside"] == ["1"] or app.query_params["outside"] == "1"


def test_night_hours_change_incidents_and_patrols(app):
    app.run()
    inc, shifts = as_int(metric(app, "Vorfälle im Filter")), as_int(metric(app, "Aktive Schichten"))
    app.sidebar.selectbox(key="f_h_from").set_value(20)
    app.sidebar.selectbox(key="f_h_to").set_value(4).run()
    assert as_int(metric(app, "Vorfälle im Filter")) < inc
    assert as_int(metric(app, "Aktive Schichten")) < shifts
    assert "über Mitternacht" in " ".join(c.value for c in app.sidebar.caption)


def test_category_filter_and_district_panel(app):
    app.run()
    app.sidebar.multiselect(key="f_cat__de").set_value(["racist_insult"]).run()
    n = as_int(metric(app, "Vorfälle im Filter"))
    assert 0 < n < 4000
    app.selectbox(key="v_sel__de").set_value("21").run()
    assert not app.exception
    assert any("Sonnenberg" in m.value for m in app.markdown)
    # the district panel shows its incidents by category and by hour
    assert len(app.get("plotly_chart")) == 2


def test_url_parameters_open_a_shared_view(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch)
    at.query_params["d"] = "01,21"
    at.query_params["wd"] = "56"
    at.query_params["metric"] = "coverage_share"
    at.run()
    assert not at.exception
    assert sorted(table_names(at)) == ["Sonnenberg", "Zentrum"]
    assert at.sidebar.multiselect(key="f_d").value == ["01", "21"]
    assert at.selectbox(key="v_metric__de").value == "coverage_share"
    assert at.sidebar.pills(key="f_wd__de").value == [5, 6]


def test_english_interface(app):
    app.query_params["lang"] = "en"
    app.run()
    assert app.title[0].value == "Prevention Atlas Chemnitz"
    assert as_int(metric(app, "Incidents in filter")) == 4000


def test_empty_store_gets_demo_data_on_first_start(tmp_path, monkeypatch):
    at = open_app(tmp_path / "fresh.gpkg", monkeypatch)
    at.run()
    assert not at.exception
    assert any("Demo-Daten" in w.value for w in at.warning)
    assert GeoPackageStore(tmp_path / "fresh.gpkg").is_demo()


def test_info_page_lists_sources(app):
    app.run()
    app.switch_page("views/info.py").run()
    assert not app.exception
    sources = app.dataframe[0].value
    assert list(sources.columns) == ["Ebene", "Quelle", "Lizenz", "Demo-Daten", "Stand (Ortszeit)"]
    assert "Vorfälle" in set(sources["Ebene"]) and set(sources["Demo-Daten"]) == {"Ja"}
    # retrieval time in local time, German format
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d", v) for v in sources["Stand (Ortszeit)"])


def test_a_map_click_opens_the_district_under_it(app):
    app.run()
    app.session_state["atlas_map"] = {"last_clicked": {"lat": 50.8346, "lng": 12.9215}, "zoom": 12}
    app.run()
    assert not app.exception
    assert app.selectbox(key="v_sel__de").value == "01"
    assert any("Zentrum (01)" in m.value for m in app.markdown)


def test_a_click_on_a_point_with_a_popup_opens_its_district_too(app):
    app.run()
    # Leaflet reports a click on a shape with a popup only as an object click
    app.session_state["atlas_map"] = {"last_clicked": {"lat": 50.8346, "lng": 12.9215}, "zoom": 12}
    app.run()
    app.session_state["atlas_map"] = {
        "last_clicked": {"lat": 50.8346, "lng": 12.9215},
        "last_object_clicked": {"lat": 50.8120, "lng": 12.8220},
        "last_object_clicked_count": 1,
        "zoom": 12,
    }
    app.run()
    assert not app.exception
    assert app.selectbox(key="v_sel__de").value not in (None, "01")


def test_presentation_mode_shows_the_active_filters(app):
    app.query_params["present"] = "1"
    app.query_params["h"] = "20-4"
    app.query_params["outside"] = "1"
    app.run()
    assert not app.exception
    assert not app.title  # large map, no page furniture
    banner = next(m.value for m in app.markdown if "atlas-filter-banner" in m.value)
    assert "20:00–04:00" in banner and "nur außerhalb des Zentrums" in banner
    assert "Demo-Daten" in banner and not app.warning  # the demo label sits in the header line
    assert "Kategorien" not in banner  # only filters that narrow the data
    assert any(b.label == "Präsentation beenden" for b in app.button)
    next(b for b in app.button if b.label == "Präsentation beenden").click().run()
    assert app.title and "present" not in app.query_params


def test_saved_views_store_and_reopen(app):
    app.run()
    app.sidebar.toggle(key="f_outside").set_value(True)
    app.sidebar.multiselect(key="f_cat__de").set_value(["racist_insult"]).run()
    app.sidebar.text_input(key="view_name").set_value("Rassismus außerhalb")
    app.sidebar.button(key="view_save").click().run()
    assert not app.exception
    import os

    from loaders.workshops import WorkshopStore, default_path

    views = WorkshopStore(default_path(os.environ["ATLAS_DB"])).views().set_index("name")
    params = views.loc["Rassismus außerhalb", "params"]
    assert "outside=1" in params and "cat=racist_insult" in params
    app.sidebar.toggle(key="f_outside").set_value(False)
    app.sidebar.multiselect(key="f_cat__de").set_value([]).run()
    assert app.sidebar.toggle(key="f_outside").value is False
    app.sidebar.button(key="open_view_Rassismus außerhalb").click().run()
    assert app.sidebar.toggle(key="f_outside").value is True
    assert app.sidebar.multiselect(key="f_cat__de").value == ["racist_insult"]
