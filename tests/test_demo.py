"""Tests for the deterministic demo-data generator (loaders/demo.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
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


@pytest.fixture(scope="module")
def patrol_info(metric):
    p, d = metric["patrols"], metric["districts"]
    code = _district_of(p, d)
    hours = (p["end"] - p["start"]).dt.total_seconds() / 3600
    return p.assign(code=code, hours=hours)


def test_patrol_attributes(patrol_info):
    p = patrol_info
    assert len(p) == demo.PATROL_SHIFTS
    assert p["shift_id"].is_unique and p["shift_id"].str.fullmatch(r"S-\d{4}").all()
    assert p["hours"].between(3, 8).all()
    share = p["unit"].value_counts(normalize=True)
    assert 0.5 < share["ordnungsdienst"] < 0.7
    assert 0.15 < share["security"] < 0.35
    assert 0.08 < share["joint"] < 0.22
    assert set(p["mode"]) == set(domain.MODES)
    kinds = p.geom_type.value_counts(normalize=True)
    assert kinds["LineString"] > 0.7 and kinds["Point"] > 0.04 and kinds["Polygon"] > 0.04
    local_start = _local(p["start"]).dt.hour
    assert local_start.between(7, 15).mean() > 0.75
    assert (local_start >= 18).mean() > 0.08


def test_patrol_tracks_are_gps_like_and_stay_in_their_district(patrol_info, metric):
    d = metric["districts"].set_index("code")
    tracks = patrol_info[patrol_info.geom_type == "LineString"]
    assert tracks["code"].notna().all()
    for row in tracks.itertuples():
        xy = shapely.get_coordinates(row.geometry)
        assert len(xy) == round(row.hours * 3600 / demo.TRACK_STEP_S) + 1
        step = np.hypot(*np.diff(xy, axis=0).T)
        assert np.median(step) <= demo.SPEED_M_S[row.mode] * demo.TRACK_STEP_S * 1.6
        assert d.loc[row.code, "geometry"].buffer(1.0).contains(row.geometry)
    others = patrol_info[patrol_info.geom_type != "LineString"]
    for row in others.itertuples():
        assert d.loc[row.code, "geometry"].buffer(1.0).contains(row.geometry)


def test_patrols_concentrate_on_the_centre_by_day(patrol_info, frames):
    p = patrol_info
    centre_share = p.loc[p["code"].isin(demo.CENTRE_CODES), "hours"].sum() / p["hours"].sum()
    assert centre_share > 0.5
    assert p["code"].nunique() < 30  # many outer districts are never patrolled
    # share of patrol time between 22:00 and 06:00 local time
    total = night = 0
    for start, end in zip(p["start"], p["end"]):
        minutes = pd.date_range(start, end, freq="10min", inclusive="left").tz_convert(domain.LOCAL_TZ)
        total += len(minutes)
        night += int(((minutes.hour >= 22) | (minutes.hour < 6)).sum())
    assert night / total < 0.2


def test_green_spaces_at_night_are_a_coverage_gap(metric, patrol_info):
    """Night incidents in green spaces are less often within reach of a night patrol."""
    inc, g = metric["incidents"], metric["green_spaces"]
    hour = _local(inc["occurred_at"]).dt.hour
    night = ((hour >= 22) | (hour < 6)).to_numpy()
    in_green = gpd.sjoin(inc, g[["geometry"]], predicate="within", how="left")
    in_green = in_green[~in_green.index.duplicated()]["index_right"].notna().to_numpy()
    p = patrol_info[_local(patrol_info["start"]).dt.hour >= 18]
    reach = p["mode"].map(domain.DEFAULT_REACH_M).to_numpy()
    pts, shifts = shapely.STRtree(p.geometry.values).query(inc.geometry.values, predicate="dwithin", distance=reach.max())
    near = shapely.distance(inc.geometry.values[pts], p.geometry.values[shifts]) <= reach[shifts]
    covered = np.zeros(len(inc), dtype=bool)
    covered[pts[near]] = True
    assert (night & in_green).sum() > 30
    assert covered[night & in_green].mean() < covered[night & ~in_green].mean()


def test_patrols_do_not_depend_on_n_incidents(frames):
    other = demo.generate(seed=42, n_incidents=50)
    for layer in ("districts", "green_spaces", "patrols", "meeting_points", "facilities"):
        pd.testing.assert_frame_equal(frames[layer], other[layer], check_exact=True)


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


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e5, 1e5, allow_nan=False), min_size=1, max_size=50),
    st.floats(-1e4, 1e4, allow_nan=False),
    st.floats(1.0, 1e4, allow_nan=False),
)
def test_fold_stays_in_range(values, lo, span):
    out = demo._fold(np.array(values), lo, lo + span)
    assert (out >= lo - 1e-6).all() and (out <= lo + span + 1e-6).all()


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
def test_any_seed_gives_valid_incidents(seed, n):
    inc = demo.generate(seed=seed, n_incidents=n)["incidents"]
    assert len(inc) == n
    schema.validated("incidents", inc)
