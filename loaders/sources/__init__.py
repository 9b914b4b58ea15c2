"""Remote sources: each fills one layer from an official service.

A source is a function ``fetch(url, progress) -> frame`` plus where it comes
from and under which licence. ``run`` fetches, validates and replaces the
layer in one transaction, recording source, licence and retrieval time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from loaders.http import Progress
from loaders.store import GeoPackageStore, Provenance


@dataclass(frozen=True)
class Source:
    name: str
    layer: str
    default_url: str
    licence: str
    description: str
    fetch: Callable[..., pd.DataFrame]  # (url, progress, **options) -> frame
    # how a fetch combines with what is stored (e.g. keep other years); None: replace
    merge: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None


def registry() -> dict[str, Source]:
    from loaders.sources import arcgis, atlas, osm

    sources = [*arcgis.SOURCES, *osm.SOURCES, *atlas.SOURCES]
    return {s.name: s for s in sources}


def run(
    store: GeoPackageStore, name: str, url: str | None = None, progress: Progress | None = None, **options
) -> tuple[Source, int]:
    """Fetch ``name`` and replace its layer in one transaction. Returns the source and the row count."""
    source = registry()[name]
    url = url or source.default_url
    frame = source.fetch(url, progress, **{k: v for k, v in options.items() if v is not None})
    if source.merge is not None:
        frame = source.merge(store.read(source.layer), frame)
    retrieved = datetime.now(timezone.utc).isoformat(timespec="seconds")
    store.write(
        {source.layer: frame},
        Provenance(source=f"{source.description} <{url}>", licence=source.licence, retrieved_at=retrieved),
        mode="replace",
    )
    return source, len(frame)
