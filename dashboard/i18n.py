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
    "workdays_short": ("Mo–Fr", "Mo–Fr"),  # buttons in the narrow sidebar
    "weekend_short": ("Sa–So", "Sa–Su"),
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
    "m_coverage_share": ("Regelmäßige Streife (Anteil Fläche × Stunden)", "Regular patrol (share of area × hours)"),
    "m_crime_rate": ("Polizeiliche Häufigkeitszahl (Fälle je 100.000 Einw.)", "Police crime rate (cases per 100,000)"),
    "layers": ("Ebenen", "Layers"),
    "l_districts": ("Stadtteile", "Districts"),
    "l_green": ("Grünflächen (Schraffur: kaum bestreift)", "Green spaces (hatching: rarely patrolled)"),
    "l_coverage": ("regelmäßige Streife im Filter (hell: einzelne Stunden, kräftig: mind. die Hälfte)", "regular patrol in the filter (light: some hours, strong: at least half)"),
    "l_incidents": ("Gemeldete Vorfälle", "Reported incidents"),
    "l_meeting": ("Rechtsextreme Treffpunkte", "Far-right meeting points"),
    "l_facilities": ("Jugend- und Präventionsangebote", "Youth and prevention offers"),
    "map_home": ("Zurück nach Chemnitz", "Back to Chemnitz"),
    "map_wheel_hint": ("Zoomen: Strg (⌘) + Mausrad – oder erst in die Karte klicken", "To zoom: Ctrl (⌘) + scroll – or click the map first"),
    "lg_hex": ("Vorfälle je Sechseck (Anzahl)", "Incidents per hexagon (count)"),
    "lg_point": ("einzelner Vorfall (anklicken für Details)", "single incident (click for details)"),
    "lg_green": ("Grünflächen: regelmäßig bestreift", "Green spaces: regularly patrolled"),
    "lg_green_none": ("{share} – dicht schraffiert", "{share} – dense hatching"),
    "lg_green_part": ("unter {share} – locker schraffiert", "under {share} – sparse hatching"),
    "lg_green_most": ("mindestens {share} – ohne Schraffur", "at least {share} – no hatching"),
    "lg_coverage": ("Regelmäßige Streife (blau)", "Regular patrol (blue)"),
    "lg_hot": ("Brennpunkt: dicker Rand", "Hotspot: thick outline"),
    "lg_hot_outside": ("schraffiert: meist ohne Streife (über die Hälfte der Vorfälle)", "hatched: mostly uncovered (over half of the incidents)"),
    "lg_selected": ("gewählter Stadtteil", "selected district"),
    "lg_symbols": ("Zeichen", "Symbols"),
    "kpi_incidents": ("Vorfälle im Filter", "Incidents in filter"),
    "kpi_coverage": ("Regelmäßig bestreift (Fläche × Stunden)", "Regularly patrolled (area × hours)"),
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
    "col_green_cov": ("Grünfl. regelmäßig bestreift %", "Green regularly patrolled %"),
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
    "src_licence": ("Lizenz", "Licence"),
    "src_demo": ("Demo-Daten", "Demo data"),
    "src_retrieved": ("Stand (Ortszeit)", "Retrieved (local time)"),
    "store_districts": ("Stadtteile", "Districts"),
    "store_crime_stats": ("Polizeiliche Zahlen je Stadtteil", "Police figures per district"),
    "store_green_spaces": ("Grünflächen", "Green spaces"),
    "store_patrols": ("Streifen", "Patrols"),
    "store_incidents": ("Vorfälle", "Incidents"),
    "store_facilities": ("Jugend- und Präventionsangebote", "Youth and prevention offers"),
    "store_meeting_points": ("Treffpunkte", "Meeting points"),
    "prov_demo_source": (
        "Erzeugte Demo-Daten (Demo-Generator des Präventionsatlas): schematische Stadtteilflächen, erfundene Vorfälle, "
        "Streifen und Angebote sowie fiktive Treffpunkte. Erzeugt nur aus Angaben der Polizei Sachsen, Kriminalitätsatlas 2025 "
        "(Fallzahlen je Stadtteil), und aus offenen Daten der Stadt Chemnitz (Stadtteilcodes, Namen, Lagepunkte, Flächen).",
        "Generated demo data (Präventionsatlas demo generator): schematic district shapes, invented incidents, patrols and "
        "facilities, and fictitious meeting points. Built only from the facts of Polizei Sachsen, Kriminalitätsatlas 2025 "
        "(case counts per Stadtteil) and Stadt Chemnitz open data (district codes, names, representative points, areas).",
    ),
    "prov_demo_licence": (
        "dl-de/by-2-0 (Angaben: Polizei Sachsen, Stadt Chemnitz); erzeugte Daten nur zur Demonstration",
        "dl-de/by-2-0 (facts: Polizei Sachsen, Stadt Chemnitz); generated data for demonstration only",
    ),
    "prov_file_import": ("Dateiimport: {name}", "file import: {name}"),
    "prov_workshop": ("Beiträge aus Safe-City-Lab-Workshops", "Safe-City-Lab workshop input"),
    "prov_internal": ("intern", "internal"),
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
    "page_gaps": ("Lücken", "Gaps"),
    "gaps_intro": (
        "Wo passieren Vorfälle, während niemand Streife geht? Alles folgt den Filtern links.",
        "Where do incidents happen while nobody patrols? Everything follows the filters on the left.",
    ),
    "rank": ("Rang", "Rank"),
    "col_uncovered": ("ohne Streife", "uncovered"),
    "col_gap": ("Lückenwert (je 1.000 Einw.)", "Gap score (per 1,000)"),
    "col_meeting_uncovered": ("aktive Treffpunkte ohne Streife", "active meeting points uncovered"),
    "gap_ranking": ("Stadtteile nach Lückenwert", "Districts by gap score"),
    "small_note_gap": (
        "Weniger als 5 Vorfälle ohne Streife: zu wenige für einen Rang.",
        "Fewer than 5 uncovered incidents: too few to rank.",
    ),
    "heatmap_title": ("Wann passiert etwas, während niemand unterwegs ist?", "When do things happen while nobody is out?"),
    "heatmap_scope": ("Gebiet", "Area"),
    "whole_city": ("ganze Stadt (im Filter)", "whole city (in filter)"),
    "hm_incidents": ("Vorfälle", "Incidents"),
    "hm_presence": ("Streifenstunden", "Patrol hours"),
    "hm_gap": ("Vorfälle ohne Streife", "Uncovered incidents"),
    "hotspots_title": ("Brennpunkte (Getis-Ord Gi*, FDR 5 %)", "Hotspots (Getis-Ord Gi*, FDR 5 %)"),
    "hotspots_none": ("Keine statistisch auffälligen Häufungen im Filter.", "No statistically significant clusters in the filter."),
    "hot_outside": ("meist ohne Streife (über die Hälfte der Vorfälle)", "mostly uncovered (over half of the incidents)"),
    "kpi_hot_outside": ("Brennpunkte ohne Streife", "Hotspots without patrol"),
    "kpi_uncovered": ("Vorfälle ohne Streife", "Incidents without patrol"),
    "green_title": ("Grünflächen nach Vorfällen und Abdeckung", "Green spaces by incidents and coverage"),
    "meeting_title": ("Treffpunkte: Abstand zu Angeboten, Abdeckung, Vorfälle im Umkreis", "Meeting points: distance to offers, coverage, incidents nearby"),
    "col_youth_m": ("nächste Jugendeinrichtung (m)", "nearest youth facility (m)"),
    "col_school_m": ("nächste Schule (m)", "nearest school (m)"),
    "col_covered": ("regelmäßig bestreift", "regularly patrolled"),
    "col_covered_share": ("davon regelmäßig bestreift %", "of which regularly patrolled %"),
    "col_nearby": ("Streife direkt in der Nähe", "patrol nearby"),
    "kpi_nearby": ("Streife in der Nähe ±{minutes} min", "Patrol nearby ±{minutes} min"),
    "col_inc_share": ("Anteil Vorfälle %", "share of incidents %"),
    "col_patrol_hours": ("Streifenstunden", "patrol hours"),
    "col_hour_share": ("Anteil Streifenstunden %", "share of patrol hours %"),
    "col_supply_ratio": ("Verhältnis Angebot/Bedarf", "supply / need"),
    "need_title": ("Bedarf und Angebot je Stadtteil", "Need and supply per district"),
    "need_note": (
        "Unter 1: weniger Streifenstunden, als dem Anteil an den Vorfällen entspräche. Anteile beziehen sich auf die Stadtteile im Filter.",
        "Below 1: fewer patrol hours than the district's share of the incidents. Shares are of the districts in the filter.",
    ),
    "l_coverage_some": ("regelmäßige Streife in einzelnen Stunden des Filters", "regular patrol in some hours of the filter"),
    "l_coverage_most": ("regelmäßige Streife in mindestens der Hälfte der Stunden", "regular patrol in at least half of the hours"),
    "col_near": ("Vorfälle im Umkreis 300 m", "incidents within 300 m"),
    "col_area_ha": ("Fläche ha", "Area ha"),
    "download_report": ("Bericht für die Sitzung (HTML, druckbar)", "Report for the meeting (HTML, printable)"),
    "report_title": ("Präventionsatlas Chemnitz – Streifenlücken", "Präventionsatlas Chemnitz – patrol gaps"),
    "report_made": ("Erstellt am", "Created"),
    "report_map_caption": ("Lückenwert: hell = gering, dunkel = hoch; Zahl = Rang", "Gap score: light = low, dark = high; number = rank"),
    "active_filters": ("Aktive Filter", "Active filters"),
    "definitions": ("Begriffe", "Definitions"),
    "def_footprint": (
        "Streifenbereich: GPS-Spur, Streifengebiet oder fester Posten einer Schicht, gepuffert um die Reichweite (zu Fuß 150 m, Rad 250 m, Fahrzeug 400 m).",
        "Patrol footprint: a shift's GPS track, patrol area or fixed post, buffered by its reach (foot 150 m, bike 250 m, vehicle 400 m).",
    ),
    "def_regular": (
        "Regelmäßige Streife: Die Stadt ist in Quadrate von {grid} m geteilt. Ein Quadrat hat in einer Wochenstunde (z. B. Freitag 22–23 Uhr) "
        "regelmäßig Streife, wenn dort in mindestens {share} der Wochen des Zeitraums eine Streife in Reichweite im Dienst war (mindestens 15 Minuten der Stunde).",
        "Regular patrol: the city is cut into squares of {grid} m. A square has a regular patrol in an hour of the week (e.g. Friday 22–23) "
        "when a patrol was within reach there, on duty, in at least {share} of the weeks of the period (at least 15 minutes of the hour).",
    ),
    "def_covered": (
        "Ohne Streife: Ein Vorfall ist „ohne Streife“, wenn an seinem Ort in seiner Wochenstunde keine regelmäßige Streife ist. "
        "Dieselbe Bedeutung gilt für Kennzahlen, Rangliste, Wochenraster, Brennpunkte, Grünflächen, Bericht und CSV.",
        "Uncovered: an incident is uncovered when there is no regular patrol at its place in its hour of the week. "
        "The same meaning holds for key figures, ranking, week grid, hotspots, green spaces, report and CSV.",
    ),
    "def_coverage": (
        "Abdeckung eines Gebiets: Anteil seiner Quadrate × Stunden im Filter mit regelmäßiger Streife.",
        "Coverage of an area: share of its squares × hours in the filter with a regular patrol.",
    ),
    "def_nearby": (
        "Streife direkt in der Nähe (strenger, zweiter Wert): Der Vorfall liegt im Streifenbereich einer Schicht, die bis zu {minutes} Minuten davor oder danach im Dienst war.",
        "Patrol nearby (stricter, second figure): the incident lies in the footprint of a shift on duty within {minutes} minutes of its time.",
    ),
    "def_gap": (
        "Lückenwert: Vorfälle ohne Streife je 1.000 Einwohner; Rang 1 = größte Lücke. Unter 5 Vorfällen kein Rang.",
        "Gap score: uncovered incidents per 1,000 inhabitants; rank 1 = worst gap. No rank below 5 incidents.",
    ),
    "def_presence": (
        "Streifenstunden: Dienststunden je Stadtteil und Wochenstunde (168 Felder), nach Flächenanteil des Streifenbereichs verteilt.",
        "Patrol hours: hours on duty per district and hour of the week (168 slots), spread by the footprint's area share.",
    ),
    "def_need": (
        "Bedarf und Angebot: Anteil eines Stadtteils an den Vorfällen im Filter neben seinem Anteil an den Streifenstunden im Filter.",
        "Need and supply: a district's share of the incidents in the filter beside its share of the patrol hours in the filter.",
    ),
    "filter_all": ("alle", "all"),
    "l_hotspots": ("Brennpunkte (Gi*)", "Hotspots (Gi*)"),
    "m_gap_score": ("Lückenwert (Vorfälle ohne Streife je 1.000 Einw.)", "Gap score (uncovered incidents per 1,000)"),
    "join_title": ("Safe-City-Lab: Workshop beitreten", "Safe-City-Lab: join a workshop"),
    "join_code": ("Code (6 Zeichen, steht auf dem Projektor)", "Code (6 characters, shown on the projector)"),
    "join_submit": ("Beitreten", "Join"),
    "join_unknown": ("Kein offener Workshop mit diesem Code.", "No open workshop with this code."),
    "page_workshop": ("Workshop", "Workshop"),
    "ws_create": ("Neuen Workshop anlegen", "Create a workshop"),
    "ws_title": ("Titel", "Title"),
    "ws_date": ("Datum", "Date"),
    "ws_focus": ("Stadtteile im Fokus", "Districts in focus"),
    "ws_created": ("Workshop angelegt.", "Workshop created."),
    "ws_choose": ("Workshops", "Workshops"),
    "ws_code": ("Beitritts-Code", "Join code"),
    "ws_join_hint": (
        "Teilnehmende öffnen die Adresse oder scannen den QR-Code und geben den Code ein. Keine Namen, keine Konten.",
        "Participants open the address or scan the QR code and enter the code. No names, no accounts.",
    ),
    "ws_open": ("offen für Beiträge", "open for input"),
    "ws_tap": ("Tippen Sie auf die Karte, wo Sie sich unsicher oder sicher fühlen.", "Tap the map where you feel unsafe or safe."),
    "ws_place": ("Ort", "Place"),
    "ws_no_place": ("Noch kein Ort gewählt: bitte auf die Karte tippen.", "No place chosen yet: please tap the map."),
    "ws_feeling": ("Wie fühlen Sie sich dort?", "How do you feel there?"),
    "ws_reasons": ("Gründe", "Reasons"),
    "ws_time": ("Wann?", "When?"),
    "ws_comment": ("Kommentar (freiwillig, ohne Namen)", "Comment (optional, no names)"),
    "ws_submit": ("Eintragen", "Submit"),
    "ws_saved": ("Danke, eingetragen.", "Thank you, recorded."),
    "ws_mine": ("Ihre Beiträge", "Your entries"),
    "ws_all": ("Beiträge im Workshop", "Entries in the workshop"),
    "ws_moderate": ("Moderation", "Moderation"),
    "ws_hidden": ("ausgeblendet", "hidden"),
    "ws_hide": ("Ausblenden", "Hide"),
    "ws_restore": ("Wieder einblenden", "Restore"),
    "ws_compare": ("Workshops im Vergleich", "Workshops compared"),
    "ws_discrepancy": ("Gefühlte Unsicherheit und erfasste Vorfälle", "Felt insecurity and recorded incidents"),
    "ws_disc_help": (
        "Je Stadtteil: Beiträge \"fühle mich unsicher\" je 1.000 Einwohner gegen erfasste Vorfälle je 1.000 Einwohner (mit den Filtern links).",
        "Per district: \"feel unsafe\" entries per 1,000 inhabitants against recorded incidents per 1,000 (with the filters on the left).",
    ),
    "disc_feels_unsafe_few_records": ("unsicher gefühlt, wenig erfasst", "feels unsafe, few records"),
    "disc_records_but_feels_safe": ("viel erfasst, sicher gefühlt", "many records, feels safe"),
    "disc_in_line": ("passt zusammen", "in line"),
    "disc_no_data": ("keine Daten", "no data"),
    "ws_export": ("Ergebnis exportieren", "Export the result"),
    "ws_handout": ("Handout (HTML, druckbar)", "Handout (HTML, printable)"),
    "unsafe_per_1000": ("unsicher je 1.000 Einw.", "unsafe per 1,000"),
    "present": ("Präsentationsmodus", "Presentation mode"),
    "present_exit": ("Präsentation beenden", "Leave presentation"),
    "demo_short": ("Demo-Daten, kein reales Lagebild", "Demo data, not a real situation report"),
    "filters_none": ("keine weiteren Filter", "no further filters"),
    "compare_add": ("Zum Vergleich hinzufügen", "Add to comparison"),
    "compare_title": ("Stadtteile vergleichen", "Compare districts"),
    "compare_choose": ("Bis zu drei Stadtteile", "Up to three districts"),
    "compare_placeholder": ("Stadtteile wählen", "Choose districts"),
    "compare_hint": (
        "Stadtteile hier wählen, in der Tabelle unten markieren oder auf der Karte anklicken und „Zum Vergleich hinzufügen“.",
        "Choose districts here, select rows in the table below, or click a district on the map and \"Add to comparison\".",
    ),
    "compare_figure": ("Kennzahl", "Figure"),
    "compare_city": ("Stadt (im Filter)", "City (in filter)"),
    "compare_by_category": ("Vorfälle je 1.000 Einw. nach Kategorie", "Incidents per 1,000 inhabitants by category"),
    "compare_by_hour": ("Anteil der Vorfälle nach Uhrzeit", "Share of incidents by hour"),
    "compare_note": (
        "Gleiche Filter für alle Spalten. Kleine Fallzahlen sind für Rollen unterhalb des Präventionsrats geschützt; Raten beruhen auf den gezeigten Zahlen.",
        "The same filters for every column. Small counts are protected for roles below the council; rates rest on the counts shown.",
    ),
    "table_select_hint": ("Zeilen markieren, um bis zu drei Stadtteile zu vergleichen.", "Select rows to compare up to three districts."),
    "views": ("Gespeicherte Ansichten", "Saved views"),
    "view_name": ("Name der Ansicht", "Name of the view"),
    "view_save": ("Ansicht speichern", "Save view"),
    "view_saved": ("Gespeichert.", "Saved."),
    "login_name": ("Name", "Name"),
    "login_password": ("Passwort", "Password"),
    "login_submit": ("Anmelden", "Sign in"),
    "login_sso": ("Mit Single Sign-on anmelden", "Sign in with single sign-on"),
    "sso_unknown": (
        "Diese Anmeldung ist keinem Konto zugeordnet. Bitte die Verwaltung fragen.",
        "This sign-in is not linked to an account. Please ask the administrators.",
    ),
    "login_public": ("Öffentliche Ansicht (nur Stadtteilzahlen)", "Public view (district figures only)"),
    "session_timed_out": ("Die Sitzung ist abgelaufen. Bitte erneut anmelden.", "The session has expired. Please sign in again."),
    "signed_in_as": ("Angemeldet:", "Signed in:"),
    "logout": ("Abmelden", "Sign out"),
    "role_admin": ("Verwaltung", "admin"),
    "role_council": ("Präventionsrat", "council"),
    "role_workshop": ("Workshop", "workshop"),
    "role_public": ("Öffentlich", "public"),
    "page_audit": ("Protokoll", "Audit log"),
    "audit_intro": (
        "Wer hat wann geschützte Ebenen angesehen, importiert, geändert oder gelöscht. Einträge können nicht geändert werden.",
        "Who viewed restricted layers, imported, changed or deleted what, and when. Entries cannot be changed.",
    ),
    "download_audit": ("Protokoll als CSV herunterladen", "Download the log as CSV"),
    "aggregated_note": (
        "Vorfälle nur zusammengefasst; Zahlen unter {k} werden nicht gezeigt.",
        "Incidents aggregated only; counts below {k} are not shown.",
    ),
    "meeting_sensitive": (
        "Sensible Ebene: Treffpunkte nur im geschützten Rahmen zeigen.",
        "Sensitive layer: show meeting points only in a protected setting.",
    ),
    "view_share": ("mit dem Präventionsrat teilen", "share with the council"),
    "view_shared_by": ("geteilt von", "shared by"),
    "view_is_shared": ("mit dem Präventionsrat geteilt", "shared with the council"),
    "view_open": ("Ansicht öffnen", "Open the view"),
    "view_delete": ("Ansicht löschen", "Delete the view"),
    "ws_account_title": ("Safe-City-Lab-Workshops", "Safe-City-Lab workshops"),
    "ws_account_note": (
        "Workshops anlegen, Beitritts-Codes zeigen, moderieren, vergleichen und exportieren kann der Präventionsrat "
        "(oder die Verwaltung). Zum Mitmachen öffnen Sie die Beitrittsadresse des Workshops oder scannen den QR-Code "
        "und geben den Code ein; Ihre Beiträge bleiben dabei anonym.",
        "Creating workshops, showing join codes, moderating, comparing and exporting are for the council (or admin). "
        "To take part, open the workshop's join address or scan its QR code and enter the code; your entries stay "
        "anonymous.",
    ),
    "ws_facilitators_only": ("Nur für den Präventionsrat.", "For the council only."),
    "import_again": (
        "Diese Datei wurde bereits übernommen. Um sie noch einmal zu importieren, wählen Sie sie erneut aus.",
        "This file has been imported. To import it again, choose it once more.",
    ),
    "login_failed": ("Name oder Passwort falsch.", "Wrong name or password."),
    "login_locked": (
        "Zu viele Fehlversuche. Anmeldung ab {time} Uhr wieder möglich.",
        "Too many failed attempts. You can sign in again from {time}.",
    ),
    "join_throttled": (
        "Zu viele falsche Codes. Beitreten ab {time} Uhr wieder möglich.",
        "Too many wrong codes. You can join again from {time}.",
    ),
    "session_ended": (
        "Sie wurden abgemeldet: Das Konto wurde entfernt oder deaktiviert.",
        "You have been signed out: the account was removed or disabled.",
    ),
    "session_revoked": (
        "Die Sitzung wurde beendet (abgemeldet, neues Passwort oder geänderte Rolle). Bitte erneut anmelden.",
        "The session has ended (signed out, new password or changed role). Please sign in again.",
    ),
    "role_changed": ("Ihre Rolle wurde geändert: {role}", "Your role has changed: {role}"),
}


# Weekday labels short enough for the filter buttons of the sidebar (Monday first).
WEEKDAYS_SHORT = {"de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"), "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")}


def weekday_short(day: int, lang: str = "de") -> str:
    return WEEKDAYS_SHORT["en" if lang == "en" else "de"][day]


def t(key: str, lang: str = "de") -> str:
    de, en = _T[key]
    return en if lang == "en" else de


GAP_DEFINITIONS = ("def_regular", "def_covered", "def_coverage", "def_nearby", "def_footprint", "def_presence", "def_need", "def_gap")


def gap_definitions(lang: str, grid_m: float, regular_share: float, tolerance_min: int) -> list[str]:
    """The "Begriffe" of the gap analysis with the configured values filled in."""
    share = f"{regular_share * 100:.0f} %"
    if lang == "de":
        share = share.replace(".", ",")
    values = {"grid": f"{grid_m:.0f}", "share": share, "minutes": str(int(tolerance_min))}
    return [t(k, lang).format(**values) for k in GAP_DEFINITIONS]


def term(vocab: dict[str, domain.Term], key: str, lang: str = "de") -> str:
    item = vocab.get(key)
    return item.label(lang) if item else key
