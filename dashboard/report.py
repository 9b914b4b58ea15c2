"""A printable report (self-contained HTML) of the gap ranking for a council meeting.

The map is an inline SVG drawn from the district geometries, so the report
needs nothing from the network and prints as it looks. Every text is escaped.
"""

from __future__ import annotations

import html

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import formats
from dashboard.i18n import gap_definitions, t
from geodata import gaps, presence
from geodata.domain import METRIC_CRS

GAP_COLOURS = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"]
SIZE = 560


def _fmt(value, lang: str, decimals: int = 0) -> str:
    return formats.number(value, lang, decimals)


def svg_transform(metric: gpd.GeoDataFrame, size: int = SIZE):
    """A function mapping EPSG:25833 coordinates of ``metric`` into an SVG box of ``size`` pixels."""
    minx, miny, maxx, maxy = metric.total_bounds
    scale = (size - 20) / max(maxx - minx, maxy - miny)

    def transform(xy):
        return np.column_stack([10 + (xy[:, 0] - minx) * scale, 10 + (maxy - xy[:, 1]) * scale])

    return transform


def svg_path(geom, transform) -> str:
    """SVG path data of a (Multi)Polygon, holes included."""
    parts = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = transform(np.asarray(ring.coords))
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + " Z")
    return " ".join(parts)


def svg_map(table: gpd.GeoDataFrame, lang: str) -> str:
    """Districts coloured by gap score, labelled with their rank."""
    metric = table.to_crs(METRIC_CRS)
    transform = svg_transform(metric)
    scores = metric.loc[metric["rank"].notna(), "gap_score"].astype(float)
    breaks = np.unique(np.quantile(scores, np.linspace(0, 1, len(GAP_COLOURS) + 1)[1:])) if len(scores) else np.array([])
    shapes, labels = [], []
    for _, row in metric.iterrows():
        if not row["in_scope"]:
            fill = "#eeeeee"
        elif pd.isna(row["rank"]):
            fill = "#d9d9d9"
        else:
            idx = int(np.searchsorted(breaks, float(row["gap_score"]), side="left")) if len(breaks) else 0
            fill = GAP_COLOURS[-len(breaks):][min(idx, len(breaks) - 1)] if len(breaks) else GAP_COLOURS[0]
        title = html.escape(f"{row['name']} ({row['code']})")
        shapes.append(f'<path d="{svg_path(row.geometry, transform)}" fill="{fill}" stroke="#555" stroke-width="0.8"><title>{title}</title></path>')
        if not pd.isna(row["rank"]):
            p = row.geometry.representative_point()
            x, y = transform(np.array([[p.x, p.y]]))[0]
            labels.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="middle" dominant-baseline="middle">{int(row["rank"])}</text>')
    legend = "".join(
        f'<rect x="{10 + i * 36}" y="{SIZE + 6}" width="34" height="10" fill="{c}" stroke="#555" stroke-width="0.5"/>'
        for i, c in enumerate(GAP_COLOURS)
    )
    caption = html.escape(t("report_map_caption", lang))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE + 40}" width="{SIZE}" height="{SIZE + 40}" role="img" aria-label="{caption}">'
        + "".join(shapes) + "".join(labels) + legend
        + f'<text x="{10 + len(GAP_COLOURS) * 36 + 6}" y="{SIZE + 15}" font-size="11">{caption}</text></svg>'
    )


def ranking_rows(ranking: pd.DataFrame, lang: str, meeting: bool = True) -> str:
    rows = []
    for _, r in ranking.iterrows():
        cells = [
            _fmt(r["rank"], lang),
            html.escape(f"{r['name']} ({r['code']})"),
            _fmt(r["population"], lang),
            formats.percent(r["coverage_share"], lang),
            _fmt(r["incidents"], lang),
            _fmt(r["incidents_uncovered"], lang),
            _fmt(r["gap_score"], lang, 1) + (" *" if r["too_small"] else ""),
            _fmt(r["incidents_patrol_nearby"], lang),
            formats.percent(r["incident_share"], lang),
            formats.percent(r["patrol_hour_share"], lang),
            formats.percent(r["green_coverage_share"], lang),
        ] + ([_fmt(r["meeting_points_uncovered"], lang)] if meeting else [])
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "".join(rows)


def report_html(
    table: gpd.GeoDataFrame, ranking: pd.DataFrame, filters: list[str], lang: str, demo: bool, policy=None, definitions: list[str] | None = None
) -> str:
    """The whole report as one HTML document (meeting points and small counts only as the policy allows).

    ``definitions``: the "Begriffe" with the configured values (``i18n.gap_definitions``).
    """
    meeting = policy is None or policy.meeting_points
    if policy is not None:
        ranking = policy.suppress(ranking, ["incidents", "incidents_uncovered", "incidents_patrol_nearby"])
    keys = ["rank", "col_name", "col_population", "col_coverage", "col_incidents", "col_uncovered", "col_gap", "col_nearby",
            "col_inc_share", "col_hour_share", "col_green_cov"]
    head = [t(k, lang) for k in keys + (["col_meeting_uncovered"] if meeting else [])]
    stamp = formats.now(lang)
    demo_note = f'<p class="demo">{html.escape(t("demo_badge", lang).replace("**", ""))}</p>' if demo else ""
    filter_items = "".join(f"<li>{html.escape(f)}</li>" for f in filters)
    if definitions is None:
        definitions = gap_definitions(lang, presence.DEFAULT_GRID_M, presence.DEFAULT_REGULAR_SHARE, gaps.DEFAULT_TOLERANCE_MIN)
    definitions = "".join(f"<li>{html.escape(d)}</li>" for d in definitions)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{html.escape(t("report_title", lang))}</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
 h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
 .demo {{ background: #fff3cd; padding: 0.5em; border: 1px solid #e0c36c; }}
 table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
 th, td {{ border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; }}
 th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
 .cols {{ display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }}
 @media print {{ body {{ margin: 1cm; }} .cols {{ display: block; }} }}
</style></head><body>
<h1>{html.escape(t("report_title", lang))}</h1>
<p>{html.escape(t("report_made", lang))} {stamp}</p>
{demo_note}
<div class="cols"><div>{svg_map(table, lang)}</div>
<div><h2>{html.escape(t("active_filters", lang))}</h2><ul>{filter_items}</ul>
<h2>{html.escape(t("definitions", lang))}</h2><ul>{definitions}</ul></div></div>
<h2>{html.escape(t("gap_ranking", lang))}</h2>
<table><thead><tr>{"".join(f"<th>{html.escape(h)}</th>" for h in head)}</tr></thead>
<tbody>{ranking_rows(ranking, lang, meeting)}</tbody></table>
<p>* {html.escape(t("small_note_gap", lang))}</p>
<p>{html.escape(t("crime_source", lang))}</p>
</body></html>"""
