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
