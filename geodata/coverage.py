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
import shapely

from geodata.domain import DEFAULT_REACH_M, METRIC_CRS

TRACK_SIMPLIFY_M = 5.0
FOOTPRINT_SIMPLIFY_M = 2.0
CHUNK_VERTICES = 48


def _pieces(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split geometries into parts, and long lines into short overlapping runs.

    Buffering a long, self-crossing GPS track in one go is slow (the buffer
    has to resolve every crossing at once); buffering short runs and joining
    them per shift gives the same area many times faster.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    out, out_owner = [], []
    for part, own in zip(parts, owner):
        if part.geom_type == "LineString" and shapely.get_num_coordinates(part) > CHUNK_VERTICES + 1:
            xy = shapely.get_coordinates(part)
            for i in range(0, len(xy) - 1, CHUNK_VERTICES):
                out.append(shapely.LineString(xy[i : i + CHUNK_VERTICES + 1]))
                out_owner.append(own)
        else:
            out.append(part)
            out_owner.append(own)
    return np.array(out, dtype=object), np.array(out_owner, dtype=int)


def footprints(patrols: gpd.GeoDataFrame, reach: Mapping[str, float] | None = None) -> gpd.GeoDataFrame:
    """One footprint polygon per shift (EPSG:25833), with the shift's attributes.

    Tracks are simplified to 5 m before buffering: GPS jitter below that does
    not change a 150 m reach, and buffering raw vertices is many times slower.
    """
    reach = {**DEFAULT_REACH_M, **(reach or {})}
    metric = patrols.to_crs(METRIC_CRS)
    geoms = shapely.simplify(metric.geometry.to_numpy(), TRACK_SIMPLIFY_M, preserve_topology=False)
    radii = metric["mode"].map(reach).fillna(DEFAULT_REACH_M["foot"]).to_numpy(dtype=float)
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
    return gpd.GeoDataFrame(out, geometry=buffered, crs=METRIC_CRS)


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
