"""File imports into a layer: validated, all-or-nothing, with clear messages.

Formats are recognised by content, not by file name: GeoJSON, GeoPackage,
zipped Shapefile, GPX (patrol tracks) and CSV. CSV may be a German office
export: ``;`` separator, decimal comma, UTF-8 or Windows-1252, German headers
(ID, Datum, Uhrzeit, Kategorie, Quelle, Beschreibung, Rechtswert, Hochwert,
Breite, Länge, …). Points in CSV come as ``lat``/``lon`` (WGS84) or as
easting/northing (EPSG:25833 by default).

The CRS is read from the file where it declares one, otherwise inferred from
the coordinate ranges, and always stated in the summary. Every problem is
reported with the file name, the row (CSV line number) or feature number, and
what is wrong. Nothing is stored unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geodata import domain
from loaders import schema
from loaders.store import GeoPackageStore, Provenance

MAX_FILE_BYTES = 200 * 1024 * 1024  # larger files are refused (documented in the README)
# zip archives: what they may unpack to (declared sizes and bytes actually unpacked) and how many members
MAX_UNPACKED_BYTES = MAX_FILE_BYTES
MAX_ZIP_MEMBERS = 1000
UNPACK_CHUNK = 1024 * 1024

KIND_VOCAB = {"green_spaces": domain.GREEN_KINDS, "facilities": domain.FACILITY_KINDS}
VOCAB_COLUMNS = {
    "category": domain.CATEGORIES,
    "source": domain.SOURCES,
    "unit": domain.UNITS,
    "mode": domain.MODES,
    "status": domain.MEETING_STATUS,
}
TIME_COLUMNS = ("occurred_at", "start", "end", "last_confirmed")

# German (and a few English) column headers → schema fields, compared case-insensitively
HEADER_ALIASES = {
    "id": "id", "nr": "id", "nr.": "id", "lfd. nr.": "id", "kennung": "id", "vorgang": "id",
    "datum": "date", "tag": "date", "uhrzeit": "time", "zeit": "time",
    "zeitpunkt": "occurred_at", "tatzeit": "occurred_at", "datum/uhrzeit": "occurred_at",
    "kategorie": "category", "deliktart": "category", "art des vorfalls": "category",
    "quelle": "source", "meldeweg": "source",
    "beschreibung": "description", "sachverhalt": "description", "bemerkung": "description",
    "rechtswert": "easting", "ostwert": "easting", "x": "easting", "easting": "easting",
    "hochwert": "northing", "nordwert": "northing", "y": "northing", "northing": "northing",
    "breite": "lat", "breitengrad": "lat", "latitude": "lat", "lat": "lat",
    "länge": "lon", "laenge": "lon", "längengrad": "lon", "longitude": "lon", "lon": "lon", "lng": "lon",
    "name": "name", "bezeichnung": "name", "einrichtung": "name",
    "art": "kind", "typ": "kind",
    "status": "status", "zuletzt bestätigt": "last_confirmed", "letzte bestätigung": "last_confirmed",
    "schicht": "shift_id", "schicht-id": "shift_id", "einheit": "unit", "modus": "mode", "fortbewegung": "mode",
    "beginn": "start", "ende": "end",
    "schlüssel": "code", "stadtteilnummer": "code", "stadtteil-nr.": "code", "code": "code",
    "stadtteil": "name", "einwohner": "population",
    "jahr": "year", "fälle": "crime_total_cases", "straftaten insgesamt": "crime_total_cases",
    "hz": "crime_total_rate", "häufigkeitszahl": "crime_total_rate",
}
LABEL_FIELDS = {"meeting_points": {"name": "label", "bezeichnung": "label"}}


class ImportFailed(ValueError):
    """The file cannot be imported; ``lines`` name file, row and problem."""

    def __init__(self, path: str | Path, lines: list[str], name: str | None = None):
        self.path = str(path)
        shown = name or Path(path).name
        self.lines = [f"{shown}: {line}" for line in lines]
        super().__init__("\n".join(self.lines))


@dataclass
class Summary:
    layer: str
    path: str
    rows: int
    mode: str
    crs: str | None
    fmt: str = ""
    notes: list[str] = field(default_factory=list)
    name: str | None = None

    def text(self) -> str:
        lines = [f"{self.name or Path(self.path).name}: {self.rows} rows into '{self.layer}' ({self.mode or 'checked'}), format {self.fmt}"]
        if self.crs:
            lines.append(f"CRS: {self.crs}")
        lines.extend(self.notes)
        return "\n".join(lines)


@dataclass
class Parsed:
    frame: pd.DataFrame
    row_label: callable
    crs: str | None
    fmt: str
    notes: list[str] = field(default_factory=list)


class _Fail(Exception):
    def __init__(self, *lines: str):
        self.lines = list(lines)


# -- recognising the format ----------------------------------------------------

BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x1f\x8b", b"BM", b"\xd0\xcf\x11\xe0", b"7z\xbc\xaf")

def sniff(path: Path) -> str:
    """The file's format from its first bytes: zip, gpkg, gpx, geojson or csv."""
    head = path.open("rb").read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "gpx" if b"<gpx" in head else "xml"
    if text.startswith((b"{", b"[")):
        return "geojson"
    if head.startswith(BINARY_MAGIC):
        return "binary"
    controls = sum(b < 32 and b not in (9, 10, 12, 13, 26) for b in head)
    if b"\x00" in head or controls > max(2, len(head) // 20):
        return "binary"
    return "csv"


# -- readers ---------------------------------------------------------------------

def _read_vector(source: str, fmt: str, layer: str | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    try:
        gdf = pyogrio.read_dataframe(source, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for broken files
        raise _Fail(f"cannot read as {fmt} ({exc})") from exc
    declared = gdf.crs.to_string() if gdf.crs is not None else None
    return gdf, declared


def _pick_layer(path: Path, target: str) -> str:
    names = [str(n) for n, _ in pyogrio.list_layers(path)]
    if target in names:
        return target
    if len(names) == 1:
        return names[0]
    raise _Fail(f"the GeoPackage has several layers ({', '.join(names)}) and none is called '{target}'")


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n} bytes"


def _check_archive(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive by its directory, before anything is unpacked."""
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _Fail(f"the zip archive holds {len(infos)} files; the limit is {MAX_ZIP_MEMBERS}")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNPACKED_BYTES:
        raise _Fail(f"the zip archive unpacks to {_mb(declared)}; the limit is {_mb(MAX_UNPACKED_BYTES)} (nothing was unpacked)")


def _unpack(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], stem: str, folder: Path) -> Path:
    """Unpack the Shapefile's members into ``folder``, counting the bytes actually unpacked."""
    total = 0
    shp = None
    for info in members:
        suffix = re.sub(r"[^a-z0-9.]", "", info.filename[len(stem):].lower())
        target = folder / f"layer{suffix}"
        if suffix == ".shp":
            shp = target
        with zf.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(UNPACK_CHUNK):
                total += len(chunk)
                if total > MAX_UNPACKED_BYTES:
                    raise _Fail(f"the zip archive unpacks to more than {_mb(MAX_UNPACKED_BYTES)}, the limit (its directory claims less)")
                dst.write(chunk)
    return shp


def _read_zip(path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    """A zipped Shapefile: checked for size and member count, then unpacked into a
    private temp folder (removed afterwards) and read from there."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_archive(infos)
            files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX")]
            shapes = [i.filename for i in files if i.filename.lower().endswith(".shp")]
            if len(shapes) != 1:
                raise _Fail(f"a zipped Shapefile must hold exactly one .shp file, found {len(shapes)}")
            stem = shapes[0][:-4].lower()
            names = {i.filename.lower() for i in files}
            for ext in (".shx", ".dbf"):
                if stem + ext not in names:
                    raise _Fail(f"the zipped Shapefile lacks its {ext} file")
            members = [i for i in files if i.filename.lower().startswith(stem + ".")]
            with tempfile.TemporaryDirectory(prefix="atlas-unzip-") as tmp:
                shp = _unpack(zf, members, stem, Path(tmp))
                return _read_vector(str(shp), "Shapefile")
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _Fail(f"broken zip archive ({exc})") from exc
    except NotImplementedError as exc:
        raise _Fail(f"the zip archive uses a compression that cannot be read ({exc})") from exc
    except RuntimeError as exc:  # encrypted members
        raise _Fail(f"cannot unpack the zip archive ({exc})") from exc


def _read_gpx(path: Path) -> pd.DataFrame:
    """GPX tracks as patrol shifts: one shift per track, times from its points."""
    try:
        tracks = pyogrio.read_dataframe(path, layer="tracks")
        points = pyogrio.read_dataframe(path, layer="track_points", columns=["track_fid", "time"], read_geometry=False)
    except Exception as exc:
        raise _Fail(f"cannot read as GPX ({exc})") from exc
    if tracks.empty:
        raise _Fail("the GPX file has no tracks (trk)")
    times = pd.to_datetime(points["time"], utc=True, errors="coerce")
    span = times.groupby(points["track_fid"]).agg(["min", "max"])
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem)[:40] or "gpx"
    names = tracks["name"].tolist() if "name" in tracks else [None] * len(tracks)
    frame = gpd.GeoDataFrame(
        {
            "shift_id": [n.strip() if isinstance(n, str) and n.strip() else f"{stem}-{i + 1}" for i, n in enumerate(names)],
            "start": span["min"].reindex(range(len(tracks))).to_numpy(),
            "end": span["max"].reindex(range(len(tracks))).to_numpy(),
        },
        geometry=tracks.geometry.to_numpy(),
        crs=tracks.crs or "EPSG:4326",
    )
    if frame["shift_id"].duplicated().any():
        frame["shift_id"] = [f"{s}-{i + 1}" for i, s in enumerate(frame["shift_id"])]
    return frame


def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise _Fail("text is neither UTF-8 nor Windows-1252")


def _read_csv_text(path: Path) -> tuple[pd.DataFrame, list[str]]:
    raw = path.read_bytes()
    text, encoding = _decode(raw)
    first = text.splitlines()[0] if text.strip() else ""
    counts = {sep: first.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=counts.get) if any(counts.values()) else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""], quotechar='"')
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise _Fail(f"cannot read as CSV ({exc})") from exc
    notes = []
    if encoding == "cp1252":
        notes.append("text encoding: Windows-1252")
    if sep != ",":
        notes.append(f"separator: {sep!r}")
    df.attrs["german_numbers"] = sep == ";"
    return df, notes


GROUPED = r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?"


def _number(series: pd.Series, german: bool = False, grouping: bool = True) -> pd.Series:
    """Numbers written either way: 50.8322, 50,8322, 5.632.100,5 or 5632100.5.

    A comma is always a decimal comma. In German files (``;`` separator) a dot
    between groups of three digits is a thousands separator ("5.100" = 5100)
    unless ``grouping`` is off (coordinates in degrees never have thousands).
    """
    text = series.astype("string").str.strip().str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    comma = text.str.contains(",", regex=False, na=False)
    thousands = text.str.fullmatch(GROUPED, na=False) & (comma | (german and grouping))
    text = text.where(~thousands, text.str.replace(".", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _rename_headers(df: pd.DataFrame, layer: str) -> tuple[pd.DataFrame, list[str]]:
    mapping, notes = {}, []
    specific = LABEL_FIELDS.get(layer, {})
    known = set(schema.SPECS[layer].schema.columns) | {"lat", "lon", "easting", "northing", "date", "time"}
    for col in df.columns:
        key = str(col).strip().lower()
        target = specific.get(key) or (key if key in known else HEADER_ALIASES.get(key))
        if layer == "patrols" and key == "art":
            target = "mode"
        if target and target not in mapping.values():
            mapping[col] = target
            if target != str(col).strip():
                notes.append(f"column '{col}' read as '{target}'")
    return df.rename(columns=mapping), notes


def _german_datetimes(df: pd.DataFrame) -> pd.DataFrame:
    """Datum (+ Uhrzeit) in German notation to ISO text in ``occurred_at``."""
    if "date" not in df.columns or "occurred_at" in df.columns:
        return df
    date_text = df["date"].astype("string").str.strip()
    german = date_text.str.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", na=False)
    iso_date = date_text.where(~german, date_text.str.replace(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", lambda m: f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}", regex=True))
    if "time" in df.columns:
        time_text = df["time"].astype("string").str.strip().str.replace(r"\s*Uhr$", "", regex=True).str.replace(".", ":", regex=False)
        combined = iso_date + "T" + time_text.fillna("00:00")
    else:
        combined = iso_date
    return df.drop(columns=[c for c in ("date", "time") if c in df.columns]).assign(occurred_at=combined)


def _points_from_columns(df: pd.DataFrame, row_label, german: bool) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    if {"lat", "lon"} <= set(df.columns):
        x, y = _number(df["lon"], german, grouping=False), _number(df["lat"], german, grouping=False)
        crs, cols = "EPSG:4326", ("lat", "lon")
    elif {"easting", "northing"} <= set(df.columns):
        x, y, cols = _number(df["easting"], german), _number(df["northing"], german), ("easting", "northing")
        crs = None
    else:
        raise _Fail("point layers need coordinate columns: 'lat'/'lon' (Breite/Länge, WGS84) or easting/northing (Rechtswert/Hochwert, EPSG:25833)")
    bad = x.isna() | y.isna()
    if bad.any():
        raise _Fail(*[f"{row_label(i)}: '{cols[0]}'/'{cols[1]}' is not a number" for i in np.flatnonzero(bad.to_numpy())[:20]])
    notes = []
    if crs is None:
        crs = infer_crs(x.to_numpy(), y.to_numpy()) or "EPSG:25833"
    gdf = gpd.GeoDataFrame(df.drop(columns=list(cols)), geometry=gpd.points_from_xy(x, y), crs=crs)
    return gdf, crs, notes


# -- CRS ------------------------------------------------------------------------

def infer_crs(x: np.ndarray, y: np.ndarray) -> str | None:
    """Guess the CRS of coordinates in and around Saxony from their ranges."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    mx, my = float(np.median(x[ok])), float(np.median(y[ok]))
    if 5 <= mx <= 16 and 46 <= my <= 56:
        return "EPSG:4326"
    if 46 <= mx <= 56 and 5 <= my <= 16:
        return "EPSG:4326"  # swapped lat/lon: the schema check names it
    if 200_000 <= mx <= 900_000 and 5_200_000 <= my <= 6_200_000:
        return "EPSG:25833"  # ETRS89 / UTM 33N, Saxony's official CRS
    if 33_200_000 <= mx <= 33_900_000 and 5_200_000 <= my <= 6_200_000:
        return "EPSG:5650"  # UTM 33N with zone number in front of the easting
    if 4_200_000 <= mx <= 4_800_000 and 5_200_000 <= my <= 6_200_000:
        return "EPSG:31468"  # DHDN / Gauss-Krüger zone 4, older Saxon data
    return None


def _resolve_crs(gdf: gpd.GeoDataFrame, declared: str | None, fmt: str) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    bounds = gdf.geometry.bounds
    xs = ((bounds["minx"] + bounds["maxx"]) / 2).to_numpy()
    ys = ((bounds["miny"] + bounds["maxy"]) / 2).to_numpy()
    guessed = infer_crs(xs, ys)
    notes = []
    if declared:
        epsg = CRS.from_user_input(declared).to_epsg()
        label = f"EPSG:{epsg}" if epsg else declared
        if guessed and epsg and guessed != label and not (guessed == "EPSG:4326" and epsg == 4326):
            raise _Fail(f"the file declares {label}, but its coordinates look like {guessed}: check the CRS of the export")
        if guessed is None and epsg == 4326:
            return gdf, label, notes  # the schema check reports coordinates outside Chemnitz
        note = f"CRS read from the file: {label}"
        crs = label
    elif guessed:
        crs = guessed
        note = f"CRS inferred from the coordinate ranges: {guessed}"
        gdf = gdf.set_crs(guessed, allow_override=True)
    else:
        raise _Fail("cannot tell the coordinate reference system: the file declares none and the coordinates fit none of WGS84, EPSG:25833, EPSG:5650 or EPSG:31468")
    notes.append(note)
    if crs != domain.STORE_CRS:
        notes.append(f"reprojected from {crs} to {domain.STORE_CRS}")
    return gdf, crs, notes


# -- the pipeline ------------------------------------------------------------

def parse(path: str | Path, layer: str, name: str | None = None) -> Parsed:
    path = Path(path)
    if layer not in schema.SPECS:
        raise ImportFailed(path, [f"unknown layer '{layer}'; known: {', '.join(schema.SPECS)}"], name)
    if not path.is_file():
        raise ImportFailed(path, ["file not found"], name)
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(path, ["file is empty"], name)
    if size > MAX_FILE_BYTES:
        raise ImportFailed(path, [f"file is {size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MB"], name)
    fmt = sniff(path)
    spatial = schema.SPECS[layer].geometry_types is not None
    try:
        return _parse(path, layer, fmt, spatial)
    except _Fail as fail:
        raise ImportFailed(path, fail.lines, name) from None


def _parse(path: Path, layer: str, fmt: str, spatial: bool) -> Parsed:
    feature = lambda i: f"feature {i + 1}"  # noqa: E731
    line = lambda i: f"row {i + 2}"  # noqa: E731 - CSV line number, the header is line 1
    if fmt in ("binary", "xml"):
        raise _Fail("not a recognised file format (expected GeoJSON, GeoPackage, zipped Shapefile, GPX or CSV)")
    if fmt == "gpx":
        if layer != "patrols":
            raise _Fail("GPX files hold patrol tracks: import them into the layer 'patrols'")
        frame = _read_gpx(path)
        return Parsed(frame, lambda i: f"track {i + 1}", "EPSG:4326", "GPX", ["CRS: WGS84 (GPX)"])
    if fmt == "csv":
        df, notes = _read_csv_text(path)
        german = df.attrs.get("german_numbers", False)
        df.columns = [str(c).strip() for c in df.columns]
        df, renamed = _rename_headers(df, layer)
        notes += renamed
        df = _german_datetimes(df)
        if df.empty:
            return Parsed(df, line, None, "CSV", notes)
        if not spatial:
            for col in ("crime_total_cases", "crime_total_rate", "population"):
                if col in df.columns:
                    df[col] = _number(df[col], german)
            return Parsed(df, line, None, "CSV", notes)
        if "population" in df.columns:
            df["population"] = _number(df["population"], german)
        gdf, crs, _ = _points_from_columns(df, line, german)
        gdf, crs, crs_notes = _resolve_crs(gdf, crs if {"lat", "lon"} <= set(df.columns) else None, "CSV")
        return Parsed(gdf, line, crs, "CSV", notes + crs_notes)
    if fmt == "zip":
        gdf, declared = _read_zip(path)
        label, kind = feature, "zipped Shapefile"
    elif fmt == "gpkg":
        gdf, declared = _read_vector(str(path), "GeoPackage", _pick_layer(path, layer))
        label, kind = feature, "GeoPackage"
    else:
        gdf, declared = _read_vector(str(path), "GeoJSON")
        label, kind = feature, "GeoJSON"
        declared = declared if _declares_crs(path) else None
    if not spatial:
        return Parsed(pd.DataFrame(gdf.drop(columns=gdf.geometry.name, errors="ignore")), label, None, kind)
    gdf, renamed = _rename_headers(gdf, layer)
    if gdf.empty:
        return Parsed(gdf, label, declared, kind, renamed)
    if gdf.geometry.isna().all():
        raise _Fail("no geometries in the file")
    gdf, crs, crs_notes = _resolve_crs(gdf, declared, kind)
    return Parsed(gdf, label, crs, kind, renamed + crs_notes)


def _declares_crs(path: Path) -> bool:
    """GeoJSON: only an explicit "crs" member counts; without it the data may still be in any CRS."""
    head = path.open("rb").read(2048)
    return b'"crs"' in head


def _parse_times(values: pd.Series) -> pd.Series:
    """ISO 8601 strings to UTC; values without an offset are Europe/Berlin time."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.as_unit("ms")
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
        if isinstance(naive.dtype, pd.DatetimeTZDtype):
            naive = naive.dt.tz_localize(None)
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
    vocabularies = dict(VOCAB_COLUMNS)
    if layer in KIND_VOCAB:
        vocabularies["kind"] = KIND_VOCAB[layer]
    for col, vocab in vocabularies.items():
        if col not in frame.columns:
            continue
        resolved = frame[col].map(lambda v: domain.resolve_term(vocab, v) if isinstance(v, str) else None)
        unknown = resolved.isna() & frame[col].notna()
        for i in np.flatnonzero(unknown.to_numpy()):
            problems.append(
                schema.Problem(int(i), col, f"unknown value {frame[col].iloc[i]!r}; allowed: {', '.join(vocab)}")
            )
        frame[col] = resolved.where(~unknown, frame[col])
    for col in TIME_COLUMNS:
        if col in frame.columns:
            parsed_times = _parse_times(frame[col])
            raw = frame[col]
            given = raw.notna() & (raw.astype(str).str.strip() != "")
            bad = parsed_times.isna() & given
            for i in np.flatnonzero(bad.to_numpy()):
                problems.append(schema.Problem(int(i), col, f"impossible or unreadable date/time {raw.iloc[i]!r}"))
            frame[col] = parsed_times
    for col in ("code", "shift_id", "id"):
        if col in frame.columns:
            frame[col] = frame[col].map(lambda v: None if pd.isna(v) else _id_text(v))
    return frame, problems


def _id_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check(path: str | Path, layer: str, name: str | None = None, defaults: dict | None = None) -> tuple[pd.DataFrame, Summary]:
    """Parse, normalise and validate a file. Raises ``ImportFailed`` naming every problem.

    ``defaults`` fill columns the file lacks (e.g. unit and mode for GPX tracks).
    """
    parsed = parse(path, layer, name)
    for col, value in (defaults or {}).items():
        if value is not None and col not in parsed.frame.columns:
            parsed.frame[col] = value
            parsed.notes.append(f"'{col}' set to '{value}' for every row")
    if len(parsed.frame) == 0:
        raise ImportFailed(path, ["no rows (empty file or header only)"], name)
    frame, problems = normalise(layer, parsed)
    clean, report = schema.validate(layer, frame)
    seen = {(p.row, p.column) for p in problems}
    problems += [p for p in report.problems if (p.row, p.column) not in seen]
    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        err = schema.ValidationError(layer, problems, lambda p: parsed.row_label(p.row) if p.row is not None else "file")
        raise ImportFailed(path, err.lines, name)
    notes = parsed.notes + [re.sub(r"^row (\d+)", lambda m: parsed.row_label(int(m[1]) - 1), n) for n in report.notes]
    return clean, Summary(layer, str(path), len(clean), "", parsed.crs, parsed.fmt, notes, name)


def import_file(
    store: GeoPackageStore,
    layer: str,
    path: str | Path,
    mode: str = "replace",
    licence: str = "as provided",
    name: str | None = None,
    defaults: dict | None = None,
) -> Summary:
    """Check a file and store it in one transaction; the store is unchanged on any error."""
    clean, summary = check(path, layer, name, defaults)
    try:
        store.write({layer: clean}, Provenance(source=f"file import: {name or Path(path).name}", licence=licence), mode=mode)
    except schema.ValidationError as exc:
        raise ImportFailed(path, exc.lines, name) from exc
    summary.mode = mode
    return summary
