"""Browser benchmark: how long the real app takes in chromium, per action.

Usage: .venv/bin/python scripts/bench_browser.py [--incidents 20000,100000] [--shifts 1850] [--repeat 5]

For each size: writes the demo data into a fresh store, starts the app
(``streamlit run``), drives Debian's chromium through playwright signed in as
``council``, and prints median [min–max] seconds and the bytes the app sent per
action:

- first visit: a new browser right after an app start, with nothing prepared yet
  (the app prepares the data), and after later starts once the server's warm-up has
  finished (it reads what it prepared before and computes the default map page); split
  like "cold" below
- cold: a new browser opens the app (until the sign-in form is shown) and signs in to a
  warm app (from the click on "Anmelden" until the map is drawn)
- hours / category / weekday: a filter changed in the sidebar, until the map's
  layers are swapped and the key figures show the new count
- cached change: the same change back (every result cached)
- zoom 16: the densest district at street level, until its layers are drawn
- pan: a third of a view (the drawn layers cover it) and two views east at street level,
  until the app has answered the new view or drawn the new layers
- gap page: hours or weekday changed on "Lücken", until its map's layers are swapped
  and its first key figure changed
- browser memory: the JavaScript heap (after a garbage collection), the map's Leaflet
  layers and its frame's elements before and after ``--changes`` filter changes (100)

It asserts nothing. Figures depend on the machine and its load: print
``uptime`` beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from loaders import demo  # noqa: E402
from loaders.accounts import AccountStore, default_path  # noqa: E402
from loaders.store import GeoPackageStore  # noqa: E402

PASSWORD = "bench-pferd-batterie-42"
MAP = 'iframe[title="streamlit_folium.st_folium"]'
TIMEOUT_MS = int(os.environ.get('BENCH_TIMEOUT_MS', 600_000))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app(db: Path):
    port = free_port()
    env = {**os.environ, "ATLAS_DB": str(db), "ATLAS_BASEMAP": "none"}
    log = open(db.parent / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def warmed_up(log: Path) -> float:
    """Wait for the server's "warm-up finished in N s" line; return N."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if "warm-up finished in" in line:
                return float(line.rsplit("in", 1)[1].split()[0])
            if "warm-up failed" in line:
                raise RuntimeError(f"the warm-up failed, see {log}")
        time.sleep(0.2)
    raise TimeoutError("no end of the warm-up in the server's log")


class Meter:
    """Bytes the app sends over its websocket, and when the map's layers arrived."""

    def __init__(self, page):
        self.bytes = 0
        self.map_at = None  # perf_counter of the last message holding map layers
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload):
        self.bytes += len(payload)
        if isinstance(payload, (bytes, bytearray)) and b"atlasSyncLayers" in payload:
            self.map_at = time.perf_counter()


def kpi(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def map_frame(page):
    page.locator(MAP).first.wait_for(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if "streamlit_folium" in f.url), None)
        if frame is not None:
            return frame
        time.sleep(0.05)
    raise TimeoutError("no map frame")


def builds(frame) -> int:
    return frame.evaluate("(window.map && window.map.atlasBuilds) || 0")


def drawn(frame, count: int = 39) -> None:
    frame.wait_for_function(f"document.querySelectorAll('.leaflet-districts-pane path').length === {count}", timeout=TIMEOUT_MS)


def idle(page) -> None:
    """Streamlit's running indicator absent on three checks in a row."""
    quiet, deadline = 0, time.monotonic() + TIMEOUT_MS / 1000
    while quiet < 3:
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not finish its run")
        quiet = 0 if page.locator('[data-testid="stStatusWidgetRunningIcon"]').count() else quiet + 1
        time.sleep(0.05)


def sign_in(page, url: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Name").fill("bench")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def timed_change(page, meter: Meter, act, what: str) -> tuple[float, int]:
    """``act`` is a pair (prepare, commit): the clock starts right before ``commit``
    (the click that changes the filter), not while a drop-down opens."""
    prepare, act = act
    prepare()
    return _timed(page, meter, act, what)


def _timed(page, meter: Meter, act, what: str) -> tuple[float, int]:
    """Seconds from ``act()`` until the map's layers were rebuilt and the first key figure changed; bytes until idle.
    Also notes when the map's message arrived (``SERVER``): the rest is the browser's."""
    frame = map_frame(page)
    before_builds, before_kpi = builds(frame), kpi(page)
    start_bytes = meter.bytes
    meter.map_at = None
    t0 = time.perf_counter()
    act()
    frame.wait_for_function(f"window.map && window.map.atlasBuilds > {before_builds}", timeout=TIMEOUT_MS, polling="raf")
    page.wait_for_function(
        "b => { const e = document.querySelector('[data-testid=\"stMetricValue\"]'); return e && e.innerText !== b; }",
        arg=before_kpi, timeout=TIMEOUT_MS, polling="raf",
    )
    seconds = time.perf_counter() - t0
    SERVER.setdefault(what, []).append((meter.map_at or t0) - t0)
    idle(page)
    return seconds, meter.bytes - start_bytes


SERVER: dict[str, list[float]] = {}
MEMORY: list[str] = []


def memory(page, frame) -> dict:
    """The page's JavaScript heap after a garbage collection (the map's frame shares it: same
    origin, same process), the live map's Leaflet layers and the elements of its frame."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("HeapProfiler.collectGarbage")
        heap = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6
    finally:
        cdp.detach()
    census = frame.evaluate("({layers: Object.keys(map._layers).length, nodes: document.getElementsByTagName('*').length})")
    return {"heap": heap, **census}


def pick(page, box_index: int, option: str):
    """Choose ``option`` in the sidebar's ``box_index``-th selectbox."""
    return (
        lambda: page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(box_index).click(),
        lambda: page.get_by_role("option", name=option, exact=True).click(),
    )


def category(page, label: str | None):
    """Add a category (``label``), or remove the last one added."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    if label:
        return box.click, lambda: (page.get_by_role("option", name=label, exact=True).click(), page.keyboard.press("Escape"))
    return box.locator("input").focus, lambda: page.keyboard.press("Backspace")


def weekday(page):
    return lambda: None, lambda: page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sa", exact=True).click()


REPORTED = (
    "(() => { const d = window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.previous_data;"
    " return !!d && d.zoom === map.getZoom() && JSON.stringify(d.bounds) === JSON.stringify(map.getBounds()); })()"
)


def view_change(page, frame, js: str, rebuild: bool = True) -> float:
    """Seconds from moving the map until its new layers are built (``rebuild``), or, for a
    move the drawn layers already cover, until the app has answered the new view."""
    before = builds(frame)
    t0 = time.perf_counter()
    frame.evaluate(f"void ({js})")  # returning the map would make playwright serialise all of it
    if rebuild:
        frame.wait_for_function(f"window.map.atlasBuilds > {before}", timeout=TIMEOUT_MS, polling="raf")
    else:
        frame.wait_for_function(REPORTED, timeout=TIMEOUT_MS, polling="raf")
        idle(page)
    return time.perf_counter() - t0


def summary(values: list[float], unit: str = "s") -> str:
    if not values:
        return "-"
    if unit == "B":
        return f"{statistics.median(values) / 1e6:.2f} MB [{min(values) / 1e6:.2f}–{max(values) / 1e6:.2f}]"
    return f"{statistics.median(values):.2f} s [{min(values):.2f}–{max(values):.2f}]"


def bench_size(n: int, shifts: int | None, repeat: int, browser, changes: int = 100) -> dict[str, tuple[list, list]]:
    out: dict[str, tuple[list, list]] = {}

    def note(name, seconds, nbytes=None):
        print(f"    {name}: {seconds:.2f} s", file=sys.stderr, flush=True)
        s, b = out.setdefault(name, ([], []))
        s.append(seconds)
        if nbytes is not None:
            b.append(nbytes)

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "atlas.gpkg"
        t0 = time.perf_counter()
        counts = demo.write_demo(GeoPackageStore(db), seed=1, n_incidents=n, n_shifts=shifts)
        print(f"\n{counts['incidents']:,} incidents, {counts['patrols']:,} shifts (demo written in {time.perf_counter() - t0:.0f} s)", flush=True)
        AccountStore(default_path(str(db))).add("bench", "council", PASSWORD, actor="benchmark")
        # first visit after an app start: once with nothing prepared, at once; then after restarts,
        # once the server's warm-up has finished (as when the app was started before the meeting)
        for attempt in range(1 + max(1, repeat // 2)):
            with app(db) as url:
                if attempt:
                    note("warm-up after an app start (server)", warmed_up(db.parent / "streamlit.log"))
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                meter = Meter(page)
                t0 = time.perf_counter()
                page.goto(url + "/")
                page.get_by_label("Name").fill("bench")
                what = "first visit (nothing prepared yet)" if attempt == 0 else "first visit after the warm-up"
                note(f"{what}: page opened → sign-in form", time.perf_counter() - t0)
                t1 = time.perf_counter()
                page.get_by_label("Passwort").fill(PASSWORD)
                page.get_by_role("button", name="Anmelden").click()
                drawn(map_frame(page))
                note(f"{what}: sign-in → map drawn", time.perf_counter() - t1, meter.bytes)
                page.close()
        with app(db) as url:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            sign_in(page, url)
            drawn(map_frame(page))
            idle(page)
            page.close()
            for _ in range(repeat):
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                meter = Meter(page)
                t0 = time.perf_counter()
                page.goto(url + "/")
                page.get_by_label("Name").fill("bench")
                page.get_by_label("Passwort").fill(PASSWORD)
                note("cold: page opened → sign-in form", time.perf_counter() - t0)
                t1 = time.perf_counter()
                page.get_by_role("button", name="Anmelden").click()
                drawn(map_frame(page))
                note("cold: sign-in → map drawn", time.perf_counter() - t1)
                idle(page)
                note("cold: bytes until idle", 0, meter.bytes)
                page.close()

            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            meter = Meter(page)
            sign_in(page, url)
            drawn(map_frame(page))
            idle(page)
            hours = ["18:00", "19:00", "20:00", "21:00", "22:00", "17:00", "16:00", "15:00"]
            cats = ["Rassistische Beleidigung", "Sexistische Beleidigung", "Verbale Gewalt", "Ordnungsstörung", "Sachbeschädigung"]
            for i in range(repeat):
                note("hours changed", *timed_change(page, meter, pick(page, 0, hours[i % len(hours)]), "hours changed"))
                note("category changed", *timed_change(page, meter, category(page, cats[i % len(cats)]), "category changed"))
                note("category back (cached)", *timed_change(page, meter, category(page, None), "category back (cached)"))
                note("weekday changed", *timed_change(page, meter, weekday(page), "weekday changed"))
                note("weekday back (cached)", *timed_change(page, meter, weekday(page), "weekday back (cached)"))
            for step in pick(page, 0, "00:00"):
                step()
            idle(page)
            frame = map_frame(page)
            # memory through a long meeting: the same page after many filter changes
            before = memory(page, frame)
            for i in range(changes):
                _timed(page, meter, weekday(page)[1], "memory run")
            after = memory(page, frame)
            SERVER.pop("memory run", None)
            MEMORY.append(
                f"after {changes} filter changes: JS heap {before['heap']:.1f} → {after['heap']:.1f} MB (after garbage collection), "
                f"Leaflet layers {before['layers']} → {after['layers']}, elements in the map frame {before['nodes']} → {after['nodes']}"
            )
            # street level in the densest district (the centre), then pans
            moves = [
                ("zoom 16, densest district", "map.setView([50.8323, 12.9253], 16, {animate: false})", True),
                ("pan a third of a view at zoom 16 (layers cover it)", "map.panBy([map.getSize().x / 3, 0], {animate: false})", False),
                ("pan two views at zoom 16 (new layers)", "map.panBy([map.getSize().x * 2, 0], {animate: false})", True),
            ]
            for i in range(repeat):
                for name, js, rebuild in moves:
                    start = meter.bytes
                    note(name, view_change(page, frame, js, rebuild))
                    idle(page)
                    out[name][1].append(meter.bytes - start)
                frame.evaluate("void map.setView([50.83, 12.92], 12, {animate: false})")
                frame.wait_for_function(REPORTED, timeout=TIMEOUT_MS)
                idle(page)
            # the gap page: its ranking, hotspots and map after a filter change
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Lücken", exact=True).click()
            page.get_by_role("heading", name="Lücken").first.wait_for(timeout=TIMEOUT_MS)
            drawn(map_frame(page))
            idle(page)
            for i in range(repeat):
                note("gap page: hours changed", *timed_change(page, meter, pick(page, 0, hours[i % len(hours)]), "gap page: hours changed"))
                note("gap page: weekday changed", *timed_change(page, meter, weekday(page), "gap page: weekday changed"))
            page.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", default="20000,100000", help="comma-separated sizes")
    parser.add_argument("--shifts", type=int, default=None, help="about this many shifts (default: the demo's duty roster)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--changes", type=int, default=100, help="filter changes for the memory check")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        sys.exit("Debian's chromium package is required (apt-get install chromium)")
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])
        for n in (int(x) for x in args.incidents.split(",")):
            results = bench_size(n, args.shifts, args.repeat, browser, args.changes)
            width = max(len(k) for k in results)
            for name, (seconds, nbytes) in results.items():
                line = f"  {name:<{width}}  "
                line += summary(seconds) if any(seconds) else ""
                if nbytes:
                    line += ("  " if any(seconds) else "") + summary(nbytes, "B")
                print(line, flush=True)
            for what, values in SERVER.items():
                print(f"  {what}: the map's message arrived after {summary(values)} (server), the rest is the browser's")
            SERVER.clear()
            for line in MEMORY:
                print(f"  browser memory {line}")
            MEMORY.clear()
        browser.close()
    print(f"load afterwards: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
