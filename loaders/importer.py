"""File imports: GeoJSON and CSV into a layer, validated, all-or-nothing.

Every problem is reported with the file name, the row (CSV line number) or
feature number, and what is wrong. Nothing is stored unless the whole file is
valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geodata import domain
from loaders import schema
from loaders.store import GeoPackageStore, Provenance

MAX_FILE_BYTES = 200 * 1024 * 1024  # larger files are refused (documented in the README)

VOCAB_COLUMNS = {
    "category": domain.CATEGORIES,
    "source": domain.SOURCES,
    "unit": domain.UNITS,
    "mode": domain.MODES,
    "status": domain.MEETING_STATUS,
    "kind": None,  # per layer, below
}
KIND_VOCAB = {"green_spaces": domain.GREEN_KINDS, "facilities": domain.FACILITY_KINDS}
TIME_COLUMNS = ("occurred_at", "start", "end", "last_confirmed")


class ImportFailed(ValueError):
    """The file cannot be imported; ``lines`` name file, row and problem."""

    def __init__(self, path: str | Path, lines: list[str]):
        self.path = str(path)
        self.lines = [f"{Path(path).name}: {line}" for line in lines]
        super().__init__("\n".join(self.lines))


@dataclass
class Summary:
    layer: str
    path: str
    rows: int
    mode: str
    crs: str | None
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{Path(self.path).name}: {self.rows} rows into '{self.layer}' ({self.mode})"]
        if self.crs:
            lines.append(f"CRS: {self.crs}")
        lines.extend(self.notes)
        return "\n".join(lines)


@dataclass
class Parsed:
    frame: pd.DataFrame
    row_label: callable
    crs: str | None
    notes: list[str] = field(default_factory=list)


def _read_geojson(path: Path) -> Parsed:
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several error types for broken files
        raise ImportFailed(path, [f"cannot read as GeoJSON ({exc})"]) from exc
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    return Parsed(gdf, lambda i: f"feature {i + 1}", crs)


def _read_csv(path: Path, layer: str) -> Parsed:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFailed(path, [f"cannot read as CSV ({exc})"]) from exc
    df.columns = [c.strip() for c in df.columns]
    row_label = lambda i: f"row {i + 2}"  # noqa: E731 - line number, the header is line 1
    if schema.SPECS[layer].geometry_types is None:
        return Parsed(df, row_label, None)
    cols = {c.lower(): c for c in df.columns}
    if "lat" not in cols or "lon" not in cols:
        raise ImportFailed(path, ["CSV needs 'lat' and 'lon' columns (WGS84) for point layers"])
    lat = pd.to_numeric(df[cols["lat"]], errors="coerce")
    lon = pd.to_numeric(df[cols["lon"]], errors="coerce")
    bad = lat.isna() | lon.isna()
    if bad.any():
        rows = [row_label(i) for i in bad[bad].index[:10]]
        raise ImportFailed(path, [f"{r}: 'lat'/'lon' is not a number" for r in rows])
    gdf = gpd.GeoDataFrame(df.drop(columns=[cols["lat"], cols["lon"]]), geometry=gpd.points_from_xy(lon, lat), crs=domain.STORE_CRS)
    return Parsed(gdf, row_label, domain.STORE_CRS)


def parse(path: str | Path, layer: str) -> Parsed:
    path = Path(path)
    if layer not in schema.SPECS:
        raise ImportFailed(path, [f"unknown layer '{layer}'; known: {', '.join(schema.SPECS)}"])
    if not path.is_file():
        raise ImportFailed(path, ["file not found"])
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(path, ["file is empty"])
    if size > MAX_FILE_BYTES:
        raise ImportFailed(path, [f"file is {size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB"])
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        parsed = _read_geojson(path)
    elif suffix == ".csv":
        parsed = _read_csv(path, layer)
    else:
        raise ImportFailed(path, [f"unsupported file type '{suffix}' (GeoJSON or CSV)"])
    if len(parsed.frame) == 0:
        raise ImportFailed(path, ["no rows (empty file or header only)"])
    return parsed


def _parse_times(values: pd.Series) -> pd.Series:
    """ISO 8601 strings to UTC; values without an offset are Europe/Berlin time."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ms, UTC]")
    text = values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v).strip())
    present = text.map(bool, na_action="ignore").fillna(False).astype(bool)
    has_offset = present & text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False).astype(bool)
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        out[has_offset] = aware.dt.as_unit("ms")
    naive_mask = present & ~has_offset
    if naive_mask.any():
        naive = pd.to_datetime(text[naive_mask], format="ISO8601", errors="coerce")
        local = naive.dt.tz_localize(domain.LOCAL_TZ, ambiguous="NaT", nonexistent="shift_forward")
        # the repeated hour when clocks go back: take the first (summer time) occurrence
        retry = local.isna() & naive.notna()
        if retry.any():
            local[retry] = naive[retry].dt.tz_localize(domain.LOCAL_TZ, ambiguous=True, nonexistent="shift_forward")
        out[naive_mask] = local.dt.tz_convert("UTC").dt.as_unit("ms")
    return out


def normalise(layer: str, parsed: Parsed) -> tuple[pd.DataFrame, list[schema.Problem]]:
    """German labels to keys and times to UTC; unreadable values become problems."""
    frame = parsed.frame.copy()
    problems: list[schema.Problem] = []
    for col, vocab in VOCAB_COLUMNS.items():
        vocab = KIND_VOCAB.get(layer) if col == "kind" else vocab
        if vocab is None or col not in frame.columns:
            continue
        resolved = frame[col].map(lambda v: domain.resolve_term(vocab, v) if isinstance(v, str) else None)
        unknown = resolved.isna() & frame[col].notna()
        for i in unknown[unknown].index:
            problems.append(
                schema.Problem(int(i), col, f"unknown value {frame[col][i]!r}; allowed: {', '.join(vocab)}")
            )
        frame[col] = resolved.where(~unknown, frame[col])
    for col in TIME_COLUMNS:
        if col in frame.columns:
            parsed_times = _parse_times(frame[col])
            bad = parsed_times.isna() & frame[col].notna() & (frame[col].astype(str).str.strip() != "")
            for i in bad[bad].index:
                problems.append(schema.Problem(int(i), col, f"impossible or unreadable date/time {frame[col][i]!r}"))
            frame[col] = parsed_times
    for col in ("code", "shift_id", "id"):
        if col in frame.columns:
            frame[col] = frame[col].map(lambda v: None if pd.isna(v) else str(v).strip())
    return frame, problems


def check(path: str | Path, layer: str) -> tuple[pd.DataFrame, Summary]:
    """Parse, normalise and validate a file. Raises ``ImportFailed`` naming every problem."""
    parsed = parse(path, layer)
    frame, problems = normalise(layer, parsed)
    clean, report = schema.validate(layer, frame)
    seen = {(p.row, p.column) for p in problems}
    problems += [p for p in report.problems if (p.row, p.column) not in seen]
    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        err = schema.ValidationError(layer, problems, lambda p: parsed.row_label(p.row) if p.row is not None else "file")
        raise ImportFailed(path, err.lines)
    notes = parsed.notes + [n.replace("row ", "item ") for n in report.notes]
    return clean, Summary(layer, str(path), len(clean), "", parsed.crs, notes)


def import_file(store: GeoPackageStore, layer: str, path: str | Path, mode: str = "replace", licence: str = "as provided") -> Summary:
    """Check a file and store it in one transaction; the store is unchanged on any error."""
    clean, summary = check(path, layer)
    try:
        store.write({layer: clean}, Provenance(source=f"file import: {Path(path).name}", licence=licence), mode=mode)
    except schema.ValidationError as exc:
        raise ImportFailed(path, exc.lines) from exc
    summary.mode = mode
    return summary
