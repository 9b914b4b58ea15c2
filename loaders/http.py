"""Downloading from remote sources: one clear error when offline, progress for long downloads."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from urllib.parse import urlparse

import httpx

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
USER_AGENT = "Praeventionsatlas-Chemnitz/0.1 (+https://github.com/)"

Progress = Callable[[int, int | None], None]


class SourceUnavailable(RuntimeError):
    """The source could not be reached or answered with an error (one line)."""


class SourceFormatError(ValueError):
    """The source answered, but not in the expected format."""


def stderr_progress(label: str) -> Progress:
    """Print download progress to stderr about every megabyte."""
    state = {"next": 1 << 20}

    def report(done: int, total: int | None) -> None:
        if done >= state["next"] or (total and total >= (1 << 20) and done >= total):
            state["next"] = done + (1 << 20)
            of = f" of {total / 1e6:.1f} MB" if total else ""
            print(f"\r{label}: {done / 1e6:.1f} MB{of}", end="", file=sys.stderr, flush=True)
            if total and done >= total:
                print(file=sys.stderr)

    return report


def get_bytes(
    url: str,
    params: dict | None = None,
    *,
    method: str = "GET",
    data: dict | None = None,
    timeout: float = 120.0,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    progress: Progress | None = None,
) -> bytes:
    host = urlparse(url).hostname or url
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}) as client:
            with client.stream(method, url, params=params, data=data) as response:
                if response.status_code != 200:
                    raise SourceUnavailable(f"{host} answered HTTP {response.status_code} for {url}")
                total = response.headers.get("content-length")
                total = int(total) if total and total.isdigit() else None
                chunks, done = [], 0
                for chunk in response.iter_bytes():
                    done += len(chunk)
                    if done > max_bytes:
                        raise SourceUnavailable(f"{host}: download larger than {max_bytes / 1e6:.0f} MB, refused")
                    chunks.append(chunk)
                    if progress:
                        progress(done, total)
                return b"".join(chunks)
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"{host} did not answer in time ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{host} is not reachable ({exc.__class__.__name__}: {exc})") from exc


def get_json(url: str, params: dict | None = None, **kwargs):
    body = get_bytes(url, params, **kwargs)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceFormatError(f"{urlparse(url).hostname}: the answer is not JSON ({exc})") from exc
