"""The district table: columns, labels and CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t, term
from geodata import domain
from loaders import exports

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


def district_table(figures: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    """The districts in scope with their figures, labelled for display.

    With a ``policy`` below council: small counts suppressed, meeting points left out.
    """
    df = pd.DataFrame(figures[figures["in_scope"]].drop(columns="geometry"))
    if policy is not None:
        df = policy.suppress(df, ["incidents"])
        df.loc[df["incidents"].isna(), ["incidents_per_1000", "incidents_per_km2"]] = float("nan")
    df["coverage_pct"] = (df["coverage_share"] * 100).round(1)
    df["green_coverage_pct"] = (df["green_coverage_share"] * 100).round(1)
    df["population"] = df["population"].round(0)
    for col in ("area_km2", "incidents_per_1000", "incidents_per_km2"):
        df[col] = df[col].round(2)
    columns = [(c, k) for c, k in COLUMNS if policy is None or policy.meeting_points or not c.startswith("meeting")]
    out = df[[c for c, _ in columns]].rename(columns={c: t(k, lang) for c, k in columns})
    return out.reset_index(drop=True)


def column_config(lang: str) -> dict:
    return {
        t("col_coverage", lang): st.column_config.ProgressColumn(t("col_coverage", lang), min_value=0, max_value=100, format="%.0f %%"),
        t("col_small", lang): st.column_config.CheckboxColumn(t("col_small", lang), help=t("small_note", lang)),
        t("col_population", lang): st.column_config.NumberColumn(format="%d"),
    }


def to_csv(frame: pd.DataFrame, lang: str) -> bytes:
    """CSV as office software in the language expects it, formulas defused (``loaders.exports``)."""
    return exports.csv_bytes(frame, lang)


GAP_COLUMNS = [
    ("rank", "rank"),
    ("code", "col_code"),
    ("name", "col_name"),
    ("population", "col_population"),
    ("coverage_pct", "col_coverage"),
    ("incidents", "col_incidents"),
    ("incidents_uncovered", "col_uncovered"),
    ("gap_score", "col_gap"),
    ("incidents_patrol_nearby", "col_nearby"),
    ("green_coverage_pct", "col_green_cov"),
    ("meeting_points_uncovered", "col_meeting_uncovered"),
    ("too_small", "col_small"),
]


def gap_table(ranking: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    df = ranking.copy()
    if policy is not None:
        df = policy.suppress(df, ["incidents", "incidents_uncovered", "incidents_patrol_nearby"])
    df["coverage_pct"] = (df["coverage_share"] * 100).round(1)
    df["green_coverage_pct"] = (df["green_coverage_share"] * 100).round(1)
    df["gap_score"] = df["gap_score"].round(2)
    df["population"] = df["population"].round(0)
    columns = [(c, k) for c, k in GAP_COLUMNS if policy is None or policy.meeting_points or not c.startswith("meeting")]
    return df[[c for c, _ in columns]].rename(columns={c: t(k, lang) for c, k in columns})


def gap_column_config(lang: str) -> dict:
    return {
        t("col_coverage", lang): st.column_config.ProgressColumn(t("col_coverage", lang), min_value=0, max_value=100, format="%.0f %%"),
        t("col_small", lang): st.column_config.CheckboxColumn(t("col_small", lang), help=t("small_note_gap", lang)),
        t("col_population", lang): st.column_config.NumberColumn(format="%d"),
    }


NEED_COLUMNS = [
    ("code", "col_code"),
    ("name", "col_name"),
    ("incidents", "col_incidents"),
    ("incident_pct", "col_inc_share"),
    ("patrol_hours", "col_patrol_hours"),
    ("patrol_hour_pct", "col_hour_share"),
    ("supply_ratio", "col_supply_ratio"),
]


def need_table(ranking: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    """Need against supply per district: share of the incidents beside share of the patrol hours."""
    df = ranking.copy()
    if policy is not None:
        df = policy.suppress(df, ["incidents"])
        df.loc[df["incidents"].isna(), ["incident_share", "supply_ratio"]] = float("nan")
    df["incident_pct"] = (df["incident_share"] * 100).round(1)
    df["patrol_hour_pct"] = (df["patrol_hour_share"] * 100).round(1)
    df["patrol_hours"] = df["patrol_hours"].round(0)
    df["supply_ratio"] = df["supply_ratio"].round(2)
    df = df.sort_values("supply_ratio", na_position="last")
    return df[[c for c, _ in NEED_COLUMNS]].rename(columns={c: t(k, lang) for c, k in NEED_COLUMNS}).reset_index(drop=True)


def hotspot_table(hot: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    df = pd.DataFrame(hot.drop(columns="geometry")).sort_values("gi_z", ascending=False)
    if policy is not None:
        df = policy.suppress(df, ["count", "uncovered"])
        df.loc[df["count"].isna() | df["uncovered"].isna(), "coverage_share"] = float("nan")
    return pd.DataFrame(
        {
            "H3": df["cell"],
            t("col_incidents", lang): df["count"],
            t("col_uncovered", lang): df["uncovered"],
            "Gi* z": df["gi_z"].round(2),
            "p (FDR)": df["p_value"].round(4),
            t("col_covered_share", lang): (df["coverage_share"] * 100).round(0),
            t("hot_outside", lang): df["outside_coverage"],
        }
    )


def green_table(green: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    if policy is not None:
        green = policy.suppress(green, ["incidents", "incidents_uncovered"])
    return pd.DataFrame(
        {
            t("name", lang): green["name"].fillna("–"),
            t("kind", lang): green["kind"].map(lambda k: term(domain.GREEN_KINDS, k, lang)),
            t("col_area_ha", lang): green["area_ha"].round(1),
            t("col_incidents", lang): green["incidents"],
            t("col_uncovered", lang): green["incidents_uncovered"],
            t("col_coverage", lang): (green["coverage_share"] * 100).round(0),
        }
    )


def meeting_table(report: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("label", lang): report["label"],
            t("kind", lang): report["kind"],
            t("status", lang): report["status"].map(lambda k: term(domain.MEETING_STATUS, k, lang)),
            t("col_youth_m", lang): report["youth_facility_m"].round(0),
            t("col_school_m", lang): report["school_m"].round(0),
            t("col_covered", lang): report["covered"],
            t("col_near", lang): report["incidents_300m"],
        }
    ).sort_values(t("col_near", lang), ascending=False)
