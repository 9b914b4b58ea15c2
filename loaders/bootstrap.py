"""Getting the app's data ready: demo data on first start, and loading."""

from __future__ import annotations

from geodata import analysis, domain
from loaders.store import GeoPackageStore


def ensure_data(store: GeoPackageStore, seed: int = 42) -> bool:
    """Write the demo dataset if the store holds no layer yet. True if it did."""
    with store.lock():
        if any(layer in store.layers() for layer in domain.LAYERS):
            return False
        from loaders import demo

        demo.write_demo(store, seed=seed)
        return True


def load_prepared(store: GeoPackageStore) -> analysis.Prepared:
    frames = {layer: store.read(layer) for layer in (*domain.LAYERS, *domain.TABLES)}
    return analysis.prepare(frames)
