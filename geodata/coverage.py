"""Patrol footprints and coverage, measured in EPSG:25833.

A footprint is a shift's GPS track, patrol area or fixed post buffered by the
reach of its mode. Footprints are computed once per shift when the data
changes; coverage for a time window is the union of the footprints of the
shifts active in it.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.domain import DEFAULT_REACH_M, METRIC_CRS

TRACK_SIMPLIFY_M = 5.0
FOOTPRINT_SIMPLIFY_M = 2.0
CHUNK_VERTICES = 8


def _pieces(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split geometries into parts, and lines into short runs of CHUNK_VERTICES segments.

    Buffering a long, self-crossing GPS track in one go is slow (the buffer
    has to resolve every crossing at once); buffering short runs and joining
    them per shift gives the same area several times faster. Vectorised: one
    pass over all coordinates, no Python loop over vertices.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    is_line = shapely.get_type_id(parts) == 1
    other, other_owner = parts[~is_line], owner[~is_line]
    lines, line_owner = parts[is_line], owner[is_line]
    if len(lines) == 0:
        return other, other_owner
    xy, part = shapely.get_coordinates(lines, return_index=True)
    n = np.bincount(part, minlength=len(lines))
    k = np.arange(len(xy)) - np.repeat(np.cumsum(n) - n, n)  # vertex number within its line
    chunks = np.maximum(1, -(-(n - 1) // CHUNK_VERTICES))  # ceil((n - 1) / C)
    first_chunk = np.cumsum(chunks) - chunks
    local = np.minimum(k // CHUNK_VERTICES, chunks[part] - 1)
    chunk = first_chunk[part] + local
    # a vertex where one run ends and the next begins belongs to both
    shared = (k % CHUNK_VERTICES == 0) & (k > 0) & (local > 0) & (k // CHUNK_VERTICES == local)
    all_xy = np.concatenate([xy, xy[shared]])
    all_chunk = np.concatenate([chunk, chunk[shared] - 1])
    all_k = np.concatenate([k, k[shared]])
    order = np.lexsort((all_k, all_chunk))
    runs = shapely.linestrings(all_xy[order], indices=all_chunk[order])
    run_owner = np.repeat(line_owner, chunks)
    return np.concatenate([runs, other]), np.concatenate([run_owner, other_owner])


def footprints(patrols: gpd.GeoDataFrame, reach: Mapping[str, float] | None = None) -> gpd.GeoDataFrame:
    """One footprint polygon per shift (EPSG:25833), with the shift's attributes.

    Tracks are simplified to 5 m before buffering: GPS jitter below that does
    not change a 150 m reach, and buffering raw vertices is many times slower.
    Shifts with the same geometry and reach (posts, patrol areas, planned
    routes walked day after day) are buffered once and share the result.
    """
    reach = {**DEFAULT_REACH_M, **(reach or {})}
    metric = patrols.to_crs(METRIC_CRS)
    radii_all = metric["mode"].map(reach).fillna(DEFAULT_REACH_M["foot"]).to_numpy(dtype=float)
    keys = pd.Series(shapely.to_wkb(metric.geometry.to_numpy())).astype(object) + pd.Series(radii_all.astype(str)).astype(object).map(str.encode)
    first, inverse = np.unique(keys.to_numpy(), return_index=True, return_inverse=True)[1:]
    geoms = shapely.simplify(metric.geometry.to_numpy()[first], TRACK_SIMPLIFY_M, preserve_topology=False)
    radii = radii_all[first]
    pieces, owner = _pieces(geoms)
    buffered_pieces = shapely.buffer(pieces, radii[owner], quad_segs=4)
    buffered = np.empty(len(geoms), dtype=object)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(len(geoms) + 1))
    for i in range(len(geoms)):
        group = buffered_pieces[order[bounds[i] : bounds[i + 1]]]
        buffered[i] = group[0] if len(group) == 1 else shapely.union_all(group)
    buffered = shapely.simplify(buffered, FOOTPRINT_SIMPLIFY_M)
    out = metric.drop(columns=metric.geometry.name)
    return gpd.GeoDataFrame(out, geometry=buffered[inverse], crs=METRIC_CRS)


def coverage_union(prints: gpd.GeoDataFrame, active: np.ndarray | None = None):
    """Union of the footprints of the active shifts (a shapely geometry in EPSG:25833)."""
    geoms = prints.geometry.to_numpy()
    if active is not None:
        geoms = geoms[np.asarray(active, dtype=bool)]
    if len(geoms) == 0:
        return shapely.Polygon()
    return shapely.union_all(geoms)


def covered_share(areas: gpd.GeoDataFrame, covered) -> np.ndarray:
    """Share of each polygon's area inside ``covered`` (both EPSG:25833), in [0, 1]."""
    geoms = areas.to_crs(METRIC_CRS).geometry.to_numpy()
    total = shapely.area(geoms)
    if covered is None or shapely.is_empty(covered):
        return np.zeros(len(geoms))
    shapely.prepare(covered)
    inside = shapely.area(shapely.intersection(geoms, covered))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, inside / total, 0.0)
    return np.clip(share, 0.0, 1.0)
