"""Districts side by side: two or three districts with the city, figures and charts.

Reached from the map (a district's panel: "compare") and from the district table (selecting rows).
The section runs as a fragment: changing the comparison redraws only this section, and the choice
is kept in the view and its address (``cmp=``) as district codes.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import cache, formats, mapview, state, tables, ui
from dashboard.i18n import t, term
from geodata import domain

MAX_DISTRICTS = state.COMPARE_MAX
# one hue per compared district, the city in grey (distinct on screen and projector)
COLOURS = ("#5b2c83", "#1b7837", "#b35806")
CITY_COLOUR = "#6b6b6b"


def city_figures(table: pd.DataFrame, city_incidents: float) -> dict:
    """The city's figures over the districts in scope (area-weighted shares), as the map's key
    figures and the comparison's city column show them."""
    scope = table[table["in_scope"]]
    population, area = scope["population"].sum(), scope["area_km2"].sum()
    green = scope["green_km2"].sum()
    return {
        "incidents": city_incidents,
        "incidents_per_1000": city_incidents / population * 1000 if population else None,
        "incidents_per_km2": city_incidents / area if area else None,
        "coverage_share": (scope["coverage_share"] * scope["area_km2"]).sum() / area if area else None,
        "green_coverage_share": (scope["green_coverage_share"].fillna(0) * scope["green_km2"]).sum() / green if green else None,
        "crime_rate": (scope["crime_cases"].sum() / population * 100_000) if population and scope["crime_cases"].notna().any() else None,
        "facilities": scope["facilities"].sum(),
        "population": population,
    }


def figures_table(table: pd.DataFrame, codes, city_incidents: float, lang: str) -> pd.DataFrame:
    """Rows: key figures; columns: the compared districts and the city (districts in scope).

    Counts are the released counts of the district table; rates are computed from them."""
    rows = table.set_index("code")
    city = city_figures(table, city_incidents)
    lines = [
        ("col_incidents", "incidents", lambda v: mapview.fmt(v, lang)),
        ("col_per_1000", "incidents_per_1000", lambda v: mapview.fmt(v, lang, 1)),
        ("col_per_km2", "incidents_per_km2", lambda v: mapview.fmt(v, lang, 1)),
        ("col_coverage", "coverage_share", lambda v: mapview.pct(v, lang)),
        ("col_green_cov", "green_coverage_share", lambda v: mapview.pct(v, lang)),
        ("col_crime_rate", "crime_rate", lambda v: mapview.fmt(v, lang)),
        ("col_facilities", "facilities", lambda v: mapview.fmt(v, lang)),
        ("col_population", "population", lambda v: mapview.fmt(v, lang)),
    ]
    out = {t("compare_figure", lang): [t(label, lang) for label, _, _ in lines]}
    for code in codes:
        row = rows.loc[code]
        out[f"{code} {row['name']}"] = [show(row[col]) for _, col, show in lines]
    out[t("compare_city", lang)] = [show(city[col]) for _, col, show in lines]
    return pd.DataFrame(out)


def _per_1000(counts: pd.Series, population: float) -> pd.Series:
    return counts / population * 1000 if population else counts * float("nan")


@st.fragment
def section(ctx: ui.Context, view: state.View, result, figures: dict, k: int) -> None:
    lang = view.lang
    table = result.districts
    names = dict(zip(table["code"], table["name"]))
    st.subheader(t("compare_title", lang))
    st.multiselect(
        t("compare_choose", lang),
        sorted(names),
        format_func=lambda c: f"{c} {names.get(c, '')}",
        max_selections=MAX_DISTRICTS,
        key="v_cmp",
        placeholder=t("compare_placeholder", lang),
    )
    codes = [c for c in ui.as_keys("v_cmp", st.session_state.get("v_cmp") or [], tuple(names))][:MAX_DISTRICTS]
    if tuple(codes) != tuple(view.compare):
        from dataclasses import replace

        ui.publish(replace(view, compare=tuple(codes)))  # only this section reruns: keep the address current
    if not codes:
        st.caption(t("compare_hint", lang))
        return
    tables.show(figures_table(table, codes, figures["incidents"], lang), lang)

    rows = table.set_index("code")
    scope = table[table["in_scope"]]
    series = []
    for code, colour in zip(codes, COLOURS):
        cats, hours = cache.district_breakdown(ctx.location, ctx.version, view.selection, code, k)
        series.append((f"{code} {names[code]}", colour, _per_1000(cats, rows.loc[code, "population"]), hours))
    cats, hours = cache.district_breakdown(ctx.location, ctx.version, view.selection, None, k)
    series.append((t("compare_city", lang), CITY_COLOUR, _per_1000(cats, scope["population"].sum()), hours))

    c1, c2 = st.columns(2)
    categories = list(domain.CATEGORIES)
    fig = go.Figure()
    for label, colour, per_1000, _ in series:
        fig.add_bar(
            name=label,
            y=[term(domain.CATEGORIES, c, lang) for c in categories],
            x=[per_1000.get(c, 0.0) for c in categories],
            orientation="h",
            marker_color=colour,
        )
    fig.update_layout(
        title=t("compare_by_category", lang), barmode="group", height=460, margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", y=-0.12), yaxis=dict(autorange="reversed"),
    )
    formats.style_figure(fig, lang)
    c1.plotly_chart(fig, width="stretch")
    fig = go.Figure()
    for label, colour, _, by_hour in series:
        total = by_hour.sum()
        share = by_hour / total * 100 if total else by_hour * 0.0
        fig.add_scatter(name=label, x=list(range(24)), y=share.reindex(range(24)).tolist(), mode="lines+markers", line=dict(color=colour, width=3))
    fig.update_layout(
        title=t("compare_by_hour", lang), height=460, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.12),
        xaxis=dict(title=t("hour", lang), dtick=2), yaxis=dict(title="%", rangemode="tozero"),
    )
    formats.style_figure(fig, lang)
    c2.plotly_chart(fig, width="stretch")
    st.caption(t("compare_note", lang))
