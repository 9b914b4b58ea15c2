"""Domain model: layers, categories, sources, patrol units and modes.

Every vocabulary has a stable machine key (stored in the data) and labels in
German and English for the UI. Importers accept the German label as well.
"""

from __future__ import annotations

from dataclasses import dataclass

# Coordinate reference systems: everything is measured in ETRS89 / UTM 33N,
# the CRS Saxon offices use; the store and the browser use WGS84.
METRIC_CRS = "EPSG:25833"
STORE_CRS = "EPSG:4326"
LOCAL_TZ = "Europe/Berlin"

# A generous bounding box around the city of Chemnitz (lon/lat). Anything
# outside is rejected on import as "outside Chemnitz".
CHEMNITZ_BBOX = (12.70, 50.70, 13.10, 50.93)
CHEMNITZ_CENTER = (50.8323, 12.9253)  # lat, lon (Markt)

DEFAULT_CENTRE_DISTRICT = "Zentrum"


@dataclass(frozen=True)
class Term:
    key: str
    de: str
    en: str

    def label(self, lang: str = "de") -> str:
        return self.en if lang == "en" else self.de


def _vocab(*terms: Term) -> dict[str, Term]:
    return {t.key: t for t in terms}


CATEGORIES = _vocab(
    Term("verbal_violence", "Verbale Gewalt", "Verbal violence"),
    Term("racist_insult", "Rassistische Beleidigung", "Racist insult"),
    Term("sexist_insult", "Sexistische Beleidigung", "Sexist insult"),
    Term("degrading_insult", "Herabwürdigende Beleidigung", "Degrading insult"),
    Term("far_right_propaganda", "Rechtsextreme Propaganda", "Far-right propaganda"),
    Term("far_right_violence", "Rechtsextreme Gewalt", "Far-right violence"),
    Term("physical_violence", "Körperliche Gewalt", "Physical violence"),
    Term("property_damage", "Sachbeschädigung", "Property damage"),
    Term("drugs", "Drogen", "Drugs"),
    Term("disorder", "Ordnungsstörung", "Disorder"),
)

SOURCES = _vocab(
    Term("ordnungsdienst", "Stadtordnungsdienst", "Municipal order service"),
    Term("police", "Polizei", "Police"),
    Term("complaint_office", "Beschwerdestelle", "Complaint office"),
    Term("chronicle", "Chronik (Zivilgesellschaft)", "Civil-society chronicle"),
    Term("workshop", "Safe-City-Lab-Workshop", "Safe-City-Lab workshop"),
)

UNITS = _vocab(
    Term("ordnungsdienst", "Stadtordnungsdienst", "Municipal order service"),
    Term("security", "Sicherheitsdienst (beauftragt)", "Contracted security firm"),
    Term("joint", "Gemeinsame Streife mit Polizei", "Joint patrol with police"),
)

MODES = _vocab(
    Term("foot", "zu Fuß", "on foot"),
    Term("bike", "Fahrrad", "bike"),
    Term("vehicle", "Fahrzeug", "vehicle"),
)

# Reach of a patrol by mode, in metres (buffer around track, area or post).
DEFAULT_REACH_M = {"foot": 150.0, "bike": 250.0, "vehicle": 400.0}

MEETING_STATUS = _vocab(
    Term("active", "aktiv", "active"),
    Term("closed", "geschlossen", "closed"),
)

GREEN_KINDS = _vocab(
    Term("park", "Park", "Park"),
    Term("forest", "Wald", "Forest"),
    Term("cemetery", "Friedhof", "Cemetery"),
    Term("playground", "Spielplatz", "Playground"),
    Term("recreation_ground", "Freizeitanlage", "Recreation ground"),
)

FACILITY_KINDS = _vocab(
    Term("youth_club", "Offene Jugendarbeit", "Open youth work"),
    Term("school_social_work", "Schulsozialarbeit", "School social work"),
    Term("counselling", "Beratung", "Counselling"),
    Term("youth_vocational", "Jugendberufshilfe", "Youth vocational support"),
    Term("school", "Schule", "School"),
)

WEEKDAYS = [
    Term("0", "Mo", "Mon"),
    Term("1", "Di", "Tue"),
    Term("2", "Mi", "Wed"),
    Term("3", "Do", "Thu"),
    Term("4", "Fr", "Fri"),
    Term("5", "Sa", "Sat"),
    Term("6", "So", "Sun"),
]

# Safe-City-Lab workshops: what participants record
FEELINGS = _vocab(
    Term("unsafe", "fühle mich unsicher", "feel unsafe"),
    Term("safe", "fühle mich sicher", "feel safe"),
)

REASONS = _vocab(
    Term("poor_lighting", "schlechte Beleuchtung", "poor lighting"),
    Term("deserted", "menschenleer", "deserted"),
    Term("groups", "Gruppen", "groups"),
    Term("harassment", "Belästigung", "harassment"),
    Term("far_right", "rechtsextreme Präsenz", "far-right presence"),
    Term("traffic", "Verkehr", "traffic"),
    Term("drugs", "Drogen", "drugs"),
    Term("neglect", "Verwahrlosung, Müll", "neglect, litter"),
    Term("lively", "belebt, gut einsehbar", "lively, open to view"),
    Term("other", "Sonstiges", "other"),
)

TIMES_OF_DAY = _vocab(
    Term("morning", "morgens", "morning"),
    Term("day", "tagsüber", "daytime"),
    Term("evening", "abends", "evening"),
    Term("night", "nachts", "at night"),
    Term("always", "immer", "always"),
)

COMMENT_MAX = 280

LAYERS = (
    "districts",
    "green_spaces",
    "patrols",
    "incidents",
    "meeting_points",
    "facilities",
)
TABLES = ("crime_stats",)

# Layers whose content is sensitive (see the access rules in the README).
SENSITIVE_LAYERS = ("meeting_points",)


def resolve_term(vocab: dict[str, Term], value: object) -> str | None:
    """Map a key or a German/English label (any case) to its key, else None."""
    if value is None:
        return None
    text = str(value).strip()
    if text in vocab:
        return text
    folded = text.casefold()
    for term in vocab.values():
        if folded in (term.key.casefold(), term.de.casefold(), term.en.casefold()):
            return term.key
    return None
