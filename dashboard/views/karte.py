"""Map page: all layers on one map, the district panel and the district table."""

from __future__ import annotations

from dataclasses import replace

import plotly.express as px
import streamlit as st

from dashboard import auth, cache, compare, formats, mapview, state, tables, ui
from dashboard.safe import md
from dashboard.i18n import t, term
from geodata import domain, hexbin

lang = ui.current_language()
ctx = ui.context(lang, "karte")
policy = ctx.policy
view = ui.sidebar_filters(ctx, "karte")
ui.publish(view)  # early as well: a run cut short by the next rerun still updates the link
if view.present:
    ui.presentation_header(view, ctx)
else:
    ui.presentation_toggle(view)
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
# A click on a shape with a popup (an incident, a meeting point) reaches Leaflet's map only as an
# object click, so both kinds are followed.
clicks = (map_state.get("last_clicked"), map_state.get("last_object_clicked"), map_state.get("last_object_clicked_count"))
seen = st.session_state.get("_last_click") or (None, None, None)
click = None
if clicks != seen:
    st.session_state["_last_click"] = clicks
    click = clicks[1] if clicks[2] != seen[2] and clicks[1] else clicks[0]
if click:
    code = cache.district_at(ctx.location, ctx.version, click["lat"], click["lng"])
    if code:
        st.session_state["v_sel"] = code
        view = ui.with_district(view, code)

# -- key figures -----------------------------------------------------------
scope = table[table["in_scope"]]
city = compare.city_figures(table, figures["incidents"])
key_figures = [
    (t("kpi_incidents", lang), mapview.fmt(figures["incidents"], lang), f"{t('kpi_outside', lang)}: {mapview.fmt(figures['outside_centre'], lang)}"),
    (t("kpi_shifts", lang), mapview.fmt(int(result.active_shifts.sum()), lang), None),
    (t("kpi_coverage", lang), mapview.pct(city["coverage_share"], lang), None),
    (t("kpi_green", lang), mapview.pct(city["green_coverage_share"], lang), None),
]
if not view.present:
    for col, (label, value, hint_text) in zip(st.columns(4), key_figures):
        col.metric(label, value, help=hint_text)

col_map, col_side = st.columns([3, 1], gap="small" if view.present else "medium")
codes = tuple(table["code"])
chosen = ui.as_keys("v_sel", st.session_state.get("v_sel", view.district), codes)

with col_side:
    if view.present:
        # the projector's side panel: key figures, the chosen district, colouring, legends
        for pair in (key_figures[:2], key_figures[2:]):
            for col, (label, value, hint_text) in zip(st.columns(2), pair):
                col.metric(label, value, help=hint_text)
        if chosen:
            ui.district_figures(table.set_index("code").loc[chosen], lang, policy, compact=True)
    metric = st.selectbox(t("metric", lang), state.METRICS, format_func=lambda m: t(f"m_{m}", lang), **ui.bound("v_metric", lang))
    metric = ui.as_keys("v_metric", metric) or state.METRICS[0]
    layer_box = st.expander(t("layers", lang)) if view.present else st.container()
    if not view.present:
        layer_box.markdown(f"**{t('layers', lang)}**")
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
        layer_box.checkbox(f"{t(legend_names[key], lang)}{count}", key=f"v_layer_{key}")
    layers = tuple(k for k in state.LAYER_KEYS if k in policy.layers and st.session_state.get(f"v_layer_{k}"))
    # the district panel's choice; in presentation mode its widget is not drawn and the view keeps it
    view = replace(view, metric=metric, layers=layers, district=chosen)

with col_map:
    shell = ui.map_shell(ctx, lang, view.present)
    map_layers = ui.MapLayers(ctx, lang)
    add = map_layers.add
    sel = repr(view.selection)
    # patrol presence depends on the time window, units and modes only, not on categories or districts
    patrol = repr((view.selection.window, view.selection.units, view.selection.modes))
    legends = []  # one per drawn scale, beside the map
    symbols = []

    if "districts" in layers:
        cls = add("districts", (sel, metric), lambda: mapview.districts_layer(table, metric, view.district, lang, marks=False))
        # names and borders: the same for every filter
        add("district_marks", (view.district, view.selection.centre), lambda: mapview.district_marks_layer(table, view.district))
        legends.append(mapview.choropleth_legend(cls, metric, lang))
        symbols += ["centre", "selected"] if view.district else ["centre"]
    if "green" in layers:
        add("green", (patrol,), lambda: mapview.green_layer(result.green_spaces, lang))
        legends.append(mapview.green_legend(lang))
    if "coverage" in layers:
        add("coverage", (patrol,), lambda: mapview.coverage_layer(cache.coverage_wgs84(ctx.location, ctx.version, view.selection)))
        legends.append(mapview.coverage_legend(lang))
    hint = None
    if "incidents" in layers:
        # at street level: the view with a margin (snapped, so a pan within it needs nothing new)
        bounds = map_state.get("bounds")
        near = mapview.view_window(bounds, mapview.POINT_GRID, mapview.POINT_MARGIN)
        points_ok = policy.incident_points and zoom >= mapview.POINT_ZOOM and near is not None
        in_view = mapview.points_in_window(result.incidents, near) if points_ok else None
        if in_view is not None and len(in_view) <= mapview.POINT_LIMIT:
            add("incidents", ("points", sel, near), lambda: mapview.point_layer(in_view, lang))
            legends.append(mapview.point_legend(lang))
            auth.audit_once("view", "incident_details")
            hint = t("map_hint_points", lang)
        else:
            res = hexbin.resolution_for_zoom(zoom)
            # at street level only the hexagons around the view, not the whole city's
            window = mapview.view_window(bounds) if res >= mapview.STREET_RESOLUTION else None
            hexes = cache.incident_hexagons(ctx.location, ctx.version, view.selection, res, k, window)
            add("incidents", (sel, res, window), lambda: mapview.hex_layer(hexes, lang, policy.min_count))
            legends.append(mapview.hex_legend(mapview.hex_classes(hexes, policy.min_count), lang))
            hint = t("map_hint_hex", lang) if policy.incident_points else t("aggregated_note", lang).format(k=policy.min_count)
    if "hotspots" in layers:
        add("hotspots", (sel,), lambda: mapview.hotspot_layer(cache.hotspot_cells(ctx.location, ctx.version, view.selection, k), lang, policy.min_count))
        legends.append(mapview.hotspot_legend(lang))
    if "meeting" in layers and policy.meeting_points:
        add("meeting", (), lambda: mapview.meeting_layer(ctx.prep.meeting_points, lang))
        symbols.append("meeting")
        auth.audit_once("view", "meeting_points")
    if "facilities" in layers:
        add("facilities", (), lambda: mapview.facility_layer(ctx.prep.facilities, lang))
        symbols.append("facilities")
    legends.append(mapview.symbol_legend(symbols, lang))
    mapview.show_map(
        shell,
        map_layers.drawn,
        key="atlas_map",
        returned_objects=("last_clicked", "last_object_clicked", "last_object_clicked_count", "zoom", "bounds"),
        height=780 if view.present else 640,
        zoom=view.zoom,
        center=list(view.center) if view.center else None,
    )
    if hint:
        st.caption(hint)

with col_side:
    for legend in legends:  # in presentation mode too: the projector needs them most
        if legend:
            st.markdown(legend, unsafe_allow_html=True)

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
    **ui.bound("v_sel", lang, names),
    placeholder=t("click_district", lang),
)
code = ui.as_keys("v_sel", st.session_state.get("v_sel"), tuple(names))
if code:
    row = table.set_index("code").loc[code]
    ui.district_figures(row, lang, policy)
    if code not in view.compare and st.button(t("compare_add", lang), key="compare_add", icon=":material/compare_arrows:"):
        ui.set_compare([*view.compare, code][-compare.MAX_DISTRICTS:])
        st.rerun()
    cat_counts, hour_counts = cache.district_breakdown(ctx.location, ctx.version, view.selection, code, k)
    c1, c2 = st.columns(2)
    by_cat = cat_counts.rename_axis("category").reset_index(name="count")
    by_cat["label"] = by_cat["category"].map(lambda c: term(domain.CATEGORIES, c, lang))
    fig = px.bar(by_cat, x="count", y="label", orientation="h", labels={"count": t("count", lang), "label": ""}, title=t("by_category", lang))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), yaxis={"categoryorder": "total ascending"})
    formats.style_figure(fig, lang, count_axis="x")
    c1.plotly_chart(fig, width="stretch")
    by_hour = hour_counts.rename_axis("hour").reset_index(name="count")
    fig = px.bar(by_hour, x="hour", y="count", labels={"count": t("count", lang), "hour": t("hour", lang)}, title=t("by_hour", lang))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    formats.style_figure(fig, lang, count_axis="y")
    c2.plotly_chart(fig, width="stretch")

# -- districts side by side ---------------------------------------------------
compare.section(ctx, view, result, figures, k)

# -- district table ----------------------------------------------------------
st.subheader(t("table", lang))
frame = tables.district_table(table, lang, policy)
st.caption(t("table_select_hint", lang))
tables.show(
    frame,
    lang,
    tables.column_config(lang),
    key="district_table",
    on_select=ui.compare_from_table(list(table["code"])),
    selection_mode="multi-row",
)
st.download_button(
    t("download_csv", lang),
    tables.to_csv(frame, lang),
    file_name="stadtteile.csv" if lang == "de" else "districts.csv",
    mime="text/csv",
)
st.caption(f"{t('small_note', lang)} {t('crime_source', lang)}")
