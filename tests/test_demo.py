"""Tests for the deterministic demo-data generator (loaders/demo.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from geodata import domain
from loaders import demo, schema
from loaders.store import GeoPackageStore

N = 3_000
GEO_LAYERS = ("districts", "green_spaces", "patrols", "incidents", "meeting_points", "facilities")


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return demo.generate(seed=42, n_incidents=N)


@pytest.fixture(scope="module")
def metric(frames) -> dict[str, gpd.GeoDataFrame]:
    return {k: frames[k].to_crs(domain.METRIC_CRS) for k in GEO_LAYERS}


@pytest.fixture(scope="module")
def facts() -> pd.DataFrame:
    return demo.facts()


def _district_of(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """District code per row of ``points`` (a point layer or representative points)."""
    pts = gpd.GeoDataFrame(geometry=points.geometry.representative_point().to_numpy(), crs=points.crs)
    joined = gpd.sjoin(pts, districts[["code", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["code"].reindex(pts.index)


def _local(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert(domain.LOCAL_TZ)


# -- general ------------------------------------------------------------------


def test_layers_and_crs(frames):
    assert set(frames) == set(domain.LAYERS) | set(domain.TABLES)
    for layer in GEO_LAYERS:
        assert isinstance(frames[layer], gpd.GeoDataFrame), layer
        assert frames[layer].crs.equals(domain.STORE_CRS), layer
    assert not isinstance(frames["crime_stats"], gpd.GeoDataFrame)


@pytest.mark.parametrize("layer", [*GEO_LAYERS, "crime_stats"])
def test_every_layer_passes_its_schema_without_repairs(frames, layer):
    out, report = schema.validated(layer, frames[layer])
    assert report.ok
    assert report.notes == []  # no polygon needed make_valid
    assert len(out) == len(frames[layer])


def test_everything_inside_chemnitz_bbox(frames):
    minx, miny, maxx, maxy = domain.CHEMNITZ_BBOX
    for layer in GEO_LAYERS:
        b = frames[layer].total_bounds
        assert b[0] >= minx and b[1] >= miny and b[2] <= maxx and b[3] <= maxy, layer


# -- districts ----------------------------------------------------------------


def test_districts_match_facts(frames, facts):
    d = frames["districts"]
    assert list(d.columns) == ["code", "name", "population", "geometry"]
    assert len(d) == 39
    assert d["code"].is_unique
    assert d["code"].str.fullmatch(r"\d{2}").all()
    assert list(d["code"]) == list(facts["code"])
    assert list(d["name"]) == list(facts["name"])
    assert np.allclose(d["population"].to_numpy(), facts["population_est"].to_numpy())


def test_district_cells_contain_their_point_and_do_not_overlap(metric, facts):
    d = metric["districts"]
    assert d.geometry.is_valid.all()
    assert not d.geometry.is_empty.any()
    assert set(d.geom_type) == {"Polygon"}
    pts = gpd.GeoSeries(gpd.points_from_xy(facts["lon"], facts["lat"]), crs=domain.STORE_CRS).to_crs(domain.METRIC_CRS)
    assert d.geometry.contains(pts, align=False).all()
    left, right = d.sindex.query(d.geometry, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(d.geometry.values[left[pairs]], d.geometry.values[right[pairs]]))
    assert overlap.max(initial=0.0) < 1.0  # m²
    total_km2 = d.geometry.area.sum() / 1e6
    assert 180 <= total_km2 <= 260


# -- green spaces -------------------------------------------------------------


def test_green_spaces(metric):
    g = metric["green_spaces"]
    d = metric["districts"]
    assert 40 <= len(g) <= 60
    assert set(g["kind"]) == set(domain.GREEN_KINDS)
    assert g.geometry.is_valid.all() and (g.geom_type == "Polygon").all()
    area = g.geometry.area / 1e6
    for kind, (lo, hi) in demo.GREEN_SIZE_KM2.items():
        a = area[g["kind"] == kind]
        assert (a <= hi * 1.001).all(), kind
        assert (a >= lo * 0.3).all(), kind  # may be clipped by its district a little
    # every green space lies in one district; some real names where they belong
    code = _district_of(g, d)
    assert code.notna().all()
    by_name = dict(zip(g["name"], code))
    assert by_name["Stadthallenpark"] == "01"
    assert by_name["Park der Opfer des Faschismus"] == "01"
    assert by_name["Küchwald"] == "02"
    assert by_name["Schloßteichpark"] == "02"
    assert by_name["Zeisigwald"] == "15"
    for geom, c in zip(g.geometry, code):
        cell = d.loc[d["code"] == c, "geometry"].iloc[0]
        assert cell.buffer(0.01).contains(geom)
    # no two green spaces overlap
    left, right = g.sindex.query(g.geometry, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(g.geometry.values[left[pairs]], g.geometry.values[right[pairs]]))
    assert overlap.max(initial=0.0) < 1.0


# -- incidents ----------------------------------------------------------------


def test_incident_attributes(frames):
    inc = frames["incidents"]
    assert len(inc) == N
    assert inc["id"].is_unique
    assert inc["id"].str.fullmatch(r"I-\d{7}").all()
    assert inc["id"].iloc[0] == "I-0000001"
    assert str(inc["occurred_at"].dt.tz) == "UTC"
    assert inc["occurred_at"].is_monotonic_increasing  # ids follow time
    local = _local(inc["occurred_at"])
    assert local.dt.date.min() >= demo.DEMO_PERIOD[0]
    assert local.dt.date.max() <= demo.DEMO_PERIOD[1]
    assert set(inc["category"]) == set(domain.CATEGORIES)
    assert set(inc["source"]) <= set(domain.SOURCES)
    assert inc["description"].isna().mean() < 0.5
    assert inc["description"].dropna().str.len().between(3, 80).all()


def test_incidents_are_inside_districts_and_follow_case_counts(metric, facts):
    inc, d = metric["incidents"], metric["districts"]
    code = _district_of(inc, d)
    assert code.notna().all()
    counts = code.value_counts().reindex(facts["code"], fill_value=0)
    assert counts.idxmax() == "01"  # Zentrum has the most
    cases = pd.Series(facts["crime_total_cases"].to_numpy(), index=facts["code"])
    spearman = counts.rank().corr(cases.rank())  # Pearson on ranks; pandas' own needs scipy
    assert spearman > 0.8


def test_incident_time_profile(frames):
    inc = frames["incidents"].assign(local=lambda f: _local(f["occurred_at"]))
    hour = inc["local"].dt.hour
    share = hour.value_counts(normalize=True).reindex(range(24), fill_value=0)
    assert share[[18, 19, 20, 21, 22, 23, 0]].mean() > 2 * share[[3, 4, 5, 6]].mean()
    assert share[[15, 16, 17]].mean() > share[[7, 8, 9]].mean()
    # Friday/Saturday nights are busier than the same hours on Tuesday/Wednesday
    evening = hour >= 20
    wd = inc["local"].dt.day_of_week
    assert (evening & wd.isin([4, 5])).sum() > 1.3 * (evening & wd.isin([1, 2])).sum()
    # the category mix differs by time of day: insults lean to the evening
    insults = inc["category"].isin(["verbal_violence", "racist_insult", "sexist_insult"])
    morning = hour.between(6, 11)
    assert insults[hour >= 18].mean() > insults[morning].mean()


# -- patrols ------------------------------------------------------------------

NIGHT = (22, 5)  # local hours [22:00, 05:00)


@pytest.fixture(scope="module")
def patrol_info(metric):
    p, d = metric["patrols"], metric["districts"]
    code = _district_of(p, d)
    minutes = ((p["end"] - p["start"]).dt.total_seconds() / 60).round().astype(int)
    vertices = pd.Series(shapely.get_num_coordinates(p.geometry.values), index=p.index)
    wkb = pd.Series(shapely.to_wkb(p.geometry.values), index=p.index)
    shared = wkb.map(wkb.value_counts()) > 1
    # a GPS track: one vertex a minute and a geometry of its own; planned routes, posts and areas repeat theirs
    track = (p.geom_type == "LineString") & (vertices == minutes + 1) & ~shared
    local_start = _local(p["start"])
    return p.assign(code=code, hours=minutes / 60, vertices=vertices, wkb=wkb, track=track,
                    day=local_start.dt.date, weekday=local_start.dt.day_of_week)


def _per_day(p: pd.DataFrame) -> pd.Series:
    """Shifts per local day of the demo period (by start), days without any included."""
    days = pd.date_range(demo.DEMO_PERIOD[0], demo.DEMO_PERIOD[1]).date
    return p["day"].value_counts().reindex(days, fill_value=0)


def _epoch_ms(ts: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(ts).as_unit("ms").asi8


def _on_duty_minutes(p: pd.DataFrame) -> pd.DatetimeIndex:
    """Every 10th minute on duty of every shift, local time."""
    start = _epoch_ms(p["start"]) // 60_000
    end = _epoch_ms(p["end"]) // 60_000
    n = -(-(end - start) // 10)
    minutes = np.repeat(start, n) + 10 * (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    return pd.DatetimeIndex(minutes.astype("datetime64[m]")).tz_localize("UTC").tz_convert(domain.LOCAL_TZ)


def _within_reach(incidents: gpd.GeoDataFrame, patrols: gpd.GeoDataFrame) -> np.ndarray:
    """Per incident: a shift on duty at its time lies within its mode's reach (both EPSG:25833)."""
    t = _epoch_ms(incidents["occurred_at"])
    start = _epoch_ms(patrols["start"])
    end = _epoch_ms(patrols["end"])
    order = np.argsort(start, kind="stable")
    lo = np.searchsorted(start[order], t - 12 * 3_600_000)  # no shift is longer than 12 h
    hi = np.searchsorted(start[order], t, side="right")
    n = hi - lo
    inc = np.repeat(np.arange(len(t)), n)
    shift = order[np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)]
    on_duty = end[shift] > t[inc]
    inc, shift = inc[on_duty], shift[on_duty]
    reach = patrols["mode"].map(domain.DEFAULT_REACH_M).to_numpy()
    near = shapely.dwithin(patrols.geometry.values[shift], incidents.geometry.values[inc], reach[shift])
    covered = np.zeros(len(t), dtype=bool)
    covered[inc[near]] = True
    return covered


def test_patrol_attributes(patrol_info, frames):
    p = patrol_info
    assert p["shift_id"].is_unique and p["shift_id"].str.fullmatch(r"S-\d{5,}").all()
    assert frames["patrols"]["start"].is_monotonic_increasing  # rows ordered by start
    for col in ("start", "end"):
        assert str(frames["patrols"][col].dtype) == "datetime64[ms, UTC]"
    assert set(p["unit"]) == set(domain.UNITS)
    assert set(p["mode"]) == set(domain.MODES)
    assert set(p.geom_type) == {"LineString", "Point", "Polygon"}
    assert p["hours"].between(2.5, 9).all()
    assert p["day"].min() == demo.DEMO_PERIOD[0] and p["day"].max() == demo.DEMO_PERIOD[1]
    assert p["code"].notna().all()


def test_several_teams_every_day_fewer_at_weekends(patrol_info):
    per_day = _per_day(patrol_info)
    assert per_day.min() >= demo.MIN_TEAMS_PER_DAY
    assert 12 <= per_day.mean() <= 22  # a city order service with contracted security: many teams a day
    weekday = pd.Series([d.weekday() for d in per_day.index], index=per_day.index)
    by_weekday = per_day.groupby(weekday).mean()
    assert by_weekday[[0, 1, 2, 3, 4]].min() > by_weekday[6]
    assert by_weekday[[0, 1, 2, 3, 4]].mean() > 1.2 * by_weekday[[5, 6]].mean()


def test_patrol_time_is_mostly_by_day(patrol_info):
    minutes = _on_duty_minutes(patrol_info)
    night = (minutes.hour >= NIGHT[0]) | (minutes.hour < NIGHT[1])
    assert 0.02 < night.mean() < 0.2  # some nights are patrolled, most patrol time is by day
    day = (minutes.hour >= 7) & (minutes.hour < 18)
    assert day.mean() > 0.5


def test_patrols_concentrate_on_the_centre(patrol_info, facts):
    p = patrol_info
    hours = p.groupby("code")["hours"].sum()
    assert hours[hours.index.isin(demo.CENTRE_CODES)].sum() / hours.sum() > 0.7
    assert hours.idxmax() == "01"
    outer = facts[~facts["code"].isin(demo.CENTRE_CODES)].set_index("code")["crime_total_cases"]
    patrolled = outer.index.isin(hours.index)
    assert (~patrolled).sum() >= 15  # many outer districts are never patrolled
    assert outer[patrolled].min() >= outer.median()  # and those that are have many cases
    assert outer.idxmax() in hours.index


def test_tracks_are_gps_like_and_stay_in_their_district(patrol_info, metric):
    p = patrol_info
    lines = p[p.geom_type == "LineString"]
    tracks = lines[lines["track"]]
    assert 0.02 < len(tracks) / len(lines) < 0.5  # some teams carry a GPS logger, most shifts show the planned route
    assert set(tracks["mode"]) == {"foot", "bike"}
    assert p.drop_duplicates("wkb")["vertices"].sum() < 400_000  # distinct geometries: keeps the default demo fast
    cores = metric["districts"].set_index("code").geometry.buffer(-20.0)
    for geom in cores:
        shapely.prepare(geom)
    for row in tracks.itertuples():
        xy = shapely.get_coordinates(row.geometry)
        assert len(xy) == round(row.hours * 3600 / demo.TRACK_STEP_S) + 1
        step = np.hypot(*np.diff(xy, axis=0).T)
        assert np.median(step) <= demo.SPEED_M_S[row.mode] * demo.TRACK_STEP_S * 1.4
        assert cores[row.code].contains(row.geometry)  # inside the district's core
    # the other lines are the planned loops of their routes: closed, inside the district, shared by many shifts
    planned = lines[~lines["track"]]
    size = planned.groupby("wkb").size()
    assert (size >= 2).all() and size.median() >= 50  # campaigns run a few weeks, regular routes all year
    for _, rows in planned.groupby("wkb"):
        geom = rows.geometry.iloc[0]
        assert geom.is_closed
        assert cores[rows["code"].iloc[0]].contains(geom)


def test_posts_and_areas_repeat_their_geometry(patrol_info, metric):
    p = patrol_info
    cells = metric["districts"].set_index("code").geometry
    for kind in ("Point", "Polygon"):
        fixed = p[p.geom_type == kind]
        groups = fixed.groupby("wkb")
        assert 2 <= groups.ngroups <= 15, kind  # a few posts and areas, each used again and again
        assert (groups.size() >= 10).all(), kind
        for _, rows in groups:
            assert rows["code"].nunique() == 1
            assert cells[rows["code"].iloc[0]].buffer(-20.0).contains(rows.geometry.iloc[0])
    posts = p[p.geom_type == "Point"]
    assert (posts["code"] == "01").all()  # fixed posts in Zentrum
    areas = p[p.geom_type == "Polygon"]
    assert (areas["mode"] == "vehicle").all()
    outer = areas[~areas["code"].isin(demo.CENTRE_CODES)]
    assert outer["wkb"].nunique() >= 3  # rare car patrols in a few outer districts


def test_some_routes_start_or_stop_during_the_period(patrol_info):
    """Routes (identical geometry) that run for a long time but not for the whole period."""
    p = patrol_info[~patrol_info["track"]]
    span = p.groupby("wkb")["day"].agg(["min", "max", "size"])
    span = span[span["size"] >= 50]
    first, last = demo.DEMO_PERIOD
    later = span["min"] > first + pd.Timedelta(days=180)
    earlier = span["max"] < last - pd.Timedelta(days=180)
    assert later.sum() >= 1 and earlier.sum() >= 1
    assert (~later & ~earlier).sum() >= 10  # most routes run the whole period


def test_centre_is_covered_by_day_far_more_than_at_night(metric, patrol_info):
    inc, g = metric["incidents"], metric["green_spaces"]
    code = _district_of(inc, metric["districts"]).to_numpy()
    hour = _local(inc["occurred_at"]).dt.hour.to_numpy()
    day = (hour >= 10) & (hour < 18)
    night = (hour >= NIGHT[0]) | (hour < NIGHT[1])
    in_green = gpd.sjoin(inc, g[["geometry"]], predicate="within", how="left")
    in_green = in_green[~in_green.index.duplicated()]["index_right"].notna().to_numpy()
    covered = _within_reach(inc, patrol_info)
    centre_day, centre_night = covered[(code == "01") & day], covered[(code == "01") & night]
    assert len(centre_day) > 100 and len(centre_night) > 100
    assert centre_day.mean() > 0.8  # the centre's day incidents are usually within reach of a patrol
    assert centre_night.mean() < 0.8 * centre_day.mean()  # and clearly less often at night
    outer = ~pd.Series(code).isin(demo.CENTRE_CODES).to_numpy()
    assert covered[outer].mean() < 0.1  # the outskirts rarely
    assert (night & in_green).sum() > 30
    assert covered[night & in_green].mean() < 0.05  # and green spaces at night hardly ever


def test_patrols_do_not_depend_on_n_incidents(frames):
    other = demo.generate(seed=42, n_incidents=50)
    for layer in ("districts", "green_spaces", "patrols", "meeting_points", "facilities"):
        pd.testing.assert_frame_equal(frames[layer], other[layer], check_exact=True)


@pytest.mark.parametrize("n_shifts", [300, 3_000, 20_000])
def test_n_shifts_scales_the_same_roster(frames, n_shifts):
    p = demo.generate(seed=42, n_incidents=50, n_shifts=n_shifts)["patrols"]
    assert abs(len(p) - n_shifts) < 0.05 * n_shifts + 30
    assert p["shift_id"].is_unique and p["start"].is_monotonic_increasing
    full = frames["patrols"]
    fixed = ~p.geom_type.eq("LineString")
    full_fixed = set(shapely.to_wkb(full.geometry.values[~full.geom_type.eq("LineString").to_numpy()]))
    assert set(shapely.to_wkb(p.geometry.values[fixed.to_numpy()])) <= full_fixed  # the same posts and areas
    share = p["unit"].value_counts(normalize=True)
    full_share = full["unit"].value_counts(normalize=True)
    assert (share - full_share).abs().max() < 0.05


def test_n_shifts_must_be_positive():
    with pytest.raises(ValueError):
        demo.generate(seed=1, n_incidents=10, n_shifts=0)


# -- meeting points and facilities -----------------------------------------------


def test_meeting_points_are_fictitious_and_deep_inside_forests(metric, frames):
    m, g, d = metric["meeting_points"], metric["green_spaces"], metric["districts"]
    assert 10 <= len(m) <= 14
    assert m["id"].is_unique and m["id"].str.fullmatch(r"M-\d{2}").all()
    assert m["label"].str.contains("(fiktiv)", regex=False).all()
    assert set(m["status"]) <= set(domain.MEETING_STATUS)
    forests = g[g["kind"] == "forest"]
    for point in m.geometry:
        inside = forests[forests.geometry.contains(point)]
        assert len(inside) == 1
        assert inside.geometry.iloc[0].exterior.distance(point) >= 50.0
    code = _district_of(m, d)
    assert (~code.isin(demo.CENTRE_CODES)).mean() >= 0.75  # mostly outside the centre
    local = _local(frames["meeting_points"]["last_confirmed"]).dt.date
    assert local.min() >= demo.DEMO_PERIOD[0] and local.max() <= demo.DEMO_PERIOD[1]


def test_facilities(metric):
    f, d = metric["facilities"], metric["districts"]
    assert 40 <= len(f) <= 50
    assert f["id"].is_unique and f["id"].str.fullmatch(r"F-\d{3}").all()
    assert f["name"].str.endswith("(Demo)").all()
    assert set(f["kind"]) == set(domain.FACILITY_KINDS)
    code = _district_of(f, d)
    assert code.notna().all()
    named = f["name"].str.extract(r"(?:Jugendtreff|Grundschule) (.+) \(Demo\)")[0]
    names = dict(zip(d["name"], d["code"]))
    mask = named.notna()
    assert (named[mask].map(names) == code[mask]).all()  # each facility sits in the district it names


def test_crime_stats_copy_the_atlas(frames, facts):
    cs = frames["crime_stats"]
    assert len(cs) == 39
    assert (cs["year"] == 2025).all()
    assert (cs["edition"] == "Kriminalitätsatlas 2025 (Polizei Sachsen)").all()
    case_cols = [c for c in facts.columns if c.endswith("_cases")]
    for col in ["code", "crime_total_rate", "population_est", *case_cols]:
        assert list(cs[col]) == list(facts[col]), col


# -- determinism ----------------------------------------------------------------


def test_same_seed_same_data(frames):
    again = demo.generate(seed=42, n_incidents=N)
    assert list(again) == list(frames)
    for layer in frames:
        pd.testing.assert_frame_equal(frames[layer], again[layer], check_exact=True)


def test_different_seed_different_incidents(frames):
    other = demo.generate(seed=43, n_incidents=N)
    a, b = frames["incidents"], other["incidents"]
    assert not a["occurred_at"].equals(b["occurred_at"])
    assert not a.geometry.geom_equals(b.geometry).all()
    assert not frames["meeting_points"].geometry.geom_equals(other["meeting_points"].geometry).all()
    assert set(shapely.to_wkb(frames["patrols"].geometry.values)) != set(shapely.to_wkb(other["patrols"].geometry.values))
    pd.testing.assert_frame_equal(frames["districts"], other["districts"])  # schematic cells are fixed


# -- store round trip -------------------------------------------------------------


def test_write_demo_round_trips_counts(tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    counts = demo.write_demo(store, seed=42, n_incidents=2_000)
    assert counts["incidents"] == 2_000
    assert set(counts) == set(domain.LAYERS) | set(domain.TABLES)
    for layer, n in counts.items():
        assert len(store.read(layer)) == n, layer
    assert store.is_demo()
    sources = store.sources()
    assert set(sources["layer"]) == set(counts)
    text = sources["source"].iloc[0]
    assert "demo" in text.lower() and "fictitious" in text and "Kriminalitätsatlas 2025" in text
    assert "dl-de/by-2-0" in sources["licence"].iloc[0]
    # writing again replaces, not appends
    demo.write_demo(store, seed=1, n_incidents=500)
    assert len(store.read("incidents")) == 500


# -- properties of the building blocks ---------------------------------------------


_HOLED = shapely.Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)], [shapely.Point(500, 500).buffer(250.0).exterior.coords])
shapely.prepare(_HOLED)


@settings(max_examples=60, deadline=None)
@given(st.tuples(st.floats(10, 990), st.floats(10, 990)), st.tuples(st.floats(10, 990), st.floats(10, 990)))
def test_detours_go_round_holes(a, b):
    a, b = np.array(a), np.array(b)
    assume(shapely.contains_xy(_HOLED, *a) and shapely.contains_xy(_HOLED, *b))
    path = demo._detour(a, b, _HOLED)
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    line = shapely.LineString(np.array(path)) if np.hypot(*(a - b)) > 0 else shapely.Point(a)
    assert _HOLED.buffer(1e-6).contains(line)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 10))
def test_shortest_tour_visits_every_point_once(seed, n):
    pts = np.random.default_rng(seed).uniform(0, 1000, (n, 2))
    order = demo._shortest_tour(pts)
    assert sorted(order.tolist()) == list(range(n))
    if 3 < n <= 8:  # exhaustive: never longer than the tour by angle
        length = lambda o: np.hypot(*np.diff(pts[np.r_[o, o[:1]]], axis=0).T).sum()  # noqa: E731
        c = pts.mean(axis=0)
        assert length(order) <= length(np.argsort(np.arctan2(*(pts - c).T[::-1]))) + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(500.0, 3e6))
def test_star_polygons_are_valid_with_the_requested_area(seed, area):
    poly = demo._star(np.random.default_rng(seed), np.array([370_000.0, 5_633_000.0]), area)
    assert poly.is_valid and poly.geom_type == "Polygon"
    assert poly.area == pytest.approx(area, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=4, max_size=4), min_size=1, max_size=6))
def test_sample_groups_never_draws_impossible_values(seed, rows):
    weights = np.array(rows)
    weights[weights.sum(axis=1) == 0, 0] = 1.0
    rng = np.random.default_rng(seed)
    group = rng.integers(0, len(weights), 500)
    drawn = demo._sample_groups(rng, demo._cdf(weights), group)
    assert (weights[group, drawn] > 0).all()


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 400))
@example(8534, 1)  # a seed whose patrol loop did not fit its district's street grid
def test_any_seed_gives_valid_incidents(seed, n):
    inc = demo.generate(seed=seed, n_incidents=n)["incidents"]
    assert len(inc) == n
    schema.validated("incidents", inc)
