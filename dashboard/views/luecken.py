"""Gaps page: where incidents happen and nobody patrols, ranked, by hour, as hotspots."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard import auth, cache, formats, mapview, report, tables, ui
from dashboard.i18n import gap_definitions, t
from geodata import domain
from geodata.gaps import ranking_table

lang = ui.current_language()
st.title(t("page_gaps", lang))
ctx = ui.context(lang, "luecken")
policy = ctx.policy
view = ui.sidebar_filters(ctx, "luecken")
ui.publish(view)
k = policy.min_count  # disclosure threshold: every incident count below council is released (privacy)
result = cache.released(ctx.location, ctx.version, view.selection, k)
table = result.districts
st.caption(t("gaps_intro", lang))
index = ctx.prep.gaps
definitions = gap_definitions(lang, index.presence.grid_m, index.regular_share, index.tolerance_min)
with st.expander(t("definitions", lang)):
    for text in definitions:
        st.text(f"• {text}")

# -- key figures ---------------------------------------------------------------
cells = cache.hotspot_cells(ctx.location, ctx.version, view.selection, k)
hot = cells[cells["kind"] == "hot"] if len(cells) else cells
figures = cache.totals(ctx.location, ctx.version, view.selection, k)
n_inc, n_unc, n_near = figures["incidents"], figures["uncovered"], figures["nearby"]
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(t("kpi_incidents", lang), formats.number(n_inc, lang))
k2.metric(t("kpi_uncovered", lang), formats.number(n_unc, lang), help=formats.percent(n_unc / n_inc if n_inc and n_inc == n_inc else None, lang))
k3.metric(t("kpi_nearby", lang).format(minutes=index.tolerance_min), formats.number(n_near, lang), help=t("def_nearby", lang).format(minutes=index.tolerance_min))
k4.metric(t("l_hotspots", lang), formats.number(len(hot), lang))
k5.metric(t("kpi_hot_outside", lang), formats.number(int(hot["outside_coverage"].sum()) if len(hot) else 0, lang), help=t("hot_outside", lang))

# -- ranking ---------------------------------------------------------------------
st.subheader(t("gap_ranking", lang))
ranking = ranking_table(result)
frame = tables.gap_table(ranking, lang, policy)
tables.show(frame, lang, tables.gap_column_config(lang))
st.caption(t("small_note_gap", lang))
c1, c2 = st.columns(2)
c1.download_button(t("download_csv", lang), tables.to_csv(frame, lang), file_name="luecken.csv" if lang == "de" else "gaps.csv", mime="text/csv")
filters = ui.filter_summary(view, ctx.prep, lang)
c2.download_button(
    t("download_report", lang),
    report.report_html(table, ranking, filters, lang, ctx.demo, policy, definitions).encode("utf-8"),
    file_name="bericht-luecken.html" if lang == "de" else "gap-report.html",
    mime="text/html",
)

# -- map: gap score, coverage and hotspots -----------------------------------------
col_map, col_hm = st.columns([1, 1], gap="medium")
with col_map:
    shell = ui.map_shell(ctx, lang)
    # the same layer scripts as on the map page (ui.MapLayers): built once per their inputs
    map_layers = ui.MapLayers(ctx, lang)
    sel = repr(view.selection)
    patrol = repr((view.selection.window, view.selection.units, view.selection.modes))
    cls = map_layers.add("districts", (sel, "gap_score", "with names"), lambda: mapview.districts_layer(table, "gap_score", None, lang))
    map_layers.add("coverage", (patrol,), lambda: mapview.coverage_layer(cache.coverage_wgs84(ctx.location, ctx.version, view.selection)))
    map_layers.add("hotspots", (sel,), lambda: mapview.hotspot_layer(cells, lang, policy.min_count))
    mapview.show_map(shell, map_layers.drawn, key="gap_map", height=520)
    for legend in (mapview.choropleth_legend(cls, "gap_score", lang), mapview.coverage_legend(lang), mapview.hotspot_legend(lang)):
        st.markdown(legend, unsafe_allow_html=True)

# -- hour x weekday ---------------------------------------------------------------------
with col_hm:
    st.markdown(f"**{t('heatmap_title', lang)}**")
    names = dict(zip(table["code"], table["name"]))
    scope = st.selectbox(
        t("heatmap_scope", lang),
        [None, *[c for c in sorted(names) if c in result.district_codes]],
        format_func=lambda c: t("whole_city", lang) if c is None else f"{c} {names[c]}",
        **ui.bound("gap_scope", lang, names),
        placeholder=t("whole_city", lang),  # no choice means the whole city as well
    )
    scope = ui.as_keys("gap_scope", scope, tuple(names))
    incidents, hours, no_patrol = cache.week_profile(ctx.location, ctx.version, view.selection, scope, k)
    days = [d.label(lang) for d in domain.WEEKDAYS]
    tabs = st.tabs([t("hm_gap", lang), t("hm_incidents", lang), t("hm_presence", lang)])
    # counts of incidents are whole numbers; patrol hours have one decimal
    grids = ((no_patrol, "Reds", True), (incidents, "Oranges", True), (hours.round(1), "Blues", False))
    for tab, (z, scale, counts) in zip(tabs, grids):
        value = "%{z:,d}" if counts else "%{z:,.1f}"
        fig = go.Figure(go.Heatmap(z=z, x=list(range(24)), y=days, colorscale=scale, hovertemplate=f"%{{y}} %{{x}}:00 · {value}<extra></extra>"))
        fig.update_layout(height=330, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"), xaxis=dict(title=t("hour", lang), dtick=2))
        formats.style_figure(fig, lang, count_axis="z" if counts else None)
        tab.plotly_chart(fig, width="stretch")

# -- need against supply -----------------------------------------------------------------
st.subheader(t("need_title", lang))
tables.show(tables.need_table(ranking, lang, policy), lang)
st.caption(t("need_note", lang))

# -- hotspots, green spaces, meeting points --------------------------------------------
st.subheader(t("hotspots_title", lang))
if len(hot):
    tables.show(tables.hotspot_table(hot, lang, policy), lang)
else:
    st.info(t("hotspots_none", lang))

st.subheader(t("green_title", lang))
green = cache.green_ranking(ctx.location, ctx.version, view.selection, k)
tables.show(tables.green_table(green, lang, policy), lang)

if policy.meeting_points:
    st.subheader(t("meeting_title", lang))
    st.caption(t("meeting_sensitive", lang))
    meeting = cache.meeting_report(ctx.location, ctx.version, view.selection)
    tables.show(tables.meeting_table(meeting, lang), lang)
    auth.audit_once("view", "meeting_points")
