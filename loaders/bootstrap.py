"""Getting the app's data ready: demo data on first start, and loading."""

from __future__ import annotations

import os

from geodata import analysis, domain, presence
from loaders.store import GeoPackageStore


def ensure_data(store: GeoPackageStore, seed: int = 42) -> bool:
    """Write the demo dataset if the store holds no layer yet. True if it did."""
    with store.lock():
        if any(layer in store.layers() for layer in domain.LAYERS):
            return False
        from loaders import demo

        demo.write_demo(store, seed=seed)
        return True


def load_prepared(
    store: GeoPackageStore,
    reach: dict | None = None,
    tolerance_min: int | None = None,
    regular_share: float | None = None,
    grid_m: float | None = None,
) -> analysis.Prepared:
    """Read every layer and do the once-per-data-version work.

    ``reach`` (metres per mode), ``tolerance_min``, ``regular_share`` and
    ``grid_m`` default to ATLAS_REACH (e.g. "foot=150,bike=250,vehicle=400"),
    ATLAS_COVER_MINUTES (60), ATLAS_REGULAR_SHARE (0.5) and ATLAS_GRID_M (100).
    """
    frames = {layer: store.read(layer) for layer in (*domain.LAYERS, *domain.TABLES)}
    reach = reach or _reach_from_env()
    tolerance = tolerance_min if tolerance_min is not None else int(os.environ.get("ATLAS_COVER_MINUTES", "60"))
    share = regular_share if regular_share is not None else float(os.environ.get("ATLAS_REGULAR_SHARE", presence.DEFAULT_REGULAR_SHARE))
    grid = grid_m if grid_m is not None else float(os.environ.get("ATLAS_GRID_M", presence.DEFAULT_GRID_M))
    return analysis.prepare(frames, reach=reach, tolerance_min=tolerance, regular_share=share, grid_m=grid)


def _reach_from_env() -> dict[str, float]:
    out = {}
    for item in filter(None, os.environ.get("ATLAS_REACH", "").split(",")):
        mode, _, metres = item.partition("=")
        if mode.strip() in domain.MODES:
            out[mode.strip()] = float(metres)
    return out
