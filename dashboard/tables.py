"""The district table: columns, labels and CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t

COLUMNS = [
    ("code", "col_code"),
    ("name", "col_name"),
    ("population", "col_population"),
    ("area_km2", "col_area"),
    ("incidents", "col_incidents"),
    ("incidents_per_1000", "col_per_1000"),
    ("incidents_per_km2", "col_per_km2"),
    ("coverage_pct", "col_coverage"),
    ("green_coverage_pct", "col_green_cov"),
    ("meeting_points_active", "col_meeting"),
    ("facilities", "col_facilities"),
    ("crime_cases", "col_crime_cases"),
    ("crime_rate", "col_crime_rate"),
    ("small_count", "col_small"),
]


def district_table(figures: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The districts in scope with their figures, labelled for display."""
    df = pd.DataFrame(figures[figures["in_scope"]].drop(columns="geometry"))
    df["coverage_pct"] = (df["coverage_share"] * 100).round(1)
    df["green_coverage_pct"] = (df["green_coverage_share"] * 100).round(1)
    df["population"] = df["population"].round(0)
    for col in ("area_km2", "incidents_per_1000", "incidents_per_km2"):
        df[col] = df[col].round(2)
    out = df[[c for c, _ in COLUMNS]].rename(columns={c: t(k, lang) for c, k in COLUMNS})
    return out.reset_index(drop=True)


def column_config(lang: str) -> dict:
    return {
        t("col_coverage", lang): st.column_config.ProgressColumn(t("col_coverage", lang), min_value=0, max_value=100, format="%.0f %%"),
        t("col_small", lang): st.column_config.CheckboxColumn(t("col_small", lang), help=t("small_note", lang)),
        t("col_population", lang): st.column_config.NumberColumn(format="%d"),
    }


def to_csv(frame: pd.DataFrame, lang: str) -> bytes:
    """CSV as office software in the language expects it (German: ';' and decimal comma)."""
    if lang == "de":
        return frame.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
    return frame.to_csv(index=False).encode("utf-8")
