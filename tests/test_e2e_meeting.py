"""A council meeting in chromium: state that survives a language switch and a page change,
presentation mode on a projector's screen, typed dates, districts side by side, no fading map."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from geodata import domain
from dashboard import state
from tests.apprunner import app_idle, ARTIFACTS, chromium, demo_app, districts_drawn, login, map_frame, open_page, retry_until, TIMEOUT_S, WAIT_MS, wait_until

pytestmark = pytest.mark.e2e

FILTERS = "?cat=racist_insult,sexist_insult&wd=01234&h=18-6&metric=incidents_per_km2&sel=01"
KEYS = {
    "cat": set(domain.CATEGORIES),
    "src": set(domain.SOURCES),
    "unit": set(domain.UNITS),
    "mode": set(domain.MODES),
    "metric": set(state.METRICS),
    "layers": set(state.LAYER_KEYS),
}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with demo_app(tmp_path_factory, ["council"]) as (url, _, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def map_page(browser, url: str, path: str = "/"):
    """A council member's map page, drawn and idle."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    login(page, url, "council-user", path=path)
    districts_drawn(map_frame(page))
    app_idle(page)
    return page


def kpi(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def params(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def keys_only(query: dict[str, str]) -> None:
    for name, allowed in KEYS.items():
        if name in query:
            values = set(query[name].split(","))
            assert values <= allowed, f"{name}={query[name]} holds labels, not keys"


def switch_language(page, to: str) -> None:
    label, signal = ("English", "Incidents in filter") if to == "en" else ("Deutsch", "Vorfälle im Filter")
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    page.get_by_text(signal, exact=True).first.wait_for(timeout=WAIT_MS)
    app_idle(page)


def test_language_round_trips_keep_figures_and_address(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    login(page, app_url, "council-user", path="/" + FILTERS)
    districts_drawn(map_frame(page))
    app_idle(page)
    before_kpi, before = kpi(page), params(page)
    assert before["cat"] == "racist_insult,sexist_insult" and before["sel"] == "01"
    cat_box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    assert "Rassistische Beleidigung" in cat_box.inner_text()
    for _ in range(3):
        switch_language(page, "en")
        english = lambda: {k: v for k, v in params(page).items() if k != "lang"} == before and params(page).get("lang") == "en"  # noqa: E731
        wait_until(lambda: kpi(page) == before_kpi and english(), what="the same figures and address in English")
        keys_only(params(page))
        # the chosen categories are shown in the chosen language, and the district panel stays open
        wait_until(lambda: "Racist insult" in cat_box.inner_text(), what="category chips in English")
        assert "Rassistische" not in cat_box.inner_text()
        switch_language(page, "de")
        wait_until(lambda: kpi(page) == before_kpi and params(page) == before, what="the same figures and address in German")
        wait_until(lambda: "Rassistische Beleidigung" in cat_box.inner_text(), what="category chips in German")
        assert page.get_by_role("heading", name="Zentrum (01)").count() == 1
    # the address, opened afresh, gives the same figures
    other = browser.new_page(viewport={"width": 1600, "height": 1000})
    login(other, app_url, "council-user", path="/?" + urlparse(page.url).query)
    districts_drawn(map_frame(other))
    wait_until(lambda: kpi(other) == before_kpi, what="the shared link's figures")
    other.close()
    page.close()


def test_gap_page_and_back_keeps_district_and_layers(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    login(page, app_url, "council-user", path="/?sel=01")
    frame = map_frame(page)
    districts_drawn(frame)
    page.get_by_role("heading", name="Zentrum (01)").wait_for()
    assert frame.locator(".leaflet-hotspots-pane path").count() == 0
    open_page(page, "Lücken")
    app_idle(page)
    open_page(page, "Karte", heading="Präventionsatlas Chemnitz")
    frame = map_frame(page)
    districts_drawn(frame)
    page.get_by_role("heading", name="Zentrum (01)").wait_for()
    app_idle(page)
    assert params(page).get("sel") == "01" and "layers" not in params(page)
    assert not page.get_by_role("checkbox", name="Brennpunkte (Gi*)").is_checked()
    assert frame.locator(".leaflet-hotspots-pane path").count() == 0
    page.close()


def inside(page, locator, what: str) -> dict:
    box = locator.bounding_box()
    view = page.viewport_size
    assert box is not None, what
    assert box["x"] >= 0 and box["y"] >= 0, (what, box)
    assert box["x"] + box["width"] <= view["width"] + 1 and box["y"] + box["height"] <= view["height"] + 1, (what, box, view)
    return box


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_presentation_mode_fits_the_screen(app_url, browser, size):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    login(page, app_url, "council-user", path="/?sel=01&cat=racist_insult&h=20-4")
    districts_drawn(map_frame(page))
    app_idle(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Präsentationsmodus").click()
    page.locator("#atlas-filter-banner").wait_for(timeout=TIMEOUT_S * 1000)
    wait_until(lambda: params(page).get("present") == "1", what="presentation mode in the address")
    page.locator("#atlas-district-figures").wait_for()
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]').first

    seen = []

    def filled_map():
        # the map redrawn for presentation mode fills its frame (the frame of the page before may
        # still be going away)
        seen.clear()
        for frame in page.frames:
            if "streamlit_folium" not in frame.url or frame.is_detached():
                continue
            try:
                drawn = frame.locator(".leaflet-districts-pane path").count() == 39
                height = frame.evaluate("window.map ? window.map.getSize().y : 0")
            except Exception:
                continue
            box = iframe.bounding_box()
            seen.append((drawn, height, box and box["height"]))
            if drawn and box and height >= box["height"] - 4:
                return frame
        return None

    try:
        wait_until(filled_map, what="the map filling its frame")
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen (drawn, map height, frame height): {seen}") from None
    app_idle(page)
    page.screenshot(path=str(ARTIFACTS / f"presentation-{size[0]}x{size[1]}.png"))
    assert page.evaluate("document.scrollingElement.scrollTop") == 0
    banner = page.locator("#atlas-filter-banner")
    assert "20:00–04:00" in banner.inner_text() and "Demo-Daten" in banner.inner_text()
    inside(page, banner, "filter banner")
    box = inside(page, page.locator('iframe[title="streamlit_folium.st_folium"]').first, "map")
    assert box["height"] > size[1] * 0.75, box  # the map takes the screen
    inside(page, page.locator("#atlas-district-figures"), "district figures")
    inside(page, page.get_by_text("Vorfälle je 1.000 Einw.", exact=True).last, "legend")
    inside(page, page.get_by_role("button", name="Präsentation beenden"), "exit")
    page.close()


def test_a_typed_date_applies_on_enter(app_url, browser):
    page = map_page(browser, app_url)
    before = kpi(page)
    days = page.locator('[data-testid="stSidebar"] [data-testid="stDateInputField"] [role="spinbutton"][data-type="day"]')

    def type_period():
        days.first.focus()
        page.keyboard.type("01012025", delay=30)
        days.nth(1).focus()  # the end date's day
        page.keyboard.type("31032025", delay=30)
        page.keyboard.press("Enter")

    typed = lambda: params(page).get("from") == "2025-01-01" and params(page).get("to") == "2025-03-31"  # noqa: E731
    retry_until(page, type_period, typed, "the typed period in the address")
    wait_until(lambda: kpi(page) != before, what="figures of the typed period")
    page.close()


def test_districts_side_by_side_from_table_and_map(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    login(page, app_url, "council-user", path="/?sel=01")
    districts_drawn(map_frame(page))
    button = page.get_by_role("button", name="Zum Vergleich hinzufügen")
    retry_until(page, button.click, lambda: params(page).get("cmp") == "01", "the comparison in the address")
    section = page.get_by_role("heading", name="Stadtteile vergleichen")
    section.wait_for()
    wait_until(lambda: page.get_by_text("Stadt (im Filter)").count() > 0, what="the city column")
    wait_until(lambda: page.locator('[data-testid="stPlotlyChart"]').count() >= 4, what="comparison charts")
    app_idle(page)
    # selecting rows of the district table compares those districts
    grid = page.locator('[data-testid="stDataFrame"]').last

    def select_row(row):
        def action():
            grid.scroll_into_view_if_needed()
            box = grid.bounding_box()
            page.mouse.click(box["x"] + 18, box["y"] + 35 * row + 18)  # the row marker on the left

        return action

    compared = lambda: [c for c in params(page).get("cmp", "").split(",") if c]  # noqa: E731
    # the second and third district of the table (the first is 01): the selection replaces the comparison
    retry_until(page, select_row(2), lambda: len(compared()) == 1 and compared() != ["01"], "the table's row compared")
    first = compared()[0]
    retry_until(page, select_row(3), lambda: len(compared()) == 2 and compared()[0] == first and "01" not in compared(), "two rows compared")
    page.close()


def test_the_map_never_fades_during_a_rerun(app_url, browser):
    page = map_page(browser, app_url)
    # record the opacity of every element Streamlit marks as stale while the next run is under way
    page.evaluate(
        """() => {
        window.__stale = [];
        new MutationObserver((changes) => {
          for (const c of changes) {
            if (c.target.getAttribute('data-stale') === 'true') {
              window.__stale.push(getComputedStyle(c.target).opacity);
            }
          }
        }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-stale']});
      }"""
    )
    before = kpi(page)
    page.get_by_text("nur außerhalb des Zentrums").click()
    wait_until(lambda: kpi(page) != before, what="the new figures")
    seen = wait_until(lambda: page.evaluate("window.__stale"), what="elements marked stale during the rerun")
    assert set(seen) == {"1"}, seen
    page.close()
