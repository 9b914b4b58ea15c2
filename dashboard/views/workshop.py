"""Safe-City-Lab workshop page.

Participants (joined with a code): tap the map, say how it feels there and why;
every entry is stored at once and everyone sees new entries within seconds.
They see their own workshop only, never its code or hidden entries.
Facilitators (council, admin): create workshops, show the code and QR code on
the projector, moderate, compare workshops, set felt insecurity against
recorded incidents, and export the result. Any other signed-in account (role
``workshop``) gets an explanation of how to take part, nothing more. The role is
checked on the server on every run and again before every facilitator action.
"""

from __future__ import annotations

from datetime import date

import plotly.express as px
import streamlit as st
from streamlit_folium import st_folium

from dashboard import auth, cache, mapview, ui, workshop_ui
from dashboard.i18n import t, term
from dashboard.safe import md
from geodata import domain
from loaders.exports import defuse_formulas

lang = ui.current_language()
user = ui.require_page("workshop")
store = workshop_ui.store()
st.title(t("page_workshop", lang))

# -- participants ------------------------------------------------------------------
if user.via == "code":
    workshop = workshop_ui.workshop(user.workshop_id)
    st.subheader(md(workshop["title"]) if workshop else "–")
    ctx = ui.context(lang, "workshop")
    st.caption(t("ws_tap", lang))
    click = (st.session_state.get("ws_map") or {}).get("last_clicked")
    mapview.use_local_assets()
    fmap = mapview.base_map(mapview.basemap_choice(), tuple(ctx.prep.districts.total_bounds))

    workshop_ui.watch_for_new_entries()
    visible = workshop_ui.observations([user.workshop_id])
    groups = [workshop_ui.district_outline(ctx.prep.districts), workshop_ui.observation_layer(visible, lang, mine=user.participant)]
    if click:
        groups.append(workshop_ui.chosen_place(click))
    st_folium(fmap, key="ws_map", feature_group_to_add=groups, returned_objects=["last_clicked"], height=420, width="stretch")
    if click:
        st.caption(f"{t('ws_place', lang)}: {click['lat']:.5f}, {click['lng']:.5f}")
    else:
        st.info(t("ws_no_place", lang))
    with st.form("observation", clear_on_submit=True):
        feeling = st.radio(t("ws_feeling", lang), list(domain.FEELINGS), format_func=lambda k: term(domain.FEELINGS, k, lang), horizontal=True)
        reasons = st.multiselect(t("ws_reasons", lang), list(domain.REASONS), format_func=lambda k: term(domain.REASONS, k, lang))
        when = st.radio(t("ws_time", lang), list(domain.TIMES_OF_DAY), format_func=lambda k: term(domain.TIMES_OF_DAY, k, lang), horizontal=True)
        comment = st.text_area(t("ws_comment", lang), max_chars=domain.COMMENT_MAX)
        sent = st.form_submit_button(t("ws_submit", lang), type="primary", disabled=click is None)
    if sent and click:
        try:
            store.add_observation(user.workshop_id, user.participant, click["lng"], click["lat"], feeling, reasons, when, comment or None)
        except (ValueError, TimeoutError) as exc:
            st.error(md(str(exc)))
        else:
            st.success(t("ws_saved", lang))
    st.stop()

# -- workshop accounts and other roles without facilitator rights ----------------------
if not workshop_ui.may_facilitate(user):
    st.subheader(t("ws_account_title", lang))
    st.info(t("ws_account_note", lang))
    st.stop()


def facilitator() -> None:
    """Check again, right before a facilitator action, that this session may take it."""
    if not workshop_ui.may_facilitate(auth.current_user()):
        st.error(t("ws_facilitators_only", lang))
        st.stop()


# -- facilitators -------------------------------------------------------------------
ctx = ui.context(lang, "workshop")
view = ui.sidebar_filters(ctx, "workshop")
ui.publish(view)
names = dict(zip(ctx.prep.districts["code"], ctx.prep.districts["name"]))

notice = st.empty()  # always present, so a message coming or going does not shift (and redraw) the maps below
with st.expander(t("ws_create", lang), expanded=store.workshops().empty):
    with st.form("new_workshop"):
        title = st.text_input(t("ws_title", lang), max_chars=120)
        day = st.date_input(t("ws_date", lang), value=date.today(), format="DD.MM.YYYY")
        focus = st.multiselect(t("ws_focus", lang), sorted(names), format_func=lambda c: f"{c} {names[c]}")
        if st.form_submit_button(t("ws_create", lang), type="primary") and title.strip():
            facilitator()
            created = store.create_workshop(title.strip(), day.isoformat(), list(focus), user.name)
            auth.audit("workshop_create", created["id"], title.strip()[:120])
            st.session_state["ws_selected"] = [created["id"]]
            notice.success(t("ws_created", lang))

all_ws = store.workshops()
if all_ws.empty:
    st.stop()
labels = {r.id: f"{r.title} ({r.date}, {r.code})" for r in all_ws.itertuples()}
st.session_state.setdefault("ws_selected", [all_ws["id"].iloc[-1]])
selected = st.multiselect(t("ws_choose", lang), list(labels), format_func=lambda i: labels[i], key="ws_selected")
if not selected:
    st.stop()
current = all_ws.set_index("id").loc[selected[0]]

# the projector card: code, QR code, address
c1, c2 = st.columns([2, 1])
with c1:
    st.markdown(f"### {md(current['title'])}")
    st.markdown(f"{t('ws_code', lang)}: **`{current['code']}`**")
    st.caption(t("ws_join_hint", lang))
    is_open = st.toggle(t("ws_open", lang), value=bool(current["open"]), key=f"ws_open_{selected[0]}")
    if is_open != bool(current["open"]):
        facilitator()
        store.set_open(selected[0], is_open)
        auth.audit("workshop_open" if is_open else "workshop_close", selected[0])
with c2:
    st.image(workshop_ui.qr_png(current["code"]), width=200, caption=workshop_ui.join_target(current["code"]))

# live map of the entries
mapview.use_local_assets()
bounds = tuple(ctx.prep.districts.total_bounds)


workshop_ui.watch_for_new_entries()
live = workshop_ui.observations(selected)
st.caption(f"{t('ws_all', lang)}: {len(live)}")
st_folium(
    mapview.base_map(mapview.basemap_choice(), bounds),
    key="ws_facilitator_map",
    feature_group_to_add=[workshop_ui.district_outline(ctx.prep.districts), workshop_ui.observation_layer(live, lang)],
    returned_objects=[],
    height=460,
    width="stretch",
)

# moderation: hidden entries stay in the store and in the audit log
st.subheader(t("ws_moderate", lang))
everything = workshop_ui.observations(selected, include_hidden=True)
if len(everything):
    # text that a spreadsheet would run as a formula is defused here too: the table's own CSV download
    st.dataframe(defuse_formulas(workshop_ui.moderation_table(everything, lang)), hide_index=True, width="stretch")
    choice = st.selectbox("ID", everything["id"].tolist(), key="ws_moderate_id")
    m1, m2 = st.columns(2)
    if m1.button(t("ws_hide", lang), key="ws_hide"):
        facilitator()
        store.set_hidden(choice, True)
        auth.audit("observation_hide", choice)
        st.rerun()
    if m2.button(t("ws_restore", lang), key="ws_restore"):
        facilitator()
        store.set_hidden(choice, False)
        auth.audit("observation_restore", choice)
        st.rerun()

# several workshops side by side
if len(selected) > 1:
    st.subheader(t("ws_compare", lang))
    st.dataframe(defuse_formulas(workshop_ui.comparison(selected, all_ws, ctx.prep.districts, lang)), hide_index=True, width="stretch")

# felt insecurity against recorded incidents
st.subheader(t("ws_discrepancy", lang))
st.caption(t("ws_disc_help", lang))
result = cache.released(ctx.location, ctx.version, view.selection, ctx.policy.min_count)  # incident counts as the role may get them
visible = workshop_ui.observations(selected)
perception = workshop_ui.perception(visible, ctx.prep.districts, result.districts)
d1, d2 = st.columns([1, 1])
with d1:
    st_folium(
        mapview.base_map(mapview.basemap_choice(), bounds),  # each map needs its own base map object
        key="ws_discrepancy_map",
        feature_group_to_add=[workshop_ui.discrepancy_layer(perception, lang)],
        returned_objects=[],
        height=420,
        width="stretch",
    )
    st.markdown(workshop_ui.discrepancy_legend(lang), unsafe_allow_html=True)
with d2:
    chart = perception.assign(label=perception["kind"].map(lambda k: t(f"disc_{k}", lang)))
    fig = px.scatter(
        chart,
        x="incidents_per_1000",
        y="unsafe_per_1000",
        color="label",
        hover_name="name",
        labels={"incidents_per_1000": t("m_incidents_per_1000", lang), "unsafe_per_1000": t("unsafe_per_1000", lang), "label": ""},
        color_discrete_map={t(f"disc_{k}", lang): c for k, c in workshop_ui.DISC_COLOURS.items()},
    )
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"))
    st.plotly_chart(fig, width="stretch")
st.dataframe(defuse_formulas(workshop_ui.perception_table(perception, lang)), hide_index=True, width="stretch")

# export: only what is visible
st.subheader(t("ws_export", lang))
e1, e2, e3 = st.columns(3)
e1.download_button("GeoJSON", store.to_geojson(visible), file_name=f"workshop-{current['code']}.geojson", mime="application/geo+json")
e2.download_button("CSV", store.to_csv(visible, lang), file_name=f"workshop-{current['code']}.csv", mime="text/csv")
e3.download_button(
    t("ws_handout", lang),
    workshop_ui.handout_html(current, visible, perception, ui.filter_summary(view, ctx.prep, lang), lang, ctx.demo).encode("utf-8"),
    file_name=f"workshop-{current['code']}.html",
    mime="text/html",
)
