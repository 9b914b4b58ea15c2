"""Every text in the UI language: the council's pages in German show no English, and in English no German.

Signed in as council on the demo data, the test visits every page the council may open,
opens a multiselect's dropdown, a selectbox's dropdown and the date picker (with its preset
menu), and scans the text the browser shows (the page and the visible text of the
components' frames) against the other language's catalogue: every string of
``dashboard.i18n`` and of the domain vocabularies, and Streamlit's own texts
(``dashboard.builtin_text``).
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from dashboard import builtin_text, i18n
from geodata import domain
from loaders.store import GeoPackageStore
from tests.apprunner import ARTIFACTS, WAIT_MS, app_idle, chromium, demo_app, districts_drawn, login, map_frame, open_page, retry_until, wait_until

pytestmark = pytest.mark.e2e

VOCABULARIES = (
    domain.CATEGORIES, domain.SOURCES, domain.UNITS, domain.MODES, domain.MEETING_STATUS, domain.GREEN_KINDS,
    domain.FACILITY_KINDS, domain.WEEKDAYS, domain.FEELINGS, domain.REASONS, domain.TIMES_OF_DAY,
)
# Words of the other language that may show: names, and labels quoted on purpose.
ALLOWED = {
    "de": {"Filters"},  # also German: "in den Stunden des Filters"
    "en": {
        "Polizei",  # "Polizei Sachsen", the police's own name, in the source lines
        "Demo-Daten",  # the English demo label quotes the German one, which printouts carry
    },
}
MONTHS = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
}
# The language switch names each language in itself, on purpose.
LANGUAGE_SWITCH = ("Sprache / Language", "Deutsch", "English")
MIN_LENGTH = 3  # two-letter labels (weekdays "Mo", "Di") are too short to tell the languages apart

# The visible text of a document: text nodes in rendered elements (screen-reader-only text
# included), what text fields show (value or placeholder); not icon ligatures, scripts or styles.
VISIBLE_TEXT = """() => {
  const skip = 'script, style, noscript, template, [data-testid="stIconMaterial"], .material-symbols-rounded';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) continue;
    if (/Material/i.test(getComputedStyle(el).fontFamily)) continue;  // an icon's name, drawn as the icon
    if (n.nodeValue.trim()) out.push(n.nodeValue.trim());
  }
  // what a text field shows: its value (a selectbox shows its choice so), else its placeholder
  document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), textarea').forEach(e => {
    if (e.checkVisibility && !e.checkVisibility({visibilityProperty: true})) return;
    const shown = e.value || e.placeholder;
    if (shown) out.push(shown);
  });
  return out.join('\\n');
}"""


def strings(lang: str) -> set[str]:
    """Every UI string of ``lang``: i18n, the vocabularies and Streamlit's own texts as shown in ``lang``."""
    found = {i18n.t(key, lang) for key in i18n._T}
    found |= {term.label(lang) for vocab in VOCABULARIES for term in (vocab.values() if isinstance(vocab, dict) else vocab)}
    found |= {en if lang == "en" else de for en, de in builtin_text.BUILTIN + builtin_text.BUILTIN_PATTERNS}
    return {s.replace("**", "") for s in found}


def pattern(text: str) -> re.Pattern:
    """A catalogue string as a whole-word pattern; ``{...}`` stands for anything, spaces for any space."""
    parts = re.split(r"(\{\w*\})", " ".join(text.split()))
    body = "".join(r".+?" if re.fullmatch(r"\{\w*\}", p) else r"\s+".join(map(re.escape, p.split(" "))) for p in parts)
    return re.compile(r"(?<![\w-])" + body + r"(?![\w-])")


def foreign_catalogue(lang: str) -> list[tuple[str, re.Pattern]]:
    """The other language's strings that cannot be read as ``lang``."""
    other = "de" if lang == "en" else "en"
    own = strings(lang)
    return [
        (s, pattern(s))
        for s in sorted(strings(other) - own)
        if len(s.strip()) >= MIN_LENGTH and s not in ALLOWED[lang] and not s.isdigit()
    ]


def shown_text(page, names: list[str]) -> str:
    """What the browser shows on the page and in its components' frames, without proper names."""
    texts = [page.evaluate(VISIBLE_TEXT)]
    for frame in page.frames:
        if frame != page.main_frame and not frame.is_detached():
            try:
                texts.append(frame.evaluate(VISIBLE_TEXT))
            except Exception:  # a frame that went away while being read
                pass
    text = "\n".join(texts)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return " ".join(text.split())


def foreign_hits(text: str, catalogue) -> list[str]:
    hits = []
    for s, rx in catalogue:
        m = rx.search(text)
        if m:
            hits.append(f"{s!r} in …{text[max(0, m.start() - 40):m.end() + 40]}…")
    return hits


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with demo_app(tmp_path_factory, ["council"], seed=5, n_incidents=3000) as (url, db, names):
        yield url, names["council"], GeoPackageStore(db).read("districts")["name"].tolist()


class Scan:
    """Scans the page again and again; collects what does not belong to the language."""

    def __init__(self, page, lang: str, names: list[str]):
        self.page, self.lang, self.names = page, lang, names
        self.catalogue = foreign_catalogue(lang)
        self.hits: dict[str, list[str]] = {}

    def __call__(self, where: str) -> str:
        # once the app has finished its run: the output of the run before stays on screen until then
        app_idle(self.page)
        text = shown_text(self.page, self.names)
        hits = foreign_hits(text, self.catalogue)
        if hits:
            self.hits[where] = hits
        return text


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def options_shown(page) -> bool:
    return page.get_by_role("option").count() > 0


def open_dropdown(page, widget, scan: Scan, where: str, expect: str | None = None) -> str:
    """Open a multiselect's or selectbox's dropdown, scan it, close it again."""
    widget.locator("input").first.click()
    try:  # a click on a selectbox's text may only focus it; the arrow key opens it
        page.get_by_role("option").first.wait_for(timeout=3_000)
    except Exception:
        page.keyboard.press("ArrowDown")
    wait_until(lambda: options_shown(page), what=f"the dropdown of {where}")
    if expect:
        wait_until(lambda: expect in shown_text(page, []), what=f"{expect!r} in the dropdown of {where}")
    text = scan(where)
    page.keyboard.press("Escape")
    wait_until(lambda: not options_shown(page), what=f"the dropdown of {where} to close")
    return text


def open_date_picker(page, date_input, scan: Scan, where: str, month: str, preset: str | None) -> None:
    """Open the date picker, and the preset menu of a date range, scan, close."""
    date_input.locator('[data-testid="stDateInputCalendarButton"]').click()
    calendar = page.locator('[data-testid="stDateInputCalendar"]')
    calendar.wait_for(timeout=WAIT_MS)
    wait_until(lambda: month in calendar.inner_text(), what=f"month names in the calendar of {where}")
    scan(f"{where}: calendar")
    if preset is not None:
        page.locator('[data-testid="stDateInputQuickSelect"]').get_by_role("button").first.click()
        wait_until(lambda: options_shown(page), what=f"the presets of {where}")
        wait_until(lambda: preset in shown_text(page, []), what=f"{preset!r} among the presets of {where}")
        scan(f"{where}: presets")
        page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    wait_until(lambda: calendar.count() == 0, what=f"the calendar of {where} to close")


def visit_everything(page, lang: str, scan: Scan) -> None:
    t = lambda key: i18n.t(key, lang)  # noqa: E731

    # map page (where signing in leads): the filters' multiselect, a selectbox and the date range
    districts_drawn(map_frame(page))
    wait_until(lambda: t("table") in page.locator('[data-testid="stMain"]').inner_text(), what="the district table")
    scan("map page")
    side = sidebar(page)
    text = open_dropdown(page, side.locator('[data-testid="stMultiSelect"]').first, scan, "categories",
                         builtin_text.translation("Select all", lang))
    assert domain.CATEGORIES["sexist_insult"].label(lang) in text
    chips = side.locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert domain.CATEGORIES["racist_insult"].label(lang) in chips, chips
    open_dropdown(page, page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first, scan, "district colouring",
                  t("m_gap_score"))
    open_date_picker(page, side.locator('[data-testid="stDateInput"]'), scan, "date range",
                     MONTHS[lang][10], builtin_text.translation("Past Year", lang))  # the demo data start in November

    # gap page: ranking, heatmaps, tables, the area selectbox
    open_page(page, t("page_gaps"))
    main = page.locator('[data-testid="stMain"]')
    wait_until(lambda: t("green_title") in main.inner_text(), what="the gap page's tables")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=WAIT_MS)
    scan("gap page")
    open_dropdown(page, main.locator('[data-testid="stSelectbox"]').first, scan, "heatmap area", t("whole_city"))

    # workshop page: the form for a new workshop (a multiselect without choice, a single date)
    open_page(page, t("page_workshop"))
    wait_until(lambda: t("ws_focus") in main.inner_text(), what="the new-workshop form")
    form = main.locator('[data-testid="stForm"]').first
    focus = form.locator('[data-testid="stMultiSelect"]').first
    wait_until(lambda: builtin_text.translation("Choose options", lang) in shown_text(page, []), what="the empty multiselect's placeholder")
    scan("workshop page")
    open_dropdown(page, focus, scan, "districts in focus")
    this_month = MONTHS[lang][date.today().month - 1]  # the date input starts today
    open_date_picker(page, form.locator('[data-testid="stDateInput"]'), scan, "workshop date", this_month, None)

    # data and sources
    open_page(page, t("page_info"))
    wait_until(lambda: "Kriminalitätsatlas 2025" in main.inner_text(), what="the list of sources")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=WAIT_MS)
    scan("data & sources page")
    page.screenshot(path=str(ARTIFACTS / f"language-{lang}.png"), full_page=True)


def switch_language(page, lang: str) -> None:
    """Click the language switch (again, if a click lands while the page is still drawing)
    until the page names are in ``lang``."""
    button = sidebar(page).get_by_text("English" if lang == "en" else "Deutsch", exact=True)
    nav = page.locator('[data-testid="stSidebarNav"]')
    retry_until(page, button.click, lambda: i18n.t("page_gaps", lang) in nav.inner_text(), what=f"the pages named in {lang}")
    wait_until(lambda: ("lang=en" in page.url) == (lang == "en"), what="the language in the link")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_council_page_speaks_one_language(app, lang):
    url, council, districts = app
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        # chosen categories show as chips; after a switch of language they must follow it
        login(page, url, council, path="/?cat=racist_insult,verbal_violence")
        if lang == "en":
            districts_drawn(map_frame(page))
            switch_language(page, "en")
        wait_until(lambda: page.evaluate("document.documentElement.lang") == lang, what="the document's language")
        scan = Scan(page, lang, [*districts, council, *LANGUAGE_SWITCH])
        visit_everything(page, lang, scan)
        assert scan.hits == {}, "\n".join(f"{where}: {hit}" for where, hits in scan.hits.items() for hit in hits)
