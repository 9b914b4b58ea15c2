"""Hotspots: statistically significant clusters of incidents (Getis-Ord Gi*).

Incidents are counted in H3 cells over the whole study area, empty cells
included (a cluster only stands out against the cells around it that have
few or no incidents). Each cell is compared with its ring of six H3
neighbours; the Benjamini-Hochberg procedure then controls the false
discovery rate over all cells, so that at ``alpha = 0.05`` about one in
twenty of the cells called significant is expected to be a false alarm,
however many cells the city has.

Design choices:

* Weights are binary H3 neighbours (``h3.grid_disk(cell, 1)``) with the cell
  itself included (Gi*, not Gi). Binary weights give the textbook Gi*
  z-score of Getis & Ord (and of ArcGIS's hot spot analysis). With
  row-standardised weights, esda's analytical variance treats the
  neighbourhood *mean* as one single draw, which shrinks the z-scores by
  roughly sqrt(7). Cells without a neighbour in the set (islands) only
  compare with themselves and do not crash anything.

* ``gi_z`` is esda's ``G_Local(..., star=True, transform="B").Zs``.

* ``p_value`` is *not* esda's ``p_norm`` and *not* its permutation ``p_sim``:

  - ``p_norm`` assumes the neighbourhood sum is normally distributed. Incident
    counts per cell are mostly zeros with a long tail, and then the normal
    tail is far too thin: with 20 incidents scattered uniformly over ~2,300
    cells, ``p_norm`` plus FDR marked ~130 cells as "significant" (50
    incidents: ~24, 200 incidents: ~9). Selecting one category and one month
    on the dashboard produces exactly such sparse data.
  - permutation p-values cannot go below ``1 / (permutations + 1)``. FDR over
    ~2,000 cells needs p-values near ``alpha / 2000``, so with 999
    permutations not a single cell passes, even for a strong planted cluster;
    enough permutations would be too slow and the result would depend on
    the seed.

  Instead the p-value comes from the exact null distribution of the same
  statistic. With binary weights and a self-weight, Gi* is a monotone
  function of the neighbourhood sum ``S_i`` (the incidents in the cell and
  its neighbours) for a given number of cells ``c_i`` in the neighbourhood.
  Under the randomisation null of Gi* (cell counts exchangeable), ``S_i`` is
  the sum of ``c_i`` counts drawn from the observed counts; drawing with
  replacement, its distribution is the ``c_i``-fold convolution of the
  empirical count distribution, which is computed exactly (at most seven
  convolutions, one per distinct ``c_i``). This is the limit of infinitely
  many permutations (drawing with replacement is very slightly
  conservative), deterministic, needs no seed and takes milliseconds. In the
  same uniform test it gives no significant cells at 20, 50 or 100,000
  incidents. The test is two-sided (twice the tail in the direction of
  ``gi_z``), so hot and cold spots are both found; coldspots need dense data
  and rarely appear with sparse counts, where an empty neighbourhood is not
  unusual.

  ``gi_z`` and ``p_value`` therefore need not match the normal table: with
  heavy-tailed counts a cell can have a large ``gi_z`` and an unremarkable
  ``p_value``, or a modest ``gi_z`` and a small ``p_value`` (a neighbourhood
  far below the bulk of the cells when a few cluster cells inflate the
  variance). Use ``gi_z`` for shading and ``significant`` for decisions.

* A cell is ``hot`` when significant and ``gi_z > 0``, ``cold`` when
  significant and ``gi_z < 0``. ``outside_coverage`` marks hot cells less
  than ``covered_threshold`` of whose area lies inside the patrol coverage.

* Edge effect: cells cut by the boundary of the study area (those added
  because they hold an incident although their centre lies outside) have
  less area inside it and so fewer incidents. This makes hotspots at the
  boundary slightly harder to find (never easier), and with dense data the
  boundary can show cold cells that reflect the cut, not a lack of incidents.
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
from scipy import sparse
from scipy.signal import fftconvolve

from geodata.coverage import covered_share
from geodata.domain import STORE_CRS
from geodata.hexbin import cells

COLUMNS = [
    "cell",
    "count",
    "gi_z",
    "p_value",
    "significant",
    "kind",
    "coverage_share",
    "outside_coverage",
    "geometry",
]
# Below these, the statistics mean nothing and an empty frame is returned.
MIN_INCIDENTS = 10
MIN_CELLS = 3
# Direct convolution below this many multiplications, FFT above.
_DIRECT_CONVOLVE_MAX = 2_000_000


def hotspots(
    incidents: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    covered=None,
    resolution: int = 9,
    alpha: float = 0.05,
    covered_threshold: float = 0.5,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of incidents on H3 cells over ``area``.

    ``incidents`` are points (EPSG:4326, or any CRS set on the frame; a frame
    without a CRS is taken as EPSG:4326); missing, empty and non-point
    geometries and points outside ``area`` are ignored. ``area`` holds the
    study area polygons (the districts). ``covered`` is the patrol coverage as
    a shapely geometry in EPSG:25833, or None.

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
    points = _points_inside(incidents, union)
    if len(points) < MIN_INCIDENTS:
        return _empty()

    incident_cells = cells(points, resolution)
    filled = h3.h3shape_to_cells(h3.geo_to_h3shape(union), resolution)
    cell_ids = np.array(sorted(set(filled).union(incident_cells.tolist())), dtype=object)
    n = len(cell_ids)
    if n < MIN_CELLS:
        return _empty()
    position = pd.Index(cell_ids).get_indexer(incident_cells)
    counts = np.bincount(position, minlength=n)

    neighbours = _neighbours(cell_ids)
    gi_z = _gi_star_z(counts, neighbours)
    p_value = _exact_p(counts, neighbours)
    significant = _benjamini_hochberg(p_value, alpha)
    kind = np.where(significant & (gi_z > 0), "hot", np.where(significant & (gi_z < 0), "cold", "none"))

    out = gpd.GeoDataFrame(
        {
            "cell": cell_ids,
            "count": counts.astype(np.int64),
            "gi_z": gi_z,
            "p_value": p_value,
            "significant": significant,
            "kind": kind.astype(object),
        },
        geometry=_hexagons(cell_ids),
        crs=STORE_CRS,
    )
    share = covered_share(out, covered)
    out.insert(len(out.columns) - 1, "coverage_share", share)
    out.insert(len(out.columns) - 1, "outside_coverage", (kind == "hot") & (share < covered_threshold))
    return out[COLUMNS]


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "cell": pd.Series(dtype=object),
            "count": pd.Series(dtype=np.int64),
            "gi_z": pd.Series(dtype=float),
            "p_value": pd.Series(dtype=float),
            "significant": pd.Series(dtype=bool),
            "kind": pd.Series(dtype=object),
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


def _points_inside(incidents: gpd.GeoDataFrame | None, union) -> gpd.GeoDataFrame:
    """The incidents that are points (EPSG:4326) inside or on the edge of ``union``."""
    if incidents is None or len(incidents) == 0:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=STORE_CRS))
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
    return pts[keep]


def _hexagons(cell_ids: np.ndarray) -> np.ndarray:
    """Cell outlines as polygons (lon, lat); pentagons get five corners."""
    rings = [h3.cell_to_boundary(c) for c in cell_ids]
    if all(len(r) == 6 for r in rings):
        return shapely.polygons(np.asarray(rings, dtype=float).reshape(len(rings), 6, 2)[:, :, ::-1])
    return np.array([shapely.Polygon([(lng, lat) for lat, lng in r]) for r in rings], dtype=object)


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


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) * len(b) <= _DIRECT_CONVOLVE_MAX:
        return np.convolve(a, b)
    return np.clip(fftconvolve(a, b), 0.0, None)


def _exact_p(counts: np.ndarray, adjacency: sparse.csr_matrix) -> np.ndarray:
    """Two-sided p-value of each neighbourhood sum under the randomisation null.

    The neighbourhood of cell i holds c_i cells (itself and its neighbours);
    under the null its sum is the sum of c_i counts drawn (with replacement)
    from all cell counts, whose distribution is the c_i-fold convolution of
    the empirical count distribution. The p-value is twice the tail on the
    side of the expectation c_i * mean where the observed sum lies.
    """
    n = len(counts)
    sums = np.rint(counts + adjacency @ counts).astype(np.int64)
    size = np.diff(adjacency.indptr) + 1
    expected = size * counts.mean()
    pmf = np.bincount(counts) / n
    p = np.ones(n)
    dist = pmf
    for c in range(1, int(size.max()) + 1):
        if c > 1:
            dist = _convolve(dist, pmf)
        mask = size == c
        if not mask.any():
            continue
        s = sums[mask]
        below = np.cumsum(dist)  # P(S <= s)
        above = np.cumsum(dist[::-1])[::-1]  # P(S >= s)
        e = expected[mask]
        tail = np.where(s > e, above[s], np.where(s < e, below[s], 0.5))
        p[mask] = 2.0 * tail
    return np.clip(p, 0.0, 1.0)


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
