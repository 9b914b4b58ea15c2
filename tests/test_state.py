"""A view survives the trip through the URL; broken links do not break the app."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import state
from geodata import domain
from geodata.analysis import Selection
from geodata.timewindow import TimeWindow

CODES = ["01", "02", "21", "97"]

views = st.builds(
    state.View,
    selection=st.builds(
        Selection,
        window=st.builds(
            TimeWindow,
            date_from=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 1, 1))),
            date_to=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 1, 1))),
            hours=st.tuples(st.integers(0, 23), st.integers(1, 24)),
            weekdays=st.frozensets(st.integers(0, 6), min_size=1),
        ),
        categories=st.lists(st.sampled_from(list(domain.CATEGORIES)), unique=True).map(tuple),
        sources=st.lists(st.sampled_from(list(domain.SOURCES)), unique=True).map(tuple),
        units=st.lists(st.sampled_from(list(domain.UNITS)), unique=True).map(tuple),
        modes=st.lists(st.sampled_from(list(domain.MODES)), unique=True).map(tuple),
        districts=st.lists(st.sampled_from(CODES), unique=True).map(tuple),
        outside_centre=st.booleans(),
    ),
    metric=st.sampled_from(state.METRICS),
    layers=st.lists(st.sampled_from(state.LAYER_KEYS), unique=True).map(lambda ks: tuple(k for k in state.LAYER_KEYS if k in ks)),
    district=st.one_of(st.none(), st.sampled_from(CODES)),
    lang=st.sampled_from(["de", "en"]),
)


def same_hours(a, b) -> bool:
    return (a.window.hour_mask() == b.window.hour_mask()).all()


@settings(max_examples=150, deadline=None)
@given(views)
def test_url_round_trip(view):
    back = state.from_params(state.to_params(view), CODES)
    assert back.selection.categories == view.selection.categories
    assert back.selection.districts == view.selection.districts
    assert back.selection.window.weekdays == view.selection.window.weekdays
    assert back.selection.window.date_from == view.selection.window.date_from
    assert same_hours(back.selection, view.selection)
    assert back.selection.outside_centre == view.selection.outside_centre
    assert (back.metric, back.layers, back.district, back.lang) == (view.metric, view.layers, view.district, view.lang)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["from", "to", "h", "wd", "cat", "d", "outside", "metric", "layers", "sel", "lang", "x"]), st.text(max_size=20)))
def test_any_garbage_in_the_url_gives_a_valid_view(params):
    view = state.from_params(params, CODES)
    assert set(view.selection.categories) <= set(domain.CATEGORIES)
    assert set(view.selection.districts) <= set(CODES)
    assert view.metric in state.METRICS
    assert view.selection.window.hour_mask().any()
    assert view.selection.window.weekdays


def test_default_view_has_a_short_url():
    assert state.to_params(state.View()) == {}
    assert state.to_params(state.View(selection=Selection(window=TimeWindow(hours=(20, 4))))) == {"h": "20-4"}


def test_restrict_keeps_what_the_role_may_see():
    params = {"h": "20-4", "layers": "districts,meeting,incidents", "z": "16", "c": "50.85234,12.95123", "evil": "x"}
    council = state.restrict(params, {"districts", "meeting", "incidents"}, keep_position=True)
    assert council == {"h": "20-4", "layers": "districts,meeting,incidents", "z": "16", "c": "50.85234,12.95123"}
    workshop = state.restrict(params, {"districts", "incidents"}, keep_position=False)
    assert workshop == {"h": "20-4", "layers": "districts,incidents"}
    public = state.restrict(params, {"districts"}, keep_position=False)
    assert public == {"h": "20-4", "layers": "districts"}
    assert state.from_params(public, CODES).layers == ("districts",)
    assert state.restrict({"h": "1-2"}, set(), keep_position=False) == {"h": "1-2"}  # no list: the page's own defaults


@settings(max_examples=100, deadline=None)
@given(views, st.frozensets(st.sampled_from(state.LAYER_KEYS)), st.booleans())
def test_restrict_never_widens_a_view(view, allowed, keep):
    params = state.to_params(view)
    out = state.restrict(params, allowed, keep)
    assert set(out) <= set(params)
    if "layers" in out:
        assert set(filter(None, out["layers"].split(","))) <= allowed
    if not keep:
        assert "z" not in out and "c" not in out
