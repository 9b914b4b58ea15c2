"""One declared schema per layer; everything entering the store passes here.

Attribute rules are pandera schemas. Geometry rules (type, emptiness, finite
coordinates inside Chemnitz, validity) are checked with shapely. Problems are
collected for all rows first and reported together, each naming its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa
import shapely

from geodata import domain


@dataclass
class Problem:
    row: int | None  # 0-based position in the frame; None for the whole file
    column: str | None
    message: str


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs and observations

    @property
    def ok(self) -> bool:
        return not self.problems


class ValidationError(ValueError):
    """Raised when data fails its layer schema. Carries every problem found."""

    def __init__(self, layer: str, problems: list[Problem], describe=None):
        self.layer = layer
        self.problems = problems
        describe = describe or (lambda p: f"row {p.row + 1}" if p.row is not None else "file")
        lines = []
        for p in problems[:20]:
            where = describe(p)
            col = f" column '{p.column}'" if p.column else ""
            lines.append(f"{where}{col}: {p.message}")
        more = len(problems) - 20
        if more > 0:
            lines.append(f"… and {more} more problems")
        self.lines = lines
        super().__init__(f"{layer}: " + "; ".join(lines))


@dataclass(frozen=True)
class LayerSpec:
    name: str
    geometry_types: tuple[str, ...] | None  # None: attribute table, no geometry
    id_column: str | None
    schema: pa.DataFrameSchema


def _str(nullable: bool = False, **kw) -> pa.Column:
    checks = [] if nullable else [pa.Check(lambda s: s.str.strip().str.len() > 0, element_wise=False, error="must not be empty")]
    return pa.Column(str, checks=checks, nullable=nullable, coerce=False, **kw)


def _isin(vocab: dict[str, domain.Term]) -> pa.Column:
    allowed = sorted(vocab)
    return pa.Column(
        str,
        checks=pa.Check.isin(allowed, error=f"unknown value; allowed: {', '.join(allowed)}"),
        nullable=False,
    )


_UTC = pd.DatetimeTZDtype(unit="ms", tz="UTC")


def _ts(nullable: bool = False) -> pa.Column:
    return pa.Column(_UTC, nullable=nullable, coerce=True)


POLYGONS = ("Polygon", "MultiPolygon")

SPECS: dict[str, LayerSpec] = {
    "districts": LayerSpec(
        "districts",
        POLYGONS,
        "code",
        pa.DataFrameSchema(
            {
                "code": _str(),
                "name": _str(),
                "population": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True, required=False),
            }
        ),
    ),
    "green_spaces": LayerSpec(
        "green_spaces",
        POLYGONS,
        None,
        pa.DataFrameSchema({"name": _str(nullable=True), "kind": _isin(domain.GREEN_KINDS)}),
    ),
    "patrols": LayerSpec(
        "patrols",
        ("LineString", "MultiLineString", "Polygon", "MultiPolygon", "Point"),
        "shift_id",
        pa.DataFrameSchema(
            {
                "shift_id": _str(),
                "unit": _isin(domain.UNITS),
                "mode": _isin(domain.MODES),
                "start": _ts(),
                "end": _ts(),
            },
            checks=[pa.Check(lambda df: df["end"] > df["start"], error="end must be after start")],
        ),
    ),
    "incidents": LayerSpec(
        "incidents",
        ("Point",),
        "id",
        pa.DataFrameSchema(
            {
                "id": _str(),
                "occurred_at": _ts(),
                "category": _isin(domain.CATEGORIES),
                "source": _isin(domain.SOURCES),
                "description": _str(nullable=True, required=False),
            }
        ),
    ),
    "meeting_points": LayerSpec(
        "meeting_points",
        ("Point",),
        "id",
        pa.DataFrameSchema(
            {
                "id": _str(),
                "label": _str(),
                "kind": _str(),
                "status": _isin(domain.MEETING_STATUS),
                "last_confirmed": _ts(nullable=True),
            }
        ),
    ),
    "facilities": LayerSpec(
        "facilities",
        ("Point",),
        "id",
        pa.DataFrameSchema({"id": _str(), "name": _str(), "kind": _isin(domain.FACILITY_KINDS)}),
    ),
    "observations": LayerSpec(
        "observations",
        ("Point",),
        "id",
        pa.DataFrameSchema(
            {
                "id": _str(),
                "workshop_id": _str(),
                "participant": _str(),
                "feeling": _isin(domain.FEELINGS),
                "reasons": pa.Column(
                    str,
                    pa.Check(
                        lambda s: s.fillna("").map(lambda v: all(r in domain.REASONS for r in v.split(",") if r)),
                        element_wise=False,
                        error=f"unknown reason; allowed: {', '.join(domain.REASONS)}",
                    ),
                    nullable=True,
                ),
                "time_of_day": _isin(domain.TIMES_OF_DAY),
                "comment": pa.Column(str, pa.Check.str_length(max_value=domain.COMMENT_MAX), nullable=True),
                "created_at": _ts(),
                "hidden": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            }
        ),
    ),
    "workshops": LayerSpec(
        "workshops",
        None,
        "id",
        pa.DataFrameSchema(
            {
                "id": _str(),
                "code": pa.Column(str, pa.Check.str_matches(r"^[A-Z0-9]{6}$"), unique=True),
                "title": _str(),
                "date": _str(),
                "districts": pa.Column(str, nullable=True),
                "created_by": _str(),
                "created_at": _ts(),
                "open": pa.Column(int, pa.Check.isin([0, 1]), coerce=True),
            }
        ),
    ),
    # a view belongs to its owner (created_by): names are unique per owner, not overall
    "saved_views": LayerSpec(
        "saved_views",
        None,
        None,
        pa.DataFrameSchema(
            {
                "name": pa.Column(str, pa.Check.str_length(1, 80)),
                "params": pa.Column(str, pa.Check.str_length(0, 2000)),
                "created_by": _str(),
                "created_at": _ts(),
                # the owner's role when saving; missing on views stored before roles were kept
                "owner_role": pa.Column(str, pa.Check.isin(["admin", "council", "workshop"]), nullable=True, required=False),
                "shared_with": pa.Column(str, pa.Check.isin(["council"]), nullable=True, required=False),
            },
            unique=["created_by", "name"],
        ),
    ),
    "crime_stats": LayerSpec(
        "crime_stats",
        None,
        None,
        pa.DataFrameSchema(
            {
                "code": _str(),
                "year": pa.Column(int, pa.Check.in_range(1990, 2100), coerce=True),
                "crime_total_cases": pa.Column(int, pa.Check.ge(0), coerce=True),
                "crime_total_rate": pa.Column(float, pa.Check.ge(0), coerce=True, nullable=True),
            },
            unique=["code", "year"],
        ),
    ),
}


def _attribute_problems(spec: LayerSpec, df: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    missing = [c for c, col in spec.schema.columns.items() if col.required and c not in df.columns]
    if missing:
        return df, [Problem(None, c, "required column is missing") for c in missing]
    frame = df.reset_index(drop=True)
    try:
        frame = spec.schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        for rec in fc.itertuples(index=False):
            idx = rec.index if not pd.isna(rec.index) else None
            check = str(rec.check)
            if check.startswith("coerce_dtype") or check.startswith("dtype"):
                msg = f"cannot read value {rec.failure_case!r}"
            elif check == "not_nullable":
                msg = "value is missing"
            elif check.startswith("field_uniqueness") or "unique" in check:
                msg = f"duplicate value {rec.failure_case!r}"
            else:
                msg = check if " " in check else f"failed check {check}"
                if rec.failure_case is not None and not pd.isna(rec.failure_case) and rec.schema_context == "Column":
                    msg = f"{msg} (value {rec.failure_case!r})"
            problem = Problem(int(idx) if idx is not None else None, rec.column if isinstance(rec.column, str) else None, msg)
            if problem not in problems:
                problems.append(problem)
    if spec.id_column and spec.id_column in frame.columns:
        dup = frame[spec.id_column].duplicated(keep="first")
        for i in np.flatnonzero(dup.to_numpy()):
            problems.append(Problem(int(i), spec.id_column, f"duplicate id {frame[spec.id_column].iloc[i]!r}"))
    return frame, problems


def _geometry_problems(spec: LayerSpec, gdf: gpd.GeoDataFrame, report: ValidationReport) -> gpd.GeoSeries:
    geoms = gdf.geometry.reset_index(drop=True)
    problems = report.problems
    types = geoms.geom_type.to_numpy()
    missing = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    for i in np.flatnonzero(missing):
        problems.append(Problem(int(i), "geometry", "geometry is missing or empty"))
    allowed = set(spec.geometry_types or ())
    for i in np.flatnonzero(~missing & ~np.isin(types, list(allowed))):
        problems.append(
            Problem(int(i), "geometry", f"wrong geometry type {types[i]}; expected {' or '.join(spec.geometry_types)}")
        )
    present = ~missing
    coords_ok = np.ones(len(geoms), dtype=bool)
    if present.any():
        arr = geoms.to_numpy()
        for i in np.flatnonzero(present):
            xy = shapely.get_coordinates(arr[i])
            if not np.isfinite(xy).all():
                coords_ok[i] = False
                problems.append(Problem(int(i), "geometry", "coordinates are not numbers (NaN/inf)"))
        bounds = shapely.bounds(arr)
        minx, miny, maxx, maxy = domain.CHEMNITZ_BBOX
        inside = (
            (bounds[:, 0] >= minx) & (bounds[:, 2] <= maxx) & (bounds[:, 1] >= miny) & (bounds[:, 3] <= maxy)
        )
        swapped = (
            (bounds[:, 1] >= minx) & (bounds[:, 3] <= maxx) & (bounds[:, 0] >= miny) & (bounds[:, 2] <= maxy)
        )
        for i in np.flatnonzero(present & coords_ok & ~inside):
            if swapped[i]:
                msg = "latitude and longitude look swapped (lon/lat expected)"
            else:
                b = bounds[i]
                msg = f"coordinates outside Chemnitz (lon {b[0]:.5f}, lat {b[1]:.5f})"
            problems.append(Problem(int(i), "geometry", msg))
    if set(spec.geometry_types or ()) & set(POLYGONS):
        poly = present & np.isin(types, list(POLYGONS)) & coords_ok
        invalid = poly & ~geoms.is_valid.to_numpy()
        if invalid.any():
            fixed = geoms.copy()
            for i in np.flatnonzero(invalid):
                repaired = shapely.make_valid(geoms.iloc[i])
                polys = shapely.get_parts(repaired)
                polys = [p for p in polys if p.geom_type in POLYGONS]
                if not polys:
                    problems.append(Problem(int(i), "geometry", "invalid polygon that cannot be repaired"))
                    continue
                fixed.iloc[i] = shapely.union_all(polys)
                report.notes.append(f"row {i + 1}: self-intersecting polygon repaired with make_valid")
            geoms = fixed
    return geoms


def validate(layer: str, data: pd.DataFrame) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a frame against its layer schema.

    Returns the normalised frame (types coerced, geometries repaired) and a
    report. Does not raise; callers decide (see ``validated``).
    """
    if layer not in SPECS:
        raise KeyError(f"unknown layer {layer!r}; known: {', '.join(SPECS)}")
    spec = SPECS[layer]
    report = ValidationReport()
    if len(data) == 0:
        report.problems.append(Problem(None, None, "no rows"))
        return data, report
    attrs = pd.DataFrame(data.drop(columns=[data.geometry.name]) if isinstance(data, gpd.GeoDataFrame) else data)
    frame, problems = _attribute_problems(spec, attrs)
    report.problems.extend(problems)
    if spec.geometry_types is None:
        return frame, report
    if not isinstance(data, gpd.GeoDataFrame) or data.crs is None:
        report.problems.append(Problem(None, "geometry", "layer has no geometry or no coordinate reference system"))
        return data, report
    gdf = data.to_crs(domain.STORE_CRS) if not data.crs.equals(domain.STORE_CRS) else data
    geoms = _geometry_problems(spec, gdf, report)
    out = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geoms.to_numpy(), crs=domain.STORE_CRS)
    return out, report


def validated(layer: str, data: pd.DataFrame, describe=None) -> tuple[pd.DataFrame, ValidationReport]:
    """Like ``validate`` but raises ``ValidationError`` when anything is wrong."""
    out, report = validate(layer, data)
    if not report.ok:
        raise ValidationError(layer, sorted(report.problems, key=lambda p: (p.row is not None, p.row or 0)), describe)
    return out, report


def empty_frame(layer: str) -> pd.DataFrame:
    """An empty frame with the layer's columns (and geometry) and types."""
    spec = SPECS[layer]
    cols = {}
    for name, col in spec.schema.columns.items():
        dtype = col.dtype.type if col.dtype is not None else object
        cols[name] = pd.Series([], dtype=dtype)
    df = pd.DataFrame(cols)
    if spec.geometry_types is None:
        return df
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=domain.STORE_CRS), crs=domain.STORE_CRS)
