"""Figures per district: incidents, rates, coverage, green space, offers.

Pure functions: GeoDataFrames in, new (Geo)DataFrames out; areas in EPSG:25833.
Every rate comes with the count it is based on.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.coverage import covered_share
from geodata.domain import METRIC_CRS

SMALL_COUNT = 5  # counts below this are flagged as too small to compare


def assign_district(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, column: str = "district") -> gpd.GeoDataFrame:
    """A copy of ``points`` with the code of the district each point lies in (or None)."""
    out = points.copy()
    if len(points) == 0 or len(districts) == 0:
        out[column] = pd.Series([None] * len(points), index=points.index, dtype=object)
        return out
    geoms = points.geometry
    if not all(geoms.geom_type == "Point"):
        geoms = geoms.representative_point()
    dist = districts.to_crs(points.crs)
    tree = shapely.STRtree(dist.geometry.to_numpy())
    pt_idx, poly_idx = tree.query(geoms.to_numpy(), predicate="intersects")
    codes = np.full(len(points), None, dtype=object)
    # a point on a shared boundary goes to the first district found
    first = np.unique(pt_idx, return_index=True)[1]
    codes[pt_idx[first]] = dist["code"].to_numpy()[poly_idx[first]]
    out[column] = codes
    return out


def green_by_district(green: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """All green space of each district as one geometry (EPSG:25833), indexed like ``districts``."""
    d = districts.to_crs(METRIC_CRS)
    if len(green):
        g = shapely.union_all(green.to_crs(METRIC_CRS).geometry.to_numpy())
        shapely.prepare(g)
        parts = shapely.intersection(d.geometry.to_numpy(), g)
    else:
        parts = np.array([shapely.Polygon()] * len(d))
    return gpd.GeoDataFrame({"code": d["code"].to_numpy()}, geometry=parts, crs=METRIC_CRS, index=d.index)


def district_figures(
    districts: gpd.GeoDataFrame,
    incidents: pd.DataFrame,
    covered,
    green: gpd.GeoDataFrame,
    meeting_points: pd.DataFrame,
    facilities: pd.DataFrame,
    crime_stats: pd.DataFrame,
    centre: str = "Zentrum",
) -> gpd.GeoDataFrame:
    """One row per district with counts, rates and coverage shares.

    ``incidents``, ``meeting_points`` and ``facilities`` carry a ``district``
    column (see ``assign_district``); ``green`` is the output of
    ``green_by_district``; ``covered`` the coverage geometry in EPSG:25833.
    """
    metric = districts.to_crs(METRIC_CRS)
    area_km2 = shapely.area(metric.geometry.to_numpy()) / 1e6
    out = gpd.GeoDataFrame(
        {
            "code": districts["code"].to_numpy(),
            "name": districts["name"].to_numpy(),
            "population": pd.to_numeric(districts.get("population"), errors="coerce").to_numpy()
            if "population" in districts
            else np.nan,
            "area_km2": area_km2,
        },
        geometry=districts.geometry.to_numpy(),
        crs=districts.crs,
    )
    out["is_centre"] = out["name"].eq(centre) | out["code"].eq(centre)

    counts = incidents["district"].value_counts() if len(incidents) else pd.Series(dtype=int)
    out["incidents"] = out["code"].map(counts).fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["incidents_per_1000"] = np.where(out["population"] > 0, out["incidents"] / out["population"] * 1000, np.nan)
        out["incidents_per_km2"] = np.where(out["area_km2"] > 0, out["incidents"] / out["area_km2"], np.nan)
    out["small_count"] = out["incidents"] < SMALL_COUNT

    out["coverage_share"] = covered_share(metric, covered)
    green_area = shapely.area(green.geometry.to_numpy()) / 1e6 if len(green) else np.zeros(len(out))
    out["green_km2"] = green_area
    green_share = covered_share(green, covered) if len(green) else np.zeros(len(out))
    out["green_coverage_share"] = np.where(green_area > 0, green_share, np.nan)

    def per_district(frame: pd.DataFrame, mask=None) -> pd.Series:
        if not len(frame):
            return pd.Series(0, index=out.index)
        sel = frame if mask is None else frame[mask]
        return out["code"].map(sel["district"].value_counts()).fillna(0).astype(int)

    out["meeting_points"] = per_district(meeting_points)
    out["meeting_points_active"] = per_district(
        meeting_points, meeting_points["status"].eq("active") if len(meeting_points) else None
    )
    out["facilities"] = per_district(facilities)

    if len(crime_stats):
        latest = crime_stats.sort_values("year").groupby("code").tail(1).set_index("code")
        out["crime_year"] = out["code"].map(latest["year"])
        out["crime_cases"] = out["code"].map(latest["crime_total_cases"])
        out["crime_rate"] = out["code"].map(latest["crime_total_rate"])
    else:
        out["crime_year"] = np.nan
        out["crime_cases"] = np.nan
        out["crime_rate"] = np.nan
    return out


def category_counts(incidents: pd.DataFrame, district: str | None = None) -> pd.Series:
    """Incidents per category, for the city or one district code."""
    sel = incidents if district is None else incidents[incidents["district"] == district]
    return sel["category"].value_counts()


def hourly_counts(incidents: pd.DataFrame, district: str | None = None) -> pd.Series:
    """Incidents per local hour of day (needs the ``hour`` column of ``local_parts``)."""
    sel = incidents if district is None else incidents[incidents["district"] == district]
    return sel["hour"].value_counts().reindex(range(24), fill_value=0)
