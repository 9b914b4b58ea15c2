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
from dashboard.i18n import LANGS, t, term, weekday_short
from dashboard.safe import esc, md
from geodata import domain, privacy
from geodata.analysis import Prepared, Selection
from geodata.timewindow import TimeWindow

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


# Every page: while a rerun is under way Streamlit fades the previous output; in a meeting the map
# and the figures stay fully visible and are replaced where they change.
PAGE_CSS = """
<style>
[data-stale="true"] {opacity: 1 !important; transition: none !important;}
</style>
"""


# A date typed into a date field counts once the field loses focus or on Escape; Enter applies it
# as well (it is handed to the field as the Escape that completes the entry).
DATE_ENTER_JS = """
<script>
(() => {
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  if (doc.__atlasDateEnter) return;
  doc.__atlasDateEnter = true;
  doc.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const field = event.target && event.target.closest && event.target.closest('[data-testid="stDateInputField"]');
    if (field) {
      event.preventDefault();
      event.target.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", code: "Escape", bubbles: true, cancelable: true}));
    }
  }, true);
})();
</script>
"""


def page_style() -> None:
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    st.html(DATE_ENTER_JS, unsafe_allow_javascript=True)


def language() -> str:
    """The UI language, from the sidebar selector (seeded from ?lang=)."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = "en" if st.query_params.get("lang") == "en" else "de"
    st.sidebar.segmented_control(
        "Sprache / Language",
        LANGS,
        format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
        key="lang",
        on_change=_language_changed,
    )
    return current_language()


# State whose widgets show their options in the UI language. Streamlit's browser side keeps a
# choice as its displayed label, so each language draws a widget of its own bound to the state
# (``bound``); the state holds keys, and a language switch sets it again from the published view.
LANGUAGE_WIDGETS = ("f_wd", "f_cat", "f_src", "f_unit", "f_mode", "v_metric", "v_sel", "gap_scope")
# the view's widgets on the map page (filters are in FILTER_KEYS)
VIEW_WIDGETS = ("v_metric", "v_sel", "v_cmp", *(f"v_layer_{k}" for k in state.LAYER_KEYS))


def widget_options() -> dict[str, tuple[tuple, object]]:
    """Per language-dependent widget: its options (keys) and a function giving every label of an
    option in every language."""

    def terms(vocab):
        return (tuple(vocab), lambda k: [vocab[k].de, vocab[k].en])

    return {
        "f_wd": (tuple(range(7)), lambda d: [label for lang in LANGS for label in (domain.WEEKDAYS[d].label(lang), weekday_short(d, lang))]),
        "f_cat": terms(domain.CATEGORIES),
        "f_src": terms(domain.SOURCES),
        "f_unit": terms(domain.UNITS),
        "f_mode": terms(domain.MODES),
        "v_metric": (state.METRICS, lambda m: [t(f"m_{m}", lang) for lang in LANGS]),
    }


def as_keys(key: str, value, codes=()):
    """A widget's value as option keys: keys stay, a label in either language becomes its key,
    anything else is dropped (for a single choice: ``None``). District choices keep known codes."""
    options = widget_options().get(key)
    if options is None:  # district choices: a code, or "code name" as displayed
        def one(v):
            if v in codes:
                return v
            head = str(v).split(" ", 1)[0] if v is not None else None
            return head if head in codes else None
    else:
        keys, labels = options
        by_label = {label: k for k in keys for label in labels(k)}

        def one(v):
            if v in keys:
                return v
            return by_label.get(v) if isinstance(v, str) else None

    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            k = one(v)
            if k is not None and k not in out:
                out.append(k)
        return out
    return one(value)


def bound(key: str, lang: str, codes=()) -> dict:
    """Keyword arguments for the widget of the language-dependent state ``key`` in ``lang``.

    Each language draws a widget of its own (key ``<key>__<lang>``), bound to the state
    under ``key``, which holds option keys and is the one truth. A browser keeps a choice
    as its displayed label; after a language switch it may still send the old widget's
    labels, or an emptied choice, with the next rerun (a map reporting its view, say).
    Those belong to a widget no longer drawn and are never read."""
    own = f"{key}__{lang}"
    for other in LANGS:
        if other != lang:
            st.session_state.pop(f"{key}__{other}", None)
    if key in st.session_state:
        st.session_state[own] = st.session_state[key]
    else:
        st.session_state.pop(own, None)
    return {"key": own, "on_change": _bound_changed, "args": (key, own, tuple(codes))}


def _bound_changed(key: str, own: str, codes: tuple) -> None:
    # a change the browser still reports for the other language's widget is stale: ignored
    if own == f"{key}__{current_language()}" and own in st.session_state:
        st.session_state[key] = as_keys(key, st.session_state[own], codes)


def _language_changed() -> None:
    codes = tuple(st.session_state.get("_district_codes") or ())
    # the published view holds keys; a widget's state may hold labels of either language
    params = st.session_state.get(VIEW_KEY)
    view = state.from_params(params, codes, centre_name()) if params is not None else None
    from_view = {}
    if view is not None:
        sel = view.selection
        from_view = {
            "f_wd": sorted(sel.window.weekdays),
            "f_cat": list(sel.categories),
            "f_src": list(sel.sources),
            "f_unit": list(sel.units),
            "f_mode": list(sel.modes),
            "v_metric": view.metric,
            "v_sel": view.district,
        }
    for key in LANGUAGE_WIDGETS:
        if key in st.session_state:
            # re-assigning sends the value to the browser again, labelled in the new language
            value = from_view[key] if key in from_view else as_keys(key, st.session_state[key], codes)
            st.session_state[key] = value
    _language_to_url()


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
    location = cache.default_location()
    created = cache.ensure_data(location)
    version = cache.store(location).version()
    prep = cache.prepared(location, version)
    demo = cache.is_demo(location, version)
    if created and not st.session_state.get("_demo_told"):
        st.session_state["_demo_told"] = True
        st.toast(t("demo_created", lang))
    if demo and not presenting():  # presentation mode shows the label in its header line
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
        for key in (*FILTER_KEYS, *VIEW_WIDGETS):
            st.session_state.pop(key, None)
    codes = prep.districts["code"].tolist()
    st.session_state["_district_codes"] = tuple(codes)
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
    st.session_state.setdefault("v_cmp", list(view.compare))


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
        format_func=lambda d: weekday_short(d, lang),
        **bound("f_wd", lang),
    )
    b1, b2, b3 = sb.columns(3)
    b1.button(t("all_days", lang), on_click=_set_weekdays, args=(list(range(7)),), width="stretch")
    b2.button(t("workdays_short", lang), on_click=_set_weekdays, args=([0, 1, 2, 3, 4],), width="stretch")
    b3.button(t("weekend_short", lang), on_click=_set_weekdays, args=([5, 6],), width="stretch")
    placeholder = t("all", lang)
    cats = sb.multiselect(
        t("categories", lang), list(domain.CATEGORIES), format_func=lambda k: term(domain.CATEGORIES, k, lang), **bound("f_cat", lang), placeholder=placeholder
    )
    srcs = sb.multiselect(
        t("sources", lang), list(domain.SOURCES), format_func=lambda k: term(domain.SOURCES, k, lang), **bound("f_src", lang), placeholder=placeholder
    )
    units = sb.multiselect(
        t("units", lang), list(domain.UNITS), format_func=lambda k: term(domain.UNITS, k, lang), **bound("f_unit", lang), placeholder=placeholder
    )
    modes = sb.multiselect(
        t("modes", lang), list(domain.MODES), format_func=lambda k: term(domain.MODES, k, lang), **bound("f_mode", lang), placeholder=placeholder
    )
    names = dict(zip(prep.districts["code"], prep.districts["name"]))
    dists = sb.multiselect(
        t("districts", lang), sorted(names), format_func=lambda c: f"{c} {names.get(c, '')}", key="f_d", placeholder=placeholder
    )
    outside = sb.toggle(t("outside_centre", lang), key="f_outside")
    sb.button(t("reset", lang), on_click=_reset)
    sb.caption(t("share_hint", lang))

    codes = tuple(names)
    weekdays = as_keys("f_wd", weekdays or [])
    cats, srcs = as_keys("f_cat", cats), as_keys("f_src", srcs)
    units, modes = as_keys("f_unit", units), as_keys("f_mode", modes)
    dists = as_keys("f_d", dists, codes)
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
    # colouring, layers and the chosen district belong to the map page: other pages keep them as
    # they were (the map page sets them from its own widgets)
    base = state.from_params(params, codes, centre_name())
    view = state.View(
        selection,
        base.metric,
        base.layers,
        base.district,
        lang,
        present=base.present,
        zoom=base.zoom,
        center=base.center,
        compare=tuple(as_keys("v_cmp", st.session_state.get("v_cmp", list(base.compare)), codes))[: state.COMPARE_MAX],
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
    for key in (*FILTER_KEYS, *VIEW_WIDGETS):
        st.session_state.pop(key, None)
    st.session_state[VIEW_KEY] = params
    st.session_state.pop("_page", None)
    st.query_params.from_dict(params)
    st.rerun()


def presentation_toggle(view: state.View) -> None:
    """Enter presentation mode (kept in the URL as present=1); the way out is in its header."""
    if st.sidebar.button(t("present", view.lang), key="present_toggle", icon=":material/present_to_all:"):
        _open_params(state.to_params(replace(view, present=True)))


def presenting() -> bool:
    """Whether this run shows presentation mode (from the session's view or the address)."""
    params = st.session_state.get(VIEW_KEY)
    if params is None:
        return st.query_params.get("present") == "1"
    return str(params.get("present", "")) == "1"


# Presentation mode: no sidebar or header, type that reads on a projector, and a map that fills
# the window below one header line, so map, legend, filters and figures need no scrolling.
PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none !important;}
html {font-size: clamp(15px, 1.05vw, 21px);}
[data-testid="stMainBlockContainer"], .block-container {max-width: 100% !important; padding: 0.4rem 1rem 0 1rem !important;}
[data-testid="stMetricValue"] {font-size: 1.7rem !important; line-height: 1.2 !important;}
[data-testid="stMetricLabel"] p {font-size: 0.8rem !important;}
[data-testid="stVerticalBlock"] {gap: 0.45rem !important;}
iframe[title="streamlit_folium.st_folium"] {height: calc(100vh - 5rem) !important;}
.atlas-present-head {font-size: 0.95rem; line-height: 1.35; padding: 0.35rem 0.7rem; border-radius: 0.4rem;
  background: #e8f0fb; color: #0b2a55; border: 1px solid #7aa2d6;}
.atlas-present-head b {color: #000;}
.atlas-demo {background: #7a4d00; color: #fff; font-weight: 700; padding: 0.05rem 0.45rem; border-radius: 0.3rem; margin-right: 0.4rem;}
.atlas-district {border-left: 0.3rem solid #5b2c83; padding-left: 0.5rem; margin-bottom: 0.6rem;}
</style>
"""


# inside the map's frame: the map takes the frame's whole height
PRESENT_MAP_CSS = "<style>html, body {height: 100%; margin: 0;} #map_div, .folium-map {height: 100vh !important;}</style>"


def presentation_header(view: state.View, ctx: Context) -> None:
    """One line above the map: demo label, title, the active filters and the way out."""
    lang = view.lang
    st.markdown(PRESENT_CSS, unsafe_allow_html=True)
    head, button = st.columns([11, 2], vertical_alignment="center")
    demo = f'<span class="atlas-demo">{esc(t("demo_short", lang))}</span>' if ctx.demo else ""
    filters = " · ".join(esc(line) for line in filter_summary(view, ctx.prep, lang, active_only=True))
    head.markdown(
        f'<div class="atlas-present-head" id="atlas-filter-banner">{demo}<b>{esc(t("app_title", lang))}</b> · {filters}</div>',
        unsafe_allow_html=True,
    )
    if button.button(t("present_exit", lang), key="present_toggle", icon=":material/close_fullscreen:", width="stretch"):
        _open_params(state.to_params(replace(view, present=False)))


def publish(view: state.View) -> None:
    """Write the view to the URL and remember it for this session."""
    params = state.to_params(view)
    st.session_state[VIEW_KEY] = params
    # always send: a run interrupted by the next rerun may not have delivered
    # the last update, while the server side already holds it
    st.query_params.from_dict(params)


def with_district(view: state.View, code: str | None) -> state.View:
    return replace(view, district=code)


def filter_summary(view: state.View, prep: Prepared, lang: str, active_only: bool = False) -> list[str]:
    """The active filters in words, for the projector and printed reports (``active_only``: the
    period and only the filters that narrow the data)."""
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

    if active_only:
        lines = [f"{t('date_range', lang)}: {(win.date_from or lo).strftime('%d.%m.%Y')} – {(win.date_to or hi).strftime('%d.%m.%Y')}"]
        if not win.is_all_day:
            lines.append(f"{t('hour', lang)}: {hours}")
        if len(win.weekdays) != 7:
            lines.append(f"{t('weekdays', lang)}: {days}")
        for label, values, vocab in (
            ("categories", sel.categories, domain.CATEGORIES),
            ("sources", sel.sources, domain.SOURCES),
            ("units", sel.units, domain.UNITS),
            ("modes", sel.modes, domain.MODES),
            ("districts", sel.districts, None),
        ):
            if values:
                lines.append(f"{t(label, lang)}: {listed(values, vocab)}")
        if sel.outside_centre:
            lines.append(t("outside_centre", lang))
        if len(lines) == 1:
            lines.append(t("filters_none", lang))
        return lines
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


def set_compare(codes) -> None:
    """The districts to compare side by side (keys; at most ``state.COMPARE_MAX``)."""
    st.session_state["v_cmp"] = list(dict.fromkeys(codes))[-state.COMPARE_MAX:]


def compare_from_table(codes: list[str]):
    """``on_select`` callback of the district table: the selected rows (``codes`` in table order)
    become the comparison."""

    def chosen() -> None:
        selection = st.session_state.get("district_table")
        rows = getattr(getattr(selection, "selection", None), "rows", None) or []
        if rows:
            set_compare([codes[i] for i in rows if 0 <= i < len(codes)])

    return chosen


def district_figures(row, lang: str, policy: privacy.Policy, compact: bool = False) -> None:
    """A district's key figures: a compact block for the projector's side panel, or a row of metrics."""
    from dashboard import mapview

    name = f"{row['name']} ({row.name})" + (f" · {t('centre', lang)}" if row["is_centre"] else "")
    figures = [
        (t("col_incidents", lang), mapview.fmt(row["incidents"], lang)),
        (t("col_per_1000", lang), mapview.fmt(row["incidents_per_1000"], lang, 1)),
        (t("col_coverage", lang), mapview.pct(row["coverage_share"], lang)),
        (t("col_green_cov", lang), mapview.pct(row["green_coverage_share"], lang)),
    ]
    if compact:
        cells = "".join(f"<div><small>{esc(label)}</small><br><b>{esc(value)}</b></div>" for label, value in figures)
        st.markdown(
            f'<div class="atlas-district" id="atlas-district-figures"><b>{esc(name)}</b>'
            f'<div style="display:grid;grid-template-columns:1fr 1fr;gap:0.2rem 0.6rem">{cells}</div></div>',
            unsafe_allow_html=True,
        )
        return
    st.markdown(f"### {md(row['name'])} ({md(row.name)})" + (f" · {t('centre', lang)}" if row["is_centre"] else ""))
    cols = st.columns(6)
    for col, (label, value) in zip(cols, figures):
        col.metric(label, value, help=t("small_note", lang) if label == figures[0][0] and row["small_count"] else None)
    if policy.meeting_points:
        cols[4].metric(t("col_meeting", lang), f"{mapview.fmt(row['meeting_points'], lang)} ({mapview.fmt(row['meeting_points_active'], lang)})")
    cols[5].metric(t("col_facilities", lang), mapview.fmt(row["facilities"], lang))
    st.caption(
        f"{t('col_crime_rate', lang)}: {mapview.fmt(row['crime_rate'], lang)} "
        f"({t('col_crime_cases', lang)}: {mapview.fmt(row['crime_cases'], lang)}) · {t('crime_source', lang)}"
    )


class MapLayers:
    """The layers a page draws on its map: each built once per its inputs (``cache.layer``)
    and rebuilt in the browser only when they change. ``base`` is what every layer depends
    on (store, data version, role, threshold, language); ``drawn`` goes to ``mapview.show_map``."""

    def __init__(self, ctx: Context, lang: str):
        self.base = (ctx.location, ctx.version, ctx.policy.role, ctx.policy.min_count, lang)
        self.drawn: list[tuple[str, str, str]] = []  # (name, digest, script)

    def add(self, name: str, key: tuple, build):
        """Draw layer ``name``, which depends on ``key`` beyond the base; ``build()`` returns its
        feature group (and anything drawn with it, returned here: a legend's classes)."""
        digest, script, extra = cache.layer(name, (*self.base, *key), build)
        self.drawn.append((name, digest, script))
        return extra


def map_shell(ctx: Context, lang: str, present: bool = False):
    """The base map for this store's city, basemap, language and mode (rendered once, ``cache.map_shell``)."""
    from dashboard import mapview  # mapview asks ui for the session language

    districts = ctx.prep.districts
    city = tuple(float(v) for v in districts.total_bounds) if len(districts) else None
    return cache.map_shell(mapview.basemap_choice(), city, lang, present, mapview.use_local_assets())
