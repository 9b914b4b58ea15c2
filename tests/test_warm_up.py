"""The server's warm-up prepares what a first visit's map page computes."""

from __future__ import annotations

import pytest

from geodata import analysis, hexbin, presence
from tests.conftest import demo_store, open_app


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory, seed=11, n_incidents=3000)


@pytest.mark.parametrize("role", ["council", "workshop"])
def test_a_first_visit_after_the_warm_up_computes_nothing_anew(demo_db, monkeypatch, role):
    from dashboard import cache

    cache.warm_up(str(demo_db))
    calls = []
    for module, name in ((analysis, "analyse"), (analysis, "patrol_presence"), (hexbin, "cells"), (presence, "regular")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _o=original, _n=name, **kw: (calls.append(_n), _o(*a, **kw))[1])
    at = open_app(demo_db, monkeypatch, role=role)
    at.run()
    assert not at.exception
    assert at.metric, "the map page's key figures"
    assert calls == []


def test_a_changed_filter_is_computed_and_the_check_above_can_fail(demo_db, monkeypatch):
    from dashboard import cache

    cache.warm_up(str(demo_db))
    calls = []
    original = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", lambda *a, **kw: (calls.append("analyse"), original(*a, **kw))[1])
    at = open_app(demo_db, monkeypatch, role="council")
    at.run()
    at.toggle(key="f_outside").set_value(True).run()
    assert not at.exception
    assert calls == ["analyse"]
