"""UI strings in German (default) and English."""

from __future__ import annotations

from geodata import domain

LANGS = ("de", "en")

_T: dict[str, tuple[str, str]] = {
    "app_title": ("Präventionsatlas Chemnitz", "Prevention Atlas Chemnitz"),
    "page_map": ("Karte", "Map"),
    "page_info": ("Daten & Quellen", "Data & sources"),
    "demo_badge": (
        "**Demo-Daten**: schematische Stadtteile, erzeugte Vorfälle und Streifen, fiktive Treffpunkte. Kein reales Lagebild.",
        "**Demo data** (Demo-Daten): schematic districts, generated incidents and patrols, fictitious meeting points. Not a real situation report.",
    ),
    "demo_created": ("Der Datenspeicher war leer: Demo-Daten wurden erzeugt.", "The store was empty: demo data was created."),
    "filters": ("Filter", "Filters"),
    "language": ("Sprache", "Language"),
    "date_range": ("Zeitraum", "Date range"),
    "hour_from": ("Uhrzeit von", "Hour from"),
    "hour_to": ("bis (ausschl.)", "to (excl.)"),
    "hours_wrap": ("über Mitternacht", "across midnight"),
    "hours_all": ("ganzer Tag", "whole day"),
    "weekdays": ("Wochentage", "Weekdays"),
    "workdays": ("Mo–Fr", "Mon–Fri"),
    "weekend": ("Sa–So", "Sat–Sun"),
    "all_days": ("Alle", "All"),
    "categories": ("Kategorien", "Categories"),
    "sources": ("Quellen", "Sources"),
    "units": ("Streifen: Einheit", "Patrols: unit"),
    "modes": ("Streifen: Art", "Patrols: mode"),
    "districts": ("Stadtteile", "Districts"),
    "all": ("alle", "all"),
    "outside_centre": ("nur außerhalb des Zentrums", "outside the centre only"),
    "reset": ("Filter zurücksetzen", "Reset filters"),
    "share_hint": (
        "Die Adresse dieser Seite enthält alle Filter: kopieren und teilen.",
        "This page's address holds all filters: copy it to share the view.",
    ),
    "metric": ("Einfärbung der Stadtteile", "District colouring"),
    "m_incidents_per_1000": ("Vorfälle je 1.000 Einw.", "Incidents per 1,000 inhabitants"),
    "m_incidents_per_km2": ("Vorfälle je km²", "Incidents per km²"),
    "m_coverage_share": ("Streifenabdeckung (Anteil Fläche)", "Patrol coverage (share of area)"),
    "m_crime_rate": ("Polizeiliche Häufigkeitszahl (Fälle je 100.000 Einw.)", "Police crime rate (cases per 100,000)"),
    "layers": ("Ebenen", "Layers"),
    "l_districts": ("Stadtteile", "Districts"),
    "l_green": ("Grünflächen (Farbe: Anteil bestreift)", "Green spaces (colour: share patrolled)"),
    "l_coverage": ("Streifenabdeckung im Zeitfenster", "Patrol coverage in the time window"),
    "l_incidents": ("Gemeldete Vorfälle", "Reported incidents"),
    "l_meeting": ("Rechtsextreme Treffpunkte", "Far-right meeting points"),
    "l_facilities": ("Jugend- und Präventionsangebote", "Youth and prevention offers"),
    "kpi_incidents": ("Vorfälle im Filter", "Incidents in filter"),
    "kpi_coverage": ("Fläche bestreift", "Area patrolled"),
    "kpi_shifts": ("Aktive Schichten", "Active shifts"),
    "kpi_green": ("Grünfläche bestreift", "Green space patrolled"),
    "kpi_outside": ("davon außerhalb Zentrum", "of which outside centre"),
    "map_hint_hex": (
        "Vorfälle als Sechsecke (Anzahl je Zelle); ab Zoomstufe 15 einzelne Punkte.",
        "Incidents as hexagons (count per cell); individual points from zoom level 15.",
    ),
    "map_hint_points": ("Einzelne Vorfälle im Kartenausschnitt.", "Individual incidents in view."),
    "district_panel": ("Stadtteil", "District"),
    "click_district": (
        "Klicken Sie auf einen Stadtteil in der Karte oder wählen Sie ihn hier.",
        "Click a district on the map or choose it here.",
    ),
    "choose_district": ("Stadtteil wählen", "Choose district"),
    "none": ("—", "—"),
    "by_category": ("Vorfälle nach Kategorie", "Incidents by category"),
    "by_hour": ("Vorfälle nach Uhrzeit", "Incidents by hour of day"),
    "table": ("Stadtteile im Vergleich", "Districts compared"),
    "download_csv": ("Tabelle als CSV herunterladen", "Download table as CSV"),
    "col_code": ("Nr.", "Code"),
    "col_name": ("Stadtteil", "District"),
    "col_population": ("Einwohner (Schätzung)", "Population (estimate)"),
    "col_area": ("Fläche km²", "Area km²"),
    "col_incidents": ("Vorfälle", "Incidents"),
    "col_per_1000": ("je 1.000 Einw.", "per 1,000"),
    "col_per_km2": ("je km²", "per km²"),
    "col_coverage": ("Abdeckung %", "Coverage %"),
    "col_green_cov": ("Grünfl. bestreift %", "Green patrolled %"),
    "col_meeting": ("Treffpunkte (aktiv)", "Meeting points (active)"),
    "col_facilities": ("Angebote", "Offers"),
    "col_crime_cases": ("Pol. Fälle", "Police cases"),
    "col_crime_rate": ("Häufigkeitszahl", "Crime rate"),
    "col_small": ("n < 5", "n < 5"),
    "small_note": (
        "Weniger als 5 Vorfälle: zu wenige für einen Vergleich.",
        "Fewer than 5 incidents: too few to compare.",
    ),
    "centre": ("Zentrum", "Centre"),
    "count": ("Anzahl", "Count"),
    "hour": ("Stunde", "Hour"),
    "category": ("Kategorie", "Category"),
    "source": ("Quelle", "Source"),
    "time": ("Zeit", "Time"),
    "description": ("Beschreibung", "Description"),
    "label": ("Bezeichnung", "Label"),
    "kind": ("Art", "Kind"),
    "status": ("Status", "Status"),
    "last_confirmed": ("zuletzt bestätigt", "last confirmed"),
    "name": ("Name", "Name"),
    "coverage": ("Abdeckung", "Coverage"),
    "crime_source": (
        "Polizeiliche Zahlen: Kriminalitätsatlas 2025 (Polizei Sachsen).",
        "Police figures: Kriminalitätsatlas 2025 (Polizei Sachsen).",
    ),
    "basemap": ("Hintergrundkarte", "Basemap"),
    "no_data": ("Keine Daten im Filter.", "No data in the filter."),
    "sources_title": ("Datenquellen im Speicher", "Data sources in the store"),
    "page_import": ("Daten importieren", "Import data"),
    "import_intro": (
        "Eine Datei (GeoJSON, GeoPackage, gezipptes Shapefile, GPX, CSV – auch deutscher Export mit ; und Dezimalkomma) "
        "wird vollständig geprüft. Erst nach der Vorschau wird sie übernommen; bei einem Fehler bleibt der Datenspeicher unverändert.",
        "A file (GeoJSON, GeoPackage, zipped Shapefile, GPX, CSV – German exports with ; and decimal comma too) is checked "
        "completely. It is stored only after the preview; on any error the store stays as it was.",
    ),
    "layer": ("Ebene", "Layer"),
    "file": ("Datei", "File"),
    "mode_replace": ("Ebene ersetzen", "Replace layer"),
    "mode_append": ("an Ebene anhängen", "Append to layer"),
    "licence": ("Lizenz der Daten", "Licence of the data"),
    "patrol_defaults": ("Für Dateien ohne Einheit/Art (GPX):", "For files without unit/mode (GPX):"),
    "check_failed": ("Die Datei kann nicht übernommen werden:", "The file cannot be imported:"),
    "preview": ("Vorschau (erste 50 Zeilen)", "Preview (first 50 rows)"),
    "summary": ("Zusammenfassung", "Summary"),
    "commit": ("Übernehmen", "Import now"),
    "imported": ("Übernommen.", "Imported."),
    "fetch_title": ("Aus offizieller Quelle laden", "Load from the official source"),
    "fetch_intro": (
        "Lädt eine Ebene neu aus ihrer Quelle (Open-Data-Portal der Stadt, OpenStreetMap, Kriminalitätsatlas) und ersetzt sie.",
        "Reloads a layer from its source (city open-data portal, OpenStreetMap, police atlas) and replaces it.",
    ),
    "fetch_button": ("Laden", "Load"),
    "fetch_failed": ("Nicht geladen, Datenspeicher unverändert:", "Not loaded, store unchanged:"),
    "rows": ("Zeilen", "rows"),
    "meeting_sensitive": (
        "Sensible Ebene: Treffpunkte nur im geschützten Rahmen zeigen.",
        "Sensitive layer: show meeting points only in a protected setting.",
    ),
}


def t(key: str, lang: str = "de") -> str:
    de, en = _T[key]
    return en if lang == "en" else de


def term(vocab: dict[str, domain.Term], key: str, lang: str = "de") -> str:
    item = vocab.get(key)
    return item.label(lang) if item else key
