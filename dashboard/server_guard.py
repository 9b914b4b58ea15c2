"""A guard in front of Streamlit's own HTTP routes, inside the app's server process.

Streamlit accepts file uploads (``PUT /_stcore/upload_file/<session>/<file>``)
for any live session and keeps them in memory until the session ends, and it
serves ``/_stcore/metrics`` (which names the app's cached functions) to anyone.
The dashboard needs uploads only on the import page, for roles that may import.

``dashboard/app.py`` serves the dashboard as an ``st.App`` with :class:`Guard`
as its first middleware, so the guard is in place from the first request on.
The app marks the sessions that may upload (:func:`set_uploads`: signed in with
a role that may import, on the import page); the guard

- answers 403 to an upload for any other session (signed out, another role,
  another page, a made-up or ended session) without keeping a byte of it (up to
  1 MB of the body is read and dropped so that the client sees the answer; of a
  longer body nothing is read and the connection is closed);
- needs a ``Content-Length`` (411 without) and answers 413 when the upload
  would take one session's files in memory (stored plus still arriving) over
  :func:`session_budget`, or all sessions' files over :func:`total_budget`;
- answers 404 to ``/_stcore/metrics``;
- serves the session-cookie route (``/_atlas/session``, see ``dashboard.sessions``):
  a one-time ticket from a script run is exchanged there for the ``Set-Cookie``
  of the signed-in session; every other request to it is refused.

When a session loses the right to upload (it leaves the import page, signs out
or times out), its uploaded files are dropped from memory at once.
"""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict

from dashboard import sessions

UPLOAD_PREFIX = "/_stcore/upload_file"
UPLOAD_RE = re.compile(r"/_stcore/upload_file/([^/]+)/([^/]+)/?$")
OPEN_METHODS = {"GET", "HEAD", "OPTIONS", "DELETE"}  # carry no file
FORBIDDEN_DRAIN = 1024 * 1024  # bytes of a forbidden upload read (and dropped) before answering
METRICS_RE = re.compile(r"/_stcore/metrics(?:/.*)?$")

_lock = threading.Lock()
_allowed: set[str] = set()
_inflight: dict[str, int] = defaultdict(int)


# -- limits ------------------------------------------------------------------------

def max_upload_bytes() -> int:
    """Streamlit's per-file limit, ``server.maxUploadSize`` (MB)."""
    from streamlit import config

    return int(config.get_option("server.maxUploadSize")) * 1024 * 1024


def _env_mb(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return default
    return value * 1024 * 1024 if value > 0 else default


def session_budget() -> int:
    """Bytes one session may hold in memory: the file shown and the one replacing it
    (``ATLAS_UPLOAD_SESSION_MB``, default twice ``server.maxUploadSize``)."""
    return _env_mb("ATLAS_UPLOAD_SESSION_MB", 2 * max_upload_bytes())


def total_budget() -> int:
    """Bytes all sessions together may hold (``ATLAS_UPLOAD_TOTAL_MB``, default four
    times ``server.maxUploadSize``)."""
    return _env_mb("ATLAS_UPLOAD_TOTAL_MB", 4 * max_upload_bytes())


# -- which sessions may upload -------------------------------------------------------

def current_session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def set_uploads(allowed: bool, session_id: str | None = None) -> None:
    """Let this session upload files, or not (then its uploaded files are dropped)."""
    session_id = session_id or current_session_id()
    if not session_id:
        return
    with _lock:
        was = session_id in _allowed
        if allowed:
            _allowed.add(session_id)
        else:
            _allowed.discard(session_id)
    if not allowed and was:
        manager = _upload_manager()
        if manager is not None:
            manager.remove_session_files(session_id)
    _forget_ended()


def may_upload(session_id: str) -> bool:
    with _lock:
        return session_id in _allowed


def _runtime():
    from streamlit.runtime import Runtime

    return Runtime.instance() if Runtime.exists() else None


def _upload_manager():
    runtime = _runtime()
    return getattr(runtime, "uploaded_file_mgr", None) if runtime is not None else None


def _is_live(session_id: str) -> bool:
    runtime = _runtime()
    return runtime is not None and runtime.is_active_session(session_id)


def _forget_ended() -> None:
    """Drop sessions that have ended from the allowed set."""
    if _runtime() is None:
        return
    with _lock:
        ended = [sid for sid in _allowed if not _is_live(sid)]
        for sid in ended:
            _allowed.discard(sid)


def _stored_bytes(session_id: str | None = None) -> int:
    manager = _upload_manager()
    storage = getattr(manager, "file_storage", None)
    if storage is None:
        return 0
    lock = getattr(manager, "_lock", None) or threading.Lock()
    with lock:
        if session_id is None:
            return sum(len(f.data) for files in storage.values() for f in files.values())
        return sum(len(f.data) for f in storage.get(session_id, {}).values())


def admit(session_id: str, length: int | None) -> tuple[int, str]:
    """Whether an upload of ``length`` bytes for ``session_id`` may start: (0, "") to
    go ahead (the bytes are then reserved until :func:`release`), else an HTTP status
    and reason."""
    if not may_upload(session_id) or not _is_live(session_id):
        return 403, "Uploads are not allowed for this session"
    if length is None:
        return 411, "Content-Length required"
    if length > max_upload_bytes() + 1024 * 1024:
        return 413, "File too large"
    stored_session, stored_all = _stored_bytes(session_id), _stored_bytes()
    with _lock:
        if stored_session + _inflight[session_id] + length > session_budget():
            return 413, "Too many uploaded bytes held for this session"
        if stored_all + sum(_inflight.values()) + length > total_budget():
            return 413, "Too many uploaded bytes held by the server"
        _inflight[session_id] += length
    return 0, ""


def release(session_id: str, length: int) -> None:
    with _lock:
        _inflight[session_id] -= length
        if _inflight[session_id] <= 0:
            del _inflight[session_id]


# -- the ASGI middleware --------------------------------------------------------------

def _path(scope) -> str:
    return re.sub(r"/{2,}", "/", scope.get("path") or "/")


async def _respond(send, status: int, text: str, close: bool = False) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _discard_body(receive, limit: int) -> bool:
    """Read and drop a refused request's body, so that the client gets the answer
    rather than a reset connection; False when it was longer than ``limit``."""
    seen = 0
    while True:
        message = await receive()
        if message.get("type") != "http.request":
            return False
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
        if seen > limit:
            return False


async def _refuse(receive, send, status: int, reason: str, length: int | None, drain: int) -> None:
    """Answer a refused upload. A body of at most ``drain`` bytes is read and dropped
    first (never kept), so that the client sees the answer; a longer one is not read
    at all and the connection is closed after the answer."""
    drained = (length is None or length <= drain) and await _discard_body(receive, drain)
    await _respond(send, status, reason, close=not drained)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None
            return length if length >= 0 else None
    return None


class Guard:
    """ASGI middleware: uploads only for allowed sessions and within the budgets; no metrics;
    the session-cookie route."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        path = _path(scope)
        if METRICS_RE.search(path):
            return await _respond(send, 404, "Not Found")
        if sessions.is_route(path):
            return await sessions.handle(scope, receive, send)
        if UPLOAD_PREFIX not in path or scope.get("method") in OPEN_METHODS:
            return await self.app(scope, receive, send)
        upload = UPLOAD_RE.search(path)
        length = _content_length(scope)
        if upload is None:  # not an upload address Streamlit knows: nothing to let through
            return await _refuse(receive, send, 403, "Uploads are not allowed here", length, FORBIDDEN_DRAIN)
        session_id = upload.group(1)
        status, reason = admit(session_id, length)
        if status:
            # a session that may upload learns why (budget, size); others are not listened to for long
            drain = FORBIDDEN_DRAIN if status == 403 else max_upload_bytes() + 1024 * 1024
            return await _refuse(receive, send, status, reason, length, drain)
        try:
            return await self.app(scope, receive, send)
        finally:
            release(session_id, length)


def middleware() -> list:
    from starlette.middleware import Middleware

    return [Middleware(Guard)]
