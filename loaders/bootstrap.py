"""Getting the app's data ready: demo data on first start, and loading."""

from __future__ import annotations

import os

from geodata import analysis, domain, presence
from loaders import derived
from loaders.paths import beside_store
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

    The result is kept beside the store per data version (``loaders.derived``), so an
    app start after the first reads it instead of computing it again.
    """
    version = store.version()  # before reading: a write meanwhile gives a new version, never a stale file
    reach = reach or _reach_from_env()
    tolerance = tolerance_min if tolerance_min is not None else int(os.environ.get("ATLAS_COVER_MINUTES", "60"))
    share = regular_share if regular_share is not None else float(os.environ.get("ATLAS_REGULAR_SHARE", presence.DEFAULT_REGULAR_SHARE))
    grid = grid_m if grid_m is not None else float(os.environ.get("ATLAS_GRID_M", presence.DEFAULT_GRID_M))
    secret = record_secret(store.location)
    settings = {"reach": sorted(reach.items()), "tolerance_min": tolerance, "regular_share": share, "grid_m": grid}
    directory = beside_store(derived.DIRNAME, "ATLAS_DERIVED_DIR", store.location)
    name = derived.key(version, settings, secret)
    kept = derived.load(directory, name)
    if isinstance(kept, analysis.Prepared):
        return kept
    frames = {layer: store.read(layer) for layer in (*domain.LAYERS, *domain.TABLES)}
    prep = analysis.prepare(frames, reach=reach, tolerance_min=tolerance, regular_share=share, grid_m=grid, record_secret=secret)
    if store.version() == version:  # nothing written while reading
        derived.save(directory, name, prep)
    return prep


def record_secret(store_location: str | None = None) -> bytes:
    """The server secret that keys the incidents' record keys (disclosure control).

    Kept beside the store (``atlas-release.key``, or ``ATLAS_RELEASE_KEY_FILE``),
    created with 32 random bytes on first use, readable by the owner only. It
    never leaves the server: whoever knows it could undo the perturbation.
    """
    path = beside_store("atlas-release.key", "ATLAS_RELEASE_KEY_FILE", store_location)
    if path.exists():
        data = path.read_bytes()
        if len(data) >= 16:
            return data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(os.urandom(32))
    try:
        os.link(tmp, path)  # first writer wins; others read what it wrote
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def _reach_from_env() -> dict[str, float]:
    out = {}
    for item in filter(None, os.environ.get("ATLAS_REACH", "").split(",")):
        mode, _, metres = item.partition("=")
        if mode.strip() in domain.MODES:
            out[mode.strip()] = float(metres)
    return out
