"""Derived data kept beside the store, one file per data version.

Preparing the stored layers for analysis (local times, the district of every
point, patrol footprints, the gap index) takes seconds at 100,000 incidents and
depends only on the stored data, the analysis settings, the release secret and
the analysis code. Its result is written once into ``atlas-derived/`` beside the
store (or ``ATLAS_DERIVED_DIR``) and read back on the next app start instead of
being computed again.

The files are pickles, readable by the owner only, written atomically and keyed
by a digest of everything they depend on; a file that cannot be read is removed
and the data prepared again. They hold nothing the store does not (whoever can
write beside the store can change the store itself), and can be deleted at any
time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from functools import lru_cache
from pathlib import Path

DIRNAME = "atlas-derived"
KEEP = 2  # files kept: the current data version and the one before
SUFFIX = ".prepared.pickle"

_ROOT = Path(__file__).resolve().parent.parent
_CODE = ("geodata", "loaders/bootstrap.py", "loaders/derived.py")

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code that computes the derived data: an upgrade makes old files unused."""
    h = hashlib.sha256()
    for part in _CODE:
        path = _ROOT / part
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(file.relative_to(_ROOT).as_posix().encode())
            h.update(file.read_bytes())
    return h.hexdigest()


def key(version: str, settings: dict, secret: bytes) -> str:
    """The name of the derived data for one data version, settings and release secret."""
    h = hashlib.sha256()
    for part in (version, repr(sorted(settings.items())), code_digest()):
        h.update(part.encode())
        h.update(b"\x1f")
    h.update(hashlib.sha256(secret).digest())  # the secret itself never goes into a name
    return h.hexdigest()[:32]


def load(directory: Path, name: str):
    """The derived data saved under ``name``, or None (absent, or unreadable: then removed)."""
    path = Path(directory) / f"{name}{SUFFIX}"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except Exception as exc:  # a truncated or foreign file: prepare again
        log.warning("derived data %s unreadable (%s); preparing it again", path, exc)
        _remove(path)
        return None


def save(directory: Path, name: str, value) -> Path | None:
    """Write ``value`` atomically under ``name`` and keep only the newest ``KEEP`` files.
    Failing to write (read-only directory, full disk) only costs the next start time."""
    directory = Path(directory)
    path = directory / f"{name}{SUFFIX}"
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("derived data not saved to %s: %s", path, exc)
        _remove(tmp)
        return None
    old = sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)[KEEP:]
    for stale in old:
        _remove(stale)
    return path


def _remove(path: Path) -> None:
    """Remove a file if it can be: derived data is only ever a saving of time."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
