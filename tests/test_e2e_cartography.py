"""The map in a meeting, in headless chromium at projector size: the wheel scrolls the
page unless the map is active, the map stays around Chemnitz and finds its way back,
district names show at city zoom, and a popup at the map's edge stays open."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.apprunner import chromium, demo_app, districts_drawn, login, map_frame, poll, retry_until, TIMEOUT_S, wait_until

pytestmark = pytest.mark.e2e

PROJECTOR = {"width": 1920, "height": 1080}
MAP = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with demo_app(tmp_path_factory, ["admin"], n_incidents=4000) as (url, _, _):
        yield url


@pytest.fixture
def page(app_url):
    with chromium() as browser:
        page = browser.new_page(viewport=PROJECTOR)
        login(page, app_url, "admin-user")
        yield page


def idle(page) -> bool:
    return page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state") == "notRunning"


def reported(frame) -> bool:
    """The map has finished moving (no zoom animation under way: Leaflet ignores a new view
    while one runs) and streamlit-folium has told the app the view it shows now."""
    return frame.evaluate(
        "(() => { const d = window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.previous_data;"
        " return !!d && !map._animatingZoom && d.zoom === map.getZoom()"
        " && JSON.stringify(d.bounds) === JSON.stringify(map.getBounds()); })()"
    )


def settle(page, frame, what: str = "the page to settle") -> None:
    """Wait until the map's view has reached the app and the app has finished its run."""
    wait_until(lambda: reported(frame) and idle(page), what=what)


def ready_map(page):
    frame = map_frame(page)
    districts_drawn(frame)
    settle(page, frame, "the first drawing of the map")
    return frame


def zoom(frame) -> float:
    return frame.evaluate("map.getZoom()")


def page_scroll(page) -> float:
    """How far the page is scrolled (Streamlit scrolls its main section, not the window)."""
    return page.evaluate(
        "((document.querySelector('[data-testid=\"stMain\"]') || {}).scrollTop || 0)"
        " + (document.scrollingElement ? document.scrollingElement.scrollTop : 0)"
    )


def watch_scrolling(page) -> None:
    """Count the page's finished scrolls ("scrollend"), so a test can wait for one."""
    page.evaluate(
        "(() => { window.__scrollEnds = 0; const count = () => { window.__scrollEnds += 1; };"
        " document.addEventListener('scrollend', count, true); })()"
    )


def scroll_ends(page) -> int:
    return page.evaluate("window.__scrollEnds")


def map_centre(page) -> tuple[float, float]:
    box = page.locator(MAP).first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_the_wheel_scrolls_the_page_unless_the_map_is_active(page):
    frame = ready_map(page)
    start = zoom(frame)
    watch_scrolling(page)
    page.mouse.move(*map_centre(page))
    page.mouse.wheel(0, 300)
    wait_until(lambda: scroll_ends(page) > 0 or zoom(frame) != start, what="the wheel to act")
    # Leaflet stops the page from scrolling when it zooms: here it left the wheel alone
    assert page_scroll(page) > 0 and zoom(frame) == start
    assert "atlas-show" in frame.locator(".atlas-wheel-hint").get_attribute("class")

    # with Ctrl held the wheel zooms the map, and the page stays where it is
    scrolled = page_scroll(page)
    page.mouse.move(*map_centre(page))
    page.keyboard.down("Control")
    page.mouse.wheel(0, -120)
    page.keyboard.up("Control")
    wait_until(lambda: zoom(frame) != start or page_scroll(page) != scrolled, what="Ctrl + wheel to act")
    assert zoom(frame) > start and page_scroll(page) == scrolled
    settle(page, frame)

    # after a click into the map the wheel zooms without Ctrl ...
    before = zoom(frame)
    page.mouse.click(*map_centre(page))
    page.mouse.wheel(0, -120)
    wait_until(lambda: zoom(frame) != before or page_scroll(page) != scrolled, what="the wheel to act on the clicked map")
    assert zoom(frame) > before and page_scroll(page) == scrolled
    settle(page, frame)

    # ... until the pointer leaves the map: then the wheel scrolls the page again
    before, ends = zoom(frame), scroll_ends(page)
    page.mouse.move(5, 5)
    page.mouse.move(*map_centre(page))
    page.mouse.wheel(0, 200)
    wait_until(lambda: scroll_ends(page) > ends or zoom(frame) != before, what="the wheel to act again")
    assert page_scroll(page) > scrolled and zoom(frame) == before


def test_the_map_stays_around_chemnitz_and_finds_its_way_back(page):
    frame = ready_map(page)
    city_zoom = zoom(frame)
    city_centre = frame.evaluate("[map.getCenter().lat, map.getCenter().lng]")
    assert frame.evaluate("map.getMinZoom()") <= city_zoom - 0.5  # room to zoom out a little ...

    # ... but no further, and not away to Sweden
    frame.evaluate("void map.setZoom(3, {animate: false})")
    settle(page, frame)
    assert zoom(frame) == frame.evaluate("map.getMinZoom()") >= 10
    frame.evaluate("void map.setView([59.33, 18.07], 13, {animate: false})")  # Stockholm
    settle(page, frame)
    lat, lng = frame.evaluate("[map.getCenter().lat, map.getCenter().lng]")
    assert 50.6 < lat < 51.05 and 12.5 < lng < 13.3
    # the whole view inside the allowed box, up to pixel rounding (once any resize of the frame is
    # followed: Leaflet pulls the view back in after it)
    inside = "map.options.maxBounds.pad(0.001).contains(map.getBounds())"
    seen = "JSON.stringify([map.getBounds().toBBoxString(), map.options.maxBounds.toBBoxString(), map.getSize(), map.getZoom()])"
    wait_until(lambda: frame.evaluate(inside), what=lambda: f"the view inside the allowed box (view, box, size, zoom: {frame.evaluate(seen)})")

    # far out and off to one side: the button brings the city view back
    frame.evaluate("void map.setView([50.95, 13.2], map.getMinZoom(), {animate: false})")
    settle(page, frame)
    assert zoom(frame) < city_zoom
    frame.get_by_role("button", name="Zurück nach Chemnitz").click()
    # the city fitted again: at the map's size now (the page around it may have changed its width)
    fitted = "map.getZoom() === map.getBoundsZoom(map.atlasHome) && map.getCenter().distanceTo(map.atlasHome.getCenter()) < 250"
    home = "JSON.stringify([map.getZoom(), map.getBoundsZoom(map.atlasHome), map.getCenter(), map.atlasHome.getCenter(), map.getSize()])"
    wait_until(lambda: frame.evaluate(fitted), what=lambda: f"the city fitted again (zoom, fit, centre, home, size: {frame.evaluate(home)})")
    settle(page, frame)
    assert frame.evaluate(fitted)
    lat, lng = frame.evaluate("[map.getCenter().lat, map.getCenter().lng]")
    assert lat == pytest.approx(city_centre[0], abs=2e-3) and lng == pytest.approx(city_centre[1], abs=2e-3)


def visible_labels(frame) -> list[str]:
    return frame.evaluate(
        "(() => { const pane = map.getPane('labels'); if (!pane || pane.style.display === 'none') return [];"
        " return Array.from(pane.querySelectorAll('.atlas-label-text'))"
        ".filter(e => e.style.visibility !== 'hidden').map(e => e.textContent); })()"
    )


def test_district_names_hatching_and_outlines_at_city_zoom(page):
    frame = ready_map(page)
    labels = visible_labels(frame)
    assert len(labels) >= 20 and "Zentrum" in labels, labels
    # labels do not overlap each other
    overlaps = frame.evaluate(
        "(() => { const r = Array.from(document.querySelectorAll('.atlas-label-text'))"
        ".filter(e => e.style.visibility !== 'hidden').map(e => e.getBoundingClientRect()); let n = 0;"
        " for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)"
        " if (r[i].left < r[j].right && r[i].right > r[j].left && r[i].top < r[j].bottom && r[i].bottom > r[j].top) n++;"
        " return n; })()"
    )
    assert overlaps == 0
    # the centre's border lies above the markers, and clicks pass through it
    z = frame.evaluate("[getComputedStyle(map.getPane('outlines')).zIndex, getComputedStyle(map.getPane('meeting')).zIndex].map(Number)")
    assert z[0] > z[1]
    assert frame.locator(".leaflet-outlines-pane path").count() >= 2
    # green spaces not patrolled are hatched (an SVG pattern), not filled red
    assert frame.locator("#atlas-hatch-green-dense").count() == 1
    fills = frame.evaluate("Array.from(document.querySelectorAll('.leaflet-green-pane path')).map(p => p.getAttribute('fill'))")
    assert "url(#atlas-hatch-green-dense)" in fills

    # zoomed out below the city, the names give way
    frame.evaluate("void map.setZoom(map.getMinZoom())")
    wait_until(lambda: visible_labels(frame) == [], what="the labels to hide")
    settle(page, frame)

    # the button speaks the UI language (the map is drawn anew for it)
    # (a click that lands while the page is being redrawn can be lost: it is made again)
    retry_until(page, lambda: page.get_by_text("English").click(), lambda: has_button(page, "Back to Chemnitz"), "the English button")


def has_button(page, name: str) -> bool:
    for frame in page.frames:
        if "streamlit_folium" not in frame.url:
            continue
        try:
            if frame.get_by_role("button", name=name).count():
                return True
        except PlaywrightError:  # the old map's frame on its way out
            continue
    return False


def one_popup(frame) -> bool:
    """Exactly one popup on the map, and it is Leaflet's open one. A popup closed by a swap
    fades out for 200 ms before Leaflet removes it, and a reopened one fades in: wait for that."""
    return frame.evaluate(
        "(() => { const all = document.querySelectorAll('.leaflet-popup');"
        " return all.length === 1 && !!map._popup && map._popup.isOpen() && all[0] === map._popup.getElement(); })()"
    )


def test_a_popup_at_the_edge_stays_open_when_the_map_pans_and_the_layers_are_swapped(page):
    """Leaflet pans a popup at the map's edge into view; the new bounds reach the app, which
    reruns. A pan within the drawn margin needs no new layer; a filter change that keeps the
    incident swaps the layer. The popup must survive both."""
    frame = ready_map(page)
    frame.evaluate("void map.setView([50.8323, 12.9253], 15)")  # close enough for single incidents
    settle(page, frame)
    points = ".leaflet-incident_points-pane path"
    wait_until(lambda: frame.locator(points).count() > 20, what="single incidents")

    # move one incident near the top edge of the map
    lat, lng = frame.evaluate(
        "(() => { const c = map.getSize().divideBy(2); let best = null, d = Infinity;"
        " map.eachLayer(l => { if (l.feature && l.options.pane === 'incident_points') {"
        "   const p = map.latLngToContainerPoint(l.getLatLng()); const dist = p.distanceTo(c);"
        "   if (dist < d) { d = dist; best = l.getLatLng(); } } });"
        " return [best.lat, best.lng]; })()"
    )
    frame.evaluate(
        f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lng}]);"
        f" map.panBy([0, p.y - 14], {{animate: false}}); }})()"
    )
    settle(page, frame, "the new view to be drawn")
    x, y = frame.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lng}]); return [p.x, p.y]; }})()")
    assert 0 < y < 30

    box = page.locator(MAP).first.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=TIMEOUT_S * 1000)
    text = popup.inner_text()
    assert text.strip()

    # Leaflet pans the popup into view; the app answers the new bounds (with the same incidents, or
    # with those of a new margin around the view: either way the popup stays)
    wait_until(lambda: frame.evaluate("map.getBounds().contains(map._popup.getLatLng())"), what="the popup panned into view")
    settle(page, frame)
    wait_until(lambda: one_popup(frame), what="the one popup, open")
    assert popup.inner_text() == text
    builds = frame.evaluate("map.atlasBuilds")

    # a filter that keeps this incident (its own category) swaps the incident layer under the popup
    from dashboard.i18n import t

    cells = [line.split("\t") for line in text.splitlines()]
    category = next(row[-1].strip() for row in cells if row[0].strip() == t("category", "de"))
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    for _ in range(3):  # a choice made while the page is being redrawn can be lost: choose again
        box.click()
        page.get_by_role("option", name=category, exact=True).click()
        page.keyboard.press("Escape")
        if poll(lambda: "cat=" in page.evaluate("location.search"), 30):
            break
    wait_until(lambda: frame.evaluate("map.atlasBuilds") > builds, what="the layers to be swapped")
    settle(page, frame)
    wait_until(lambda: one_popup(frame), what="the one popup, open again after the swap")
    assert popup.inner_text() == text
    assert frame.evaluate("map.getBounds().contains(map._popup.getLatLng())")
