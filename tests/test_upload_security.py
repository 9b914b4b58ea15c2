"""Streamlit's own routes on the real app server: uploads only for admins on the import
page and within a memory budget, no metrics, and the limits hold with 20 sessions.

Sessions are opened either by a minimal websocket client (as an attacker would: no
browser, no sign-in) or by headless chromium; their session ids come from the
``new_session`` message the server sends to each of them.
"""

from __future__ import annotations

import concurrent.futures
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from dashboard import server_guard
from tests.apprunner import WAIT_MS, chromium, create_accounts, login, open_page, running_app, wait_until
from tests.conftest import demo_store

MB = 1024 * 1024
SESSION_MB = 4  # the app's per-session upload budget in these tests
CSV = b"id,name,kind,lat,lon\nF9,Jugendtreff Test,youth_club,50.8300,12.9200\n"
# a file the import page's first layer (districts) accepts
DISTRICT = (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "99", '
            b'"name": "Teststadtteil", "population": 1000}, "geometry": {"type": "Polygon", "coordinates": '
            b'[[[12.90, 50.82], [12.91, 50.82], [12.91, 50.83], [12.90, 50.83], [12.90, 50.82]]]}}]}')


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = demo_store(tmp_path_factory, seed=5, n_incidents=800)
    names = create_accounts(db)
    tmp = db.parent / "tmp"
    tmp.mkdir()
    env = {"ATLAS_UPLOAD_SESSION_MB": str(SESSION_MB), "ATLAS_UPLOAD_TOTAL_MB": str(6 * SESSION_MB), "TMPDIR": str(tmp)}
    with running_app(db, extra_env=env) as url:
        yield url, names, tmp


# -- talking to the server without a browser ---------------------------------------------

def xsrf_pair(url: str) -> str:
    """A valid XSRF cookie value (the server hands one to anybody)."""
    return httpx.get(f"{url}/_stcore/health", timeout=30).cookies["_streamlit_xsrf"]


def read_session_id(recv) -> str:
    """The session id from the ``new_session`` message; returns once the script run has finished."""
    session_id = None
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(recv())
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            session_id = msg.new_session.initialize.session_id
        elif kind == "script_finished" and session_id:
            return session_id


class WsSession:
    """A session as a script would open one: a websocket and one full script run (the sign-in page)."""

    def __init__(self, url: str):
        self.url, self.xsrf = url, xsrf_pair(url)
        ws_url = "ws://" + urlsplit(url).netloc + "/_stcore/stream"
        self._connection = connect(ws_url, subprotocols=["streamlit", self.xsrf], max_size=None, open_timeout=60,
                          additional_headers={"Origin": url, "Cookie": f"_streamlit_xsrf={self.xsrf}"})
        self.ws = self._connection.__enter__()
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        rerun.rerun_script.page_script_hash = ""
        self.ws.send(rerun.SerializeToString())
        self.session_id = read_session_id(lambda: self.ws.recv(timeout=120))

    def close(self):
        self._connection.__exit__(None, None, None)


def put(url: str, session_id: str, content: bytes | None = None, size: int = 0, chunked: bool = False, xsrf: str | None = None):
    """PUT a file to the upload route as the browser does; the HTTP status, or "reset" when the
    server closed the connection without letting the client read an answer."""
    xsrf = xsrf or xsrf_pair(url)
    headers = {"X-Xsrftoken": xsrf, "Cookie": f"_streamlit_xsrf={xsrf}"}
    target = f"{url}/_stcore/upload_file/{session_id}/{uuid.uuid4()}"
    data = content if content is not None else bytes(size)
    try:
        if chunked:
            boundary = "atlasboundary"
            body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
                    f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            return httpx.put(target, content=iter([body]), headers=headers, timeout=120).status_code
        return httpx.put(target, files={"file": ("x.csv", data, "text/csv")}, headers=headers, timeout=120).status_code
    except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
        return "reset"


REFUSED = (403, "reset")  # a forbidden body over 1 MB is not read: the answer may be lost with the connection


def server_pid(url: str) -> int:
    port = str(urlsplit(url).port)
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"streamlit" in b" ".join(args) and port.encode() in args:
            return int(proc.name)
    raise AssertionError(f"no app server on port {port}")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


# -- the browser's session id ----------------------------------------------------------

class SessionIds:
    """Session ids the server announces to a browser page."""

    def __init__(self, page):
        self.ids: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload):
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            try:
                msg.ParseFromString(payload)
            except Exception:
                return
            if msg.WhichOneof("type") == "new_session":
                self.ids.append(msg.new_session.initialize.session_id)

    def current(self) -> str:
        return wait_until(lambda: self.ids[-1] if self.ids else None, what="the session id")


def signed_in(browser, url: str, name: str, path: str = "/"):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    ids = SessionIds(page)
    login(page, url, name, path=path)
    return page, ids.current()


# -- the tests ---------------------------------------------------------------------------

@pytest.mark.e2e
def test_metrics_are_not_served(app):
    url, names, _ = app
    with chromium() as browser:  # the app's cached functions have run
        signed_in(browser, url, names["admin"])
    for path in ("/_stcore/metrics", "/_stcore/metrics?families=cache_memory_bytes", "/_stcore/metrics/", "//_stcore//metrics"):
        for accept in ("text/plain", "application/x-protobuf"):
            r = httpx.get(url + path, headers={"Accept": accept}, timeout=30, follow_redirects=True)
            assert r.status_code == 404, (path, r.status_code)
            assert b"cache_memory_bytes" not in r.content and b"meeting_report" not in r.content
    assert httpx.get(f"{url}/_stcore/health", timeout=30).status_code == 200


@pytest.mark.e2e
def test_uploads_are_refused_for_signed_out_and_made_up_sessions(app):
    url, _, _ = app
    session = WsSession(url)
    try:
        assert put(url, session.session_id, CSV) == 403
        assert put(url, session.session_id, size=2 * MB) in REFUSED
        assert put(url, session.session_id, CSV, chunked=True) == 403
    finally:
        session.close()
    assert put(url, str(uuid.uuid4()), CSV) == 403
    assert put(url, session.session_id, CSV) == 403  # an ended session


@pytest.mark.e2e
def test_uploads_follow_role_page_and_budget(app):
    url, names, tmp = app
    with chromium() as browser:
        council, council_id = signed_in(browser, url, names["council"])
        open_page(council, "Lücken")
        assert put(url, council_id, CSV) == 403

        admin, admin_id = signed_in(browser, url, names["admin"])
        assert put(url, admin_id, CSV) == 403  # signed in as admin, but on the map
        open_page(admin, "Daten importieren")
        # the browser's own upload works ...
        choose(admin, "stadtteil.geojson")
        assert staged(tmp) == ["stadtteil.geojson"]
        # ... and so do uploads to this session, within its budget
        assert put(url, admin_id, size=MB) == 204
        assert put(url, admin_id, size=(SESSION_MB - 1) * MB) == 413  # would exceed the session's budget
        assert put(url, admin_id, CSV, chunked=True) == 411  # the size must be declared
        open_page(admin, "Daten & Quellen")
        assert put(url, admin_id, CSV) == 403  # left the import page
        open_page(admin, "Daten importieren")
        assert put(url, admin_id, size=(SESSION_MB - 1) * MB) == 204  # leaving dropped the files held
        admin.locator('[data-testid="stSidebar"]').get_by_role("button", name="Abmelden").click()
        admin.get_by_role("button", name="Anmelden").wait_for(timeout=WAIT_MS)
        assert put(url, admin_id, CSV) == 403  # signed out
        assert staged(tmp) == []  # the cleared upload's copy went when the page showed again

        # a session ends with a file selected: its copy goes on the next use by anybody
        leaving, leaving_id = signed_in(browser, url, names["admin"], path="/importieren")
        choose(leaving, "dritte.geojson")
        assert staged(tmp) == ["dritte.geojson"]
        leaving.close()
        wait_until(lambda: put(url, leaving_id, CSV) == 403, what="the closed session to end")
        other, _ = signed_in(browser, url, names["admin"], path="/importieren")
        choose(other, "vierte.geojson")
        assert staged(tmp) == ["vierte.geojson"]


def staged(tmp: Path) -> list[str]:
    return sorted(f.name for folder in tmp.glob("atlas-upload-*") for f in folder.iterdir())


def choose(page, name: str) -> None:
    """Choose a file on the import page (first layer: districts) and wait for the check's summary."""
    page.get_by_role("heading", name="Daten importieren").first.wait_for(timeout=WAIT_MS)
    page.locator('input[type="file"]').set_input_files({"name": name, "mimeType": "application/geo+json", "buffer": DISTRICT})
    page.get_by_text(f"{name}: 1 rows into 'districts'", exact=False).first.wait_for(timeout=WAIT_MS)


@pytest.mark.e2e
def test_twenty_sessions_cannot_fill_the_servers_memory(app):
    """20 signed-out sessions each upload 16 MB at once: all refused, memory stays flat."""
    url, names, _ = app
    size, count = 16 * MB, 20
    pid = server_pid(url)
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        sessions = list(pool.map(lambda _: WsSession(url), range(count)))
        try:
            assert len({s.session_id for s in sessions}) == count
            before = rss(pid)
            statuses = list(pool.map(lambda s: put(url, s.session_id, size=size, xsrf=s.xsrf), sessions))
            after = rss(pid)
            assert all(status in REFUSED for status in statuses), statuses
            assert after - before < count * size / 4, f"server memory grew by {(after - before) / MB:.0f} MB"
            # small uploads get their answer: from the same sessions, and from a made-up id each
            small = 64 * 1024
            statuses = list(pool.map(lambda s: put(url, s.session_id, size=small, xsrf=s.xsrf), sessions))
            statuses += list(pool.map(lambda s: put(url, str(uuid.uuid4()), size=small, xsrf=s.xsrf), sessions))
            assert statuses == [403] * (2 * count)
            assert rss(pid) - before < count * size / 4
        finally:
            for s in sessions:
                s.close()
    assert httpx.get(f"{url}/_stcore/health", timeout=30).status_code == 200


# -- the guard on its own, without a server ------------------------------------------------

def call_guard(method: str, path: str, body: bytes = b"", length: int | None = None):
    """Send one request through the guard; (status, whether Streamlit's app was reached)."""
    import asyncio

    reached, sent = [], []

    async def inner(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    length = len(body) if length is None else length
    headers = [(b"content-length", str(length).encode())] if length >= 0 else []
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    asyncio.run(server_guard.Guard(inner)(scope, receive, send))
    return sent[0]["status"], bool(reached)


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/_stcore/metrics/", "/atlas/_stcore/metrics", "//_stcore//metrics"])
def test_guard_hides_metrics_at_every_spelling(path):
    assert call_guard("GET", path) == (404, False)


@pytest.mark.parametrize(
    "method, path",
    [("PUT", "/_stcore/upload_file/s1/f1"), ("POST", "/_stcore/upload_file/s1/f1"), ("PUT", "/atlas/_stcore/upload_file/s1/f1"),
     ("PUT", "/_stcore/upload_file/s1/f1/extra"), ("PATCH", "//_stcore//upload_file/s1/f1")],
)
def test_guard_refuses_uploads_of_sessions_not_allowed(method, path):
    assert call_guard(method, path, b"data") == (403, False)


def test_guard_lets_other_requests_and_deletes_through():
    assert call_guard("GET", "/_stcore/health") == (204, True)
    assert call_guard("DELETE", "/_stcore/upload_file/s1/f1") == (204, True)
    assert call_guard("OPTIONS", "/_stcore/upload_file/s1/f1") == (204, True)


def test_guard_budget_for_an_allowed_session(monkeypatch):
    monkeypatch.setattr(server_guard, "_is_live", lambda session_id: True)
    monkeypatch.setenv("ATLAS_UPLOAD_SESSION_MB", "2")
    server_guard.set_uploads(True, "erlaubt")
    try:
        assert call_guard("PUT", "/_stcore/upload_file/erlaubt/f1", b"x" * 1000) == (204, True)
        assert call_guard("PUT", "/_stcore/upload_file/erlaubt/f1", length=-1) == (411, False)
        assert call_guard("PUT", "/_stcore/upload_file/erlaubt/f1", length=3 * MB) == (413, False)
        assert server_guard.admit("erlaubt", MB) == (0, "")  # reserved while it arrives ...
        assert server_guard.admit("erlaubt", MB + 1)[0] == 413  # ... so a second one in parallel does not fit
        server_guard.release("erlaubt", MB)
        assert server_guard.admit("erlaubt", MB + 1) == (0, "")
        server_guard.release("erlaubt", MB + 1)
    finally:
        server_guard.set_uploads(False, "erlaubt")
    assert call_guard("PUT", "/_stcore/upload_file/erlaubt/f1", b"x") == (403, False)


def test_guard_does_not_read_a_large_forbidden_body():
    import asyncio

    reads, sent = [], []

    async def inner(scope, receive, send):
        raise AssertionError("Streamlit's handler must not be reached")

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": bytes(64 * 1024), "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "PUT", "path": "/_stcore/upload_file/fremd/f1",
             "headers": [(b"content-length", str(150 * MB).encode())]}
    asyncio.run(server_guard.Guard(inner)(scope, receive, send))
    assert reads == [] and sent[0]["status"] == 403
    assert (b"connection", b"close") in sent[0]["headers"]
