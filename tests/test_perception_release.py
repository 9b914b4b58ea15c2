"""Felt against recorded safety with incident counts withheld by disclosure control."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.perception import perception_by_district
from tests.conftest import metric_box, to_store


def test_withheld_incident_counts_stay_withheld():
    districts = to_store(gpd.GeoDataFrame(
        {"code": ["01", "02", "03"], "name": ["A", "B", "C"], "population": [1000.0, 2000.0, 1500.0]},
        geometry=[metric_box(0, 0, 1000, 1000), metric_box(1000, 0, 1000, 1000), metric_box(2000, 0, 1000, 1000)],
    ))
    none = gpd.GeoDataFrame({"feeling": [], "hidden": []}, geometry=[], crs=4326)
    counts = pd.Series({"01": np.nan, "02": 40.0})  # 01 withheld (1 or 2 incidents), 03 missing: none
    out = perception_by_district(none, districts, counts).set_index("code")
    assert np.isnan(out.loc["01", "incidents"]) and np.isnan(out.loc["01", "incidents_per_1000"])
    assert np.isnan(out.loc["01", "recorded_z"])
    assert out.loc["01", "kind"] != "no_data"  # something was recorded there
    assert out.loc["03", "incidents"] == 0 and out.loc["03", "kind"] == "no_data"
    assert out.loc["02", "incidents_per_1000"] == 20.0
