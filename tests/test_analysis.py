"""Analysis on a synthetic city with known answers, plus properties."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import coverage, domain
from geodata.analysis import Selection, analyse, prepare
from geodata.timewindow import TimeWindow, shifts_in_window


def by_code(result):
    return result.districts.set_index("code")


def test_patrolled_district_is_covered_and_the_other_is_not(city):
    prep = prepare(city)
    res = by_code(analyse(prep, Selection()))
    # coverage is area x time: one shift, Monday 08–14, covers 6 of the week's 168 hours in all of A
    assert res.loc["01", "coverage_share"] == pytest.approx(6 / 168, rel=0.01)
    assert res.loc["02", "coverage_share"] < 0.01
    shift_hours = by_code(analyse(prep, Selection(window=TimeWindow(hours=(8, 14), weekdays=frozenset({0})))))
    assert shift_hours.loc["01", "coverage_share"] >= 0.99 and shift_hours.loc["01", "green_coverage_share"] >= 0.99
    assert shift_hours.loc["02", "coverage_share"] < 0.01
    assert res.loc["01", "incidents"] == 2 and res.loc["02", "incidents"] == 3
    assert res.loc["01", "incidents_per_1000"] == 1.0
    assert res.loc["02", "incidents_per_1000"] == 3.0
    assert res.loc["01", "green_coverage_share"] == pytest.approx(6 / 168, rel=0.01)
    assert res.loc["02", "green_coverage_share"] == 0
    assert res.loc["02", "meeting_points_active"] == 1
    assert res.loc["01", "facilities"] == 1
    assert res.loc["01", "crime_rate"] == 5000.0
    assert bool(res.loc["02", "small_count"])


def test_day_shift_gives_no_coverage_at_night(city):
    night = Selection(window=TimeWindow(hours=(20, 4)))
    res = analyse(prepare(city), night)
    assert res.active_shifts.sum() == 0
    assert by_code(res).loc["01", "coverage_share"] == 0
    # the two incidents at 22:00 are in the window, the ones at 10:00 are not
    assert sorted(res.incidents["id"]) == ["I1", "I3"]


def test_filters_narrow_incidents(city):
    prep = prepare(city)
    assert len(analyse(prep, Selection(categories=("verbal_violence",))).incidents) == 2
    assert len(analyse(prep, Selection(sources=("police",))).incidents) == 3
    assert len(analyse(prep, Selection(districts=("02",))).incidents) == 3
    assert len(analyse(prep, Selection(outside_centre=True)).incidents) == 3
    weekend = Selection(window=TimeWindow(weekdays=frozenset({5, 6})))
    assert list(analyse(prep, weekend).incidents["id"]) == ["I4"]  # Monday + 5 days = Saturday
    dated = Selection(window=TimeWindow(date_from=date(2025, 6, 3)))
    assert list(analyse(prep, dated).incidents["id"]) == ["I4"]
    assert len(analyse(prep, Selection(units=("security",))).active_shifts.nonzero()[0]) == 0


def test_outside_centre_marks_scope(city):
    res = analyse(prepare(city), Selection(outside_centre=True))
    assert res.district_codes == ("02",)
    assert by_code(res).loc["01", "is_centre"]


def test_shift_windows_wrap_midnight():
    tz = domain.LOCAL_TZ
    starts = pd.Series(pd.to_datetime(["2025-06-02 22:00", "2025-06-02 08:00", "2025-06-02 03:30"]).tz_localize(tz).tz_convert("UTC"))
    ends = starts + pd.Timedelta(hours=2)
    assert shifts_in_window(starts, ends, TimeWindow(hours=(23, 2))).tolist() == [True, False, False]
    assert shifts_in_window(starts, ends, TimeWindow(hours=(4, 6))).tolist() == [False, False, True]
    assert shifts_in_window(starts, ends, TimeWindow(hours=(0, 24))).tolist() == [True, True, True]


@settings(max_examples=40, deadline=None)
@given(start=st.integers(0, 23), end=st.integers(0, 24))
def test_hour_mask_matches_definition(start, end):
    mask = TimeWindow(hours=(start, end)).hour_mask()
    for h in range(24):
        if start == end % 24:
            expected = True
        elif start < end:
            expected = start <= h < end
        else:
            expected = h >= start or h < end
        assert mask[h] == expected


@settings(max_examples=25, deadline=None)
@given(
    reach=st.floats(10, 800),
    extra=st.floats(0, 500),
    xs=st.lists(st.floats(0, 2000), min_size=2, max_size=6),
)
def test_coverage_share_in_unit_interval_and_monotone_in_reach(reach, extra, xs):
    from tests.conftest import X0, Y0, metric_box

    track = shapely.LineString([(X0 + x, Y0 + (i * 337) % 1000) for i, x in enumerate(xs)])
    patrols = gpd.GeoDataFrame({"mode": ["foot"]}, geometry=[track], crs=domain.METRIC_CRS)
    areas = gpd.GeoDataFrame(geometry=[metric_box(0, 0, 1000, 1000), metric_box(1000, 0, 1000, 1000)], crs=domain.METRIC_CRS)
    small = coverage.covered_share(areas, coverage.coverage_union(coverage.footprints(patrols, {"foot": reach})))
    large = coverage.covered_share(areas, coverage.coverage_union(coverage.footprints(patrols, {"foot": reach + extra})))
    assert np.all((small >= 0) & (small <= 1))
    assert np.all(large >= small - 1e-3)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    seed=st.integers(0, 10_000),
)
def test_track_pieces_cover_the_track_exactly(n, seed):
    """Splitting a track into short runs keeps every segment once, in order."""
    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.normal(0, 30, size=(n, 2)), axis=0) + [356_000, 5_632_000]
    track = shapely.LineString(xy)
    point = shapely.Point(356_000, 5_632_000)
    pieces, owner = coverage._pieces(np.array([track, point], dtype=object))
    lines = pieces[owner == 0]
    assert abs(sum(p.length for p in lines) - track.length) < 1e-6
    assert all(shapely.get_num_coordinates(p) <= coverage.CHUNK_VERTICES + 1 for p in lines)
    joined = np.concatenate([shapely.get_coordinates(p)[:-1] for p in lines] + [xy[-1:]])
    assert np.allclose(joined, xy)
    assert list(pieces[owner == 1]) == [point]
