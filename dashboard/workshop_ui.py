"""Building blocks of the workshop page: store access, map layers, tables, QR code, handout."""

from __future__ import annotations

import html
import io
import os
from datetime import datetime

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import segno
import streamlit as st

from dashboard.i18n import t, term
from dashboard.mapview import circle_marker, fmt, tooltip
from dashboard.report import svg_path, svg_transform
from dashboard.safe import esc
from geodata import domain, perception as perception_mod
from loaders.store import DEFAULT_DB
from loaders.workshops import WorkshopStore, default_path

FEELING_COLOURS = {"unsafe": "#c51b7d", "safe": "#4d9221"}
DISC_COLOURS = {
    "feels_unsafe_few_records": "#762a83",
    "records_but_feels_safe": "#e08214",
    "in_line": "#d9f0d3",
    "no_data": "#eeeeee",
}


# roles that run workshops: create them, see their codes, open and close, moderate, compare, export
FACILITATOR_ROLES = frozenset({"council", "admin"})


def may_facilitate(user) -> bool:
    """A signed-in account of a facilitator role; never an anonymous participant (joined by code)."""
    return user is not None and user.via != "code" and user.role in FACILITATOR_ROLES


@st.cache_resource(show_spinner=False)
def _store(path: str) -> WorkshopStore:
    return WorkshopStore(path)


def store() -> WorkshopStore:
    return _store(str(default_path(os.environ.get("ATLAS_DB") or str(DEFAULT_DB))))


@st.cache_data(max_entries=32, show_spinner=False, ttl=600)
def _observations(path: str, version: str, ids: tuple, include_hidden: bool) -> gpd.GeoDataFrame:
    return _store(path).observations(list(ids), include_hidden=include_hidden)


def observations(ids, include_hidden: bool = False) -> gpd.GeoDataFrame:
    """Entries of the given workshops, re-read whenever the workshop store changes."""
    s = store()
    return _observations(str(s.path), s.version(), tuple(ids), include_hidden)


def watch_for_new_entries(seconds: int = 3) -> None:
    """Rerun the page when the workshop store changes, so new entries show without reloading.

    Only this small fragment runs every few seconds; the page itself (and its
    maps, which must not live inside a fragment) reruns only on a change.
    """
    st.session_state["_ws_version"] = store().version()

    @st.fragment(run_every=f"{seconds}s")
    def _watch():
        if store().version() != st.session_state.get("_ws_version"):
            st.rerun(scope="app")

    _watch()


def workshop(workshop_id: str) -> dict | None:
    frame = store().workshops()
    rows = frame[frame["id"] == workshop_id]
    return rows.iloc[0].to_dict() if len(rows) else None


# -- map layers --------------------------------------------------------------------

def district_outline(districts: gpd.GeoDataFrame) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="districts")
    props = gpd.GeoDataFrame({"name": districts["name"].map(esc)}, geometry=districts.geometry.simplify(0.0001), crs=districts.crs)
    folium.GeoJson(
        props,
        style_function=lambda f: {"fillOpacity": 0.05, "color": "#555555", "weight": 1},
        tooltip=tooltip(["name"], [""]),
        pane="districts",
        name="districts",
    ).add_to(fg)
    return fg


def observation_layer(obs: gpd.GeoDataFrame, lang: str, mine: str | None = None) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="observations")
    if not len(obs):
        return fg
    props = gpd.GeoDataFrame(
        {
            "feeling": obs["feeling"].map(lambda k: esc(term(domain.FEELINGS, k, lang))),
            "reasons": obs["reasons"].fillna("").map(
                lambda v: esc(", ".join(term(domain.REASONS, r, lang) for r in v.split(",") if r))
            ),
            "time": obs["time_of_day"].map(lambda k: esc(term(domain.TIMES_OF_DAY, k, lang))),
            "comment": obs["comment"].map(esc),
            "_colour": obs["feeling"].map(FEELING_COLOURS).fillna("#777777"),
            "_mine": (obs["participant"] == mine).to_numpy() if mine and "participant" in obs else False,
        },
        geometry=obs.geometry.to_numpy(),
        crs=obs.crs,
    )
    folium.GeoJson(
        props,
        marker=circle_marker("meeting", radius=8, fill=True, fill_opacity=0.85, weight=2),
        style_function=lambda f: {
            "fillColor": f["properties"]["_colour"],
            "color": "#000000" if f["properties"]["_mine"] else "#ffffff",
        },
        popup=folium.GeoJsonPopup(
            ["feeling", "reasons", "time", "comment"],
            [esc(t(k, lang)) for k in ("ws_feeling", "ws_reasons", "ws_time", "ws_comment")],
        ),
        pane="meeting",
        name="observations",
    ).add_to(fg)
    return fg


def chosen_place(click: dict) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="chosen")
    folium.CircleMarker([click["lat"], click["lng"]], radius=10, color="#000000", weight=3, fill=False).add_to(fg)
    return fg


def discrepancy_layer(perception: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="discrepancy")
    props = gpd.GeoDataFrame(
        {
            "name": perception["name"].map(esc),
            "kind": perception["kind"].map(lambda k: esc(t(f"disc_{k}", lang))),
            "unsafe": perception["unsafe_per_1000"].map(lambda v: fmt(v, lang, 2)) + perception["unsafe"].map(lambda n: f" (n = {int(n)})"),
            "records": perception["incidents_per_1000"].map(lambda v: fmt(v, lang, 1)) + perception["incidents"].map(lambda n: f" (n = {fmt(n, lang)})"),
            "_fill": perception["kind"].map(DISC_COLOURS),
        },
        geometry=perception.geometry.simplify(0.0001).to_numpy(),
        crs=perception.crs,
    )
    folium.GeoJson(
        props,
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "fillOpacity": 0.7, "color": "#555555", "weight": 1},
        tooltip=tooltip(["name", "kind", "unsafe", "records"], [t("col_name", lang), "", t("unsafe_per_1000", lang), t("m_incidents_per_1000", lang)]),
        pane="districts",
        name="discrepancy",
    ).add_to(fg)
    return fg


def discrepancy_legend(lang: str) -> str:
    items = "".join(
        f'<div><span style="display:inline-block;width:0.9em;height:0.9em;background:{c};border:1px solid #555;'
        f'margin-right:0.4em;vertical-align:middle"></span>{html.escape(t(f"disc_{k}", lang))}</div>'
        for k, c in DISC_COLOURS.items()
    )
    return f'<div style="font-size:0.85em">{items}</div>'


# -- tables --------------------------------------------------------------------------

def moderation_table(obs: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    local = pd.DatetimeIndex(obs["created_at"]).tz_convert(domain.LOCAL_TZ)
    return pd.DataFrame(
        {
            "ID": obs["id"],
            t("time", lang): local.strftime("%d.%m. %H:%M"),
            t("ws_feeling", lang): obs["feeling"].map(lambda k: term(domain.FEELINGS, k, lang)),
            t("ws_reasons", lang): obs["reasons"].fillna("").map(lambda v: ", ".join(term(domain.REASONS, r, lang) for r in v.split(",") if r)),
            t("ws_comment", lang): obs["comment"].fillna(""),
            t("ws_hidden", lang): obs["hidden"].astype(bool),
        }
    ).sort_values(t("time", lang), ascending=False)


def comparison(selected: list[str], workshops: pd.DataFrame, districts: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    obs = observations(selected)
    return perception_mod.workshop_comparison(obs, workshops[workshops["id"].isin(selected)], districts, lang=lang)


def perception(visible: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, figures: pd.DataFrame) -> gpd.GeoDataFrame:
    counts = figures.set_index("code")["incidents"]
    return perception_mod.perception_by_district(visible, districts, counts)


def perception_table(p: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("col_name", lang): p["name"],
            t("unsafe_per_1000", lang): p["unsafe_per_1000"].round(2),
            term(domain.FEELINGS, "unsafe", lang): p["unsafe"],
            term(domain.FEELINGS, "safe", lang): p["safe"],
            t("m_incidents_per_1000", lang): p["incidents_per_1000"].round(1),
            t("col_incidents", lang): p["incidents"],
            "Δ z": p["discrepancy"].round(2),
            "": p["kind"].map(lambda k: t(f"disc_{k}", lang)),
        }
    ).sort_values("Δ z", ascending=False)


# -- projector and handout -------------------------------------------------------------

def join_target(code: str) -> str:
    """The address participants open (the app's own address with ?join=CODE)."""
    try:
        url = st.context.url
    except Exception:  # no request context
        url = None
    base = str(url).split("?")[0].rsplit("/", 1)[0] if url else ""
    return f"{base}/?join={code}" if base else f"?join={code}"


def qr_png(code: str) -> bytes:
    """A QR code of the join address as PNG, drawn here (no web service)."""
    buffer = io.BytesIO()
    segno.make(join_target(code), error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def handout_html(workshop: pd.Series, visible: gpd.GeoDataFrame, perception: gpd.GeoDataFrame, filters: list[str], lang: str, demo: bool) -> str:
    metric = perception.to_crs(domain.METRIC_CRS)
    size = 520
    transform = svg_transform(metric, size)

    shapes = "".join(
        f'<path d="{svg_path(g, transform)}" fill="{DISC_COLOURS.get(k, "#eee")}" stroke="#555" stroke-width="0.8"><title>{html.escape(str(n))}</title></path>'
        for g, k, n in zip(metric.geometry, metric["kind"], metric["name"])
    )
    pts = visible.to_crs(domain.METRIC_CRS) if len(visible) else visible
    dots = ""
    for geom, feeling in zip(getattr(pts, "geometry", []), visible.get("feeling", [])):
        x, y = transform(np.array([[geom.x, geom.y]]))[0]
        dots += f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{FEELING_COLOURS.get(feeling, "#777")}" stroke="#fff" stroke-width="0.5"/>'
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}">{shapes}{dots}</svg>'
    reasons = perception_mod.reasons_summary(visible) if len(visible) else pd.Series(dtype=int)
    reason_rows = "".join(f"<tr><td>{html.escape(term(domain.REASONS, k, lang))}</td><td>{int(v)}</td></tr>" for k, v in reasons.items())
    top = perception.sort_values("discrepancy", ascending=False).head(10)
    top_rows = "".join(
        f"<tr><td>{html.escape(str(r.name))}</td><td>{html.escape(t('disc_' + r.kind, lang))}</td><td>{int(r.unsafe)}</td><td>{html.escape(fmt(r.incidents, lang))}</td></tr>"
        for r in top.itertuples()
    )
    counts = visible["feeling"].value_counts() if len(visible) else pd.Series(dtype=int)
    demo_note = f"<p><b>{html.escape(t('demo_badge', lang).replace('**', ''))}</b></p>" if demo else ""
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(str(workshop['title']))}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid #bbb;padding:0.2em 0.5em}}</style></head><body>
<h1>Safe-City-Lab: {html.escape(str(workshop['title']))}</h1>
<p>{html.escape(str(workshop['date']))} · {t('ws_code', lang)} {html.escape(str(workshop['code']))} · {t('report_made', lang)} {datetime.now().strftime('%d.%m.%Y %H:%M')}</p>
{demo_note}
<p>{html.escape(term(domain.FEELINGS, 'unsafe', lang))}: {int(counts.get('unsafe', 0))} · {html.escape(term(domain.FEELINGS, 'safe', lang))}: {int(counts.get('safe', 0))}</p>
{svg}
<h2>{html.escape(t('ws_discrepancy', lang))}</h2>
<table><tr><th>{html.escape(t('col_name', lang))}</th><th></th><th>{html.escape(term(domain.FEELINGS, 'unsafe', lang))}</th><th>{html.escape(t('col_incidents', lang))}</th></tr>{top_rows}</table>
<h2>{html.escape(t('ws_reasons', lang))}</h2><table>{reason_rows}</table>
<h2>{html.escape(t('active_filters', lang))}</h2><ul>{''.join(f'<li>{html.escape(f)}</li>' for f in filters)}</ul>
</body></html>"""
