"""Shared page parts: data context, demo label, language and the filter sidebar.

Widget state is seeded from the URL (or from the last view of this session,
when coming back from another page), and the current view is written back to
the URL's query parameters after every change, so any view can be shared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date

import streamlit as st

from dashboard import auth, cache, state
from dashboard.i18n import LANGS, t, term
from dashboard.safe import md
from geodata import domain, privacy
from geodata.analysis import Prepared, Selection
from geodata.timewindow import TimeWindow
from loaders.store import DEFAULT_DB

VIEW_KEY = "_view_params"
FILTER_KEYS = ("f_dates", "f_h_from", "f_h_to", "f_wd", "f_cat", "f_src", "f_unit", "f_mode", "f_d", "f_outside")


@dataclass
class Context:
    location: str
    version: str
    prep: Prepared
    demo: bool
    lang: str
    user: auth.User

    @property
    def policy(self) -> privacy.Policy:
        return self.user.policy


def centre_name() -> str:
    return os.environ.get("ATLAS_CENTRE", domain.DEFAULT_CENTRE_DISTRICT)


def language() -> str:
    """The UI language, from the sidebar selector (seeded from ?lang=)."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = "en" if st.query_params.get("lang") == "en" else "de"
    st.sidebar.segmented_control(
        "Sprache / Language",
        LANGS,
        format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
        key="lang",
        on_change=_language_to_url,
    )
    return current_language()


def _language_to_url() -> None:
    # set here as well: in the rerun that switches the page titles the page's
    # own URL update does not reach the browser
    params = dict(st.session_state.get(VIEW_KEY) or {})
    params.pop("lang", None)
    if current_language() == "en":
        params["lang"] = "en"
    st.session_state[VIEW_KEY] = params
    st.query_params.from_dict(params)


def current_language() -> str:
    return "en" if st.session_state.get("lang") == "en" else "de"


def require_page(page: str) -> auth.User:
    """The signed-in user, if their role may open ``page``; otherwise stop here."""
    user = auth.current_user()
    if user is None or page not in user.policy.pages:
        st.error("403")
        st.stop()
    return user


def context(lang: str, page: str) -> Context:
    """Check access, load the data (creating demo data on first start) and label demo data."""
    user = require_page(page)
    location = os.environ.get("ATLAS_DB") or str(DEFAULT_DB)
    created = cache.ensure_data(location)
    version = cache.store(location).version()
    prep = cache.prepared(location, version)
    demo = cache.is_demo(location, version)
    if created and not st.session_state.get("_demo_told"):
        st.session_state["_demo_told"] = True
        st.toast(t("demo_created", lang))
    if demo:
        st.warning(t("demo_badge", lang), icon=":material/science:")
    return Context(location, version, prep, demo, lang, user)


def _seed(params: dict, prep: Prepared, page: str) -> None:
    """Put the view into widget state the first time the widgets are drawn on a page.

    Streamlit drops widget state when another page is shown, so coming back
    (or moving between pages with the same sidebar) seeds again from the last
    view of this session.
    """
    same_page = st.session_state.get("_page") == page
    st.session_state["_page"] = page
    if same_page and all(k in st.session_state for k in FILTER_KEYS):
        return
    if not same_page:
        for key in (*FILTER_KEYS, "v_metric", "v_sel", *(f"v_layer_{k}" for k in state.LAYER_KEYS)):
            st.session_state.pop(key, None)
    codes = prep.districts["code"].tolist()
    view = state.from_params(params, codes, centre_name())
    sel, win = view.selection, view.selection.window
    lo, hi = _data_dates(prep)
    st.session_state.setdefault("f_dates", (win.date_from or lo, win.date_to or hi))
    st.session_state.setdefault("f_h_from", win.hours[0])
    st.session_state.setdefault("f_h_to", win.hours[1] if win.hours[1] != 0 else 24)
    st.session_state.setdefault("f_wd", sorted(win.weekdays))
    st.session_state.setdefault("f_cat", list(sel.categories))
    st.session_state.setdefault("f_src", list(sel.sources))
    st.session_state.setdefault("f_unit", list(sel.units))
    st.session_state.setdefault("f_mode", list(sel.modes))
    st.session_state.setdefault("f_d", list(sel.districts))
    st.session_state.setdefault("f_outside", sel.outside_centre)
    st.session_state.setdefault("v_metric", view.metric)
    for key in state.LAYER_KEYS:
        st.session_state.setdefault(f"v_layer_{key}", key in view.layers)
    st.session_state.setdefault("v_sel", view.district)


def _data_dates(prep: Prepared) -> tuple[date, date]:
    lo, hi = prep.date_range
    if lo is None:
        today = date.today()
        return today.replace(year=today.year - 1), today
    return lo.date(), hi.date()


def _set_weekdays(days: list[int]) -> None:
    st.session_state["f_wd"] = days


def _reset() -> None:
    for key in (*FILTER_KEYS, "v_sel"):
        st.session_state.pop(key, None)
    st.session_state[VIEW_KEY] = {}


def sidebar_filters(ctx: Context, page: str) -> state.View:
    """Draw the filter sidebar and return the current view; sync it to the URL."""
    lang, prep = ctx.lang, ctx.prep
    params = st.session_state.get(VIEW_KEY)
    if params is None:
        params = {k: st.query_params.get(k) for k in st.query_params.keys()}
    _seed(params, prep, page)
    sb = st.sidebar
    sb.header(t("filters", lang))
    lo, hi = _data_dates(prep)
    dates = sb.date_input(t("date_range", lang), min_value=lo, max_value=hi, format="DD.MM.YYYY", key="f_dates")
    c1, c2 = sb.columns(2)
    h_from = c1.selectbox(t("hour_from", lang), list(range(24)), format_func=lambda h: f"{h:02d}:00", key="f_h_from")
    h_to = c2.selectbox(t("hour_to", lang), list(range(1, 25)), format_func=lambda h: f"{h:02d}:00", key="f_h_to")
    window_note = t("hours_all", lang) if h_from == h_to % 24 else (t("hours_wrap", lang) if h_from > h_to else "")
    if window_note:
        sb.caption(f"{h_from:02d}:00–{h_to:02d}:00 · {window_note}")
    weekdays = sb.pills(
        t("weekdays", lang),
        list(range(7)),
        selection_mode="multi",
        format_func=lambda d: domain.WEEKDAYS[d].label(lang),
        key="f_wd",
    )
    b1, b2, b3 = sb.columns(3)
    b1.button(t("all_days", lang), on_click=_set_weekdays, args=(list(range(7)),), width="stretch")
    b2.button(t("workdays", lang), on_click=_set_weekdays, args=([0, 1, 2, 3, 4],), width="stretch")
    b3.button(t("weekend", lang), on_click=_set_weekdays, args=([5, 6],), width="stretch")
    placeholder = t("all", lang)
    cats = sb.multiselect(
        t("categories", lang), list(domain.CATEGORIES), format_func=lambda k: term(domain.CATEGORIES, k, lang), key="f_cat", placeholder=placeholder
    )
    srcs = sb.multiselect(
        t("sources", lang), list(domain.SOURCES), format_func=lambda k: term(domain.SOURCES, k, lang), key="f_src", placeholder=placeholder
    )
    units = sb.multiselect(
        t("units", lang), list(domain.UNITS), format_func=lambda k: term(domain.UNITS, k, lang), key="f_unit", placeholder=placeholder
    )
    modes = sb.multiselect(
        t("modes", lang), list(domain.MODES), format_func=lambda k: term(domain.MODES, k, lang), key="f_mode", placeholder=placeholder
    )
    names = dict(zip(prep.districts["code"], prep.districts["name"]))
    dists = sb.multiselect(
        t("districts", lang), sorted(names), format_func=lambda c: f"{c} {names.get(c, '')}", key="f_d", placeholder=placeholder
    )
    outside = sb.toggle(t("outside_centre", lang), key="f_outside")
    sb.button(t("reset", lang), on_click=_reset)
    sb.caption(t("share_hint", lang))

    d_from, d_to = (dates[0], dates[-1]) if isinstance(dates, (tuple, list)) and dates else (lo, hi)
    window = TimeWindow(
        date_from=None if d_from == lo else d_from,
        date_to=None if d_to == hi else d_to,
        hours=(int(h_from), int(h_to)),
        weekdays=frozenset(weekdays or range(7)),
    )
    selection = Selection(
        window=window,
        categories=tuple(cats),
        sources=tuple(srcs),
        units=tuple(units),
        modes=tuple(modes),
        districts=tuple(dists),
        outside_centre=bool(outside),
        centre=centre_name(),
    )
    layers = tuple(k for k in state.LAYER_KEYS if st.session_state.get(f"v_layer_{k}", True))
    base = state.from_params(params, prep.districts["code"].tolist(), centre_name())
    view = state.View(
        selection,
        st.session_state.get("v_metric", state.METRICS[0]),
        layers,
        st.session_state.get("v_sel"),
        lang,
        present=base.present,
        zoom=base.zoom,
        center=base.center,
    )
    return view


def may_save_views(user: auth.User) -> bool:
    """Signed-in accounts of roles that may save (not the public view, not anonymous participants)."""
    from loaders.workshops import SAVE_ROLES

    return user.via in ("password", "sso") and user.role in SAVE_ROLES


def _share_audience(user: auth.User) -> str | None:
    """The audience this user may share views with (see ``loaders.workshops.SHARE_AUDIENCES``), if any."""
    from loaders.workshops import may_share

    return "council" if may_save_views(user) and may_share(user.role, "council") else None


def _view_for(row, user: auth.User) -> dict:
    """A saved view's query parameters as this user may receive them (the opener's policy, not the owner's).

    Centre and zoom stay only where the user sees everything the owner saw: in views shared with the
    user's audience, and in the user's own views saved with the same role (a view saved before a change
    of role loses them).
    """
    from urllib.parse import parse_qsl

    policy = user.policy
    full = policy.meeting_points and policy.incident_points
    keep_position = full if not row.mine else (full or row.owner_role == user.role)
    return state.restrict(dict(parse_qsl(str(row.params or ""))), policy.layers, keep_position)


def saved_views(view: state.View, user: auth.User) -> None:
    """Sidebar: save the current view under a name, reopen saved ones, copy their link.

    Views belong to the account that saved them; council and admin may share theirs with the council
    (council and admin). Everyone sees only their own views and those shared with them; the public
    view and anonymous workshop participants get neither the list nor the save button.
    """
    from urllib.parse import urlencode

    from dashboard import workshop_ui

    if not may_save_views(user):
        return
    store = workshop_ui.store()
    lang = view.lang
    audience = _share_audience(user)
    with st.sidebar.expander(t("views", lang)):
        name = st.text_input(t("view_name", lang), max_chars=80, key="view_name")
        share = st.checkbox(t("view_share", lang), key="view_share") if audience else False
        if st.button(t("view_save", lang), key="view_save") and name.strip():
            map_state = st.session_state.get("atlas_map") or {}
            zoom, bounds = map_state.get("zoom"), map_state.get("bounds") or {}
            center = None
            try:
                sw, ne = bounds["_southWest"], bounds["_northEast"]
                center = ((sw["lat"] + ne["lat"]) / 2, (sw["lng"] + ne["lng"]) / 2)
            except (KeyError, TypeError):
                pass
            saved = replace(view, zoom=float(zoom) if zoom else None, center=center)
            params = state.restrict(state.to_params(saved), user.policy.layers, keep_position=True)
            shared_with = audience if share else None
            store.save_view(name.strip(), urlencode(params), user.name, user.role, shared_with=shared_with)
            auth.audit("view_save", name.strip()[:80], f"shared_with={shared_with or '-'}")
            st.success(t("view_saved", lang))
        for row in store.views_for(user.name, user.role).itertuples():
            params = _view_for(row, user)
            key = f"open_view_{row.name}" if row.mine else "open_shared_view_" + _digest(row.created_by, row.name)
            st.text(row.name)  # plain text: a name is never read as Markdown or HTML
            if not row.mine:
                st.caption(f"{t('view_shared_by', lang)} {md(row.created_by)}")
            elif row.shared_with:
                st.caption(t("view_is_shared", lang))
            c1, c2, c3 = st.columns([4, 1, 1]) if row.mine else (*st.columns([4, 1]), None)
            c1.code(f"?{urlencode(params)}", language=None)
            if c2.button("↗", key=key, help=t("view_open", lang)):
                _open_params(params)
            if c3 is not None and c3.button("✕", key=f"delete_view_{row.name}", help=t("view_delete", lang)):
                store.delete_view(row.name, user.name)
                auth.audit("view_delete", str(row.name)[:80])
                st.rerun()


def _digest(*parts) -> str:
    import hashlib

    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _open_params(params: dict) -> None:
    for key in (*FILTER_KEYS, "v_metric", "v_sel", *(f"v_layer_{k}" for k in state.LAYER_KEYS)):
        st.session_state.pop(key, None)
    st.session_state[VIEW_KEY] = params
    st.session_state.pop("_page", None)
    st.query_params.from_dict(params)
    st.rerun()


def presentation_toggle(view: state.View) -> None:
    """Enter or leave presentation mode (kept in the URL as present=1)."""
    label = t("present_exit", view.lang) if view.present else t("present", view.lang)
    target = st.sidebar if not view.present else st
    if target.button(label, key="present_toggle"):
        params = state.to_params(replace(view, present=not view.present))
        _open_params(params)


PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header {display: none !important;}
html, body, [data-testid="stMain"] {font-size: 22px !important;}
[data-testid="stMetricValue"] {font-size: 3rem !important;}
.block-container {max-width: 100% !important; padding-top: 1rem !important;}
</style>
"""


def presentation_banner(view: state.View, prep: Prepared) -> None:
    """Large type, no sidebar, and the active filters always in view."""
    st.markdown(PRESENT_CSS, unsafe_allow_html=True)
    st.info(" · ".join(md(line) for line in filter_summary(view, prep, view.lang)), icon=":material/filter_alt:")


def publish(view: state.View) -> None:
    """Write the view to the URL and remember it for this session."""
    params = state.to_params(view)
    st.session_state[VIEW_KEY] = params
    # always send: a run interrupted by the next rerun may not have delivered
    # the last update, while the server side already holds it
    st.query_params.from_dict(params)


def with_district(view: state.View, code: str | None) -> state.View:
    return replace(view, district=code)


def filter_summary(view: state.View, prep: Prepared, lang: str) -> list[str]:
    """The active filters in words, for the projector and printed reports."""
    sel, win = view.selection, view.selection.window
    lo, hi = _data_dates(prep)
    names = dict(zip(prep.districts["code"], prep.districts["name"]))
    every = t("filter_all", lang)
    hours = t("hours_all", lang) if win.is_all_day else f"{win.hours[0]:02d}:00–{win.hours[1] % 24:02d}:00"
    days = every if len(win.weekdays) == 7 else ", ".join(domain.WEEKDAYS[d].label(lang) for d in sorted(win.weekdays))

    def listed(values, vocab=None):
        if not values:
            return every
        return ", ".join(term(vocab, v, lang) if vocab else f"{v} {names.get(v, '')}".strip() for v in values)

    lines = [
        f"{t('date_range', lang)}: {(win.date_from or lo).strftime('%d.%m.%Y')} – {(win.date_to or hi).strftime('%d.%m.%Y')}",
        f"{t('hour', lang)}: {hours}",
        f"{t('weekdays', lang)}: {days}",
        f"{t('categories', lang)}: {listed(sel.categories, domain.CATEGORIES)}",
        f"{t('sources', lang)}: {listed(sel.sources, domain.SOURCES)}",
        f"{t('units', lang)}: {listed(sel.units, domain.UNITS)}",
        f"{t('modes', lang)}: {listed(sel.modes, domain.MODES)}",
        f"{t('districts', lang)}: {listed(sel.districts)}",
    ]
    if sel.outside_centre:
        lines.append(t("outside_centre", lang))
    return lines
