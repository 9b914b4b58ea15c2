"""Server-side sessions: a signed-in browser survives a reload and a new tab.

The stored session keeps only a keyed hash of the token; the cookie is set by a
one-time ticket exchanged at the app's own route; a new Streamlit session (a
reload, a new tab) resumes the stored session from the cookie while it is valid.
A reload is simulated under AppTest by a fresh app whose browser sends the
cookie (``auth._session_cookie``); the route is tested through the server guard
as the server runs it (ASGI), without a server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from dashboard import auth, server_guard, sessions
from loaders.accounts import AccountStore, default_path, key_path
from loaders.audit import AuditLog
from tests.conftest import open_app, sign_in, signed_out
from tests.test_accounts import cheap, log, path  # noqa: F401  (shared fixtures)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Kassberg-Sonnenberg-2025"
T0 = 1_750_000_000.0  # a moment for the tickets' clock


@pytest.fixture
def store(path, log) -> AccountStore:
    s = AccountStore(path, hasher=cheap(), audit=log)
    s.add("rat", "council", PASSWORD, actor="test")
    return s


def open_for(store: AccountStore, name: str = "rat", **kwargs):
    account = store.lookup(name)
    return store.open_session(account["name"], account["role"], "password", account_created=account["created"], **kwargs)


def stored_bytes(path: Path) -> bytes:
    """Everything in the accounts database and its journal files."""
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def age(path: Path, name: str, minutes: float) -> None:
    """Pretend the sessions of ``name`` were last used ``minutes`` ago."""
    from loaders.accounts import _iso, utc_now

    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sessions SET last_seen = ? WHERE account = ?",
                     (_iso(utc_now() - timedelta(minutes=minutes)), name))
    conn.close()


def cli(path: Path, *args, password: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ATLAS_PASSWORD", "ATLAS_ACCOUNTS")}
    if password is not None:
        env["ATLAS_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "dashboard.users", "--accounts", str(path), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


# -- the stored session ----------------------------------------------------------------------
def test_only_a_keyed_hash_of_the_token_is_stored(store, path, tmp_path):
    token, session = open_for(store, client="203.0.113.66")
    assert len(token) >= 40  # token_urlsafe(32)
    data = stored_bytes(path)
    assert token.encode() not in data
    assert hashlib.sha256(token.encode()).hexdigest().encode() not in data  # not a plain hash either
    key = key_path(path).read_bytes()
    assert session.id == hmac.new(key, b"session\x00" + token.encode(), hashlib.sha256).hexdigest()
    assert session.id.encode() in data
    assert b"203.0.113.66" not in data and session.client == store.pseudonym("client", "203.0.113.66")
    other = AccountStore(tmp_path / "other" / "accounts.sqlite", hasher=cheap())
    assert other.session_id(token) != session.id  # another key, another hash
    found = store.find_session(token)
    assert found is not None and (found.account, found.role, found.via) == ("rat", "council", "password")
    for wrong in (token + "x", token[:-1], "", None, 42, "x" * 10_000):
        assert store.find_session(wrong) is None


@pytest.mark.parametrize("change", ["passwd", "disable", "remove"])
def test_a_new_password_disabling_or_removing_the_account_ends_its_sessions(store, path, change):
    sessions_before = [open_for(store)[0] for _ in range(3)]
    bystander = store.open_session("teilnahme-abc123", "workshop", "code", workshop_id="W-1", participant="p")[0]
    assert len(store.sessions_of("RAT")) == 3
    if change == "passwd":
        done = cli(path, "passwd", "rat", password="ein-ganz-neues-passwort")
    else:
        done = cli(path, change, "rat")
    assert done.returncode == 0, done.stderr
    assert store.sessions_of("rat") == []
    assert all(store.find_session(token) is None for token in sessions_before)
    assert store.find_session(bystander) is not None  # a participant's session has no account


def test_a_role_change_keeps_sessions_and_enabling_does_not_revive_them(store):
    token, _ = open_for(store)
    store.set_role("rat", "workshop", actor="test")
    assert store.find_session(token).role == "council"  # decided when it is resumed (see below)
    store.set_disabled("rat", True, actor="test")
    store.set_disabled("rat", False, actor="test")
    assert store.find_session(token) is None
    assert open_for(store) is not None


def test_no_session_for_a_disabled_or_recreated_account(store):
    account = store.lookup("rat")
    store.set_disabled("rat", True, actor="test")
    assert store.open_session("rat", "council", "password", account_created=account["created"]) is None
    store.set_disabled("rat", False, actor="test")
    store.remove("rat", actor="test")
    store.add("rat", "council", PASSWORD, actor="test")
    assert store.open_session("rat", "council", "password", account_created=account["created"]) is None


def test_last_seen_only_moves_forward_and_idle_sessions_are_cleared(store, path):
    token, session = open_for(store)
    assert store.touch_session(session.id, session.last_seen - timedelta(minutes=5))
    assert store.find_session(token).last_seen == session.last_seen
    later = session.last_seen + timedelta(minutes=5)
    assert store.touch_session(session.id, later)
    assert store.find_session(token).last_seen == later
    assert store.find_session(token).idle(later + timedelta(minutes=1)) == timedelta(minutes=1)
    # opening another session clears those idle for longer than the timeout
    open_for(store, now=later + timedelta(minutes=31), idle=timedelta(minutes=30))
    assert store.find_session(token) is None
    assert store.end_session(session.id) is False
    assert not store.touch_session(session.id)


# -- tickets ---------------------------------------------------------------------------------
def test_a_ticket_works_once():
    ticket = sessions.issue("the-token", now=T0)
    assert sessions.pending(ticket, now=T0 + 1)
    found = sessions.redeem(ticket, now=T0 + 1)
    assert found is not None and found.token == "the-token"
    assert sessions.redeem(ticket, now=T0 + 1) is None
    assert not sessions.pending(ticket, now=T0 + 1)


def test_a_ticket_expires():
    ticket = sessions.issue("the-token", now=T0)
    assert not sessions.pending(ticket, now=T0 + sessions.TICKET_SECONDS)
    assert sessions.redeem(ticket, now=T0 + sessions.TICKET_SECONDS) is None
    assert sessions.redeem(ticket, now=T0) is None  # and it is gone, even for an earlier clock
    fresh = sessions.issue("the-token", now=T0)
    assert sessions.redeem(fresh, now=T0 + sessions.TICKET_SECONDS - 1).token == "the-token"


def test_unknown_and_withdrawn_tickets_are_refused():
    ticket = sessions.issue("the-token")
    sessions.withdraw(ticket)
    assert sessions.redeem(ticket) is None
    for wrong in ("", "nope", None, 7, "x" * 500, ticket + "x"):
        assert sessions.redeem(wrong) is None


def test_tickets_in_memory_are_bounded(monkeypatch):
    monkeypatch.setattr(sessions, "_tickets", {})
    monkeypatch.setattr(sessions, "MAX_TICKETS", 5)
    first = sessions.issue("a")
    for _ in range(10):
        sessions.issue("b")
    assert len(sessions._tickets) == 5 and not sessions.pending(first)


# -- the route, through the server guard ----------------------------------------------------
class Behind:
    """The app behind the guard: records what reaches it."""

    def __init__(self):
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


class Client:
    """Plain HTTP requests to the guard (and the app behind it), as the server passes them on."""

    def __init__(self):
        self.behind = Behind()
        self.app = server_guard.Guard(self.behind)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def send():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8501") as http:
                return await http.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def put(self, url, **kwargs):
        return self.request("PUT", url, **kwargs)


@pytest.fixture
def client() -> Client:
    return Client()


SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8501"}


def post(client, ticket, headers=None, **kwargs):
    return client.post(sessions.ROUTE, json={"ticket": ticket}, headers={**SAME_ORIGIN, **(headers or {})}, **kwargs)


def test_the_route_sets_an_httponly_strict_cookie_once(client):
    ticket = sessions.issue("the-token")
    answer = post(client, ticket)
    assert answer.status_code == 204
    cookie = answer.headers.get_list("set-cookie")
    assert len(cookie) == 1
    parts = [p.strip() for p in cookie[0].split(";")]
    assert parts[0] == "atlas_session=the-token"
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(parts)
    assert "Secure" not in parts and not any(p.lower().startswith(("max-age", "expires", "domain")) for p in parts)
    assert answer.headers["cache-control"] == "no-store"
    again = post(client, ticket)
    assert again.status_code == 403 and "set-cookie" not in again.headers
    assert client.behind.paths == []  # nothing reached Streamlit


def test_over_https_the_cookie_is_secure_and_host_bound(client):
    answer = post(client, sessions.issue("the-token"), {"X-Forwarded-Proto": "https"})
    assert answer.status_code == 204
    parts = [p.strip() for p in answer.headers["set-cookie"].split(";")]
    assert parts[0] == "__Host-atlas_session=the-token"
    assert {"HttpOnly", "SameSite=Strict", "Path=/", "Secure"} <= set(parts)


def test_a_clearing_ticket_clears_the_cookie(client):
    answer = post(client, sessions.issue(None))
    assert answer.status_code == 204
    assert answer.headers.get_list("set-cookie") == ["atlas_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"]
    secure = post(client, sessions.issue(None), {"X-Forwarded-Proto": "https"}).headers.get_list("set-cookie")
    assert {c.split("=")[0] for c in secure} == {"__Host-atlas_session", "atlas_session"}
    assert all("Max-Age=0" in c and "Secure" in c for c in secure)


def test_the_route_refuses_everything_else(client):
    expired = sessions.issue("the-token", now=T0)
    used = sessions.issue("the-token")
    assert post(client, used).status_code == 204
    kept = sessions.issue("kept-token")
    refusals = [
        post(client, "made-up-ticket"),
        post(client, used),
        post(client, expired),
        post(client, None),
        post(client, kept, {"Sec-Fetch-Site": "cross-site"}),
        post(client, kept, {"Origin": "https://evil.example"}),
        client.post(sessions.ROUTE, data={"ticket": kept}, headers=SAME_ORIGIN),  # a plain form post
        client.post(sessions.ROUTE, content=b"{not json", headers={**SAME_ORIGIN, "Content-Type": "application/json"}),
        client.post(sessions.ROUTE, content=json.dumps({"ticket": kept, "pad": "x" * 5000}),
                    headers={**SAME_ORIGIN, "Content-Type": "application/json"}),
        client.get(sessions.ROUTE, params={"ticket": kept}, headers=SAME_ORIGIN),
        client.request("OPTIONS", sessions.ROUTE, headers=SAME_ORIGIN),
        client.put(sessions.ROUTE, json={"ticket": kept}, headers=SAME_ORIGIN),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403, 403, 403, 403, 415, 400, 413, 405, 405, 405]
    assert all("set-cookie" not in r.headers for r in refusals)
    assert client.behind.paths == []
    # refused requests from elsewhere have not used up the ticket of the page that holds it
    assert post(client, kept).status_code == 204
    # every other address still reaches the app
    assert client.get("/karte").status_code == 200 and client.behind.paths == ["/karte"]


def test_the_page_script_posts_the_ticket_to_the_route():
    text = sessions.script("abc-DEF_123")
    assert text.startswith("<script>") and text.endswith("</script>")
    assert '"/_atlas/session"' in text and "abc-DEF_123" in text
    assert "credentials: 'same-origin'" in text and "application/json" in text
    assert "</" not in text[len("<script>"):-len("</script>")]


# -- signing in, reloading, signing out (the real app under AppTest) --------------------------
def exchange(at) -> str:
    """What the browser does with the page's script: the ticket it carries, for the cookie."""
    ticket = at.session_state[auth.TICKET_KEY]
    assert any(ticket in h.proto.body for h in at.get("html"))  # the page carries it
    return sessions.redeem(ticket).token


class Browser:
    """One browser: its cookie, and new tabs (new Streamlit sessions) that send it."""

    def __init__(self, db, monkeypatch):
        self.db, self.monkeypatch, self.cookie = db, monkeypatch, None
        monkeypatch.setattr(auth, "_session_cookie", lambda: self.cookie)

    def tab(self, query: dict | None = None):
        at = open_app(self.db, self.monkeypatch, role=None)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        assert not at.exception
        return at

    def sign_in(self, name: str = "rat"):
        at = self.tab()
        sign_in(at, name, PASSWORD)
        assert at.session_state["_user"].name == name
        self.cookie = exchange(at)
        return at


@pytest.fixture
def browser(db, monkeypatch):
    AccountStore(default_path(str(db))).add("rat", "council", PASSWORD, actor="test")
    return Browser(db, monkeypatch)


def entries(db, action: str):
    return AuditLog(default_path(str(db))).entries(action=action)


def test_a_reload_resumes_the_session_and_keeps_the_view(browser, db):
    first = browser.sign_in()
    assert auth.TICKET_KEY not in first.run().session_state  # used: no longer put into the page
    again = browser.tab({"wd": "56", "layers": "districts"})
    user = again.session_state["_user"]
    assert (user.name, user.role, user.via) == ("rat", "council", "password")
    assert not signed_out(again) and again.query_params["wd"] == "56"
    assert again.session_state["f_wd"] == [5, 6]  # the filter of the address
    resumed = entries(db, "session_resume")
    assert resumed["target"].tolist() == ["rat"] and resumed["detail"].tolist() == ["role=council via=password"]
    assert len(entries(db, "login")) == 1  # signed in once
    # without the cookie (another browser): the sign-in form
    browser.cookie = None
    assert signed_out(browser.tab())


def test_an_idle_session_is_not_resumed(browser, db, monkeypatch):
    monkeypatch.setenv("ATLAS_SESSION_MINUTES", "5")
    browser.sign_in()
    age(default_path(str(db)), "rat", 4)
    assert not signed_out(browser.tab())  # within the timeout
    age(default_path(str(db)), "rat", 6)
    late = browser.tab()
    assert signed_out(late) and any("abgelaufen" in i.value for i in late.info)
    assert AccountStore(default_path(str(db))).sessions_of("rat") == []
    assert entries(db, "session_timeout")["target"].tolist() == ["rat"]
    # the cookie is cleared, and nothing resumes it later
    assert sessions.redeem(late.session_state[auth.TICKET_KEY]).token is None
    assert signed_out(browser.tab())


def test_a_tab_stays_while_another_tab_of_the_browser_uses_the_session(browser, db, monkeypatch):
    from datetime import datetime, timezone

    monkeypatch.setenv("ATLAS_SESSION_MINUTES", "5")
    idle_tab = browser.sign_in()
    idle_tab.session_state[auth.SEEN_KEY] = datetime.now(timezone.utc) - timedelta(minutes=6)
    browser.tab()  # the other tab has just used the session
    idle_tab.run()
    assert not signed_out(idle_tab)
    # once the session itself is idle, the tab times out and the stored session ends
    idle_tab.session_state[auth.SEEN_KEY] = datetime.now(timezone.utc) - timedelta(minutes=6)
    age(default_path(str(db)), "rat", 6)
    idle_tab.run()
    assert signed_out(idle_tab) and any("abgelaufen" in i.value for i in idle_tab.info)
    assert signed_out(browser.tab())


def test_signing_out_ends_the_stored_session_in_every_tab(browser, db):
    first = browser.sign_in()
    copied = browser.cookie
    other = browser.tab()
    assert not signed_out(other)
    next(b for b in first.button if b.label == "Abmelden").click().run()
    assert signed_out(first)
    assert AccountStore(default_path(str(db))).find_session(copied) is None
    assert sessions.redeem(first.session_state[auth.TICKET_KEY]).token is None  # the cookie is cleared
    assert signed_out(browser.tab())  # a reload, even with a copy of the old cookie
    other.run()  # the other tab at its next interaction
    assert signed_out(other) and any("beendet" in i.value for i in other.info)
    assert entries(db, "logout")["target"].tolist() == ["rat"]


@pytest.mark.parametrize("change", ["passwd", "disable", "remove"])
def test_a_new_password_disabling_or_removing_ends_open_tabs_and_reloads(browser, db, change):
    tab = browser.sign_in()
    path = default_path(str(db))
    done = cli(path, "passwd", "rat", password="ein-ganz-neues-passwort") if change == "passwd" else cli(path, change, "rat")
    assert done.returncode == 0, done.stderr
    tab.run()
    assert signed_out(tab)
    assert signed_out(browser.tab())
    assert entries(db, "session_resume").empty


def test_a_role_changed_while_away_needs_a_new_sign_in(browser, db):
    browser.sign_in()
    AccountStore(default_path(str(db))).set_role("rat", "workshop", actor="test")
    tab = browser.tab()
    assert signed_out(tab) and any("beendet" in i.value for i in tab.info)
    ended = entries(db, "session_ended")
    assert ended["detail"].tolist() == ["role changed: council -> workshop"]


def test_a_role_changed_in_an_open_tab_is_kept_on_reload(browser, db):
    tab = browser.sign_in()
    AccountStore(default_path(str(db))).set_role("rat", "workshop", actor="test")
    tab.run()
    assert tab.session_state["_user"].role == "workshop"
    assert browser.tab().session_state["_user"].role == "workshop"


def test_a_workshop_participant_resumes_while_the_workshop_is_open(browser, db):
    from loaders.workshops import WorkshopStore, default_path as workshops_path

    workshops = WorkshopStore(workshops_path(str(db)))
    workshop = workshops.create_workshop("Sonnenberg", "2025-06-02", ["01"], "test")
    at = browser.tab()
    at.text_input(key="join_code").set_value(workshop["code"])
    next(b for b in at.button if b.label == "Beitreten").click().run()
    participant = at.session_state["_user"]
    assert participant.via == "code"
    browser.cookie = exchange(at)
    again = browser.tab()
    assert again.session_state["_user"] == participant
    workshops.set_open(workshop["id"], False)
    assert signed_out(browser.tab())
    assert entries(db, "session_ended")["detail"].tolist() == ["workshop closed"]
