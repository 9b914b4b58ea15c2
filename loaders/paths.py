"""Where the project's files live: the data store and the files kept beside it."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "atlas.gpkg"


def beside_store(filename: str, override_env: str, store_location: str | None = None) -> Path:
    """``$override_env`` if set, else ``filename`` in the directory of the data store.

    The store is ``store_location``, else ``ATLAS_DB``, else the default store
    (``data/atlas.gpkg`` in the project). For a database URL (PostGIS) the
    project's ``data`` directory is used.
    """
    explicit = os.environ.get(override_env)
    if explicit:
        return Path(explicit)
    location = store_location or os.environ.get("ATLAS_DB")
    if not location or "://" in location or location.startswith(("postgresql:", "postgres:")):
        location = str(DEFAULT_DB)
    return Path(location).resolve().parent / filename
