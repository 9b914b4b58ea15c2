"""Aggregation of points into H3 hexagons, for drawing many incidents."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geodata.domain import STORE_CRS


def cells(points: gpd.GeoDataFrame, resolution: int) -> np.ndarray:
    """H3 cell id (string) of every point at ``resolution``."""
    lon = points.geometry.x.to_numpy()
    lat = points.geometry.y.to_numpy()
    return np.array([h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat.tolist(), lon.tolist())], dtype=object)


def hexagons(cell_ids: pd.Series, min_count: int = 1) -> gpd.GeoDataFrame:
    """Count per cell as hexagon polygons (EPSG:4326); cells below ``min_count`` are dropped."""
    counts = cell_ids.value_counts()
    counts = counts[counts >= min_count]
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in counts.index]
    return gpd.GeoDataFrame(
        {"cell": counts.index.to_numpy(), "count": counts.to_numpy(dtype=int)},
        geometry=polys,
        crs=STORE_CRS,
    )


def in_cells_touching(cell_ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, window: tuple[float, float, float, float]) -> np.ndarray:
    """Mask over points: those whose cell holds at least one point inside ``window``
    (lon/lat box). A cell is kept or dropped whole, so its count never depends on the window."""
    w, s, e, n = window
    inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
    return pd.Series(cell_ids).isin(pd.unique(cell_ids[inside])).to_numpy()  # hashed: cell ids are strings


def resolution_for_zoom(zoom: int | float | None) -> int:
    """A hexagon size that reads well at a Leaflet zoom level."""
    z = 12 if zoom is None else zoom
    if z <= 11:
        return 7
    if z <= 12:
        return 8
    if z <= 14:
        return 9
    return 10
