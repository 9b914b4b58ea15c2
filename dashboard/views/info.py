"""Data and sources page: what is in the store, where it comes from, licences.

The provenance of a layer (source, e.g. an import's file name, and retrieval time) is shown only to
roles that see that layer (``User.policy``): meeting points only to council and admin, the public
view only the district layer and the police figures.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache, tables, ui
from dashboard.i18n import t

lang = ui.current_language()
st.title(t("page_info", lang))
ctx = ui.context(lang, "info")

# the map layer (policy key) each stored layer belongs to; layers not listed count as restricted
LAYER_OF = {
    "districts": "districts",
    "crime_stats": "districts",
    "green_spaces": "green",
    "patrols": "coverage",
    "incidents": "incidents",
    "facilities": "facilities",
    "meeting_points": "meeting",
}


def visible_sources(sources, policy):
    if not len(sources):
        return sources
    full = policy.meeting_points and policy.incident_points

    def allowed(layer) -> bool:
        key = LAYER_OF.get(str(layer))
        if key is None:
            return full
        if key == "meeting":
            return policy.meeting_points and key in policy.layers
        return key in policy.layers

    return sources[sources["layer"].map(allowed)].reset_index(drop=True)


st.subheader(t("sources_title", lang))
sources = visible_sources(cache.sources(ctx.location, ctx.version), ctx.policy)
if len(sources):
    tables.show(tables.sources_table(sources, lang), lang)
else:
    st.info(t("no_data", lang))

st.markdown(
    """
- **Kriminalitätsatlas 2025 (Polizei Sachsen)**, Großstädte, Tabelle Chemnitz: polizeilich registrierte Fälle
  und Häufigkeitszahl je Stadtteil. Die Einwohnerzahlen sind daraus zurückgerechnet (Fälle / HZ × 100.000),
  eine Schätzung, nicht das Melderegister.
- **Stadt Chemnitz, Open-Data-Portal**: Stadtteile (Codes, Namen, Lagepunkte, Flächen),
  Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0).
- **Hintergrundkarte**: basemap.de (BKG, CC BY 4.0) oder OpenStreetMap (© OpenStreetMap-Mitwirkende, ODbL), einstellbar.
- **Demo-Daten**: Stadtteilflächen sind schematisch (Voronoi-Zellen um die Lagepunkte), Vorfälle und Streifen sind
  erzeugt{meeting}.
""".format(meeting=", Treffpunkte sind **fiktiv** und liegen nicht an realen Adressen" if ctx.policy.meeting_points else "")
    if lang == "de"
    else """
- **Kriminalitätsatlas 2025 (Polizei Sachsen)**, large cities, Chemnitz table: police-recorded cases and crime rate
  per district. Population is back-calculated from them (cases / rate × 100,000), an estimate, not the register.
- **City of Chemnitz open-data portal**: districts (codes, names, points, areas), dl-de/by-2-0.
- **Basemap**: basemap.de (BKG, CC BY 4.0) or OpenStreetMap (© OpenStreetMap contributors, ODbL), configurable.
- **Demo data**: district shapes are schematic (Voronoi cells around the points), incidents and patrols are
  generated{meeting}.
""".format(meeting=", meeting points are **fictitious** and not at real addresses" if ctx.policy.meeting_points else "")
)
