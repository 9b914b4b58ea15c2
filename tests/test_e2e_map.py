"""The real app in headless chromium: every layer drawn, a filter change updates map and counts."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.apprunner import app_idle, ARTIFACTS, chromium, click_map, demo_app, districts_drawn, login, map_frame, WAIT_MS, wait_until

pytestmark = pytest.mark.e2e

PANES = ("districts", "green", "coverage", "incidents", "meeting", "facilities")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with demo_app(tmp_path_factory, ["admin"]) as (url, _, _):
        yield url


def signed_in(browser, url, path="/", viewport=(1600, 1000)):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    login(page, url, "admin-user", path=path)
    return page


def pane_count(frame, pane: str) -> int:
    return frame.locator(f".leaflet-{pane}-pane path").count()


def incident_signature(frame) -> str:
    """Shapes and colours of the incident layer."""
    return frame.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-incidents-pane path'))"
        ".map(p => p.getAttribute('d') + p.getAttribute('fill') + p.getAttribute('fill-opacity')).join()"
    )


def kpi(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def test_map_shows_every_layer_and_follows_a_filter(app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        foreign = []
        page.on("request", lambda r: foreign.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None) else None)
        login(page, app_url, "admin-user")
        frame = map_frame(page)
        frame.locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)
        wait_until(lambda: pane_count(frame, "districts") == 39, what="39 district shapes")
        counts = {pane: pane_count(frame, pane) for pane in PANES}
        assert all(n > 0 for n in counts.values()), counts
        # Leaflet itself comes from the app, not from a CDN
        scripts = frame.evaluate("Array.from(document.scripts).map(s => s.src).filter(Boolean)")
        assert any("/component/" in s and s.endswith("leaflet/leaflet.js") for s in scripts), scripts
        assert frame.evaluate("typeof L") == "object"

        # zoom in a step and mark the live map, so we can tell it survives the filter change
        initial = incident_signature(frame)
        frame.evaluate("window.map.setZoom(12.5); window.__atlasMarker = 42")
        # the server answers the zoom with finer hexagons
        wait_until(lambda: incident_signature(frame) != initial, what="hexagons for the new zoom")
        app_idle(page)
        before_kpi = kpi(page)
        before_fill = frame.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-districts-pane path')).map(p => p.getAttribute('fill')).join()"
        )
        before_hex = incident_signature(frame)
        page.get_by_text("nur außerhalb des Zentrums").click()
        wait_until(lambda: kpi(page) != before_kpi, what="the incident count to change")
        wait_until(
            lambda: frame.evaluate(
                "Array.from(document.querySelectorAll('.leaflet-districts-pane path')).map(p => p.getAttribute('fill')).join()"
            ) != before_fill,
            what="the district colours to change",
        )
        wait_until(lambda: incident_signature(frame) != before_hex, what="the incident layer to change")
        # same Leaflet map object, same zoom: no flicker, no reset
        assert frame.evaluate("window.__atlasMarker") == 42
        assert frame.evaluate("window.map.getZoom()") == 12.5
        wait_until(lambda: "outside=1" in page.url, what="the filter in the link")
        app_idle(page)
        page.screenshot(path=str(ARTIFACTS / "map.png"))
        assert foreign == []


def layer_census(frame) -> dict:
    """What the live map holds: Leaflet layers, the groups streamlit-folium tracks, the atlas's layers,
    and its frame's elements."""
    return frame.evaluate(
        "({leaflet: Object.keys(map._layers).length, tracked: (window.feature_group || []).length,"
        " atlas: Object.keys(map.atlasLayers || {}).sort().join(), builds: map.atlasBuilds || 0,"
        " nodes: document.getElementsByTagName('*').length})"
    )


def test_a_filter_change_rebuilds_only_the_layers_it_changes(app_url):
    """No new map, no growing list of layers: a filter change swaps the layers it
    changes inside the live map; the facilities and meeting points stay as they are."""
    with chromium() as browser:
        page = signed_in(browser, app_url)
        frame = map_frame(page)
        wait_until(lambda: pane_count(frame, "districts") == 39, what="39 district shapes")
        app_idle(page)
        frame.evaluate("window.__atlasMarker = 7; window.__kept = [map.atlasLayers.facilities.layer, map.atlasLayers.meeting.layer]; null")
        toggle = page.get_by_text("nur außerhalb des Zentrums")
        seen = []
        for i in range(6):
            before = layer_census(frame)["builds"]
            kpi_before = kpi(page)
            toggle.click()
            wait_until(lambda: kpi(page) != kpi_before, what=f"the figures after change {i + 1}")
            wait_until(lambda: layer_census(frame)["builds"] > before, what=f"the layers after change {i + 1}")
            app_idle(page)
            seen.append(layer_census(frame))
        # the same map all along (its frame was never reloaded), the unchanged layers never rebuilt
        assert frame.evaluate("window.__atlasMarker") == 7
        assert frame.evaluate("map.atlasLayers.facilities.layer === window.__kept[0] && map.atlasLayers.meeting.layer === window.__kept[1]")
        # flat: after the same filter, the same number of layers, and one group tracked by streamlit-folium
        assert seen[1]["leaflet"] == seen[3]["leaflet"] == seen[5]["leaflet"], seen
        assert seen[0]["leaflet"] == seen[2]["leaflet"] == seen[4]["leaflet"], seen
        assert {c["tracked"] for c in seen} == {1}, seen  # the one (empty) group of the layer set
        # nor does the frame collect elements (Streamlit adds a theme <style> per rerun; one is kept)
        assert seen[1]["nodes"] == seen[3]["nodes"] == seen[5]["nodes"], seen
        assert frame.evaluate("Array.from(document.head.querySelectorAll('style')).filter(s => /--primary-color/.test(s.textContent)).length") == 1
        assert seen[0]["atlas"] == "coverage,district_marks,districts,facilities,green,incidents,meeting", seen
        # "outside the centre" changes the districts' figures and the incidents; patrols, green spaces,
        # facilities and meeting points stay
        steps = [b["builds"] - a["builds"] for a, b in zip(seen, seen[1:])]
        assert max(steps) <= 2, steps


def test_shared_link_reopens_the_view(app_url):
    with chromium() as browser:
        page = signed_in(browser, app_url, "/?outside=1&h=20-4&cat=racist_insult,verbal_violence", (1400, 900))
        frame = map_frame(page)
        frame.locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)
        text = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "20:00" in text and "04:00" in text and "über Mitternacht" in text
        assert "Rassistische Beleidigung" in text and "Verbale Gewalt" in text


def test_clicking_a_district_opens_its_panel(app_url):
    with chromium() as browser:
        page = signed_in(browser, app_url, "/", (1500, 1000))
        frame = map_frame(page)
        districts_drawn(frame)
        click_map(page, frame, 12.9441, 50.8379)  # Sonnenberg's representative point (from the district facts)
        wait_until(lambda: "Sonnenberg (21)" in page.locator('[data-testid="stMain"]').inner_text(), what="the district panel")
        assert "sel=21" in page.url
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=WAIT_MS)


def test_language_switch_keeps_the_view_and_goes_into_the_link(app_url):
    with chromium() as browser:
        page = signed_in(browser, app_url, "/?h=20-4", (1400, 900))
        map_frame(page).locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)
        page.get_by_text("English").click()
        page.get_by_text("Prevention Atlas Chemnitz").wait_for(timeout=WAIT_MS)
        wait_until(lambda: "lang=en" in page.url and "h=20-4" in page.url, what="the link to carry the language")
        wait_until(lambda: "across midnight" in page.locator('[data-testid="stSidebar"]').inner_text(), what="English filters")


def test_gaps_page_in_the_browser(app_url):
    with chromium() as browser:
        page = signed_in(browser, app_url, "/luecken?h=20-4&outside=1", (1500, 1000))
        frame = map_frame(page)
        districts_drawn(frame)
        wait_until(lambda: pane_count(frame, "hotspots") > 0, what="hotspot cells")
        main = page.locator('[data-testid="stMain"]')
        wait_until(lambda: "Stadtteile nach Lückenwert" in main.inner_text(), what="the ranking")
        assert page.get_by_text("Bericht für die Sitzung (HTML, druckbar)").count() == 1
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=WAIT_MS)
        page.screenshot(path=str(ARTIFACTS / "gaps.png"), full_page=True)


def test_main_map_draws_the_hotspot_layer_on_request(app_url):
    with chromium() as browser:
        page = signed_in(browser, app_url, "/?layers=districts,incidents,hotspots&metric=gap_score", (1400, 900))
        frame = map_frame(page)
        frame.locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)
        wait_until(lambda: pane_count(frame, "hotspots") > 0, what="hotspot cells on the main map")
        assert pane_count(frame, "meeting") == 0 and pane_count(frame, "green") == 0


def test_the_first_view_is_not_reported_but_a_move_is(app_url):
    """Drawing the map does not rerun the page (the app drew that view itself); moving it does."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        sent = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        login(page, app_url, "admin-user")
        frame = map_frame(page)
        districts_drawn(frame)
        app_idle(page)

        def reports():
            page.evaluate("0")  # playwright hands over websocket events only while it is called
            return [p for p in sent if isinstance(p, (bytes, bytearray)) and b"_southWest" in p]

        # streamlit-folium's own bookkeeping holds the view (tests and moves compare with it) ...
        assert frame.evaluate("JSON.stringify(window.__GLOBAL_DATA__.previous_data.bounds) === JSON.stringify(map.getBounds())")
        assert reports() == []
        # ... and a move is reported as before
        frame.evaluate("void map.panBy([200, 0], {animate: false})")
        wait_until(lambda: reports(), what="the moved view reported to the app")
