"""Map page: all layers on one map, the district panel and the district table."""

from __future__ import annotations

from dataclasses import replace

import plotly.express as px
import streamlit as st
from streamlit_folium import st_folium

from dashboard import auth, cache, mapview, state, tables, ui
from dashboard.safe import md
from dashboard.i18n import t, term
from geodata import domain, hexbin

lang = ui.current_language()
ctx = ui.context(lang, "karte")
policy = ctx.policy
view = ui.sidebar_filters(ctx, "karte")
ui.publish(view)  # early as well: a run cut short by the next rerun still updates the link
ui.presentation_toggle(view)
if view.present:
    ui.presentation_banner(view, ctx.prep)
else:
    st.title(t("app_title", lang))
    ui.saved_views(view, ctx.user)
k = policy.min_count  # disclosure threshold: every incident count below council is released (privacy)
result = cache.released(ctx.location, ctx.version, view.selection, k)
table = result.districts
figures = cache.totals(ctx.location, ctx.version, view.selection, k)

# -- the map's last state (zoom, bounds, click) ------------------------------
# A click anywhere on the map opens the panel of the district under it, whatever
# layer lies on top; the district is looked up on the server.
map_state = st.session_state.get("atlas_map") or {}
zoom = map_state.get("zoom") or 12
click = map_state.get("last_clicked")
if click and click != st.session_state.get("_last_click"):
    st.session_state["_last_click"] = click
    code = cache.district_at(ctx.location, ctx.version, click["lat"], click["lng"])
    if code:
        st.session_state["v_sel"] = code
        view = ui.with_district(view, code)

# -- key figures -----------------------------------------------------------
scope = table[table["in_scope"]]
area = scope["area_km2"].sum()
covered_area = (scope["coverage_share"] * scope["area_km2"]).sum()
green_area = scope["green_km2"].sum()
green_cov = (scope["green_coverage_share"].fillna(0) * scope["green_km2"]).sum()
k1, k2, k3, k4 = st.columns(4)
k1.metric(t("kpi_incidents", lang), mapview.fmt(figures["incidents"], lang),
          help=f"{t('kpi_outside', lang)}: {mapview.fmt(figures['outside_centre'], lang)}")
k2.metric(t("kpi_shifts", lang), mapview.fmt(int(result.active_shifts.sum()), lang))
k3.metric(t("kpi_coverage", lang), mapview.pct(covered_area / area if area else None, lang))
k4.metric(t("kpi_green", lang), mapview.pct(green_cov / green_area if green_area else None, lang))

col_map, col_side = st.columns([4, 1] if view.present else [3, 1], gap="medium")

with col_side:
    metric = st.selectbox(t("metric", lang), state.METRICS, format_func=lambda m: t(f"m_{m}", lang), key="v_metric")
    st.markdown(f"**{t('layers', lang)}**")
    counts = {
        "districts": len(scope),
        "green": len(result.green_spaces),
        "coverage": int(result.active_shifts.sum()),
        "incidents": figures["incidents"],
        "hotspots": None,
        "meeting": len(ctx.prep.meeting_points),
        "facilities": len(ctx.prep.facilities),
    }
    legend_names = {
        "districts": "l_districts",
        "green": "l_green",
        "coverage": "l_coverage",
        "incidents": "l_incidents",
        "hotspots": "l_hotspots",
        "meeting": "l_meeting",
        "facilities": "l_facilities",
    }
    for key in state.LAYER_KEYS:
        if key not in policy.layers:
            continue  # layers this role may not see are not even offered
        count = "" if counts[key] is None else f" ({mapview.fmt(counts[key], lang)})"
        st.checkbox(f"{t(legend_names[key], lang)}{count}", key=f"v_layer_{key}")
    layers = tuple(k for k in state.LAYER_KEYS if k in policy.layers and st.session_state.get(f"v_layer_{k}"))
    view = replace(view, metric=metric, layers=layers, district=st.session_state.get("v_sel"))

with col_map:
    mapview.use_local_assets()
    fmap = mapview.base_map(mapview.basemap_choice(), tuple(ctx.prep.districts.total_bounds) if len(ctx.prep.districts) else None)
    groups = []
    cls = None
    if "districts" in layers:
        fg, cls = mapview.districts_layer(table, metric, view.district, lang)
        groups.append(fg)
    if "green" in layers:
        groups.append(mapview.green_layer(result.green_spaces, lang))
    if "coverage" in layers:
        groups.append(mapview.coverage_layer(cache.coverage_wgs84(ctx.location, ctx.version, view.selection)))
    hint = None
    if "incidents" in layers:
        points_ok = policy.incident_points and zoom >= mapview.POINT_ZOOM
        in_view = mapview.points_in_bounds(result.incidents, map_state.get("bounds")) if points_ok else None
        if in_view is not None and len(in_view) <= mapview.POINT_LIMIT:
            groups.append(mapview.point_layer(in_view, lang))
            auth.audit_once("view", "incident_details")
            hint = t("map_hint_points", lang)
        else:
            res = hexbin.resolution_for_zoom(zoom)
            hexes = cache.incident_hexagons(ctx.location, ctx.version, view.selection, res, k)
            groups.append(mapview.hex_layer(hexes, lang, policy.min_count))
            hint = t("map_hint_hex", lang) if policy.incident_points else t("aggregated_note", lang).format(k=policy.min_count)
    if "hotspots" in layers:
        groups.append(mapview.hotspot_layer(cache.hotspot_cells(ctx.location, ctx.version, view.selection, k), lang, policy.min_count))
    if "meeting" in layers and policy.meeting_points:
        groups.append(mapview.meeting_layer(ctx.prep.meeting_points, lang))
        auth.audit_once("view", "meeting_points")
    if "facilities" in layers:
        groups.append(mapview.facility_layer(ctx.prep.facilities, lang))
    st_folium(
        fmap,
        key="atlas_map",
        feature_group_to_add=groups,
        returned_objects=["last_clicked", "zoom", "bounds"],
        height=780 if view.present else 640,
        width="stretch",
        zoom=view.zoom,
        center=list(view.center) if view.center else None,
    )
    if hint:
        st.caption(hint)

with col_side:
    if cls is not None:
        st.markdown(mapview.choropleth_legend(cls, metric, lang), unsafe_allow_html=True)
    if not view.present:
        st.markdown(mapview.layer_legend(lang), unsafe_allow_html=True)

ui.publish(view)
if view.present:
    st.stop()  # the projector shows the map and its figures only

# -- district panel ----------------------------------------------------------
st.subheader(t("district_panel", lang))
names = dict(zip(table["code"], table["name"]))
st.selectbox(
    t("choose_district", lang),
    [None, *sorted(names)],
    format_func=lambda c: t("click_district", lang) if c is None else f"{c} {names[c]}",
    key="v_sel",
)
code = st.session_state.get("v_sel")
if code:
    row = table.set_index("code").loc[code]
    st.markdown(f"### {md(row['name'])} ({md(code)})" + (f" · {t('centre', lang)}" if row["is_centre"] else ""))
    m1, m2, m3, m4, m5, m6 = st.columns(6)
    m1.metric(t("col_incidents", lang), mapview.fmt(row["incidents"], lang), help=t("small_note", lang) if row["small_count"] else None)
    m2.metric(t("col_per_1000", lang), mapview.fmt(row["incidents_per_1000"], lang, 1))
    m3.metric(t("col_coverage", lang), mapview.pct(row["coverage_share"], lang))
    m4.metric(t("col_green_cov", lang), mapview.pct(row["green_coverage_share"], lang))
    if policy.meeting_points:
        m5.metric(t("col_meeting", lang), f"{mapview.fmt(row['meeting_points'], lang)} ({mapview.fmt(row['meeting_points_active'], lang)})")
    m6.metric(t("col_facilities", lang), mapview.fmt(row["facilities"], lang))
    st.caption(
        f"{t('col_crime_rate', lang)}: {mapview.fmt(row['crime_rate'], lang)} "
        f"({t('col_crime_cases', lang)}: {mapview.fmt(row['crime_cases'], lang)}) · {t('crime_source', lang)}"
    )
    cat_counts, hour_counts = cache.district_breakdown(ctx.location, ctx.version, view.selection, code, k)
    c1, c2 = st.columns(2)
    by_cat = cat_counts.rename_axis("category").reset_index(name="count")
    by_cat["label"] = by_cat["category"].map(lambda c: term(domain.CATEGORIES, c, lang))
    fig = px.bar(by_cat, x="count", y="label", orientation="h", labels={"count": t("count", lang), "label": ""}, title=t("by_category", lang))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), yaxis={"categoryorder": "total ascending"})
    c1.plotly_chart(fig, width="stretch")
    by_hour = hour_counts.rename_axis("hour").reset_index(name="count")
    fig = px.bar(by_hour, x="hour", y="count", labels={"count": t("count", lang), "hour": t("hour", lang)}, title=t("by_hour", lang))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    c2.plotly_chart(fig, width="stretch")

# -- district table ----------------------------------------------------------
st.subheader(t("table", lang))
frame = tables.district_table(table, lang, policy)
st.dataframe(frame, hide_index=True, width="stretch", column_config=tables.column_config(lang))
st.download_button(
    t("download_csv", lang),
    tables.to_csv(frame, lang),
    file_name="stadtteile.csv" if lang == "de" else "districts.csv",
    mime="text/csv",
)
st.caption(f"{t('small_note', lang)} {t('crime_source', lang)}")
