"""In a real browser: a signed-in session survives a reload and a new tab, and ends on
signing out and after the idle time.

The app runs on the small synthetic city with one council account. Every wait is for
something the page (or the browser's cookie jar) shows, up to ``TIMEOUT_S``.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import pytest

from dashboard import sessions
from loaders.accounts import AccountStore, _iso, default_path, utc_now
from loaders.audit import AuditLog
from loaders.store import GeoPackageStore, Provenance
from tests.apprunner import app_idle, TIMEOUT_S, chromium, create_accounts, login, running_app, wait_until

pytestmark = pytest.mark.e2e

VIEW = "/?layers=districts"
WEEKEND = "wd=56"  # Saturday and Sunday in the address


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests import conftest

    db = tmp_path_factory.mktemp("reload") / "atlas.gpkg"
    GeoPackageStore(db).write(conftest.city.__wrapped__(), Provenance("test", "CC0"))
    names = create_accounts(db, roles=("council",))
    with running_app(db) as url:
        yield url, default_path(str(db)), names["council"]


def session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] in (sessions.COOKIE, sessions.SECURE_COOKIE)), None)


def signed_in(page) -> None:
    page.get_by_text("Angemeldet:").wait_for(timeout=TIMEOUT_S * 1000)


def sign_in_form(page) -> None:
    page.get_by_label("Passwort").wait_for(timeout=TIMEOUT_S * 1000)
    # the signed-in sidebar may still be on its way out when the form appears
    wait_until(lambda: page.get_by_text("Angemeldet:").count() == 0, what="the signed-in sidebar to go")


def weekend_chosen(page) -> bool:
    """The weekday pills show Saturday and Sunday, and only them, as chosen."""
    chosen = page.evaluate(
        """Array.from(document.querySelectorAll('[data-testid="stSidebar"] button[aria-pressed="true"]'))
           .map(b => b.innerText.trim())"""
    )
    return chosen == ["Sa", "So"]


def age_sessions(path, name: str, minutes: float) -> None:
    """The sessions of ``name`` were last used ``minutes`` ago (as if the projector had stood idle)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sessions SET last_seen = ? WHERE account = ?",
                     (_iso(utc_now() - timedelta(minutes=minutes)), name))
    conn.close()


def test_a_signed_in_session_survives_reload_and_new_tab_until_signed_out(live):
    url, path, council = live
    store = AccountStore(path)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        login(page, url, council, path=VIEW)
        # a filter, chosen in the page: the address carries it
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sa–So").click()
        wait_until(lambda: WEEKEND in page.evaluate("location.search"), what="the weekdays in the address")
        wait_until(lambda: weekend_chosen(page), what="Saturday and Sunday chosen")
        cookie = wait_until(lambda: session_cookie(context), what="the session cookie")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert sessions.COOKIE not in page.evaluate("document.cookie")  # no script of the page can read it
        assert store.find_session(cookie["value"]) is not None
        address = page.evaluate("location.pathname + location.search")

        # the projector laptop reloads: still signed in, the same page and view
        page.reload()
        signed_in(page)
        wait_until(lambda: weekend_chosen(page), what="the weekend filter after the reload")
        assert page.evaluate("location.pathname + location.search") == address
        assert page.get_by_label("Passwort").count() == 0
        assert sessions.COOKIE not in page.evaluate("document.cookie")

        # a new tab of the same browser: signed in, on the page of its address
        tab = context.new_page()
        tab.goto(url + "/luecken?" + WEEKEND)
        signed_in(tab)
        tab.get_by_role("heading", name="Lücken").first.wait_for(timeout=TIMEOUT_S * 1000)
        assert WEEKEND in tab.evaluate("location.search")

        # another browser (no cookie) gets the sign-in form
        stranger = browser.new_context().new_page()
        stranger.goto(url + VIEW)
        sign_in_form(stranger)

        # signing out ends the stored session and clears the cookie
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Abmelden").click()
        sign_in_form(page)
        wait_until(lambda: session_cookie(context) is None, what="the cookie to be cleared")
        assert store.find_session(cookie["value"]) is None
        page.reload()
        sign_in_form(page)
        tab.reload()
        sign_in_form(tab)

        # a copy of the old cookie is worthless
        thief = browser.new_context()
        thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
        stolen = thief.new_page()
        stolen.goto(url + VIEW)
        sign_in_form(stolen)
    log = AuditLog(path).entries()
    mine = log[log["target"] == council]
    assert (mine["action"] == "session_resume").sum() >= 2  # the reload and the new tab
    assert (mine["action"] == "logout").sum() == 1


def test_an_idle_session_ends(live):
    url, path, council = live
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        login(page, url, council, path=VIEW)
        cookie = wait_until(lambda: session_cookie(context), what="the session cookie")
        page.reload()
        signed_in(page)  # within the idle time
        app_idle(page)  # a run still under way would count as activity after the ageing
        age_sessions(path, council, 31)  # ATLAS_SESSION_MINUTES: 30 by default
        page.reload()
        sign_in_form(page)
        page.get_by_text(re.compile("Sitzung ist abgelaufen")).wait_for(timeout=TIMEOUT_S * 1000)
        assert AccountStore(path).find_session(cookie["value"]) is None
        wait_until(lambda: session_cookie(context) is None, what="the cookie to be cleared")
    log = AuditLog(path).entries(action="session_timeout")
    assert council in set(log["target"])
