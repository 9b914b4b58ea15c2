"""Gap analysis with planted truth: synthetic cities whose right answers are known."""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import shapely
from shapely.geometry import LineString, Point

from geodata import domain, gaps
from geodata.__main__ import main as geodata_main
from geodata.analysis import Selection, analyse, prepare
from geodata.timewindow import TimeWindow
from loaders.store import GeoPackageStore, Provenance
from tests.conftest import X0, Y0, metric_box, to_store

TZ = domain.LOCAL_TZ
MONDAY = pd.Timestamp("2025-06-02", tz=TZ)


def at(day: int, hour: float) -> pd.Timestamp:
    return (MONDAY + pd.Timedelta(days=day) + pd.Timedelta(hours=hour)).tz_convert("UTC")


def make_city(shifts, incidents):
    """Three 1 km² districts in a row: A (01, Zentrum), B (02), C (03), 1,000 inhabitants each.

    shifts: list of (id, mode, start, end, geometry in EPSG:25833 offsets)
    incidents: list of (id, time, x, y) with x, y offsets in metres
    """
    districts = to_store(gpd.GeoDataFrame(
        {"code": ["01", "02", "03"], "name": ["Zentrum", "Nord", "Ost"], "population": [1000.0, 1000.0, 1000.0]},
        geometry=[metric_box(0, 0, 1000, 1000), metric_box(1000, 0, 1000, 1000), metric_box(2000, 0, 1000, 1000)],
    ))
    patrols = to_store(gpd.GeoDataFrame(
        {"shift_id": [s[0] for s in shifts], "unit": ["ordnungsdienst"] * len(shifts), "mode": [s[1] for s in shifts],
         "start": [s[2] for s in shifts], "end": [s[3] for s in shifts]},
        geometry=[s[4] for s in shifts],
    )) if shifts else gpd.GeoDataFrame({"shift_id": [], "unit": [], "mode": [], "start": pd.Series([], dtype="datetime64[ms, UTC]"), "end": pd.Series([], dtype="datetime64[ms, UTC]")}, geometry=[], crs=4326)
    inc = to_store(gpd.GeoDataFrame(
        {"id": [i[0] for i in incidents], "occurred_at": [i[1] for i in incidents], "category": "verbal_violence",
         "source": "police", "description": None},
        geometry=[Point(X0 + i[2], Y0 + i[3]) for i in incidents],
    ))
    green = to_store(gpd.GeoDataFrame({"name": ["Park A", "Wald B"], "kind": ["park", "forest"]},
                                      geometry=[metric_box(300, 300, 400, 400), metric_box(1300, 300, 400, 400)]))
    empty_points = lambda cols: gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)  # noqa: E731
    facilities = to_store(gpd.GeoDataFrame({"id": ["F1", "S1"], "name": ["Jugendtreff", "Schule"], "kind": ["youth_club", "school"]},
                                           geometry=[Point(X0 + 1500, Y0 + 900), Point(X0 + 2500, Y0 + 500)]))
    meeting = to_store(gpd.GeoDataFrame(
        {"id": ["M1", "M2"], "label": ["Treff 1 (fiktiv)", "Treff 2 (fiktiv)"], "kind": ["x", "x"], "status": ["active", "active"],
         "last_confirmed": [at(0, 0), at(0, 0)]},
        geometry=[Point(X0 + 1500, Y0 + 500), Point(X0 + 500, Y0 + 500)]))
    crime = pd.DataFrame({"code": ["01"], "year": [2025], "crime_total_cases": [1], "crime_total_rate": [1.0]})
    del empty_points
    return {"districts": districts, "green_spaces": green, "patrols": patrols, "incidents": inc,
            "meeting_points": meeting, "facilities": facilities, "crime_stats": crime}


# A: a day vehicle patrol area over A's western 600 m reaches all of A (400 m reach), every day of the week
DAY_A = [(f"D{d}", "vehicle", at(d, 8), at(d, 18), metric_box(0, 0, 600, 1000)) for d in range(7)]


def planted():
    incidents = []
    for d in range(7):
        incidents += [(f"A{d}-{k}", at(d, 9 + k), 200 + 100 * k, 500) for k in range(5)]  # A, by day: covered
        incidents += [(f"B{d}-{k}", at(d, 21 + k * 0.5), 1200 + 100 * k, 400) for k in range(6)]  # B, evenings: never patrolled
    return make_city(DAY_A, incidents)


def table(result):
    return result.districts.set_index("code")


def test_unpatrolled_district_with_many_incidents_ranks_first():
    res = table(analyse(prepare(planted()), Selection()))
    assert res.loc["02", "rank"] == 1
    assert res.loc["02", "incidents_uncovered"] == 42 and res.loc["02", "gap_score"] == 42.0
    assert pd.isna(res.loc["03", "rank"]) and res.loc["03", "incidents"] == 0 and res.loc["03", "too_small"]


def test_fully_patrolled_district_by_day():
    res = table(analyse(prepare(planted()), Selection(window=TimeWindow(hours=(8, 18)))))
    assert res.loc["01", "coverage_share"] >= 0.99
    assert res.loc["01", "incidents"] == 35 and res.loc["01", "incidents_uncovered"] == 0
    assert pd.isna(res.loc["01", "rank"])  # nothing uncovered: not ranked


def test_night_shifts_count_only_at_night():
    city = make_city(
        [("N1", "foot", at(0, 22), at(1, 2), LineString([(X0 + 2200, Y0 + 500), (X0 + 2800, Y0 + 500)]))],
        [("C-night", at(0, 23), 2500, 500), ("C-day", at(0, 12), 2500, 500), ("C-next-day", at(1, 23), 2500, 500)],
    )
    prep = prepare(city)
    day = table(analyse(prep, Selection(window=TimeWindow(hours=(8, 18)))))
    night = analyse(prep, Selection(window=TimeWindow(hours=(22, 3))))
    assert day.loc["03", "coverage_share"] == 0
    # 4 of the window's 35 hours of the week (Monday 22–02) in part of Ost
    assert 0.1 * 4 / 35 < table(night).loc["03", "coverage_share"] < 0.4 * 4 / 35
    covered = dict(zip(night.incidents["id"], night.incidents["covered"]))
    assert covered == {"C-night": True, "C-next-day": False}  # same place, but never patrolled on Tuesday nights
    all_day = analyse(prep, Selection())
    assert not dict(zip(all_day.incidents["id"], all_day.incidents["covered"]))["C-day"]


def test_windows_wrap_midnight_end_exclusive():
    times = {"h21": at(0, 21.99), "h22": at(0, 22), "h23": at(0, 23.5), "h01": at(1, 1), "h0259": at(1, 2.99), "h03": at(1, 3)}
    city = make_city([], [(k, v, 1500, 500) for k, v in times.items()])
    res = analyse(prepare(city), Selection(window=TimeWindow(hours=(22, 3))))
    assert sorted(res.incidents["id"]) == ["h01", "h0259", "h22", "h23"]


def test_footprint_spilling_into_the_neighbour_counts_there_too():
    # a foot patrol along the A/B border reaches 150 m into both districts
    border = LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 1000)])
    city = make_city([("S1", "foot", at(0, 10), at(0, 14), border)], [("B1", at(0, 11), 1100, 500), ("B2", at(0, 11), 1300, 500)])
    prep = prepare(city, grid_m=50)  # squares of 50 m: the reach of 150 m ends on a square's edge, not its centre
    res = analyse(prep, Selection())
    t = table(res)
    # 150 m of each 1 km district, in 4 of the 168 hours of the week
    assert t.loc["02", "coverage_share"] == pytest.approx(0.15 * 4 / 168, rel=0.05)
    assert t.loc["01", "coverage_share"] == pytest.approx(0.15 * 4 / 168, rel=0.05)
    assert dict(zip(res.incidents["id"], res.incidents["covered"])) == {"B1": True, "B2": False}
    hours = gaps.presence(prep.gaps, res.shift_ok, TimeWindow(), len(prep.districts))
    per_district = hours.sum(axis=(1, 2))
    assert per_district[0] == pytest.approx(2.0, rel=0.02) and per_district[1] == pytest.approx(2.0, rel=0.02)
    assert per_district[2] == 0
    assert hours[1, 0, 10:14].sum() == pytest.approx(2.0, rel=0.02)  # Monday 10–14 h


def test_tolerance_of_sixty_minutes():
    area = metric_box(2100, 100, 800, 800)
    city = make_city(
        [("S1", "foot", at(0, 10), at(0, 12), area)],
        [("before50", at(0, 10 - 50 / 60), 2500, 500), ("after50", at(0, 12 + 50 / 60), 2500, 500), ("after70", at(0, 12 + 70 / 60), 2500, 500)],
    )
    res = analyse(prepare(city), Selection())
    assert dict(zip(res.incidents["id"], res.incidents["patrol_nearby"])) == {"before50": True, "after50": True, "after70": False}
    # regular presence knows the hours on duty only: 09:10 and 12:50 are outside them
    assert not res.incidents["covered"].any()
    strict = analyse(prepare(city, tolerance_min=0), Selection())
    assert not strict.incidents["patrol_nearby"].any()


def test_green_spaces_and_meeting_points():
    prep = prepare(planted())
    res = analyse(prep, Selection())
    ranking = gaps.green_ranking(res.green_spaces, prep.gaps, res.incident_mask, np.isin(np.arange(len(prep.incidents)), res.incidents.index[res.incidents["covered"]]))
    assert ranking["name"].iloc[0] == "Wald B" and ranking["incidents_uncovered"].iloc[0] == 28
    park = ranking.set_index("name").loc["Park A"]
    assert park["incidents_uncovered"] == 0 and park["incidents"] > 0
    report = gaps.meeting_point_report(prep.meeting_points, prep.facilities, res.incidents, res.meeting_covered).set_index("id")
    assert report.loc["M1", "youth_facility_m"] == pytest.approx(400, abs=0.5)
    assert report.loc["M1", "school_m"] == pytest.approx(1000, abs=0.5)
    assert not report.loc["M1", "covered"] and report.loc["M2", "covered"]
    assert report.loc["M1", "incidents_300m"] == 7 * 5  # B incidents at x 1300..1700 (y 400) lie within 300 m; x 1200 is 316 m away
    assert table(res).loc["02", "meeting_points_uncovered"] == 1 and table(res).loc["01", "meeting_points_uncovered"] == 0


def test_patrol_presence_matches_shift_hours():
    prep = prepare(planted())
    res = analyse(prep, Selection())
    hours = gaps.presence(prep.gaps, res.shift_ok, TimeWindow(), len(prep.districts))
    assert hours.sum() == pytest.approx(70.0, rel=0.01)  # 7 shifts of 10 h, footprints all inside A (and a bit of B)
    assert hours[:, :, 0:8].sum() == 0 and hours[:, :, 18:].sum() == 0
    weekend = gaps.presence(prep.gaps, res.shift_ok, TimeWindow(weekdays=frozenset({5, 6})), len(prep.districts))
    assert weekend.sum() == pytest.approx(20.0, rel=0.01)


def test_cli_prints_the_ranking(tmp_path, capsys):
    db = tmp_path / "atlas.gpkg"
    GeoPackageStore(db).write(planted(), Provenance("test", "CC0"))
    assert geodata_main(["--db", str(db), "gaps", "--hours", "20-4", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    first = rows[0]
    assert {"code", "name", "area_km2", "population", "coverage_share", "incidents", "incidents_uncovered", "gap_score", "rank"} <= set(first)
    assert first["code"] == "02" and first["rank"] == 1 and first["incidents_uncovered"] == 42
    assert geodata_main(["--db", str(db), "gaps", "--outside-centre", "--from", "2025-06-03", "--to", "2025-06-04", "--format", "csv"]) == 0
    csv_out = capsys.readouterr().out.splitlines()
    assert csv_out[0].startswith("rank,code,name") and len(csv_out) == 3  # Nord and Ost
    assert "Zentrum" not in "\n".join(csv_out) and csv_out[1].split(",")[1] == "02"


@settings(max_examples=25, deadline=None)
@given(
    tol_small=st.integers(0, 90),
    extra=st.integers(0, 120),
    offsets=st.lists(st.floats(-5, 5), min_size=1, max_size=12),
)
def test_covered_incidents_only_grow_with_tolerance(tol_small, extra, offsets):
    area = metric_box(2100, 100, 800, 800)
    city = make_city([("S1", "foot", at(0, 10), at(0, 12), area)], [(f"I{i}", at(0, 11 + o), 2500, 500) for i, o in enumerate(offsets)])
    small = analyse(prepare(city, tolerance_min=tol_small), Selection()).incidents["patrol_nearby"].to_numpy()
    large = analyse(prepare(city, tolerance_min=tol_small + extra), Selection()).incidents["patrol_nearby"].to_numpy()
    assert np.all(large >= small)


# -- regular presence against the strict match ---------------------------------------

PLACE = metric_box(2300, 300, 400, 400)  # a patrol area inside Ost (03)
FRIDAY = 4


def fridays(weeks, h0, h1, geom=PLACE):
    return [(f"F{w}", "foot", at(7 * w + FRIDAY, h0), at(7 * w + FRIDAY, h1), geom) for w in weeks]


def span_markers(n_weeks):
    """Two incidents far from the patrol that fix the data span to whole weeks (Monday to Sunday)."""
    return [("first", at(0, 0.5), 1500, 900), ("last", at(7 * n_weeks - 1, 23.5), 1500, 900)]


def flags(result, column="covered"):
    return dict(zip(result.incidents["id"], result.incidents[column]))


def test_regular_presence_covers_what_the_strict_match_misses():
    """Patrolled every Friday 21:00–21:30 (but one) for eight weeks; incidents every Friday at 21:45."""
    weeks = [w for w in range(8) if w != 3]
    incidents = [(f"I{w}", at(7 * w + FRIDAY, 21.75), 2500, 500) for w in range(8)] + span_markers(8)
    city = make_city(fridays(weeks, 21, 21.5), incidents)
    res = analyse(prepare(city), Selection())
    covered, nearby = flags(res), flags(res, "patrol_nearby")
    # the place has a patrol in that hour of the week as a rule (7 of 8 weeks) ...
    assert all(covered[f"I{w}"] for w in range(8))
    # ... but the strict match misses the week without a patrol
    assert [w for w in range(8) if not nearby[f"I{w}"]] == [3]
    strict = analyse(prepare(city, tolerance_min=0), Selection())
    assert not any(flags(strict, "patrol_nearby")[f"I{w}"] for w in range(8))
    assert all(flags(strict)[f"I{w}"] for w in range(8))
    t = table(res)
    assert t.loc["03", "incidents_uncovered"] == 0 and t.loc["03", "incidents_patrol_nearby"] == 7
    # another hour of the same Friday evening is not covered: presence is per hour of the week
    late = make_city(fridays(weeks, 21, 21.5), [("late", at(7 + FRIDAY, 23.5), 2500, 500)] + span_markers(8))
    assert not flags(analyse(prepare(late), Selection()))["late"]


def test_share_of_weeks_decides_what_is_regular():
    """A patrol in three of eight weeks is not regular at 50 %, but is at 30 % or within those weeks."""
    incidents = [(f"I{w}", at(7 * w + FRIDAY, 21.5), 2500, 500) for w in range(8)] + span_markers(8)
    city = make_city(fridays([0, 1, 2], 21, 22), incidents)
    prep = prepare(city)
    res = analyse(prep, Selection())
    assert not any(flags(res)[f"I{w}"] for w in range(8))
    assert table(res).loc["03", "incidents_uncovered"] == 8
    lax = analyse(prepare(city, regular_share=0.3), Selection())
    assert all(flags(lax)[f"I{w}"] for w in range(8))
    first_weeks = analyse(prep, Selection(window=TimeWindow(date_from=date(2025, 6, 2), date_to=date(2025, 6, 22))))
    assert flags(first_weeks) == {"I0": True, "I1": True, "I2": True, "first": False}
    share = first_weeks.presence.grid(prep.gaps.presence)
    cell = prep.gaps.incident_cell[list(prep.incidents["id"]).index("I0")]
    assert share[cell, FRIDAY * 24 + 21] == 1.0 and share[cell, FRIDAY * 24 + 20] == 0.0


def test_only_the_selected_units_make_presence():
    incidents = [(f"I{w}", at(7 * w + FRIDAY, 21.5), 2500, 500) for w in range(4)] + span_markers(4)
    city = make_city(fridays(range(4), 21, 22), incidents)
    city["patrols"]["unit"] = "security"
    prep = prepare(city)
    assert all(flags(analyse(prep, Selection(units=("security",))))[f"I{w}"] for w in range(4))
    assert not any(flags(analyse(prep, Selection(units=("ordnungsdienst",))))[f"I{w}"] for w in range(4))
    assert not any(flags(analyse(prep, Selection(modes=("vehicle",))))[f"I{w}"] for w in range(4))


@settings(max_examples=30, deadline=None)
@given(
    patrolled=st.sets(st.integers(0, 9), max_size=10),
    happened=st.sets(st.integers(0, 9), min_size=1, max_size=10),
    share=st.sampled_from([0.1, 0.3, 0.5, 0.7, 1.0]),
)
def test_regular_presence_is_the_share_of_weeks(patrolled, happened, share):
    """Against a brute-force count: covered iff the patrol came in at least ``share`` of the ten weeks."""
    incidents = [(f"I{w}", at(7 * w + FRIDAY, 21.5), 2500, 500) for w in sorted(happened)] + span_markers(10)
    city = make_city(fridays(sorted(patrolled), 21, 22), incidents)
    res = analyse(prepare(city, regular_share=share), Selection())
    expected = len(patrolled) / 10 >= share
    assert [flags(res)[f"I{w}"] for w in sorted(happened)] == [expected] * len(happened)
    assert table(res).loc["03", "incidents_uncovered"] == (0 if expected else len(happened))


AREAS = [metric_box(2100, 100, 300, 300), metric_box(2300, 300, 300, 300), metric_box(1200, 600, 200, 200)]


@settings(max_examples=20, deadline=None)
@given(
    # start day 0..19, so that every shift ends within the three weeks of the data span
    shifts=st.lists(
        st.tuples(st.integers(0, 19), st.integers(0, 23), st.integers(0, 3), st.integers(1, 40), st.integers(0, 2), st.booleans()),
        min_size=1, max_size=8,
    ),
    hours=st.sampled_from([(0, 24), (22, 5), (8, 18)]),
)
def test_presence_share_matches_a_brute_force_count(shifts, hours):
    """Every (square, hour of the week): the share of the weeks in which some shift of the
    selected unit reached the square, on duty for at least 15 minutes of that hour."""
    rows = [(f"S{i}", "foot", at(day, h + q / 4), at(day, h + q / 4 + n / 4), AREAS[a]) for i, (day, h, q, n, a, _) in enumerate(shifts)]
    city = make_city(rows, span_markers(3))
    city["patrols"]["unit"] = ["security" if s[5] else "ordnungsdienst" for s in shifts]
    prep = prepare(city)
    window = TimeWindow(hours=hours)
    res = analyse(prep, Selection(window=window, units=("ordnungsdienst",)))
    index = prep.gaps.presence
    got = res.presence.grid(index)
    # brute force, minute by minute
    present = np.zeros((index.n_cells, 168, 21), dtype=bool)
    slot_ok = window.slot_mask()
    for (day, h, q, n, a, security), fp in zip(shifts, prep.footprints.geometry):
        if security:
            continue
        cells = np.flatnonzero(shapely.contains_xy(fp, index.cell_x, index.cell_y))
        minutes = pd.date_range(at(day, h + q / 4), at(day, h + q / 4 + n / 4), freq="1min", inclusive="left").tz_convert(TZ)
        per_hour = pd.Series(1, index=minutes).groupby([minutes.normalize(), minutes.hour]).sum()
        for (local_day, hour), count in per_hour.items():
            if count >= 15:
                d = (local_day.tz_localize(None) - pd.Timestamp(MONDAY.date())).days
                present[cells, local_day.weekday() * 24 + hour, d] = True
    expected = present.sum(axis=2) / 3  # three weeks of data span
    expected[:, ~slot_ok] = 0
    assert np.allclose(got, expected)


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 600), min_size=1, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_hour_counters_match_a_plain_count(lengths, seed):
    """The packed counters agree with counting bit by bit, also for runs longer than 255 (two-byte fields)."""
    from geodata.presence import _count_hours

    rng = np.random.default_rng(seed)
    masks = rng.integers(0, 1 << 24, size=sum(lengths)).astype(np.uint32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    expected = np.array([[((masks[a : a + n] >> h) & 1).sum() for h in range(24)] for a, n in zip(starts, lengths)])
    assert np.array_equal(_count_hours(masks, starts), expected)
