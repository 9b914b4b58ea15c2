"""Storage behind one small interface.

The embedded default is a single GeoPackage file (one table per layer, opens in
QGIS). A PostGIS backend can implement the same ``Store`` protocol later.

Writes are all-or-nothing: the GeoPackage is copied, the copy is changed and
flushed, and then atomically renamed over the original, all under a file lock.
A process killed half-way leaves the previous file untouched; readers keep
seeing either the old or the new state, never a mix.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd
import pyogrio
from filelock import FileLock

from geodata import domain
from loaders import schema
from loaders.paths import DEFAULT_DB

SOURCES_TABLE = "atlas_sources"


@dataclass(frozen=True)
class Provenance:
    source: str
    licence: str
    demo: bool = False
    retrieved_at: str | None = None  # ISO 8601, UTC; defaults to now

    def row(self, layer: str) -> dict:
        return {
            "layer": layer,
            "source": self.source,
            "licence": self.licence,
            "demo": int(self.demo),
            "retrieved_at": self.retrieved_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


class Store(Protocol):
    """What the app and the loaders need from a storage backend."""

    location: str

    def version(self) -> str:
        """Changes whenever any stored data changes (used as a cache key)."""

    def layers(self) -> list[str]:
        """Names of the layers and tables that hold data."""

    def read(self, layer: str) -> pd.DataFrame:
        """The whole layer (GeoDataFrame in EPSG:4326) or table; empty if absent."""

    def write(self, frames: dict[str, pd.DataFrame], provenance: Provenance, mode: str = "replace") -> None:
        """Validate and store several layers in one transaction."""

    def sources(self) -> pd.DataFrame:
        """Provenance per layer: layer, source, licence, demo, retrieved_at."""


class GeoPackageStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.location = str(self.path)
        self._lock = FileLock(str(self.path) + ".lock", timeout=120)

    def lock(self) -> FileLock:
        """The write lock (reentrant): hold it to make check-then-write atomic."""
        return self._lock

    # -- reading -----------------------------------------------------------
    @property
    def _version_file(self) -> Path:
        return Path(str(self.path) + ".version")

    def version(self) -> str:
        """A token that changes with every write.

        File times and sizes alone can repeat (a rewrite of equal size within one
        clock tick, on a reused inode), so every write also leaves a fresh random
        token in a small file beside the store.
        """
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return "absent"
        try:
            token = self._version_file.read_text().strip()
        except OSError:
            token = ""
        return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}-{token}"

    def mark_changed(self) -> None:
        """Record that the store changed (called after every write, under the lock)."""
        import uuid

        tmp = self._version_file.with_name(self._version_file.name + ".tmp")
        tmp.write_text(uuid.uuid4().hex)
        os.replace(tmp, self._version_file)

    def layers(self) -> list[str]:
        if not self.path.exists():
            return []
        return [str(name) for name, _ in pyogrio.list_layers(self.path)]

    def read(self, layer: str) -> pd.DataFrame:
        if layer not in schema.SPECS and layer != SOURCES_TABLE:
            raise KeyError(f"unknown layer {layer!r}")
        if layer not in self.layers():
            return schema.empty_frame(layer) if layer in schema.SPECS else pd.DataFrame()
        frame = pyogrio.read_dataframe(self.path, layer=layer, use_arrow=True)
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and not frame.crs.equals(domain.STORE_CRS):
            frame = frame.to_crs(domain.STORE_CRS)
        return frame

    def sources(self) -> pd.DataFrame:
        return self.read(SOURCES_TABLE)

    def is_demo(self) -> bool:
        src = self.sources()
        return bool(len(src)) and bool(src["demo"].astype(int).any())

    # -- writing -----------------------------------------------------------
    def write(self, frames: dict[str, pd.DataFrame], provenance: Provenance, mode: str = "replace") -> None:
        if mode not in ("replace", "append"):
            raise ValueError("mode must be 'replace' or 'append'")
        clean = {layer: schema.validated(layer, frame)[0] for layer, frame in frames.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            # copies left by a writer that was killed (we hold the lock: nobody else writes)
            for stale in self.path.parent.glob(f".{self.path.stem}.*.tmp.gpkg"):
                stale.unlink(missing_ok=True)
            if mode == "append":
                for layer, frame in clean.items():
                    self._check_append_ids(layer, frame)
            fd, tmp_name = tempfile.mkstemp(prefix="." + self.path.stem + ".", suffix=".tmp.gpkg", dir=self.path.parent)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, tmp)
                else:
                    tmp.unlink()
                for layer, frame in clean.items():
                    self._write_layer(tmp, layer, frame, append=(mode == "append" and layer in self.layers()))
                self._write_sources(tmp, [provenance.row(layer) for layer in clean])
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
                self.mark_changed()
            finally:
                if tmp.exists():
                    tmp.unlink()

    def _check_append_ids(self, layer: str, frame: pd.DataFrame) -> None:
        id_col = schema.SPECS[layer].id_column
        if not id_col or layer not in self.layers():
            return
        existing = set(pyogrio.read_dataframe(self.path, layer=layer, columns=[id_col], read_geometry=False)[id_col])
        clash = frame.index[frame[id_col].isin(existing)].tolist()
        if clash:
            problems = [schema.Problem(i, id_col, f"id {frame[id_col].iloc[i]!r} is already stored") for i in clash]
            raise schema.ValidationError(layer, problems)

    @staticmethod
    def _write_layer(path: Path, layer: str, frame: pd.DataFrame, append: bool) -> None:
        if append:
            # GDAL appends fields by position: bring the columns into the stored order
            fields = [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
            geometry = [frame.geometry.name] if isinstance(frame, gpd.GeoDataFrame) else []
            frame = frame.reindex(columns=fields + geometry)
        kwargs = {}
        types = schema.SPECS[layer].geometry_types or ()
        families = {t.replace("Multi", "") for t in types}
        if len(families) > 1 and not append:
            kwargs["geometry_type"] = "Unknown"  # mixed layer (patrols: tracks, areas, posts)
        elif families and not append:
            kwargs["promote_to_multi"] = any(t.startswith("Multi") for t in types)
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", append=append, **kwargs)

    def _write_sources(self, path: Path, rows: list[dict]) -> None:
        current = pd.DataFrame()
        names = [str(n) for n, _ in pyogrio.list_layers(path)] if path.exists() else []
        if SOURCES_TABLE in names:
            current = pyogrio.read_dataframe(path, layer=SOURCES_TABLE)
        new = pd.DataFrame(rows)
        if len(current):
            current = current[~current["layer"].isin(new["layer"])]
        merged = pd.concat([current, new], ignore_index=True) if len(current) else new
        pyogrio.write_dataframe(merged, path, layer=SOURCES_TABLE, driver="GPKG")


def open_store(location: str | None = None) -> GeoPackageStore:
    """The store named by ``location`` or ``ATLAS_DB`` (default: data/atlas.gpkg)."""
    location = location or os.environ.get("ATLAS_DB") or str(DEFAULT_DB)
    if location.startswith(("postgresql:", "postgres:")):
        raise NotImplementedError("PostGIS backend is not available yet; use a .gpkg path for ATLAS_DB")
    return GeoPackageStore(location)
