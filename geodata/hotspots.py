"""Hotspots: statistically significant clusters of incidents (Getis-Ord Gi*).

Incidents are counted in H3 cells over the whole study area, empty cells
included (a cluster only stands out against the cells around it that have
few or no incidents). Each cell's neighbourhood (the cell and its ring of six
H3 neighbours) is tested with Getis-Ord Gi*; the Benjamini-Hochberg
procedure then controls the false discovery rate over all cells, so that at
``alpha = 0.05`` about one in twenty of the cells called significant is
expected to be a false alarm, however many cells the city has.

Design choices:

* Weights: binary H3 neighbours (``h3.grid_disk(cell, 1)``) as a libpysal
  ``W``, with the cell itself added by esda (Gi*, not Gi). Binary weights
  give the textbook Gi* z-score (Getis & Ord; ArcGIS's hot spot analysis);
  with row-standardised weights esda's analytical variance treats the
  neighbourhood mean as a single draw and shrinks the z-scores by about
  sqrt(7). Cells without a neighbour in the set (islands) only compare with
  themselves.

* ``gi_z`` is esda's ``G_Local(counts, w, star=True, transform="B").Zs``
  (0 where undefined, i.e. when all cells hold the same count).

* ``p_value`` is analytical, not from permutations, and it is the larger
  (less significant) of two two-sided p-values, both taken on the side given
  by the sign of ``gi_z``:

  - esda's ``p_norm`` (normal approximation; esda's value is one-sided and
    is doubled), the standard Gi* test against the city's own variability;
  - a Poisson p-value: the exact probability of a neighbourhood sum at least
    this extreme if the incidents had fallen at random over the study area
    (mean ``mu * A_i``: ``mu`` incidents per whole cell, ``A_i`` the part of
    the neighbourhood inside the study area, in cells).

  A cell is flagged only when both agree. The Poisson guard is there because
  ``p_norm`` is badly wrong for sparse counts: counts per cell are discrete
  and mostly zero, the normal tail is far too thin for them, and in
  simulations on ~2,300 cells (FDR 0.05) 20 incidents scattered uniformly
  gave ~130 "significant" cells with ``p_norm`` (50: ~20, 200: ~10).
  Selecting one category and one month on the dashboard produces exactly
  such data. With the guard these cases give no (or, in a rare run, a
  handful of) significant cells, while planted clusters are found almost
  as often as with ``p_norm`` alone. Taking the larger p-value is the
  intersection-union construction: the result is valid if either model is.

  Rejected alternatives:

  - permutation p-values (``p_sim``): they cannot go below
    ``1 / (permutations + 1)``, while FDR over ~2,000 cells needs p-values
    near ``alpha / 2000``; with 999 permutations not a single cell passed,
    even for strong planted clusters, and results depend on the seed. Being
    conditional on the focal cell's count, they also never flag a single
    busy cell (a station, a bar) among quiet neighbours (p ~ 0.44 in the
    test for that case).
  - a purely count-based reference with the observed variance (negative
    binomial, or the exact randomisation distribution of the counts): well
    calibrated, but the clusters themselves inflate the variance. On the
    demo city (121 planted hotspots) it found 8 of them where ``p_norm``,
    and this test, found 32, with no hot cell far from a planted one.

  ``gi_z`` and ``p_value`` therefore need not match the normal table: with
  sparse counts a cell can have a ``gi_z`` above 5 and a p-value that does
  not survive the FDR step. ``p_value`` is never smaller than esda's
  two-sided ``p_norm``. Use ``gi_z`` for shading and ``significant`` for
  decisions.

* Boundary cells: cells cut by the edge of the study area have less area
  inside it and so fewer incidents. ``gi_z`` (plain esda) does not know
  this; the Poisson guard does, so a boundary cell is not called cold just
  because half of it lies outside. ``A_i`` counts every cell with at least
  ``MIN_INSIDE_SHARE`` of its area, so that one incident in a sliver of a
  cell does not make a hotspot.

* A cell is ``hot`` when significant and ``gi_z > 0``, ``cold`` when
  significant and ``gi_z < 0``.

* Coverage follows the one definition of the gap analysis: ``covered`` flags
  each incident as covered by regular patrol presence (``geodata.presence``).
  ``coverage_share`` is the share of a cell's incidents that are covered (NaN
  for a cell without incidents); ``outside_coverage`` ("ohne Streife") marks
  hot cells holding incidents of which less than ``covered_threshold`` are
  covered, i.e. by default cells where most incidents happen without regular
  patrol.
"""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from libpysal.weights import W
from scipy import sparse, stats

from geodata.coverage import covered_share
from geodata.domain import METRIC_CRS, STORE_CRS
from geodata.hexbin import cells

COLUMNS = [
    "cell",
    "count",
    "gi_z",
    "p_value",
    "significant",
    "kind",
    "uncovered",
    "coverage_share",
    "outside_coverage",
    "geometry",
]
# Below these, the statistics mean nothing and an empty frame is returned.
MIN_INCIDENTS = 10
MIN_CELLS = 3
# Cells cut by the study area's boundary count with at least this share of their area.
MIN_INSIDE_SHARE = 0.1


def hotspots(
    incidents: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    covered=None,
    resolution: int = 9,
    alpha: float = 0.05,
    covered_threshold: float = 0.5,
    cell_ids=None,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of incidents on H3 cells over ``area``.

    ``incidents`` are points (EPSG:4326, or any CRS set on the frame; a frame
    without a CRS is taken as EPSG:4326); missing, empty and non-point
    geometries and points outside ``area`` are ignored. ``area`` holds the
    study area polygons (the districts). ``covered`` holds one flag per
    incident (aligned with ``incidents``): covered by regular patrol presence;
    None means no incident is covered. ``cell_ids`` holds the H3 cell of every
    incident at ``resolution`` where the caller knows it already (aligned with
    ``incidents``, as ``hexbin.cells`` gives it); None computes them.

    Returns one row per cell covering the area (every cell whose centre lies
    in the area, plus every cell holding an incident inside the area) with
    the columns in ``COLUMNS``, geometry the hexagon in EPSG:4326. With fewer
    than ``MIN_INCIDENTS`` incidents inside the area or fewer than
    ``MIN_CELLS`` cells, the frame is empty.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    union = _area_union(area)
    if union is None:
        return _empty()
    points, picked = _points_inside(incidents, union)
    if len(points) < MIN_INCIDENTS:
        return _empty()

    flags = np.zeros(len(picked), dtype=bool) if covered is None else np.asarray(covered, dtype=bool)
    if flags.shape != (len(picked),):
        raise ValueError(f"covered must hold one flag per incident, got shape {flags.shape}")
    flags = flags[picked]
    if cell_ids is None:
        incident_cells = cells(points, resolution)
    else:
        known = np.asarray(cell_ids, dtype=object)
        if known.shape != (len(picked),):
            raise ValueError(f"cell_ids must hold one cell per incident, got shape {known.shape}")
        incident_cells = known[picked]
    filled = h3.h3shape_to_cells(h3.geo_to_h3shape(union), resolution)
    cell_ids = np.array(sorted(set(filled).union(incident_cells.tolist())), dtype=object)
    n = len(cell_ids)
    if n < MIN_CELLS:
        return _empty()
    position = pd.Index(cell_ids).get_indexer(incident_cells)
    counts = np.bincount(position, minlength=n)

    hexes = gpd.GeoSeries(_hexagons(cell_ids), crs=STORE_CRS)
    metric_hexes = gpd.GeoDataFrame(geometry=hexes.to_crs(METRIC_CRS))
    inside = _share_in(metric_hexes, gpd.GeoSeries([union], crs=STORE_CRS).to_crs(METRIC_CRS).iloc[0])
    neighbours = _neighbours(cell_ids)
    gi_z = _gi_star_z(counts, neighbours)
    p_value = _p_values(counts, neighbours, inside, gi_z)
    significant = _benjamini_hochberg(p_value, alpha)
    kind = np.where(significant & (gi_z > 0), "hot", np.where(significant & (gi_z < 0), "cold", "none"))
    uncovered = np.bincount(position[~flags], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(counts > 0, 1 - uncovered / np.maximum(counts, 1), np.nan)
    return gpd.GeoDataFrame(
        {
            "cell": cell_ids,
            "count": counts.astype(np.int64),
            "gi_z": gi_z,
            "p_value": p_value,
            "significant": significant,
            "kind": kind.astype(object),
            "uncovered": uncovered.astype(np.int64),
            "coverage_share": share,
            "outside_coverage": (kind == "hot") & (counts > 0) & (share < covered_threshold),
        },
        geometry=hexes.to_numpy(),
        crs=STORE_CRS,
    )[COLUMNS]


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "cell": pd.Series(dtype="str"),
            "count": pd.Series(dtype=np.int64),
            "gi_z": pd.Series(dtype=float),
            "p_value": pd.Series(dtype=float),
            "significant": pd.Series(dtype=bool),
            "kind": pd.Series(dtype="str"),
            "uncovered": pd.Series(dtype=np.int64),
            "coverage_share": pd.Series(dtype=float),
            "outside_coverage": pd.Series(dtype=bool),
        },
        geometry=gpd.GeoSeries([], crs=STORE_CRS),
        crs=STORE_CRS,
    )[COLUMNS]


def _in_store_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        return gdf.set_crs(STORE_CRS)
    return gdf.to_crs(STORE_CRS)


def _area_union(area: gpd.GeoDataFrame | None):
    """The polygonal union of the study area in EPSG:4326, or None when there is none."""
    if area is None or len(area) == 0:
        return None
    geoms = _in_store_crs(area).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return None
    union = shapely.union_all(shapely.make_valid(geoms))
    polygons = [g for g in shapely.get_parts(union) if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0]
    if not polygons:
        return None
    return shapely.union_all(polygons)


def _points_inside(incidents: gpd.GeoDataFrame | None, union) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The incidents that are points (EPSG:4326) inside or on the edge of ``union``,
    and the boolean mask (by position) that picked them."""
    if incidents is None or len(incidents) == 0:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=STORE_CRS)), np.zeros(0 if incidents is None else len(incidents), dtype=bool)
    pts = _in_store_crs(incidents[[incidents.geometry.name]])
    geoms = pts.geometry.to_numpy()
    keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    keep &= shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    x[keep] = shapely.get_x(geoms[keep])
    y[keep] = shapely.get_y(geoms[keep])
    keep &= np.isfinite(x) & np.isfinite(y)
    shapely.prepare(union)
    keep[keep] = shapely.intersects_xy(union, x[keep], y[keep])
    return pts[keep], keep


def _hexagons(cell_ids: np.ndarray) -> np.ndarray:
    """Cell outlines as polygons (lon, lat); pentagons get five corners."""
    rings = [h3.cell_to_boundary(c) for c in cell_ids]
    if all(len(r) == 6 for r in rings):
        return shapely.polygons(np.asarray(rings, dtype=float).reshape(len(rings), 6, 2)[:, :, ::-1])
    return np.array([shapely.Polygon([(lng, lat) for lat, lng in r]) for r in rings], dtype=object)


def _share_in(metric_hexes: gpd.GeoDataFrame, geom) -> np.ndarray:
    """``covered_share`` of the hexagons (EPSG:25833) in ``geom``, intersecting only the cut ones."""
    share = np.zeros(len(metric_hexes))
    if geom is None or shapely.is_empty(geom):
        return share
    shapely.prepare(geom)
    geoms = metric_hexes.geometry.to_numpy()
    full = shapely.contains(geom, geoms)
    cut = ~full & shapely.intersects(geom, geoms)
    share[full] = 1.0
    if cut.any():
        share[cut] = covered_share(metric_hexes[cut], geom)
    return share


def _neighbours(cell_ids: np.ndarray) -> sparse.csr_matrix:
    """Binary adjacency of the cells (H3 ring 1 within the set), zero diagonal."""
    index = {c: i for i, c in enumerate(cell_ids)}
    rows, cols = [], []
    for i, c in enumerate(cell_ids):
        for other in h3.grid_disk(c, 1):
            j = index.get(other)
            if j is not None and j != i:
                rows.append(i)
                cols.append(j)
    n = len(cell_ids)
    data = np.ones(len(rows))
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


def _gi_star_z(counts: np.ndarray, adjacency: sparse.csr_matrix) -> np.ndarray:
    """Gi* z-scores from esda (binary weights plus self); 0 where undefined (all counts equal)."""
    ptr, idx = adjacency.indptr, adjacency.indices
    neighbours = {i: idx[ptr[i] : ptr[i + 1]].tolist() for i in range(adjacency.shape[0])}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # islands and disconnected parts are fine here; libpysal warns about them
        warnings.simplefilter("ignore")
        w = W(neighbours, silence_warnings=True)
        g = esda.G_Local(counts.astype(float), w, transform="B", star=True, permutations=0)
    z = np.asarray(g.Zs, dtype=float)
    return np.where(np.isfinite(z), z, 0.0)


def _p_values(counts: np.ndarray, adjacency: sparse.csr_matrix, inside: np.ndarray, gi_z: np.ndarray) -> np.ndarray:
    """Two-sided p-value of each cell: the larger of esda's normal and the Poisson one.

    Both are taken on the side given by the sign of ``gi_z``. The Poisson
    p-value is the exact tail of the neighbourhood sum if the incidents had
    fallen at random over the study area: mean ``mu * A_i``, with ``mu`` the
    incidents per whole cell and ``A_i`` the neighbourhood's area inside the
    study area, in cells.
    """
    a = np.clip(inside, MIN_INSIDE_SHARE, 1.0)
    sums = np.rint(counts + adjacency @ counts).astype(np.int64)
    mean = (a + adjacency @ a) * (counts.sum() / a.sum())
    poisson = np.where(
        gi_z > 0,
        stats.poisson.sf(sums - 1, mean),  # P(S >= s)
        np.where(gi_z < 0, stats.poisson.cdf(sums, mean), 0.5),  # P(S <= s)
    )
    normal = stats.norm.sf(np.abs(gi_z))  # esda's p_norm (one-sided)
    p = np.clip(2.0 * np.maximum(normal, poisson), 0.0, 1.0)
    return np.where(np.isfinite(p), p, 1.0)


def _benjamini_hochberg(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg step-up: True for the tests rejected at false discovery rate ``alpha``."""
    p = np.where(np.isfinite(p), p, 1.0)
    m = len(p)
    order = np.argsort(p, kind="stable")
    passed = np.nonzero(p[order] <= alpha * np.arange(1, m + 1) / m)[0]
    significant = np.zeros(m, dtype=bool)
    if len(passed):
        significant[order[: passed[-1] + 1]] = True
    return significant
