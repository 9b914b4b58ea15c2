"""Sign-in security: sessions follow their account, throttling per client address,
nothing typed is kept in the audit log, and the limits hold under concurrent attempts.

Time-based delays are tested with an injected clock (``now=``); the browser tests
wait for what the page shows, never for a fixed time.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from loaders.accounts import (
    JOIN,
    MSG_FAILED,
    SIGN_IN,
    UNKNOWN_CLIENT,
    AccountError,
    AccountStore,
    client_key,
    default_path,
    key_path,
)
from loaders.audit import AuditLog
from tests.apprunner import WAIT_MS, TIMEOUT_S
from tests.conftest import open_app, sign_in, signed_out
from tests.test_accounts import CountingHasher, cheap, log, path  # noqa: F401  (shared fixtures)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Kassberg-Sonnenberg-2025"
WRONG = "falsch-falsch"
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=timezone.utc)
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
CONCURRENT = 20


@pytest.fixture
def store(path, log) -> AccountStore:
    s = AccountStore(path, hasher=cheap(), audit=log)
    s.add("admin", "admin", PASSWORD, actor="test")
    return s


def cli(path: Path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ATLAS_PASSWORD", "ATLAS_ACCOUNTS")}
    return subprocess.run([sys.executable, "-m", "dashboard.users", "--accounts", str(path), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def stored_text(path: Path) -> bytes:
    """Everything in the accounts database and its journal files."""
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


# -- 2. sign-in locks per (name, client address) ------------------------------------------
def test_failures_from_another_address_never_lock_out_the_owner(store):
    now = T0
    for _ in range(30):  # a persistent attacker who knows the name
        store.authenticate("admin", WRONG, now=now, client=ATTACKER)
        now += timedelta(seconds=1)
    assert not store.authenticate("admin", PASSWORD, now=now, client=ATTACKER).ok  # locked there
    owner = store.authenticate("admin", PASSWORD, now=now, client=OWNER)
    assert owner.ok and owner.role == "admin"
    # and the owner's success does not lift the attacker's lock
    assert store.authenticate("admin", PASSWORD, now=now, client=ATTACKER).locked_until is not None


def test_delays_grow_with_each_failure_after_the_limit(store):
    now, locks = T0, []
    for _ in range(12):
        for _ in range(SIGN_IN.max_failures if not locks else 1):
            result = store.authenticate("admin", WRONG, now=now, client=ATTACKER)
        locks.append(result.locked_until - now)
        # refused until the lock has passed, without looking at the password
        refused = store.authenticate("admin", PASSWORD, now=result.locked_until - timedelta(microseconds=1),
                                     client=ATTACKER)
        assert not refused.ok and refused.locked_until == result.locked_until
        now = result.locked_until
    minutes = [lock / timedelta(minutes=1) for lock in locks]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]
    assert SIGN_IN.first_delay == timedelta(minutes=1) and SIGN_IN.max_delay >= timedelta(minutes=15)
    # after the last lock the right password works from there as well
    assert store.authenticate("admin", PASSWORD, now=now, client=ATTACKER).ok


def test_failures_are_forgotten_after_a_quiet_day(store):
    for _ in range(SIGN_IN.max_failures - 1):
        store.authenticate("admin", WRONG, now=T0, client=ATTACKER)
    later = T0 + SIGN_IN.memory
    assert store.authenticate("admin", WRONG, now=later, client=ATTACKER).locked_until is None
    assert store.throttle_state("login", "admin", ATTACKER)["failures"] == 1


def test_client_keys():
    assert client_key(None) == client_key("") == UNKNOWN_CLIENT
    assert client_key("203.0.113.66") == "203.0.113.66"
    assert client_key("::ffff:203.0.113.66") == "203.0.113.66"
    # one IPv6 host or household holds a whole /64: counted as one address
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")


def test_ipv6_addresses_of_one_network_share_a_count(store):
    for i in range(SIGN_IN.max_failures):
        result = store.authenticate("admin", WRONG, now=T0, client=f"2001:db8:1:2::{i + 1:x}")
    assert result.locked_until is not None
    assert not store.authenticate("admin", PASSWORD, now=T0, client="2001:db8:1:2::99").ok
    assert store.authenticate("admin", PASSWORD, now=T0, client="2001:db8:1:3::1").ok


def test_unlock_command_lifts_every_lock_and_is_audited(store, path, log):
    for client in (ATTACKER, OWNER):
        for _ in range(SIGN_IN.max_failures):
            store.authenticate("admin", WRONG, client=client)
    assert store.get("admin")["locked_until"] is not None
    done = cli(path, "unlock", "ADMIN")
    assert done.returncode == 0, done.stderr
    assert "2 address(es)" in done.stdout
    assert store.get("admin")["locked_until"] is None
    assert store.authenticate("admin", PASSWORD, client=OWNER).ok
    entry = log.entries(action="account_unlock")
    assert entry["target"].tolist() == ["admin"] and entry["actor"].str.startswith("cli:").all()
    refused = cli(path, "unlock", "niemand")
    assert refused.returncode == 2 and "unknown account" in refused.stderr


# -- 3. join codes throttled per client address -------------------------------------------
class Codes:
    """A stand-in for the workshop store's ``by_code``: counts how often it is asked."""

    RIGHT = "K7M2QX"

    def __init__(self):
        self.asked = 0
        self._lock = threading.Lock()

    def __call__(self, code):
        with self._lock:
            self.asked += 1
        return {"id": "W-1"} if code.strip().upper() == self.RIGHT else None


def wrong_code(i: int) -> str:
    return f"ZZZ{i:03d}"


def test_wrong_join_codes_are_throttled_and_then_even_the_right_one_is_refused(store, log):
    codes = Codes()
    results = [store.check_code(wrong_code(i), codes, now=T0, client=ATTACKER) for i in range(12)]
    assert all(r.value is None for r in results)
    assert [r.locked_until is not None for r in results] == [False] * (JOIN.max_failures - 1) + [True] * 3
    until = results[JOIN.max_failures - 1].locked_until
    assert until == T0 + JOIN.first_delay
    asked = codes.asked
    right = store.check_code(Codes.RIGHT, codes, now=T0 + timedelta(seconds=6), client=ATTACKER)
    assert right.value is None and right.locked_until == until
    assert codes.asked == asked == JOIN.max_failures  # not even looked up while locked
    # another address is not affected, and a right code from there is not counted
    for _ in range(20):
        assert store.check_code(Codes.RIGHT, codes, now=T0, client=OWNER).value == {"id": "W-1"}
    assert store.throttle_state("join", "", OWNER) is None
    # after the lock the next wrong code locks again, twice as long
    again = store.check_code(wrong_code(99), codes, now=until, client=ATTACKER)
    assert again.locked_until == until + 2 * JOIN.first_delay
    assert store.check_code(Codes.RIGHT, codes, now=again.locked_until, client=ATTACKER).value == {"id": "W-1"}
    assert (log.entries(action="join_lockout")["action"].size) == 2


def test_a_right_code_is_not_counted(store):
    codes = Codes()
    for i in range(JOIN.max_failures - 1):
        store.check_code(wrong_code(i), codes, now=T0, client=ATTACKER)
    # the attempt that would reach the limit is right: no lock, and the count stays below the limit
    assert store.check_code(Codes.RIGHT, codes, now=T0, client=ATTACKER).value is not None
    state = store.throttle_state("join", "", ATTACKER)
    assert state["failures"] == JOIN.max_failures - 1 and state["locked_until"] is None
    assert store.check_code(wrong_code(50), codes, now=T0, client=ATTACKER).locked_until is not None


def test_the_join_form_refuses_the_right_code_after_a_run_of_wrong_ones(db, monkeypatch):
    from loaders.workshops import WorkshopStore, default_path as workshops_path

    workshop = WorkshopStore(workshops_path(str(db))).create_workshop("Sonnenberg", "2025-06-02", ["01"], "test")
    at = open_app(db, monkeypatch, role=None)
    at.run()
    for i in range(12):
        at.text_input(key="join_code").set_value(wrong_code(i))
        next(b for b in at.button if b.label == "Beitreten").click().run()
    assert any("Zu viele falsche Codes" in e.value for e in at.error)
    at.text_input(key="join_code").set_value(workshop["code"].lower())
    next(b for b in at.button if b.label == "Beitreten").click().run()
    assert not at.exception
    assert any("Zu viele falsche Codes" in e.value for e in at.error)
    assert "_user" not in at.session_state
    log = AuditLog(default_path(str(db))).entries()
    assert (log["action"] == "join_failed").sum() == 13 and (log["action"] == "join_lockout").sum() == 1
    text = AuditLog(default_path(str(db))).to_csv().decode("utf-8-sig")
    assert all(wrong_code(i) not in text for i in range(12)) and workshop["code"] not in text


# -- 4. nothing typed is kept in the audit log --------------------------------------------
def test_a_password_typed_into_the_name_field_is_not_stored(store, path, log):
    for _ in range(SIGN_IN.max_failures + 1):  # failures, a lock and attempts during it
        store.authenticate(PASSWORD, PASSWORD, client=OWNER)
    store.authenticate("Admin", WRONG, client=OWNER)
    frame = log.entries()
    assert set(frame["action"]) == {"account_add", "login_failed", "account_lockout"}
    assert PASSWORD not in log.to_csv().decode("utf-8-sig")
    assert PASSWORD.encode() not in stored_text(path)
    assert PASSWORD.lower().encode() not in stored_text(path)
    assert OWNER.encode() not in stored_text(path) and OWNER not in log.to_csv().decode("utf-8-sig")
    unknown = frame.loc[frame["action"] == "login_failed", "actor"]
    # the same unknown name always gives the same pseudonym; real names stay readable
    assert unknown.iloc[-1].startswith("unknown:") and len(unknown.iloc[-1]) == len("unknown:") + 12
    assert set(unknown) == {unknown.iloc[-1], "admin"}


def test_pseudonyms_are_keyed_and_the_key_is_private(store, path, tmp_path):
    first = store.pseudonym("name", "mallory")
    assert first == AccountStore(path, hasher=cheap()).pseudonym("name", "mallory")  # the key is kept
    assert first != store.pseudonym("name", "mallory2") and first != store.pseudonym("code", "mallory")
    assert key_path(path).stat().st_mode & 0o077 == 0
    other = AccountStore(tmp_path / "other" / "accounts.sqlite", hasher=cheap())
    assert other.pseudonym("name", "mallory") != first  # another key


def test_the_key_is_created_once_by_racing_processes(tmp_path):
    path = tmp_path / "race.sqlite"
    code = ("import sys; from loaders.accounts import AccountStore; "
            f"print(AccountStore({str(path)!r}).pseudonym('name', 'x'))")
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(6)]
    outputs = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert len(outputs) == 1 and all(len(o) == 12 for o in outputs)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_sign_in_form_does_not_log_a_password_typed_as_name(db, monkeypatch):
    accounts = AccountStore(default_path(str(db)))
    accounts.add("rat-mitglied", "council", PASSWORD, actor="test")
    at = open_app(db, monkeypatch, role=None)
    at.run()
    at.text_input(key="login_name").set_value(PASSWORD)
    at.text_input(key="login_password").set_value(PASSWORD)
    next(b for b in at.button if b.label == "Anmelden").click().run()
    assert "Name oder Passwort falsch." in [e.value for e in at.error]
    log = AuditLog(default_path(str(db)))
    assert PASSWORD not in log.to_csv().decode("utf-8-sig")
    assert PASSWORD.encode() not in stored_text(default_path(str(db)))
    assert log.entries(action="login_failed")["target"].iloc[0].startswith("unknown:")


# -- 1. sessions follow their account ---------------------------------------------------------
def meeting_layer_offered(at) -> bool:
    return any("Treffpunkte" in c.label for c in at.checkbox)


@pytest.fixture
def council_app(db, monkeypatch):
    """The app, signed in through the form as the council account ``rat``."""
    accounts = AccountStore(default_path(str(db)))
    accounts.add("rat", "council", PASSWORD, actor="test")
    at = open_app(db, monkeypatch, role=None)
    at.run()
    sign_in(at, "rat", PASSWORD)
    assert at.session_state["_user"].role == "council" and meeting_layer_offered(at)
    return at, default_path(str(db))


def test_a_demoted_account_gets_its_new_role_at_the_next_interaction(council_app):
    at, path = council_app
    assert cli(path, "set-role", "rat", "workshop").returncode == 0
    at.run()
    assert not at.exception
    assert at.session_state["_user"].role == "workshop"
    assert not meeting_layer_offered(at)
    assert any("Workshop" in toast.value for toast in at.toast)
    log = AuditLog(path).entries(action="session_role_changed")
    assert log["target"].tolist() == ["rat"] and log["detail"].tolist() == ["role=council -> workshop"]
    # and back
    assert cli(path, "set-role", "rat", "council").returncode == 0
    at.run()
    assert at.session_state["_user"].role == "council" and meeting_layer_offered(at)


@pytest.mark.parametrize("change", [["remove", "rat"], ["disable", "rat"]])
def test_a_removed_or_disabled_account_is_signed_out_at_once(council_app, change):
    at, path = council_app
    assert cli(path, *change).returncode == 0
    at.run()
    assert not at.exception
    assert signed_out(at) and not at.metric and not meeting_layer_offered(at)
    assert any("abgemeldet" in i.value for i in at.info)
    ended = AuditLog(path).entries(action="session_ended")
    assert ended["target"].tolist() == ["rat"]
    assert ended["detail"].tolist() == ["account removed" if change[0] == "remove" else "account disabled"]
    # and cannot sign in again
    sign_in(at, "rat", PASSWORD)
    assert signed_out(at) and "Name oder Passwort falsch." in [e.value for e in at.error]


def test_a_disabled_account_may_sign_in_again_once_enabled(council_app):
    at, path = council_app
    assert cli(path, "disable", "rat").returncode == 0
    assert "disabled" in cli(path, "list").stdout
    at.run()
    assert signed_out(at)
    assert cli(path, "enable", "rat").returncode == 0
    sign_in(at, "rat", PASSWORD)
    assert at.session_state["_user"].role == "council"


def test_an_account_created_anew_under_the_same_name_does_not_inherit_the_session(council_app):
    at, path = council_app
    AccountStore(path).remove("rat", actor="test")
    AccountStore(path).add("rat", "admin", "ein-anderes-passwort", actor="test")
    at.run()
    assert signed_out(at)


def test_the_account_check_is_cheap(store, path):
    import time

    started = time.perf_counter()
    for _ in range(200):
        assert store.lookup("admin")["role"] == "admin"
    assert (time.perf_counter() - started) / 200 < 0.01  # well below a millisecond in practice


# -- 5. the limits hold under concurrent attempts -----------------------------------------
def test_twenty_concurrent_wrong_guesses_are_counted_exactly(path, log):
    hasher = CountingHasher()
    store = AccountStore(path, hasher=hasher, audit=log)
    store.add("admin", "admin", PASSWORD, actor="test")
    barrier = threading.Barrier(CONCURRENT)

    def guess():
        barrier.wait()
        store.authenticate("admin", WRONG, now=T0, client=ATTACKER)

    threads = [threading.Thread(target=guess) for _ in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hasher.verified == SIGN_IN.max_failures
    state = store.throttle_state("login", "admin", ATTACKER)
    assert state["failures"] == SIGN_IN.max_failures and state["locked_until"] == T0 + SIGN_IN.first_delay
    assert (log.entries()["action"] == "account_lockout").sum() == 1
    # the owner elsewhere is untouched
    assert store.authenticate("admin", PASSWORD, now=T0, client=OWNER).ok


# One guessing process: counts its verifications by appending a byte to a file, says
# "ready", and guesses when the test writes "go" (all processes at nearly the same moment).
GUESSER = """
import os, sys
from datetime import datetime
from argon2 import PasswordHasher
from loaders.accounts import AccountStore
from loaders.audit import AuditLog

path, counter, now, client = sys.argv[1:5]

class Counting(PasswordHasher):
    def verify(self, hash, password):
        fd = os.open(counter, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        os.write(fd, b".")
        os.close(fd)
        return super().verify(hash, password)

store = AccountStore(path, hasher=Counting(time_cost=1, memory_cost=8, parallelism=1), audit=AuditLog(path))
store.pseudonym("name", "")  # the key is read before the start
print("ready", flush=True)
sys.stdin.readline()
result = store.authenticate("admin", "falsch-falsch", now=datetime.fromisoformat(now), client=client)
print("locked" if result.locked_until else "failed", flush=True)
"""


def test_twenty_processes_cannot_pass_the_limit(path, tmp_path):
    AccountStore(path, hasher=cheap()).add("admin", "admin", PASSWORD, actor="test")
    counter = tmp_path / "verified"
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_ACCOUNTS"}
    procs = [subprocess.Popen([sys.executable, "-c", GUESSER, str(path), str(counter), T0.isoformat(), ATTACKER],
                              cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(CONCURRENT)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        answers = [p.communicate(timeout=120)[0].strip() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0] * CONCURRENT
    assert len(counter.read_bytes()) == SIGN_IN.max_failures  # passwords actually tried
    assert answers.count("failed") == SIGN_IN.max_failures - 1
    store = AccountStore(path, hasher=cheap())
    state = store.throttle_state("login", "admin", ATTACKER)
    assert state["failures"] == SIGN_IN.max_failures and state["locked_until"] == T0 + SIGN_IN.first_delay
    entries = AuditLog(path).entries()
    assert (entries["action"] == "login_failed").sum() == CONCURRENT
    assert (entries["action"] == "account_lockout").sum() == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_twenty_concurrent_join_codes_cannot_pass_the_limit(store, log):
    codes = Codes()
    barrier = threading.Barrier(CONCURRENT)
    results = []

    def guess(i: int):
        barrier.wait()
        # one of them is right: it may only be answered if it came before the lock
        code = Codes.RIGHT if i == CONCURRENT - 1 else wrong_code(i)
        results.append(store.check_code(code, codes, now=T0, client=ATTACKER))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = log.entries(action="join_failed")
    answered_wrong = (~failed["detail"].str.startswith("refused")).sum()
    joined = sum(r.value is not None for r in results)
    assert answered_wrong == JOIN.max_failures  # no more wrong codes were answered than the limit
    assert answered_wrong + joined + failed["detail"].str.startswith("refused").sum() == CONCURRENT
    state = store.throttle_state("join", "", ATTACKER)
    assert state["failures"] == JOIN.max_failures and state["locked_until"] == T0 + JOIN.first_delay
    assert (log.entries()["action"] == "join_lockout").sum() == 1


def test_twenty_participants_joining_at_once_are_not_throttled(store):
    codes = Codes()
    barrier = threading.Barrier(CONCURRENT)
    results = []

    def join():
        barrier.wait()
        results.append(store.check_code(Codes.RIGHT, codes, now=T0, client=OWNER))

    threads = [threading.Thread(target=join) for _ in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.value for r in results] == [{"id": "W-1"}] * CONCURRENT
    assert store.throttle_state("join", "", OWNER) is None


def test_refusals(store):
    with pytest.raises(AccountError, match="unknown account"):
        store.unlock("niemand")
    with pytest.raises(AccountError, match="unknown account"):
        store.set_disabled("niemand", True)
    assert store.authenticate("x" * 200, PASSWORD).message == MSG_FAILED


# -- in the real app, in a real browser ------------------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real app on the small synthetic city, with a council and an admin account."""
    from loaders.store import GeoPackageStore, Provenance
    from tests.apprunner import running_app

    db = tmp_path_factory.mktemp("signin") / "atlas.gpkg"
    GeoPackageStore(db).write(_city(), Provenance("test", "CC0"))
    accounts = AccountStore(default_path(str(db)))
    for name, role in (("rat", "council"), ("verwaltung", "admin")):
        accounts.add(name, role, PASSWORD, actor="test")
    with running_app(db) as url:
        yield url, default_path(str(db))


def _city():
    """The synthetic city of ``tests/conftest.py`` (a function-scoped fixture there)."""
    from tests import conftest

    return conftest.city.__wrapped__()


class Received:
    """Every websocket frame the page receives (the page, its map and its data arrive this way)."""

    def __init__(self, page):
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload):
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def since(self, mark: int) -> bytes:
        return b"\n".join(self.frames[mark:])


@pytest.mark.e2e
def test_browser_session_follows_demotion_and_removal(live):
    from tests.apprunner import chromium, login, map_frame, open_page, wait_until

    url, path = live
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        received = Received(page)
        login(page, url, "rat", PASSWORD, path="/?layers=districts,meeting")
        frame = map_frame(page)
        wait_until(lambda: frame.locator(".leaflet-meeting-pane path").count() > 0, what="the meeting points")
        assert b"(fiktiv)" in received.since(0)
        assert page.get_by_role("checkbox", name=re.compile("Treffpunkte")).count() == 1

        assert cli(path, "set-role", "rat", "workshop").returncode == 0
        mark = len(received.frames)
        open_page(page, "Lücken")  # the next interaction
        page.get_by_text("Workshop", exact=True).first.wait_for(timeout=WAIT_MS)  # the role in the sidebar
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Karte", exact=True).click()
        page.get_by_role("checkbox", name=re.compile("^Stadtteile")).wait_for(timeout=WAIT_MS)
        fresh = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
        fresh.locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)  # the map has been drawn
        assert page.get_by_role("checkbox", name=re.compile("Treffpunkte")).count() == 0
        assert fresh.locator(".leaflet-meeting-pane path").count() == 0
        assert b"(fiktiv)" not in received.since(mark)  # no meeting point left the server after the demotion

        assert cli(path, "remove", "rat").returncode == 0
        try:  # the next interaction; a rerun of the page itself may already have ended the session
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Lücken", exact=True).click(timeout=10_000)
        except PlaywrightError:
            pass  # the navigation has gone: signed out already
        page.get_by_text("Sie wurden abgemeldet", exact=False).wait_for(timeout=TIMEOUT_S * 1000)
        page.get_by_label("Passwort").wait_for(timeout=TIMEOUT_S * 1000)  # the notice comes first, then the form
        assert page.get_by_label("Passwort").count() == 1
    log = AuditLog(path).entries()
    mine = log[log["target"] == "rat"]
    assert {"session_role_changed", "session_ended"} <= set(mine["action"])


@pytest.mark.e2e
def test_browser_lockout_holds_per_client_address(live):
    """Behind a proxy on the same host (trusted by default), X-Forwarded-For names the client."""
    from tests.apprunner import chromium, login, wait_until

    url, path = live
    log = AuditLog(path)
    accounts = AccountStore(path)

    def attempts() -> int:
        return len(log.entries(actor="verwaltung", action="login_failed"))

    with chromium() as browser:
        attacker = browser.new_context(extra_http_headers={"X-Forwarded-For": ATTACKER}).new_page()
        attacker.goto(url)
        for attempt in range(1, SIGN_IN.max_failures + 2):
            attacker.get_by_label("Name").fill("verwaltung")
            attacker.get_by_label("Passwort").fill(WRONG if attempt <= SIGN_IN.max_failures else PASSWORD)
            attacker.get_by_role("button", name="Anmelden").click()
            wait_until(lambda: attempts() >= attempt, what=f"failed attempt {attempt} in the log")
        attacker.get_by_text("Zu viele Fehlversuche").wait_for(timeout=WAIT_MS)
        assert attacker.get_by_text("Angemeldet:").count() == 0
        state = accounts.throttle_state("login", "verwaltung", ATTACKER)
        assert state is not None and state["failures"] == SIGN_IN.max_failures  # counted for that address

        owner = browser.new_context(extra_http_headers={"X-Forwarded-For": OWNER}).new_page()
        login(owner, url, "verwaltung", PASSWORD)  # not locked out at their own address
    text = log.to_csv().decode("utf-8-sig")
    assert ATTACKER not in text and OWNER not in text
