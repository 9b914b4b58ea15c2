"""Glue between the import page and the loaders: temp files, check, commit, fetch."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders import importer, schema
from loaders import sources as source_registry
from loaders.http import SourceFormatError, SourceUnavailable
from loaders.store import GeoPackageStore


@dataclass
class Checked:
    layer: str
    name: str
    path: Path | None = None
    defaults: dict | None = None
    summary: str = ""
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    error: str = ""


def _safe_name(name: str) -> str:
    """A harmless local file name that keeps the original extension."""
    stem, dot, ext = name.rpartition(".")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", stem or ext)[:60] or "upload"
    return f"{clean}.{re.sub(r'[^A-Za-z0-9]+', '', ext)[:8]}" if dot else clean


def check_upload(upload, layer: str, defaults: dict | None) -> Checked:
    """Save the uploaded bytes to a private temp file and run the importer's check."""
    folder = Path(tempfile.mkdtemp(prefix="atlas-upload-"))
    path = folder / _safe_name(upload.name)
    path.write_bytes(upload.getvalue())
    out = Checked(layer, upload.name, path, defaults)
    try:
        frame, summary = importer.check(path, layer, name=upload.name, defaults=defaults)
    except importer.ImportFailed as exc:
        out.error = "\n".join(exc.lines)
        return out
    out.summary = summary.text()
    preview = pd.DataFrame(frame.drop(columns=frame.geometry.name) if hasattr(frame, "geometry") else frame).head(50)
    if hasattr(frame, "geometry"):
        preview["geometry"] = frame.geometry.head(50).geom_type.to_numpy()
    out.preview = preview.astype(str)
    return out


def commit(store: GeoPackageStore, checked: Checked, mode: str, licence: str) -> Checked:
    try:
        summary = importer.import_file(store, checked.layer, checked.path, mode=mode, licence=licence, name=checked.name, defaults=checked.defaults)
    except importer.ImportFailed as exc:
        return Checked(checked.layer, checked.name, error="\n".join(exc.lines))
    finally:
        if checked.path is not None:
            checked.path.unlink(missing_ok=True)
    return Checked(checked.layer, checked.name, summary=summary.text(), preview=pd.DataFrame({"rows": [summary.rows]}))


def sources() -> dict:
    return source_registry.registry()


def fetch(store: GeoPackageStore, name: str) -> tuple[str, bool]:
    """Fetch a source into the store; a one-line message and whether it worked."""
    try:
        source, rows = source_registry.run(store, name)
    except (SourceUnavailable, SourceFormatError, schema.ValidationError) as exc:
        return str(exc), False
    return f"{rows} rows into '{source.layer}' ({source.licence})", True
