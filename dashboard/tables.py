"""The tables of the map and gap pages: columns, labels, display formats and CSV export.

Each table function returns a plain DataFrame (numbers stay numbers, for sorting and
CSV) that carries how each column is shown (``formats.with_formats``); ``show`` puts it
on the page with numbers, shares and yes/no in the UI language.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dashboard import formats
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
# how the columns are shown: decimal places, or "percent" for percent points (0..100)
DISTRICT_FORMATS = {
    "population": 0,
    "area_km2": 2,
    "incidents": 0,
    "incidents_per_1000": 2,
    "incidents_per_km2": 2,
    "green_coverage_pct": "percent",
    "meeting_points_active": 0,
    "facilities": 0,
    "crime_cases": 0,
    "crime_rate": 0,
}


def _labelled(df: pd.DataFrame, columns: list[tuple[str, str]], lang: str, shown: dict) -> pd.DataFrame:
    """The ``columns`` of ``df`` under their labels in ``lang``, with their display formats."""
    out = df[[c for c, _ in columns]].rename(columns={c: t(k, lang) for c, k in columns})
    return formats.with_formats(out, {t(k, lang): shown[c] for c, k in columns if c in shown})


def _vocab_label(vocab: dict, key, lang: str):
    """The label of a vocabulary key; missing stays missing (shown as "–")."""
    return None if formats.is_missing(key) else term(vocab, key, lang)


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
    return _labelled(df.reset_index(drop=True), columns, lang, DISTRICT_FORMATS)


def _coverage_column(lang: str):
    return st.column_config.ProgressColumn(t("col_coverage", lang), min_value=0, max_value=100, format=formats.progress_format(lang))


def column_config(lang: str) -> dict:
    """Coverage as a bar, small counts as a checkbox; no number formats here (they would hide
    the display texts of ``show``)."""
    return {
        t("col_coverage", lang): _coverage_column(lang),
        t("col_small", lang): st.column_config.CheckboxColumn(t("col_small", lang), help=t("small_note", lang)),
    }


def show(frame: pd.DataFrame, lang: str, column_config: dict | None = None, **kwargs):
    """The table on the page: numbers and shares in the UI language, sortable, missing as "–"."""
    return formats.show_table(frame, lang, column_config=column_config, **kwargs)


def to_csv(frame: pd.DataFrame | Styler, lang: str) -> bytes:
    """CSV as office software in the language expects it: yes/no as words, every text cell
    (district names too, which an import may start with "=") defused (``loaders.exports``)."""
    return exports.csv_bytes(frame.data if isinstance(frame, Styler) else frame, lang)


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
GAP_FORMATS = {
    "rank": 0,
    "population": 0,
    "incidents": 0,
    "incidents_uncovered": 0,
    "gap_score": 2,
    "incidents_patrol_nearby": 0,
    "green_coverage_pct": "percent",
    "meeting_points_uncovered": 0,
}


def gap_table(ranking: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    df = ranking.copy()
    if policy is not None:
        df = policy.suppress(df, ["incidents", "incidents_uncovered", "incidents_patrol_nearby"])
    df["coverage_pct"] = (df["coverage_share"] * 100).round(1)
    df["green_coverage_pct"] = (df["green_coverage_share"] * 100).round(1)
    df["gap_score"] = df["gap_score"].round(2)
    df["population"] = df["population"].round(0)
    columns = [(c, k) for c, k in GAP_COLUMNS if policy is None or policy.meeting_points or not c.startswith("meeting")]
    return _labelled(df, columns, lang, GAP_FORMATS)


def gap_column_config(lang: str) -> dict:
    return {
        t("col_coverage", lang): _coverage_column(lang),
        t("col_small", lang): st.column_config.CheckboxColumn(t("col_small", lang), help=t("small_note_gap", lang)),
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
NEED_FORMATS = {"incidents": 0, "incident_pct": "percent", "patrol_hours": 0, "patrol_hour_pct": "percent", "supply_ratio": 2}


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
    df = df.sort_values("supply_ratio", na_position="last").reset_index(drop=True)
    return _labelled(df, NEED_COLUMNS, lang, NEED_FORMATS)


def hotspot_table(hot: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    df = pd.DataFrame(hot.drop(columns="geometry")).sort_values("gi_z", ascending=False)
    if policy is not None:
        df = policy.suppress(df, ["count", "uncovered"])
        df.loc[df["count"].isna() | df["uncovered"].isna(), "coverage_share"] = float("nan")
    out = pd.DataFrame(
        {
            "H3": df["cell"],
            t("col_incidents", lang): df["count"],
            t("col_uncovered", lang): df["uncovered"],
            "Gi* z": df["gi_z"].round(2),
            "p (FDR)": df["p_value"].round(4),
            t("col_covered_share", lang): (df["coverage_share"] * 100).round(0),
            t("hot_outside", lang): df["outside_coverage"],
        }
    ).reset_index(drop=True)
    return formats.with_formats(
        out,
        {t("col_incidents", lang): 0, t("col_uncovered", lang): 0, "Gi* z": 2, "p (FDR)": 4, t("col_covered_share", lang): "percent"},
    )


def green_table(green: pd.DataFrame, lang: str, policy=None) -> pd.DataFrame:
    if policy is not None:
        green = policy.suppress(green, ["incidents", "incidents_uncovered"])
    out = pd.DataFrame(
        {
            t("name", lang): green["name"].map(lambda n: formats.DASH if formats.is_missing(n) or n == "" else n),
            t("kind", lang): green["kind"].map(lambda k: _vocab_label(domain.GREEN_KINDS, k, lang)),
            t("col_area_ha", lang): green["area_ha"].round(1),
            t("col_incidents", lang): green["incidents"],
            t("col_uncovered", lang): green["incidents_uncovered"],
            t("col_coverage", lang): (green["coverage_share"] * 100).round(0),
        }
    ).reset_index(drop=True)
    return formats.with_formats(
        out,
        {t("col_area_ha", lang): 1, t("col_incidents", lang): 0, t("col_uncovered", lang): 0, t("col_coverage", lang): "percent"},
    )


def meeting_table(report: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            t("label", lang): report["label"],
            t("kind", lang): report["kind"],
            t("status", lang): report["status"].map(lambda k: _vocab_label(domain.MEETING_STATUS, k, lang)),
            t("col_youth_m", lang): report["youth_facility_m"].round(0),
            t("col_school_m", lang): report["school_m"].round(0),
            t("col_covered", lang): report["covered"],
            t("col_near", lang): report["incidents_300m"],
        }
    ).sort_values(t("col_near", lang), ascending=False).reset_index(drop=True)
    return formats.with_formats(out, {t("col_youth_m", lang): 0, t("col_school_m", lang): 0, t("col_near", lang): 0})


# -- Daten & Quellen ---------------------------------------------------------------

def _provenance_text(text, lang: str) -> str | None:
    """A provenance text the app itself writes (demo data, file imports, workshops) in ``lang``;
    anything else (a source's own description, an address) as it is."""
    from loaders import demo, workshops

    if formats.is_missing(text):
        return None
    text = str(text)
    if text.startswith(demo.DEMO_SOURCE):
        return f"{t('prov_demo_source', lang)}{text[len(demo.DEMO_SOURCE):]}"
    if text == demo.DEMO_LICENCE:
        return t("prov_demo_licence", lang)
    if text.startswith("file import: "):
        return t("prov_file_import", lang).format(name=text[len("file import: "):])
    if text == workshops.PROVENANCE.source:
        return t("prov_workshop", lang)
    if text == workshops.PROVENANCE.licence:
        return t("prov_internal", lang)
    return text


def _store_layer(layer, lang: str) -> str:
    """A stored layer's name in ``lang``; a layer without a label keeps its key."""
    try:
        return t(f"store_{layer}", lang)
    except KeyError:
        return str(layer)


SOURCE_COLUMNS = [
    ("layer", "layer"),
    ("source", "source"),
    ("licence", "src_licence"),
    ("demo", "src_demo"),
    ("retrieved_at", "src_retrieved"),
]


def sources_table(sources: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The store's provenance per layer in words: layer names, sources and licences in the UI
    language where the app wrote them, demo data as yes/no, retrieval in local time."""
    out = pd.DataFrame(
        {
            t("layer", lang): sources["layer"].map(lambda v: _store_layer(v, lang)),
            t("source", lang): sources["source"].map(lambda v: _provenance_text(v, lang)),
            t("src_licence", lang): sources["licence"].map(lambda v: _provenance_text(v, lang)),
            t("src_demo", lang): sources["demo"].map(lambda v: formats.yes_no(None if formats.is_missing(v) else bool(int(v)), lang)),
            t("src_retrieved", lang): sources["retrieved_at"].map(lambda v: formats.datetime(v, lang)),
        }
    ).reset_index(drop=True)
    return formats.with_formats(out, {c: "text" for c in out.columns})
