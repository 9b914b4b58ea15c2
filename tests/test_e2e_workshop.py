"""A whole Safe-City-Lab workshop, played in the real app in headless chromium.

The facilitator creates the workshop; three participants join with its code on
phone-sized screens and submit at the same time; the facilitator sees the
entries arrive without reloading, hides one, the comparison with recorded
incidents follows, and the export holds only the visible entries.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from loaders.workshops import WorkshopStore, default_path
from tests.apprunner import app_idle, chromium, click_map, demo_app, login, open_page, poll, TIMEOUT_S, WAIT_MS, wait_until

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# three places in Sonnenberg (around its representative point 12.9441, 50.8379)
PLACES = [(12.9441, 50.8379), (12.9450, 50.8384), (12.9432, 50.8372)]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with demo_app(tmp_path_factory, ["council"], seed=4, n_incidents=3000) as running:
        yield running


def maps(page):
    return [f for f in page.frames if "streamlit_folium" in f.url]


def tap_map(page, lon, lat):
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]').first
    iframe.scroll_into_view_if_needed()
    frame = wait_until(lambda: maps(page) and maps(page)[0], what="the map")
    frame.locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)
    before = iframe.bounding_box()
    click_map(page, frame, lon, lat)
    # pressing on the map focuses it; that must not scroll the page between press and release
    # (on a phone the map reaches below the fold, and the tap would land on another place)
    assert iframe.bounding_box()["y"] == before["y"]


def sonnenberg_unsafe(page) -> str | None:
    """The discrepancy map's tooltip text for Sonnenberg's felt insecurity, e.g. '0,18 (n = 3)'."""
    for frame in maps(page):
        try:
            value = frame.evaluate(
            "(() => { for (const l of Object.values(window.map ? window.map._layers : {})) {"
            " if (l.feature && l.feature.properties && l.feature.properties.name === 'Sonnenberg' && l.feature.properties.unsafe)"
            " return l.feature.properties.unsafe; } return null; })()"
            )
        except Exception:  # a map being redrawn right now: ask again
            continue
        if value:
            return value
    return None


def test_a_whole_workshop(app):
    url, db, names = app
    with chromium() as browser:
        lead = browser.new_page(viewport={"width": 1500, "height": 1000})
        login(lead, url, names["council"])
        open_page(lead, "Workshop")
        lead.get_by_label("Titel").fill("Sonnenberg bei Nacht")
        lead.get_by_role("button", name="Neuen Workshop anlegen").click()
        lead.get_by_text("Workshop angelegt.").wait_for(timeout=WAIT_MS)
        code = wait_until(lambda: re.search(r"Beitritts-Code: ([A-Z0-9]{6})", lead.locator('[data-testid="stMain"]').inner_text()), what="the code")[1]
        lead.locator('[data-testid="stImage"] img').first.wait_for(timeout=WAIT_MS)  # the QR code for the projector

        # three participants on phones join with the code
        phones = []
        for i, (lon, lat) in enumerate(PLACES):
            page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
            page.goto(f"{url}/?join={code}")
            page.get_by_role("button", name="Beitreten").click()
            page.get_by_text("Sonnenberg bei Nacht").first.wait_for(timeout=TIMEOUT_S * 1000)
            tap_map(page, lon, lat)
            page.get_by_text("Ort: ").wait_for(timeout=WAIT_MS)
            page.get_by_text("fühle mich unsicher").first.click()
            page.get_by_text("nachts").first.click()
            page.get_by_label("Kommentar (freiwillig, ohne Namen)").fill(f"Eintrag {i} <b>ohne</b> Namen")
            phones.append(page)
        # the phone layout fits: nothing wider than the screen
        for page in phones:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        # all three submit at the same moment
        for page in phones:
            page.get_by_role("button", name="Eintragen").click(no_wait_after=True)
        for page in phones:
            page.get_by_text("Danke, eingetragen.").wait_for(timeout=WAIT_MS)
        store = WorkshopStore(default_path(str(db)))
        entries = store.observations()
        assert len(entries) == 3 and set(entries["comment"]) == {f"Eintrag {i} <b>ohne</b> Namen" for i in range(3)}

        # the facilitator sees them arrive without reloading
        main = lead.locator('[data-testid="stMain"]')
        wait_until(lambda: "Beiträge im Workshop: 3" in main.inner_text(), what="three entries on the facilitator's page")
        def discrepancy() -> str | None:
            # component iframes load lazily: bring the discrepancy map into view
            try:
                lead.get_by_role("heading", name="Gefühlte Unsicherheit und erfasste Vorfälle").scroll_into_view_if_needed(timeout=5_000)
                lead.locator('iframe[title="streamlit_folium.st_folium"]').last.scroll_into_view_if_needed(timeout=5_000)
            except Exception:  # the page is being redrawn: try again
                return None
            return sonnenberg_unsafe(lead)

        wait_until(lambda: "(n = 3)" in (discrepancy() or ""), what="the discrepancy map with three entries in Sonnenberg")

        # hide one; the comparison follows
        hidden_id = entries["id"].iloc[0]
        def hide() -> bool:
            try:
                lead.locator('[data-testid="stSelectbox"]').filter(has_text="ID").click(timeout=5_000)
                lead.get_by_role("option", name=hidden_id).click(timeout=5_000)
                lead.get_by_role("button", name="Ausblenden").click(timeout=5_000)
            except Exception:  # redrawn while clicking: try again
                return False
            return bool(poll(lambda: len(store.observations()) == 2, 15))

        wait_until(hide, 120, "hiding one entry")
        wait_until(lambda: "Beiträge im Workshop: 2" in main.inner_text(), what="two visible entries")
        wait_until(lambda: "(n = 2)" in (discrepancy() or ""), what="the discrepancy view to update")
        assert store.observations(include_hidden=True)["id"].tolist().count(hidden_id) == 1  # still stored

        # participants see only the visible entries too
        def phone_markers() -> int:
            try:
                return maps(phones[1])[0].locator(".leaflet-meeting-pane path").count()
            except Exception:  # redrawn right now
                return -1

        wait_until(lambda: phone_markers() == 2, what="the participants' maps to update")

        # the export holds the visible entries only, without participant tokens
        def download_geojson() -> str | None:
            # a download that starts while the page reruns (a new entry arrived) is cancelled by the
            # browser: the file it pointed to was replaced; the user clicks again
            app_idle(lead)
            with lead.expect_download() as download:
                lead.get_by_role("button", name="GeoJSON", exact=True).click()
            try:
                return open(download.value.path(), encoding="utf-8").read()
            except PlaywrightError as error:
                if "canceled" not in str(error):
                    raise
                return None

        exported = json.loads(wait_until(download_geojson, what="the GeoJSON export"))
        ids = [f["properties"]["id"] for f in exported["features"]]
        assert len(ids) == 2 and hidden_id not in ids
        assert "participant" not in json.dumps(exported)
        with lead.expect_download() as download:
            lead.get_by_role("button", name="CSV", exact=True).click()
        csv_text = open(download.value.path(), encoding="utf-8-sig").read()
        assert hidden_id not in csv_text and csv_text.count("\n") == 3
