"""The session cookie: how a signed-in browser keeps its session across reloads and tabs.

The server-side session lives in the accounts file (``loaders.accounts``: only
a keyed hash of the token is stored). The browser keeps the token in a cookie
that is ``HttpOnly`` (no script of the page can read it), ``SameSite=Strict``,
``Path=/``, and ``Secure`` when the request came over https (then it is called
``__Host-atlas_session``, which browsers accept only from a secure origin for
the whole host). It has no expiry of its own: the server ends idle sessions
(``ATLAS_SESSION_MINUTES``).

A script run cannot set a cookie: its answer travels over the websocket. So the
run that signs a user in (or out) only issues a *ticket* here, in memory, and
puts a small script into the page that sends the ticket to :data:`ROUTE` on the
same origin; :func:`handle` (in front of Streamlit, see ``dashboard/server_guard.py``)
answers with the ``Set-Cookie``. A ticket is random, works once, and only
within :data:`TICKET_SECONDS`; the route answers nothing but a ``POST`` of a
JSON body from the same origin carrying a ticket that is still open, so it
cannot be used to plant a cookie in somebody else's browser.

The tickets are kept in the server process's memory and never written down:
a ticket that carries a token carries the only copy of it outside the browser.
This module does not import Streamlit at load time (the server guard imports it).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

COOKIE = "atlas_session"
SECURE_COOKIE = "__Host-" + COOKIE  # over https: bound to this host, Secure, Path=/
ROUTE = "/_atlas/session"
TICKET_SECONDS = 60.0
MAX_TICKETS = 10_000  # open tickets kept at most (each sign-in makes one; they last a minute)
MAX_BODY = 1024  # bytes of a request body read at most


@dataclass(frozen=True)
class Ticket:
    token: str | None  # the session token to set; None: clear the cookie
    expires: float  # time.time()


_lock = threading.Lock()
_tickets: dict[str, Ticket] = {}


def _key(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8", "surrogatepass")).hexdigest()


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def issue(token: str | None, now: float | None = None) -> str:
    """A new ticket that sets the cookie to ``token`` once (None: clears the cookie)."""
    now = _now(now)
    ticket = secrets.token_urlsafe(32)
    with _lock:
        for key in [k for k, t in _tickets.items() if t.expires <= now]:
            del _tickets[key]
        while len(_tickets) >= MAX_TICKETS:  # the oldest first (dicts keep their order)
            del _tickets[next(iter(_tickets))]
        _tickets[_key(ticket)] = Ticket(token, now + TICKET_SECONDS)
    return ticket


def pending(ticket: object, now: float | None = None) -> bool:
    """Whether ``ticket`` has neither been used nor expired."""
    if not isinstance(ticket, str):
        return False
    with _lock:
        found = _tickets.get(_key(ticket))
    return found is not None and _now(now) < found.expires


def redeem(ticket: object, now: float | None = None) -> Ticket | None:
    """Use up ``ticket``: what it carries, or None if it is unknown, used or expired."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 128:
        return None
    with _lock:
        found = _tickets.pop(_key(ticket), None)
    if found is None or _now(now) >= found.expires:
        return None
    return found


def withdraw(ticket: object) -> None:
    """Forget a ticket that is no longer wanted (its session has ended meanwhile)."""
    if isinstance(ticket, str):
        with _lock:
            _tickets.pop(_key(ticket), None)


def token_from(cookies: Mapping[str, str]) -> str | None:
    """The session token among a request's cookies, if any."""
    for name in (SECURE_COOKIE, COOKIE):
        value = cookies.get(name)
        if value:
            return value
    return None


# -- the route -------------------------------------------------------------------------

def base_path() -> str:
    """Streamlit's ``server.baseUrlPath`` as ``/prefix`` (empty when served at the root)."""
    try:
        from streamlit import config

        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    except Exception:  # no Streamlit configuration (tests of the route alone)
        base = ""
    return f"/{base}" if base else ""


def route_path() -> str:
    return base_path() + ROUTE


def is_route(path: str) -> bool:
    return path.rstrip("/") == route_path()


def set_cookie_headers(token: str | None, secure: bool) -> list[str]:
    """The ``Set-Cookie`` values that set the session cookie to ``token``, or clear it (None)."""
    attributes = "Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    if token is None:
        names = (SECURE_COOKIE, COOKIE) if secure else (COOKIE,)
        return [f"{name}=; Max-Age=0; {attributes}" for name in names]
    return [f"{SECURE_COOKIE if secure else COOKIE}={token}; {attributes}"]


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        out.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return out


def request_is_secure(scope) -> bool:
    """Over https: the connection itself, or a proxy in front saying so (``X-Forwarded-Proto``).
    Trusting the header costs nothing: a browser refuses a ``Secure`` cookie over plain http."""
    proto = _headers(scope).get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return scope.get("scheme") in ("https", "wss") or proto == "https"


def _same_origin(headers: dict[str, str]) -> bool:
    """Sent by a page of this site: ``Sec-Fetch-Site`` (modern browsers) and ``Origin`` (when
    sent) must say so. Cross-site pages cannot send a JSON body here without a preflight either."""
    site = headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    hosts = {h.strip().lower() for h in (headers.get("host", ""), headers.get("x-forwarded-host", "").split(",")[0]) if h.strip()}
    return urlsplit(origin).netloc.lower() in hosts


async def _answer(send, status: int, text: str = "", headers: list[tuple[bytes, bytes]] | None = None,
                  close: bool = False) -> None:
    body = text.encode()
    head = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store")] + list(headers or ())
    if close:
        head.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` (the rest is not read)."""
    body = b""
    while True:
        message = await receive()
        if message.get("type") != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return body


async def handle(scope, receive, send) -> None:
    """Exchange a ticket for the ``Set-Cookie`` (204); refuse everything else."""
    if scope.get("method") != "POST":
        return await _answer(send, 405, "Method Not Allowed", [(b"allow", b"POST")])
    headers = _headers(scope)
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return await _answer(send, 415, "Unsupported Media Type", close=True)
    if not _same_origin(headers):
        return await _answer(send, 403, "Forbidden", close=True)
    body = await _read_body(receive, MAX_BODY)
    if body is None:
        return await _answer(send, 413, "Request Entity Too Large", close=True)
    try:
        ticket = json.loads(body.decode("utf-8")).get("ticket")
    except (ValueError, AttributeError):
        return await _answer(send, 400, "Bad Request")
    found = redeem(ticket)
    if found is None:
        return await _answer(send, 403, "Forbidden")
    cookies = [(b"set-cookie", value.encode("latin-1")) for value in set_cookie_headers(found.token, request_is_secure(scope))]
    return await _answer(send, 204, "", cookies)


def script(ticket: str) -> str:
    """The page's part: send ``ticket`` to the route once (rendered with ``st.html``)."""
    url = json.dumps(route_path()).replace("<", "\\u003c")
    payload = json.dumps(json.dumps({"ticket": ticket})).replace("<", "\\u003c")
    return (
        "<script>"
        f"fetch(new URL({url}, document.baseURI), {{method: 'POST', credentials: 'same-origin', cache: 'no-store', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {payload}}}).catch(() => undefined);"
        "</script>"
    )
