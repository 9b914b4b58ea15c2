"""Start the real app as a subprocess, and a headless Debian chromium to drive it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(db: Path, extra_env: dict | None = None, timeout: float = 120):
    """Yield the base URL of a freshly started app on its own port and store."""
    port = free_port()
    env = {**os.environ, "ATLAS_DB": str(db), "ATLAS_BASEMAP": "none", **(extra_env or {})}
    log = open(db.parent / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited early: {(db.parent / f'streamlit-{port}.log').read_text()}")
            try:
                return httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        if not poll(healthy, timeout, interval=0.3):
            raise TimeoutError("app did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        raise RuntimeError("Debian's chromium package is required for the browser tests")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


PASSWORD = "korrekt-pferd-batterie"
ROLES = ("admin", "council", "workshop", "public")


def create_accounts(db: Path, roles=ROLES) -> dict[str, str]:
    """One account per role next to the store ``db``; returns role -> name."""
    from loaders.accounts import AccountStore, default_path

    store = AccountStore(default_path(str(db)))
    names = {}
    for role in roles:
        name = f"{role}-user"
        if store.get(name) is None:
            store.add(name, role, PASSWORD, actor="test")
        names[role] = name
    return names


@contextlib.contextmanager
def demo_app(tmp_path_factory, roles, seed: int = 3, n_incidents: int = 5000):
    """The real app on a fresh demo store with one account per role in ``roles``
    (``conftest.demo_store``, ``create_accounts``, ``running_app``): yields the URL, the
    store and the account names (role -> name)."""
    from tests.conftest import demo_store

    db = demo_store(tmp_path_factory, seed=seed, n_incidents=n_incidents)
    names = create_accounts(db, roles)
    with running_app(db) as url:
        yield url, db, names


def login(page, url: str, name: str, password: str = PASSWORD, path: str = "/") -> None:
    """Sign in through the form; returns once the sign-in form has gone."""
    page.goto(url + path)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_text("Angemeldet:").wait_for(timeout=WAIT_MS)


# How long a browser test waits for a positive signal before it fails. The suite runs two
# workers, each with its own app server and browser, on a shared two-core machine.
TIMEOUT_S = float(os.environ.get("ATLAS_TEST_TIMEOUT", "120"))
WAIT_MS = int(TIMEOUT_S * 1000)  # the same, for playwright's waits


def poll(fn, seconds: float, interval: float = 0.2):
    """The first true value of ``fn`` within ``seconds``, checked every ``interval``; else None.
    The one polling loop of the tests: callers wait for a positive signal, never a fixed time."""
    deadline = time.monotonic() + seconds
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value or None
        time.sleep(interval)


def wait_until(fn, timeout: float | None = None, what="condition"):
    """Poll ``fn`` until it returns something true (at most ``timeout``, default
    ``TIMEOUT_S`` seconds); fail naming ``what`` (a text, or a function giving one
    that reports what was seen at the time)."""
    value = poll(fn, TIMEOUT_S if timeout is None else max(timeout, TIMEOUT_S))
    if value is None:
        raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
    return value


def app_idle(page, polls: int = 3) -> None:
    """Wait until the app has finished its script runs: Streamlit's running indicator is absent
    on ``polls`` consecutive checks (a rerun may start a moment after the last one ended)."""
    quiet = [0]

    def idle() -> bool:
        running = page.locator('[data-testid="stStatusWidgetRunningIcon"]').count() > 0
        quiet[0] = 0 if running else quiet[0] + 1
        return quiet[0] >= polls

    wait_until(idle, what="the app to finish its run")


def map_frame(page, timeout: float = 60.0):
    """The first map iframe of the page, once it is there."""
    page.locator('iframe[title="streamlit_folium.st_folium"]').first.wait_for(timeout=timeout * 1000)
    return wait_until(lambda: next((f for f in page.frames if "streamlit_folium" in f.url), None), timeout, "the map")


def open_page(page, title: str, timeout: float | None = None, heading: str | None = None) -> None:
    """Go to another page inside the same session (a reload starts a new Streamlit session, which
    resumes the signed-in one from the session cookie).

    A click that lands while the current page is still being drawn can be lost on a
    busy machine; the link is clicked again until the page's heading shows.
    """
    link = page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True)
    heading = page.get_by_role("heading", name=heading or title).first
    deadline = time.monotonic() + (TIMEOUT_S if timeout is None else timeout)
    while True:
        link.click()
        try:
            heading.wait_for(timeout=20_000)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


def click_map(page, frame, lon: float, lat: float, nth: int = 0) -> None:
    """Click the ``nth`` map of the page at a place given in lon/lat."""
    x, y = frame.evaluate(f"(() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]').nth(nth)
    box = iframe.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def districts_drawn(frame, count: int = 39) -> None:
    """Wait until the map shows all district shapes."""
    frame.locator(".leaflet-districts-pane path").first.wait_for(timeout=WAIT_MS)
    wait_until(lambda: frame.locator(".leaflet-districts-pane path").count() == count, what=f"{count} district shapes")


def retry_until(page, action, done, what: str, attempt_s: float = 20) -> None:
    """Do ``action`` until ``done()`` holds: a click or typed entry that lands while the page is
    being redrawn can be lost; each attempt waits up to ``attempt_s`` for its effect."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        app_idle(page)
        if done():
            return
        action()
        if poll(done, attempt_s):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
