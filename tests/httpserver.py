"""A small local HTTP server for tests: the loaders' real HTTP code runs against it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# a handler gets (path, query dict of lists, body bytes) and returns (status, content type, body)
Handler = Callable[[str, dict, bytes], tuple[int, str, bytes]]


@contextlib.contextmanager
def serve(handler: Handler):
    """Run ``handler`` behind http://127.0.0.1:PORT; yields the base URL. Records requests."""
    requests: list[tuple[str, dict]] = []

    class H(BaseHTTPRequestHandler):
        def _answer(self, body: bytes) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if body and self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                query.update(parse_qs(body.decode()))
            requests.append((url.path, query))
            status, ctype, payload = handler(url.path, query, body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):  # noqa: N802
            self._answer(b"")

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(length))

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        serve.requests = requests
        yield base
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL on loopback where nothing listens (for offline tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
