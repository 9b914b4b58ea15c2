"""Gi* hotspots on a synthetic 5 km x 5 km square in Chemnitz with planted truth."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from geodata import domain
from geodata.hexbin import cells
from geodata.hotspots import COLUMNS, hotspots

RES = 9
EXPECTED_DTYPES = ["str", "int64", "float64", "float64", "bool", "str", "int64", "float64", "bool", "geometry"]
# South-west corner of the study square in EPSG:25833 (lon ~12.92, lat ~50.80).
X0, Y0 = 353_500, 5_629_500
SIZE = 5_000
CLUSTER = (X0 + 1_500, Y0 + 3_500)  # planted cluster centre
ELSEWHERE = (X0 + 4_000, Y0 + 1_000)  # far from the cluster


def to_store(geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs=domain.METRIC_CRS).to_crs(domain.STORE_CRS)


def square(x=X0, y=Y0, size=SIZE) -> gpd.GeoDataFrame:
    return to_store([shapely.box(x, y, x + size, y + size)])


def points(xy: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": np.arange(len(xy))},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=domain.METRIC_CRS,
    ).to_crs(domain.STORE_CRS)


def uniform(rng, n, x=X0, y=Y0, size=SIZE) -> np.ndarray:
    return np.column_stack([rng.uniform(x, x + size, n), rng.uniform(y, y + size, n)])


def planted_xy(seed=0, background=1_500, cluster=300, sd=100.0) -> tuple[np.ndarray, np.ndarray]:
    """A uniform background over the square and one dense cluster around CLUSTER."""
    rng = np.random.default_rng(seed)
    return uniform(rng, background), rng.normal(CLUSTER, sd, (cluster, 2))


def planted(seed=0) -> gpd.GeoDataFrame:
    return points(np.vstack(planted_xy(seed)))


def cluster_cells(seed=0) -> list[str]:
    """The planted truth: cells that received at least 5 % of the cluster's incidents."""
    _, cluster = planted_xy(seed)
    per_cell = pd.Series(cells(points(cluster), RES)).value_counts()
    return per_cell[per_cell >= 0.05 * len(cluster)].index.tolist()


def cell_at(xy) -> str:
    lonlat = gpd.GeoSeries([shapely.Point(xy)], crs=domain.METRIC_CRS).to_crs(domain.STORE_CRS).iloc[0]
    return h3.latlng_to_cell(lonlat.y, lonlat.x, RES)


def distance_m(out: gpd.GeoDataFrame, xy) -> np.ndarray:
    return out.to_crs(domain.METRIC_CRS).centroid.distance(shapely.Point(xy)).to_numpy()


def disk(xy, radius) -> shapely.Polygon:
    return shapely.Point(xy).buffer(radius)


@pytest.fixture(scope="module")
def planted_result():
    return hotspots(planted(), square())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_cluster_is_a_significant_hotspot(seed):
    out = hotspots(planted(seed), square()).set_index("cell")
    truth = cluster_cells(seed)
    assert len(truth) >= 3
    assert cell_at(CLUSTER) in truth
    assert (out.loc[truth, "kind"] == "hot").all()
    assert out.loc[truth, "significant"].all()
    assert (out.loc[truth, "gi_z"] > 3).all()
    # Gi* also marks neighbours of the cluster (the neighbourhood sum is high), nothing beyond
    hot = out[out["kind"] == "hot"].reset_index()
    assert (distance_m(hot, CLUSTER) < 1_000).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_far_away_cells_are_not_hotspots(seed):
    out = hotspots(planted(seed), square())
    far = distance_m(out, CLUSTER) > 1_500
    assert far.sum() > 100
    assert not (out.loc[far, "kind"] == "hot").any()
    # the background is uniform: nothing far away is significant at all
    assert not out.loc[far, "significant"].any()


def test_whole_area_is_covered_with_cells_including_empty_ones(planted_result):
    out = planted_result
    # ~25 km2 of ~0.105 km2 cells, plus cells cut by the boundary holding incidents
    assert 230 <= len(out) <= 300
    assert out["cell"].is_unique
    assert (out["count"] == 0).any()
    assert out["count"].sum() == planted().geometry.intersects(square().union_all()).sum() == 1_800


def flags_in(incidents: gpd.GeoDataFrame, geom) -> np.ndarray:
    """Covered flags: the incidents inside ``geom`` (EPSG:25833)."""
    xy = incidents.to_crs(domain.METRIC_CRS).geometry
    return shapely.contains_xy(geom, xy.x.to_numpy(), xy.y.to_numpy())


def test_coverage_over_the_cluster_means_not_outside(planted_result):
    inc = planted()
    out = hotspots(inc, square(), covered=flags_in(inc, disk(CLUSTER, 800))).set_index("cell")
    truth = cluster_cells()
    assert np.allclose(out.loc[truth, "coverage_share"], 1.0)
    assert (out.loc[truth, "uncovered"] == 0).all()
    assert not out.loc[truth, "outside_coverage"].any()
    assert not out["outside_coverage"].any()  # every hot cell is near the cluster
    far = (distance_m(out.reset_index(), CLUSTER) > 1_500) & (out["count"].to_numpy() > 0)
    assert (out["coverage_share"].to_numpy()[far] == 0).all()
    assert (out["uncovered"] == out["count"]).to_numpy()[far].all()
    # same statistics as without coverage; coverage only adds the marks
    assert out["kind"].tolist() == planted_result["kind"].tolist()


def test_coverage_elsewhere_marks_the_cluster_outside():
    inc = planted()
    out = hotspots(inc, square(), covered=flags_in(inc, disk(ELSEWHERE, 800))).set_index("cell")
    truth = cluster_cells()
    assert (out.loc[truth, "coverage_share"] == 0).all()
    assert out.loc[truth, "outside_coverage"].all()
    assert (out.loc[out["outside_coverage"], "kind"] == "hot").all()
    here = out.loc[cell_at(ELSEWHERE)]
    assert here["count"] == 0 or here["coverage_share"] == pytest.approx(1.0)


def test_partly_covered_cells_follow_the_threshold():
    # in the cluster's core cell every incident is covered, in its neighbours every second one
    inc = planted()
    centre = cell_at(CLUSTER)
    cell_of = cells(inc, RES)
    ring = [c for c in h3.grid_disk(centre, 1) if c != centre]
    nth_in_cell = pd.Series(cell_of).groupby(cell_of).cumcount().to_numpy()
    covered = (cell_of == centre) | (np.isin(cell_of, ring) & (nth_in_cell % 2 == 0))
    out = hotspots(inc, square(), covered=covered).set_index("cell")
    assert out.loc[centre, "coverage_share"] == pytest.approx(1.0)
    shares = out.loc[ring, "coverage_share"]
    assert ((shares >= 0.5) & (shares < 0.8)).all()
    assert (out.loc[ring, "uncovered"] + (shares * out.loc[ring, "count"]).round() == out.loc[ring, "count"]).all()
    hot_ring = [c for c in ring if out.loc[c, "kind"] == "hot"]
    assert len(hot_ring) >= 3
    strict = hotspots(inc, square(), covered=covered, covered_threshold=0.9).set_index("cell")
    lax = hotspots(inc, square(), covered=covered, covered_threshold=0.1).set_index("cell")
    assert strict.loc[hot_ring, "outside_coverage"].all() and not strict.loc[centre, "outside_coverage"]
    assert not lax.loc[ring, "outside_coverage"].any()


def test_covered_flags_must_match_the_incidents():
    with pytest.raises(ValueError, match="one flag per incident"):
        hotspots(planted(), square(), covered=np.ones(3, dtype=bool))


def test_a_single_busy_place_is_a_hotspot():
    # 60 incidents at one address (a station, say) amid a uniform background;
    # permutation p-values never flag a single busy cell with quiet neighbours
    background, _ = planted_xy(1)
    out = hotspots(points(np.vstack([background, np.tile(ELSEWHERE, (60, 1))])), square()).set_index("cell")
    assert out.loc[cell_at(ELSEWHERE), "kind"] == "hot"
    assert (distance_m(out[out["kind"] == "hot"].reset_index(), ELSEWHERE) < 700).all()


def test_no_coverage_marks_every_hotspot_with_incidents_outside(planted_result):
    out = planted_result
    busy = out["count"] > 0
    assert (out.loc[busy, "coverage_share"] == 0).all() and out.loc[~busy, "coverage_share"].isna().all()
    assert (out["uncovered"] == out["count"]).all()
    assert (out["outside_coverage"] == ((out["kind"] == "hot") & busy)).all()
    none_covered = hotspots(planted(), square(), covered=np.zeros(len(planted()), dtype=bool))
    assert none_covered["outside_coverage"].tolist() == out["outside_coverage"].tolist()


@pytest.mark.parametrize("n", [40, 300, 3_000, 20_000])
def test_uniform_incidents_give_almost_no_significant_cells(n):
    # 40 incidents over ~260 cells is the sparse case (one category, one month)
    # where esda's normal p-values alone report many hotspots; at 20,000 the
    # cells cut by the boundary hold visibly fewer incidents and must not
    # come out as coldspots.
    for seed in range(3):
        out = hotspots(points(uniform(np.random.default_rng(seed), n)), square())
        assert len(out) > 200
        assert out["significant"].sum() <= 0.01 * len(out), (n, seed)


def test_an_empty_patch_in_dense_data_is_a_coldspot():
    rng = np.random.default_rng(3)
    xy = uniform(rng, 20_000)
    xy = xy[np.hypot(xy[:, 0] - CLUSTER[0], xy[:, 1] - CLUSTER[1]) > 500]
    out = hotspots(points(xy), square()).set_index("cell")
    assert out.loc[cell_at(CLUSTER), "kind"] == "cold"
    assert out.loc[cell_at(CLUSTER), "gi_z"] < 0
    assert not (out["kind"] == "hot").any()
    assert not out["outside_coverage"].any()


def assert_empty(out):
    assert isinstance(out, gpd.GeoDataFrame)
    assert list(out.columns) == COLUMNS
    assert out.dtypes.astype(str).tolist() == EXPECTED_DTYPES
    assert len(out) == 0
    assert out.crs == domain.STORE_CRS


def test_empty_and_tiny_inputs_give_an_empty_frame():
    empty = gpd.GeoDataFrame(geometry=[], crs=domain.STORE_CRS)
    assert_empty(hotspots(empty, square()))
    assert_empty(hotspots(gpd.GeoDataFrame(), square()))  # not even a geometry column
    assert_empty(hotspots(planted().iloc[:5], square()))
    assert_empty(hotspots(planted(), square().iloc[:0]))
    # all incidents outside the study area
    assert_empty(hotspots(planted(), square(x=X0 + 20_000)))
    # one cell only: no neighbourhood to compare with
    assert_empty(hotspots(points(np.tile(CLUSTER, (50, 1))), square(*CLUSTER, size=50)))


def test_missing_and_non_point_geometries_are_ignored():
    inc = planted()
    inc.loc[0, "geometry"] = None
    inc.loc[1, "geometry"] = shapely.Point()
    inc.loc[2, "geometry"] = shapely.box(12.93, 50.81, 12.94, 50.82)
    out = hotspots(inc, square())
    assert out["count"].sum() == hotspots(planted().iloc[3:], square())["count"].sum()


def test_output_is_wgs84_with_valid_hexagons(planted_result):
    out = planted_result
    assert list(out.columns) == COLUMNS
    assert out.crs == domain.STORE_CRS
    assert (out.geom_type == "Polygon").all()
    assert out.is_valid.all()
    assert (shapely.get_num_coordinates(out.geometry.to_numpy()) == 7).all()
    area_km2 = out.to_crs(domain.METRIC_CRS).area / 1e6
    assert area_km2.between(0.08, 0.13).all()
    centres = out.to_crs(domain.METRIC_CRS).centroid.to_crs(domain.STORE_CRS)
    assert [h3.latlng_to_cell(p.y, p.x, RES) for p in centres] == out["cell"].tolist()
    assert out.dtypes.astype(str).tolist() == EXPECTED_DTYPES
    assert set(out["kind"]) <= {"hot", "cold", "none"}


def test_area_in_another_crs_and_repeated_calls_give_the_same_answer(planted_result):
    metric_area = square().to_crs(domain.METRIC_CRS)
    again = hotspots(planted().to_crs(domain.METRIC_CRS), metric_area)
    assert again.drop(columns="geometry").equals(planted_result.drop(columns="geometry"))


def test_holes_and_separate_parts_of_the_area():
    outer = shapely.box(X0, Y0, X0 + SIZE, Y0 + SIZE)
    hole = shapely.box(X0 + 3_000, Y0 + 3_000, X0 + 4_500, Y0 + 4_500)
    islet = shapely.box(X0 + 8_000, Y0 + 2_000, X0 + 8_150, Y0 + 2_150)  # smaller than a cell
    area = to_store([outer.difference(hole), islet])
    rng = np.random.default_rng(5)
    xy = np.vstack([uniform(rng, 1_000), rng.normal(CLUSTER, 100, (200, 2)), np.tile((X0 + 8_075, Y0 + 2_075), (5, 1))])
    inc = points(xy)
    out = hotspots(inc, area)
    inside = inc.geometry.intersects(area.union_all())
    assert out["count"].sum() == inside.sum()
    hole_cell = cell_at((X0 + 3_750, Y0 + 3_750))
    assert hole_cell not in set(out["cell"])
    # the islet's cell has no neighbour in the set (an island in the weights)
    islet_cell = cell_at((X0 + 8_075, Y0 + 2_075))
    row = out.set_index("cell").loc[islet_cell]
    assert row["count"] == 5
    assert 0 <= row["p_value"] <= 1
    assert out.set_index("cell").loc[cell_at(CLUSTER), "kind"] == "hot"


def test_invalid_alpha_is_rejected():
    with pytest.raises(ValueError):
        hotspots(planted(), square(), alpha=0)


# Property test on a small square (2 km) so that each example is quick.
SMALL = 2_000
SMALL_AREA = square(size=SMALL)
SMALL_BOX = shapely.box(X0, Y0, X0 + SMALL, Y0 + SMALL)


@st.composite
def incident_sets(draw):
    # whole metres plus 0.5: never on the boundary, some outside the square
    spots = st.tuples(st.integers(-300, SMALL + 299), st.integers(-300, SMALL + 299))
    pool = draw(st.lists(spots, min_size=1, max_size=60))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), max_size=400))
    xy = np.array([pool[i] for i in picks], dtype=float).reshape(-1, 2) + 0.5
    return xy + (X0, Y0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xy=incident_sets(), alpha=st.sampled_from([0.01, 0.05, 0.1]), with_coverage=st.booleans())
def test_properties_hold_for_random_incident_sets(xy, alpha, with_coverage):
    inc = points(xy)
    covered = flags_in(inc, disk((X0 + 500, Y0 + 500), 700)) if with_coverage else None
    out = hotspots(inc, SMALL_AREA, covered=covered, alpha=alpha)
    assert list(out.columns) == COLUMNS
    assert out.crs == domain.STORE_CRS
    inside = int(shapely.contains_xy(SMALL_BOX, xy[:, 0], xy[:, 1]).sum()) if len(xy) else 0
    if len(out) == 0:
        assert inside < 10
        return
    assert out["count"].sum() == inside
    assert out["cell"].is_unique
    p = out["p_value"].to_numpy()
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    assert (p[out["significant"].to_numpy()] <= alpha).all()
    # never more significant than esda's normal approximation of Gi*
    assert (p >= np.minimum(1.0, 2 * stats.norm.sf(np.abs(out["gi_z"].to_numpy()))) - 1e-12).all()
    assert np.isfinite(out["gi_z"]).all()
    assert (out["kind"] != "none").tolist() == out["significant"].tolist()
    assert (out.loc[out["kind"] == "hot", "gi_z"] > 0).all()
    assert (out.loc[out["kind"] == "cold", "gi_z"] < 0).all()
    share = out["coverage_share"].to_numpy()
    busy = out["count"].to_numpy() > 0
    assert ((share[busy] >= 0) & (share[busy] <= 1)).all() and np.isnan(share[~busy]).all()
    assert ((out["uncovered"] >= 0) & (out["uncovered"] <= out["count"])).all()
    assert out["uncovered"].sum() == (inside if covered is None else int((~covered & shapely.contains_xy(SMALL_BOX, xy[:, 0], xy[:, 1])).sum()))
    assert (out["outside_coverage"] == ((out["kind"] == "hot") & busy & (out["coverage_share"] < 0.5))).all()


def test_known_cells_give_the_same_answer_and_must_match_the_incidents(planted_result):
    inc = planted()
    inc.loc[0, "geometry"] = None  # a row without a point keeps its place in the cells given
    known = np.array([None] + cells(inc.iloc[1:], RES).tolist(), dtype=object)
    out = hotspots(inc, square(), cell_ids=known)
    pd.testing.assert_frame_equal(out.drop(columns="geometry"), hotspots(inc, square()).drop(columns="geometry"))
    # the cells are used as given: moving every incident to one cell changes the answer
    moved = hotspots(inc, square(), cell_ids=np.full(len(inc), known[5], dtype=object))
    assert moved["count"].max() == len(inc) - 1
    with pytest.raises(ValueError, match="one cell per incident"):
        hotspots(inc, square(), cell_ids=known[:-1])
