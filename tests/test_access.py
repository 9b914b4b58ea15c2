"""Roles and privacy rules, checked on what the pages render (AppTest)."""

from __future__ import annotations

import pandas as pd
import pytest

from geodata import privacy
from tests.conftest import demo_store, open_app


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory, seed=5, n_incidents=3000)


def all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [m.label for m in at.metric]
    parts += [str(d.value.to_dict()) for d in at.dataframe]
    parts += [c.label for c in at.checkbox]
    return "\n".join(parts)


def test_policies():
    assert privacy.policy("council").meeting_points and privacy.policy("council").incident_points
    w = privacy.policy("workshop")
    assert not w.meeting_points and not w.incident_points and "meeting" not in w.layers and w.min_count == 3
    assert "importieren" not in w.pages and "protokoll" not in w.pages
    p = privacy.policy("public")
    assert p.layers == frozenset({"districts"}) and p.district_only and "luecken" not in p.pages
    assert privacy.policy("nobody").pages == frozenset()
    assert "importieren" in privacy.policy("admin").pages and "importieren" not in privacy.policy("council").pages


def test_small_counts_are_suppressed():
    df = pd.DataFrame({"n": [0, 1, 2, 3, 10]})
    out = privacy.suppress_small(df, ["n"], 3)["n"]
    assert out.iloc[0] == 0 and out.iloc[1:3].isna().all() and out.iloc[3] == 3 and out.iloc[4] == 10


def test_without_login_only_the_form(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role=None)
    at.run()
    assert not at.exception
    labels = [ti.label for ti in at.text_input]
    assert labels[-2:] == ["Name", "Passwort"] and labels[0].startswith("Code")
    assert not at.metric and not at.dataframe and not at.warning
    assert "Demo" not in all_text(at)


def test_wrong_password_is_refused(demo_db, monkeypatch):
    from loaders.accounts import AccountStore, default_path

    AccountStore(default_path(str(demo_db))).add("rat-mitglied", "council", "ein-langes-passwort", actor="test")
    at = open_app(demo_db, monkeypatch, role=None)
    at.run()
    at.text_input(key="login_name").set_value("rat-mitglied")
    at.text_input(key="login_password").set_value("falsch-falsch")
    sign_in = next(b for b in at.button if b.label == "Anmelden")
    sign_in.click().run()
    assert "Name oder Passwort falsch." in [e.value for e in at.error]
    at.text_input(key="login_password").set_value("ein-langes-passwort")
    next(b for b in at.button if b.label == "Anmelden").click().run()
    assert not at.exception and at.metric  # signed in: the map page


def test_workshop_sees_no_meeting_points_and_no_points(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role="workshop")
    at.run()
    assert not at.exception
    labels = [c.label for c in at.checkbox]
    assert not any("Treffpunkte" in label for label in labels)
    table = at.dataframe[0].value
    assert not any("Treffpunkt" in c for c in table.columns)
    counts = table["Vorfälle"].dropna()
    assert ((counts == 0) | (counts >= 3)).all()
    assert "fiktiv" not in all_text(at)
    at.switch_page("views/luecken.py").run()
    assert not at.exception
    assert "fiktiv" not in all_text(at)
    assert not any("Treffpunkte:" in s.value for s in at.subheader)


def test_council_sees_meeting_points(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role="council")
    at.run()
    assert any("Treffpunkte" in c.label for c in at.checkbox)
    at.switch_page("views/luecken.py").run()
    assert "fiktiv" in all_text(at)


def test_public_sees_district_figures_only(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role="public")
    at.run()
    assert not at.exception
    assert [c.label for c in at.checkbox] == [c.label for c in at.checkbox if c.label.startswith("Stadtteile")]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/luecken.py")  # not even registered for this role


def test_pages_are_registered_by_role(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role="workshop")
    at.run()
    for page in ("importieren", "protokoll"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{page}.py")
    at.switch_page("views/luecken.py").run()
    assert not at.exception


def test_audit_page_for_admins(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role="admin", page="protokoll")
    log = at.dataframe[0].value
    assert {"at", "actor", "action"} <= set(log.columns)


def _recovered(table: pd.DataFrame, value_col: str, pop_col: str, per: float = 1000.0) -> pd.Series:
    """What a reader computes from a rate and its population."""
    return pd.to_numeric(table[value_col], errors="coerce") * pd.to_numeric(table[pop_col], errors="coerce") / per


def _true_small_districts(db) -> list[str]:
    from datetime import date

    from geodata.analysis import Selection, analyse
    from geodata.timewindow import TimeWindow
    from loaders.bootstrap import load_prepared
    from loaders.store import GeoPackageStore

    sel = Selection(window=TimeWindow(date_from=date(2026, 7, 1), date_to=date(2026, 10, 31)), categories=("far_right_violence",))
    table = analyse(load_prepared(GeoPackageStore(db)), sel).districts
    return table.loc[table["incidents"].isin([1, 2]), "code"].tolist()


def test_small_counts_cannot_be_recovered_by_lower_roles(demo_db, monkeypatch):
    """The probe's filter: one rare category over four months gives many districts 1–2 incidents."""
    from dashboard.i18n import t

    assert len(_true_small_districts(demo_db)) >= 2  # the data hold what must be protected

    for role in ("workshop", "public"):
        at = open_app(demo_db, monkeypatch, role=role)
        at.query_params["cat"] = "far_right_violence"
        at.query_params["from"] = "2026-07-01"
        at.query_params["to"] = "2026-10-31"
        at.run()
        assert not at.exception
        table = at.dataframe[0].value
        counts = pd.to_numeric(table[t("col_incidents")], errors="coerce")
        assert not counts.isin([1, 2]).any()
        rate_back = _recovered(table, t("col_per_1000"), t("col_population")).round()
        assert not rate_back.isin([1, 2]).any(), role
        # the figures of every district pass the same control
        shown = pd.to_numeric(pd.Series([m.value for m in at.metric]).astype(str).str.replace(".", "", regex=False), errors="coerce")
        assert not shown.isin([1, 2]).any()
        if role == "workshop":
            at.switch_page("views/luecken.py").run()
            ranking = at.dataframe[0].value
            assert not pd.to_numeric(ranking[t("col_uncovered")], errors="coerce").isin([1, 2]).any()
            gap_back = _recovered(ranking, t("col_gap"), t("col_population")).round()
            assert not gap_back.isin([1, 2]).any()
            need = at.dataframe[1].value
            assert not pd.to_numeric(need[t("col_incidents")], errors="coerce").isin([1, 2]).any()


def test_a_selected_district_shows_no_small_total(demo_db, monkeypatch):
    at = open_app(demo_db, monkeypatch, role="workshop")
    at.query_params["cat"] = "far_right_violence"
    at.query_params["from"] = "2026-07-01"
    at.query_params["to"] = "2026-10-31"
    at.run()
    from dashboard.i18n import t

    small = _true_small_districts(demo_db)
    assert small
    for code in small:
        at.query_params["d"] = str(code)
        at.run()
        assert not at.exception
        value = next(m.value for m in at.metric if m.label == t("kpi_incidents"))
        assert str(value) not in ("1", "2")
