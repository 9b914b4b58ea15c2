"""Deterministic demo data for the Präventionsatlas Chemnitz.

Everything here is generated from the bundled facts file
(``loaders/data/chemnitz_districts.csv``: one representative point, area,
population estimate and police case counts per Stadtteil) and a seed. No other
geometry source is used:

* ``districts``: schematic Voronoi cells around the 39 representative points,
  clipped to a city outline made of discs sized by each district's area.
* ``green_spaces``: real park, forest and cemetery names of Chemnitz placed in
  the (schematic) district where they really are, with invented shapes.
* ``incidents``: points spread over the districts in proportion to the police
  case counts, clustered around hotspots, with a realistic time profile.
* ``patrols``: a few hundred shifts, concentrated in the centre and by day.
* ``meeting_points``: fictitious far-right meeting points, always inside a demo
  forest (never on a real address) and labelled "(fiktiv)".
* ``facilities``: youth, school and counselling facilities ("(Demo)").
* ``crime_stats``: the atlas figures per district as a plain table.

The generator is deterministic per seed: it only uses
``numpy.random.default_rng`` generators derived from the seed (one independent
stream per layer, so e.g. the patrols do not change with ``n_incidents``) and
never looks at the current date or time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geodata import domain
from loaders.store import Provenance

FACTS_CSV = Path(__file__).resolve().parent / "data" / "chemnitz_districts.csv"

# Three full years, both ends inclusive (local calendar dates, Europe/Berlin).
DEMO_PERIOD = (date(2023, 11, 1), date(2026, 10, 31))

DEMO_SOURCE = (
    "Generated demo data (Präventionsatlas demo generator): schematic district shapes, "
    "invented incidents, patrols and facilities, and fictitious meeting points. Built only "
    "from the facts of Polizei Sachsen, Kriminalitätsatlas 2025 (case counts per Stadtteil) "
    "and Stadt Chemnitz open data (district codes, names, representative points, areas)."
)
DEMO_LICENCE = "dl-de/by-2-0 (facts: Polizei Sachsen, Stadt Chemnitz); generated data for demonstration only"

CRIME_EDITION = "Kriminalitätsatlas 2025 (Polizei Sachsen)"
CRIME_YEAR = 2025

PATROL_SHIFTS = 400  # fixed: the patrol layer does not scale with n_incidents
MEETING_POINTS = 12
MEETING_MIN_DEPTH_M = 60.0  # distance from the forest boundary (tests require >= 50 m)

# Districts the council calls "the centre": Zentrum and its inner neighbours.
CENTRE_CODES = ("01", "21", "02", "91", "22")  # Zentrum, Sonnenberg, Schloßchemnitz, Kaßberg, Lutherviertel



def _to_store(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """METRIC_CRS -> lon/lat. A fresh transformer per call: they are not thread-safe."""
    return pyproj.Transformer.from_crs(domain.METRIC_CRS, domain.STORE_CRS, always_xy=True).transform(x, y)


def _to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pyproj.Transformer.from_crs(domain.STORE_CRS, domain.METRIC_CRS, always_xy=True).transform(lon, lat)

# Independent random streams, one per purpose (index into SeedSequence.spawn).
_STREAMS = ("green", "hotspots", "incidents", "patrols", "meeting_points", "facilities")


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children)}


# ---------------------------------------------------------------------------
# Facts and schematic district geometry (seed independent, computed once)
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _facts_cached() -> pd.DataFrame:
    df = pd.read_csv(FACTS_CSV, dtype={"code": str, "name": str})
    df["code"] = df["code"].str.zfill(2)
    return df


def facts() -> pd.DataFrame:
    """The bundled district facts (a fresh copy)."""
    return _facts_cached().copy()


@dataclass(frozen=True)
class _Geo:
    codes: tuple[str, ...]
    xy: np.ndarray  # (39, 2) representative points in METRIC_CRS (read-only)
    outline: BaseGeometry
    cells: tuple[BaseGeometry, ...]  # district cells in METRIC_CRS
    inner: tuple[BaseGeometry, ...]  # cells shrunk by 2 m (for sampling points)
    core: tuple[BaseGeometry, ...]  # cells shrunk by 40 m (for patrols)

    def index(self, code: str) -> int:
        return self.codes.index(code)


def _largest_part(geom: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return shapely.Polygon()
    return max(parts, key=lambda p: p.area)


@functools.lru_cache(maxsize=1)
def _geo() -> _Geo:
    df = _facts_cached()
    x, y = _to_metric(df["lon"].to_numpy(), df["lat"].to_numpy())
    xy = np.column_stack([x, y])
    xy.setflags(write=False)
    pts = shapely.points(xy)
    radius = 1250.0 * np.sqrt(df["area_km2"].to_numpy() / np.pi)
    outline = shapely.union_all(shapely.buffer(pts, radius, quad_segs=16))
    outline = outline.buffer(600.0, quad_segs=16).buffer(-600.0, quad_segs=16)
    outline = shapely.Polygon(_largest_part(outline).exterior)  # one piece, no holes

    voronoi = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=outline.envelope.buffer(2000.0), ordered=True)
    raw = list(shapely.get_parts(voronoi))
    cells: list[BaseGeometry] = []
    orphans: list[BaseGeometry] = []
    for pt, cell in zip(pts, raw):
        clipped = cell.intersection(outline)
        parts = [p for p in shapely.get_parts(clipped) if p.geom_type == "Polygon" and not p.is_empty]
        own = [p for p in parts if p.contains(pt)]
        if len(own) != 1:
            raise RuntimeError("schematic district cell does not contain its point")
        cells.append(own[0])
        orphans.extend(p for p in parts if p is not own[0])
    # A concave stretch of the outline can cut a cell in two: give each detached
    # piece to the neighbour it shares the longest border with.
    for piece in orphans:
        shared = [shapely.length(shapely.intersection(piece.boundary, c.boundary)) for c in cells]
        best = int(np.argmax(shared))
        if shared[best] > 0:
            merged = shapely.union(cells[best], piece)
            if merged.geom_type == "Polygon":
                cells[best] = merged
    cells = [shapely.normalize(c) for c in cells]
    inner = tuple(c.buffer(-2.0) for c in cells)
    core = tuple(c.buffer(-40.0) for c in cells)
    for geom in (*cells, *inner, *core):
        shapely.prepare(geom)
    return _Geo(tuple(df["code"]), xy, outline, tuple(cells), inner, core)


# ---------------------------------------------------------------------------
# Small geometric helpers
# ---------------------------------------------------------------------------


def _uniform_in(rng: np.random.Generator, geom: BaseGeometry, n: int) -> np.ndarray:
    """``n`` points uniformly inside ``geom`` (vectorised rejection sampling)."""
    out = np.empty((0, 2))
    if n <= 0:
        return out
    if geom.is_empty:
        raise ValueError("cannot sample points in an empty geometry")
    minx, miny, maxx, maxy = geom.bounds
    fill = max(geom.area / max((maxx - minx) * (maxy - miny), 1e-9), 0.02)
    chunks = []
    need = n
    while need > 0:
        m = int(need / fill * 1.25) + 32
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(geom, x, y)
        got = np.column_stack([x[ok], y[ok]])[:need]
        chunks.append(got)
        need -= len(got)
    return np.concatenate(chunks)


def _star(rng: np.random.Generator, centre: np.ndarray, area_m2: float, max_elongation: float = 1.8) -> BaseGeometry:
    """An irregular, always valid (star-shaped) polygon of the given area."""
    n = int(rng.integers(18, 37))
    ang = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) / n * 2 * np.pi
    k = np.arange(1, 4)[:, None]
    amp = rng.uniform(0.04, 0.22, 3)[:, None] / k
    phase = rng.uniform(0, 2 * np.pi, 3)[:, None]
    r = 1 + (amp * np.sin(k * ang + phase)).sum(0) + rng.normal(0, 0.035, n)
    r = np.clip(r, 0.45, None)
    e = rng.uniform(1.0, max_elongation)
    px, py = r * np.cos(ang) * e, r * np.sin(ang) / e
    rot = rng.uniform(0, np.pi)
    c, s = np.cos(rot), np.sin(rot)
    coords = np.column_stack([c * px - s * py, s * px + c * py])
    unit_area = shapely.area(shapely.Polygon(coords))
    coords = coords * np.sqrt(area_m2 / unit_area) + centre
    return shapely.Polygon(coords)


def _to_store_geoms(geoms) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=domain.METRIC_CRS).to_crs(domain.STORE_CRS)


def _sample_groups(rng: np.random.Generator, cdf: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one column per row from per-group categorical distributions.

    ``cdf`` has one row per group (cumulative probabilities, last column 1);
    ``group`` names the row for each draw. Fully vectorised.
    """
    g, k = cdf.shape
    cdf = cdf.copy()
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(g)[:, None]).ravel()
    u = rng.random(len(group))
    pos = np.searchsorted(flat, group + u, side="right")
    return np.minimum(pos - group * k, k - 1)


def _cdf(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.cumsum(w / w.sum(axis=-1, keepdims=True), axis=-1)


def _period_days() -> int:
    return (DEMO_PERIOD[1] - DEMO_PERIOD[0]).days + 1


def _weekday_of_day(day_idx: np.ndarray) -> np.ndarray:
    return (DEMO_PERIOD[0].weekday() + day_idx) % 7  # 0 = Monday


def _local_to_utc(rng: np.random.Generator, day_idx: np.ndarray, seconds: np.ndarray) -> pd.DatetimeIndex:
    """Local wall-clock times (day of DEMO_PERIOD + seconds after midnight) as UTC."""
    base = np.datetime64(DEMO_PERIOD[0].isoformat(), "s")
    naive = base + np.asarray(day_idx).astype("timedelta64[D]") + np.asarray(seconds).astype("timedelta64[s]")
    ambiguous = rng.random(len(naive)) < 0.5  # the repeated hour in October: either one
    local = pd.DatetimeIndex(naive).tz_localize(domain.LOCAL_TZ, ambiguous=ambiguous, nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ms")


# ---------------------------------------------------------------------------
# Districts and crime statistics
# ---------------------------------------------------------------------------


def _districts() -> gpd.GeoDataFrame:
    df = _facts_cached()
    geo = _geo()
    return gpd.GeoDataFrame(
        {
            "code": df["code"].astype(str).to_numpy(),
            "name": df["name"].astype(str).to_numpy(),
            "population": df["population_est"].astype(float).to_numpy(),
        },
        geometry=_to_store_geoms(geo.cells).to_numpy(),
        crs=domain.STORE_CRS,
    )


def _crime_stats() -> pd.DataFrame:
    df = _facts_cached()
    case_cols = [c for c in df.columns if c.endswith("_cases") and c != "crime_total_cases"]
    out = pd.DataFrame(
        {
            "code": df["code"].astype(str).to_numpy(),
            "year": CRIME_YEAR,
            "edition": CRIME_EDITION,
            "crime_total_cases": df["crime_total_cases"].astype(int).to_numpy(),
            "crime_total_rate": df["crime_total_rate"].astype(float).to_numpy(),
            "population_est": df["population_est"].astype(int).to_numpy(),
        }
    )
    for col in case_cols:
        out[col] = df[col].astype(int).to_numpy()
    return out


# ---------------------------------------------------------------------------
# Green spaces
# ---------------------------------------------------------------------------

# (district code, name, kind, target size in km²). Real names of Chemnitz green
# spaces in the district where they really are (largest part); "Waldgebiet X",
# "Friedhof X" and the playgrounds are descriptive names, not proper names.
# Shapes and sizes are invented (sizes are capped to the demo ranges per kind).
GREEN_SPECS: tuple[tuple[str, str, str, float], ...] = (
    ("01", "Stadthallenpark", "park", 0.05),
    ("01", "Park der Opfer des Faschismus", "park", 0.07),
    ("01", "Spielplatz Innenstadt", "playground", 0.004),
    ("02", "Küchwald", "forest", 0.5),
    ("02", "Schloßteichpark", "park", 0.12),
    ("02", "Schloßfriedhof", "cemetery", 0.06),
    ("12", "Waldgebiet Glösa", "forest", 0.6),
    ("13", "Crimmitschauer Wald", "forest", 1.2),
    ("13", "Botanischer Garten", "park", 0.12),
    ("14", "Friedhof Ebersdorf", "cemetery", 0.05),
    ("15", "Zeisigwald", "forest", 2.0),
    ("16", "Zeisigwald (Euba)", "forest", 1.4),
    ("21", "Lessingplatz", "park", 0.03),
    ("21", "Stadion an der Gellertstraße", "recreation_ground", 0.05),
    ("21", "Spielplatz Sonnenberg", "playground", 0.006),
    ("22", "Grünanlage an der Lutherkirche", "park", 0.03),
    ("24", "Freibad Gablenz", "recreation_ground", 0.04),
    ("24", "Friedhof Gablenz", "cemetery", 0.06),
    ("24", "Spielplatz Gablenz", "playground", 0.005),
    ("25", "Wald am Adelsberg", "forest", 0.8),
    ("25", "Friedhof Adelsberg", "cemetery", 0.05),
    ("26", "Sternmühlental", "forest", 1.0),
    ("42", "Bernsdorfer Park", "park", 0.06),
    ("42", "Städtischer Friedhof", "cemetery", 0.15),
    ("42", "Sportforum", "recreation_ground", 0.12),
    ("42", "Freibad Bernsdorf", "recreation_ground", 0.04),
    ("45", "Harthwald", "forest", 1.2),
    ("46", "Waldgebiet Einsiedel", "forest", 1.0),
    ("46", "Friedhof Einsiedel", "cemetery", 0.05),
    ("47", "Park am Wasserschloß Klaffenbach", "park", 0.06),
    ("61", "Stadtpark", "park", 0.3),
    ("62", "Spielplatz Markersdorf", "playground", 0.006),
    ("64", "Abenteuerspielplatz Hutholz", "playground", 0.009),
    ("82", "Spielplatz Kappel", "playground", 0.004),
    ("85", "Friedhof Siegmar", "cemetery", 0.07),
    ("86", "Friedhof Reichenbrand", "cemetery", 0.05),
    ("87", "Waldgebiet Mittelbach", "forest", 0.7),
    ("91", "Spielplatz Kaßberg", "playground", 0.005),
    ("94", "Stausee Oberrabenstein", "recreation_ground", 0.12),
    ("94", "Tierpark Chemnitz", "recreation_ground", 0.1),
    ("94", "Wildgatter Oberrabenstein", "forest", 0.5),
    ("94", "Friedhof Rabenstein", "cemetery", 0.05),
    ("95", "Rabensteiner Wald", "forest", 2.0),
    ("95", "Friedhof Grüna", "cemetery", 0.05),
    ("97", "Waldgebiet Wittgensdorf", "forest", 0.8),
)

GREEN_SIZE_KM2 = {
    "forest": (0.4, 2.0),
    "park": (0.03, 0.3),
    "cemetery": (0.05, 0.15),
    "playground": (0.001, 0.01),
    "recreation_ground": (0.02, 0.15),
}


def _green_geometries(rng: np.random.Generator, geo: _Geo) -> list[tuple[str, str, str, BaseGeometry]]:
    """Place every GREEN_SPECS entry in its district cell; returns (code, name, kind, polygon)."""
    centre = geo.xy[geo.index("01")]
    placed: dict[str, list[BaseGeometry]] = {}
    out = []
    for code, name, kind, size in GREEN_SPECS:
        i = geo.index(code)
        cell, inner = geo.cells[i], geo.inner[i]
        lo, hi = GREEN_SIZE_KM2[kind]
        target = float(np.clip(size * rng.uniform(0.85, 1.15), lo, hi)) * 1e6
        cell_radius = np.sqrt(cell.area / np.pi)
        point = geo.xy[i]
        away = np.arctan2(*(point - centre)[::-1]) if code != "01" else rng.uniform(0, 2 * np.pi)
        taken = shapely.union_all(placed.get(code, [])) if placed.get(code) else None
        best, best_area = None, -1.0
        for _attempt in range(60):
            if kind == "forest":  # forests lie on the outer side of their district
                ang = away + rng.normal(0, 0.6)
                dist = rng.uniform(0.25, 0.6) * cell_radius
            else:
                ang = rng.uniform(0, 2 * np.pi)
                dist = rng.uniform(0.1, 0.55) * cell_radius
            c = point + dist * np.array([np.cos(ang), np.sin(ang)])
            if not shapely.contains_xy(inner, c[0], c[1]):
                continue
            shape = _star(rng, c, target).intersection(cell)
            if taken is not None:
                shape = shape.difference(taken)
            shape = _largest_part(shape)
            if shape.is_empty or not shape.is_valid:
                continue
            if shape.area > best_area:
                best, best_area = shape, shape.area
            if shape.area >= 0.8 * target:
                break
        if best is None:
            raise RuntimeError(f"could not place green space {name!r}")
        best = shapely.normalize(best)
        placed.setdefault(code, []).append(best)
        out.append((code, name, kind, best))
    return out


def _green_spaces(greens) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [g[1] for g in greens], "kind": [g[2] for g in greens]},
        geometry=_to_store_geoms(g[3] for g in greens).to_numpy(),
        crs=domain.STORE_CRS,
    )


# ---------------------------------------------------------------------------
# Hotspots and incidents
# ---------------------------------------------------------------------------

CATEGORY_KEYS = tuple(domain.CATEGORIES)
SOURCE_KEYS = tuple(domain.SOURCES)


@dataclass(frozen=True)
class _Hotspots:
    xy: np.ndarray  # (h, 2) METRIC_CRS
    sigma: np.ndarray  # (h,) metres
    weight: np.ndarray  # (h,) sums to 1
    green: np.ndarray  # (h,) bool: centre inside a green space


def _hotspots(rng: np.random.Generator, geo: _Geo, greens) -> list[_Hotspots]:
    """2–4 hotspot centres per district; some of them inside green spaces."""
    by_district: dict[str, list[tuple[str, BaseGeometry]]] = {}
    for code, _name, kind, geom in greens:
        if kind != "cemetery":
            by_district.setdefault(code, []).append((kind, geom))
    result = []
    for i, code in enumerate(geo.codes):
        n = int(rng.integers(2, 5))
        inner = geo.inner[i]
        radius = np.sqrt(geo.cells[i].area / np.pi)
        xy = np.empty((n, 2))
        green = np.zeros(n, dtype=bool)
        candidates = by_district.get(code, [])
        for h in range(n):
            if h == 0 and code == "01":
                # the city's main hotspot: around the central stop / Markt
                xy[h] = geo.xy[i]
                continue
            if candidates and (h == 1 or (h > 1 and rng.random() < 0.3)):
                # parks and playgrounds attract hotspots; forests only sometimes
                kinds = np.array([k for k, _ in candidates])
                w = np.where(kinds == "forest", 0.3, 1.0)
                kind, geom = candidates[int(rng.choice(len(candidates), p=w / w.sum()))]
                xy[h] = _uniform_in(rng, geom.intersection(inner) if not geom.within(inner) else geom, 1)[0]
                green[h] = True
                continue
            cand = geo.xy[i] + rng.normal(0, 0.35 * radius, (16, 2))
            cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
            xy[h] = cand[0] if len(cand) else _uniform_in(rng, inner, 1)[0]
        sigma = rng.uniform(100.0, 300.0, n)
        weight = rng.dirichlet(np.full(n, 2.0))
        if code == "01":
            weight[0] += 0.5  # the centre clearly dominates
            weight /= weight.sum()
        result.append(_Hotspots(xy, sigma, weight, green))
    return result


# Category weights per district, derived from the atlas case counts:
# rows = categories (CATEGORY_KEYS order), value = weighted sum of fact columns.
_CATEGORY_FROM_FACTS = {
    "verbal_violence": {"violence_proxy_cases": 0.45, "other_stgb_cases": 0.10},
    "racist_insult": {"violence_proxy_cases": 0.12, "other_stgb_cases": 0.03},
    "sexist_insult": {"sexual_cases": 0.8, "violence_proxy_cases": 0.04},
    "degrading_insult": {"violence_proxy_cases": 0.15, "other_stgb_cases": 0.05},
    "far_right_propaganda": {"crime_total_cases": 0.02, "other_stgb_cases": 0.05},
    "far_right_violence": {"violence_proxy_cases": 0.04},
    "physical_violence": {"violence_proxy_cases": 0.55},
    "property_damage": {"property_total_cases": 0.30},
    "drugs": {"secondary_law_cases": 0.6},
    "disorder": {"other_stgb_cases": 0.25, "crime_total_cases": 0.02},
}

# Time-of-day modulation per category: night (0–5), morning (6–11),
# afternoon (12–17), evening (18–23). Insults peak in the evening, damage and
# propaganda (stickers, graffiti) at night.
_CATEGORY_BY_TIME = {
    "verbal_violence": (1.0, 0.7, 1.0, 1.5),
    "racist_insult": (0.8, 0.6, 1.0, 1.8),
    "sexist_insult": (1.2, 0.5, 0.9, 1.7),
    "degrading_insult": (0.9, 0.7, 1.0, 1.5),
    "far_right_propaganda": (1.8, 0.7, 0.8, 1.2),
    "far_right_violence": (1.4, 0.5, 0.8, 1.5),
    "physical_violence": (1.7, 0.6, 0.8, 1.3),
    "property_damage": (2.0, 0.8, 0.8, 1.0),
    "drugs": (1.2, 0.6, 1.2, 1.3),
    "disorder": (1.5, 0.7, 0.9, 1.3),
}

# Extra weight in green spaces (parks at night: drugs, disorder, harassment).
_CATEGORY_IN_GREEN = {"drugs": 2.2, "disorder": 1.6, "sexist_insult": 1.4, "property_damage": 1.2}

# Reporting source per category: ordnungsdienst, police, complaint_office, chronicle, workshop.
_SOURCE_BY_CATEGORY = {
    "verbal_violence": (0.30, 0.35, 0.15, 0.12, 0.08),
    "racist_insult": (0.15, 0.30, 0.15, 0.32, 0.08),
    "sexist_insult": (0.15, 0.35, 0.20, 0.15, 0.15),
    "degrading_insult": (0.25, 0.30, 0.20, 0.15, 0.10),
    "far_right_propaganda": (0.30, 0.20, 0.10, 0.35, 0.05),
    "far_right_violence": (0.05, 0.50, 0.05, 0.38, 0.02),
    "physical_violence": (0.15, 0.70, 0.05, 0.07, 0.03),
    "property_damage": (0.35, 0.45, 0.15, 0.02, 0.03),
    "drugs": (0.35, 0.55, 0.07, 0.00, 0.03),
    "disorder": (0.60, 0.15, 0.20, 0.00, 0.05),
}

_DESCRIPTIONS = {
    "verbal_violence": ("Passant beschimpft und bedroht", "Lautstarker Streit mit Drohungen", "Gruppe pöbelt Passanten an"),
    "racist_insult": ("Person wegen Herkunft beschimpft", "Rassistische Rufe aus einer Gruppe", "Rassistische Beleidigung im Vorbeigehen"),
    "sexist_insult": ("Frau sexistisch beleidigt", "Anzügliche Rufe und Belästigung", "Sexistische Sprüche gegenüber Jugendlichen"),
    "degrading_insult": ("Wohnungslose Person verhöhnt", "Person wegen Behinderung beleidigt", "Herabwürdigende Äußerungen gegenüber Passanten"),
    "far_right_propaganda": ("Rechtsextreme Aufkleber an Laternen", "Verfassungsfeindliches Symbol gesprüht", "Flugblätter einer rechtsextremen Gruppe"),
    "far_right_violence": ("Angriff mit rechtsextremem Hintergrund", "Person nach Parolen geschubst und geschlagen"),
    "physical_violence": ("Schlägerei zwischen mehreren Personen", "Körperverletzung nach Streit", "Person angegriffen und verletzt"),
    "property_damage": ("Graffiti an Hauswand", "Wartehäuschen beschädigt", "Scheibe eingeschlagen", "Fahrrad mutwillig zerstört"),
    "drugs": ("Verdacht auf Drogenhandel", "Konsum von Betäubungsmitteln beobachtet", "Spritzenfund"),
    "disorder": ("Ruhestörung durch Gruppe", "Vermüllung und Lärm", "Aggressives Betteln", "Wildes Urinieren"),
}
_EMPTY_DESCRIPTION_SHARE = 0.25


def _hour_profile() -> np.ndarray:
    """Weights (2 contexts × 7 weekdays × 24 local hours) for incident times.

    Context 0: streets. Low in the early morning, rising through the
    afternoon, peak 18–01; Friday and Saturday nights (incl. the early hours of
    Saturday and Sunday) are busier. Context 1: green spaces, more at night.
    """
    base = np.array(
        [5.0, 4.2, 3.0, 2.0, 1.4, 1.1, 1.3, 1.8, 2.3, 2.6, 2.9, 3.2,
         3.5, 3.7, 4.0, 4.4, 4.8, 5.2, 6.0, 6.4, 6.6, 6.6, 6.4, 5.8]
    )  # fmt: skip
    week = np.tile(base, (7, 1))
    week[[4, 5], 18:] *= 1.8  # Friday and Saturday evenings
    week[[5, 6], :5] *= 1.8  # ... and the nights after them
    week[5, 9:18] *= 1.1
    week[6, 6:18] *= 0.85
    green = week.copy()
    green[:, list(range(20, 24)) + list(range(0, 4))] *= 1.8
    green[:, 7:17] *= 0.6
    return np.stack([week, green])


def _category_table(df: pd.DataFrame) -> np.ndarray:
    """Category weights, shape (districts, 4 time buckets, 2 contexts, categories)."""
    base = np.zeros((len(df), len(CATEGORY_KEYS)))
    for j, cat in enumerate(CATEGORY_KEYS):
        for col, w in _CATEGORY_FROM_FACTS[cat].items():
            base[:, j] += w * df[col].to_numpy(dtype=float)
    base += 0.5  # every category can occur everywhere
    time = np.array([_CATEGORY_BY_TIME[c] for c in CATEGORY_KEYS]).T  # (4, categories)
    green = np.ones((2, len(CATEGORY_KEYS)))
    for cat, f in _CATEGORY_IN_GREEN.items():
        green[1, CATEGORY_KEYS.index(cat)] = f
    return base[:, None, None, :] * time[None, :, None, :] * green[None, None, :, :]


def _incident_locations(rng: np.random.Generator, geo: _Geo, hotspots: list[_Hotspots], counts: np.ndarray):
    """Points per district: ~70 % Gaussian around hotspots, the rest uniform.

    Returns xy (n, 2) in METRIC_CRS, the district index and the green-context flag.
    """
    xs, districts, greens = [], [], []
    for i, n in enumerate(counts):
        n = int(n)
        if n == 0:
            continue
        hs = hotspots[i]
        inner = geo.inner[i]
        near = rng.random(n) < 0.7
        which = rng.choice(len(hs.weight), size=n, p=hs.weight)
        xy = np.empty((n, 2))
        idx = np.flatnonzero(near)
        for _ in range(40):  # redraw points that fall outside the district
            if len(idx) == 0:
                break
            h = which[idx]
            xy[idx] = hs.xy[h] + rng.normal(size=(len(idx), 2)) * hs.sigma[h][:, None]
            inside = shapely.contains_xy(inner, xy[idx, 0], xy[idx, 1])
            idx = idx[~inside]
        near[idx] = False  # give up on the few left: uniform instead
        far = np.flatnonzero(~near)
        xy[far] = _uniform_in(rng, inner, len(far))
        xs.append(xy)
        districts.append(np.full(n, i))
        greens.append(near & hs.green[which])
    return np.concatenate(xs), np.concatenate(districts), np.concatenate(greens)


def _incidents(rng: np.random.Generator, geo: _Geo, hotspots: list[_Hotspots], n: int) -> gpd.GeoDataFrame:
    df = _facts_cached()
    weights = df["crime_total_cases"].to_numpy(dtype=float)
    counts = rng.multinomial(n, weights / weights.sum())
    xy, district, green = _incident_locations(rng, geo, hotspots, counts)
    ctx = green.astype(np.int64)

    # time: day (weighted by weekday), then local hour given weekday and context
    profile = _hour_profile()  # (2, 7, 24)
    ndays = _period_days()
    all_wd = _weekday_of_day(np.arange(ndays))
    day_cdf = _cdf(profile.sum(axis=2)[:, all_wd])  # (2, ndays)
    day = _sample_groups(rng, day_cdf, ctx)
    wd = _weekday_of_day(day)
    hour = _sample_groups(rng, _cdf(profile.reshape(14, 24)), ctx * 7 + wd)
    seconds = hour * 3600 + rng.integers(0, 3600, size=n)
    occurred = _local_to_utc(rng, day, seconds)

    # category given district, time bucket and context; source given category
    table = _category_table(df)  # (d, 4, 2, c)
    bucket = hour // 6
    group = (district * 4 + bucket) * 2 + ctx
    category = _sample_groups(rng, _cdf(table.reshape(-1, len(CATEGORY_KEYS))), group)
    source_cdf = _cdf(np.array([_SOURCE_BY_CATEGORY[c] for c in CATEGORY_KEYS]))
    source = _sample_groups(rng, source_cdf, category)

    # descriptions: a template of the incident's category, or none
    texts = [t for c in CATEGORY_KEYS for t in _DESCRIPTIONS[c]]
    sizes = np.array([len(_DESCRIPTIONS[c]) for c in CATEGORY_KEYS])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pick = offsets[category] + (rng.random(n) * sizes[category]).astype(np.int64)
    description = np.array(texts + [None], dtype=object)[np.where(rng.random(n) < _EMPTY_DESCRIPTION_SHARE, len(texts), pick)]

    order = np.argsort(occurred.asi8, kind="stable")  # ids follow time
    lon, lat = _to_store(xy[order, 0], xy[order, 1])
    ids = np.char.add("I-", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    frame = pd.DataFrame(
        {
            "id": pd.array(ids, dtype="str"),
            "occurred_at": occurred[order],
            "category": pd.array(np.array(CATEGORY_KEYS)[category[order]], dtype="str"),
            "source": pd.array(np.array(SOURCE_KEYS)[source[order]], dtype="str"),
            "description": pd.array(description[order], dtype="str"),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=domain.STORE_CRS)


# ---------------------------------------------------------------------------
# Patrols
# ---------------------------------------------------------------------------

SPEED_M_S = {"foot": 1.2, "bike": 4.0, "vehicle": 8.0}
TRACK_STEP_S = 30
_BEAT_HALF_M = {"foot": 400.0, "bike": 800.0, "vehicle": 1400.0}
_TURN_SD = {"foot": 0.35, "bike": 0.25, "vehicle": 0.15}
_STOP_SHARE = {"foot": 0.3, "bike": 0.3, "vehicle": 0.5}  # time spent standing (talks, checks, breaks)
_UNIT_SHARE = {"ordnungsdienst": 0.60, "security": 0.25, "joint": 0.15}
_MODE_BY_UNIT = {  # foot, bike, vehicle
    "ordnungsdienst": (0.50, 0.20, 0.30),
    "security": (0.45, 0.05, 0.50),
    "joint": (0.60, 0.10, 0.30),
}
_CENTRE_WEIGHTS = {"01": 0.45, "21": 0.18, "02": 0.12, "91": 0.15, "22": 0.10}
_CENTRE_SHARE = 0.60
_NIGHT_MODES = (0.30, 0.05, 0.65)  # foot, bike, vehicle
_NIGHT_GREEN_CLEARANCE_M = 300.0
_NIGHT_SHIFT_SHARE = 0.15


def _fold(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect values into [lo, hi] (a walker turning back at the beat's edge)."""
    span = hi - lo
    t = np.mod(v - lo, 2 * span)
    return lo + span - np.abs(t - span)


def _stops(rng: np.random.Generator, n_steps: int, stop_share: float) -> np.ndarray:
    """Boolean mask of the steps a patrol stands still (alternating runs)."""
    moving_mean = 20.0  # steps (10 minutes)
    stopped_mean = moving_mean * stop_share / (1 - stop_share)
    runs = n_steps // 2 + 2
    moving = rng.geometric(1 / moving_mean, runs)
    stopped = rng.geometric(1 / stopped_mean, runs)
    lengths = np.column_stack([moving, stopped]).ravel()
    state = np.tile([False, True], runs)
    return np.repeat(state, lengths)[:n_steps]


def _beat(rng: np.random.Generator, centre: np.ndarray, half: float, core: BaseGeometry):
    """A rotated rectangle around ``centre`` that lies inside ``core``.

    Returns (rotation, half length, half width).
    """
    rot = rng.uniform(0, np.pi)
    hu, hv = half, half * rng.uniform(0.5, 1.0)
    c, s = np.cos(rot), np.sin(rot)
    corners = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], dtype=float)
    for _ in range(60):
        u, v = corners[:, 0] * hu, corners[:, 1] * hv
        rect = shapely.Polygon(np.column_stack([centre[0] + c * u - s * v, centre[1] + s * u + c * v]))
        if core.contains(rect):
            break
        hu, hv = hu * 0.85, hv * 0.85
    return rot, hu, hv


def _track(
    rng: np.random.Generator,
    start: np.ndarray,
    mode: str,
    n_steps: int,
    half: float,
    core: BaseGeometry,
) -> BaseGeometry:
    """A smooth random walk, one vertex every 30 s, that never leaves ``core``.

    The walk turns gently (now and then at a right angle, like at a street
    corner), varies its speed, stops for a while every so often and turns back
    at the edge of its beat: a rotated rectangle around ``start`` that fits
    inside the district. The beat is convex, so every segment of the track
    stays inside it as well. Vectorised over the vertices.
    """
    turns = rng.normal(0, _TURN_SD[mode], n_steps)
    corners = rng.random(n_steps) < 0.02
    turns[corners] += rng.choice([-np.pi / 2, np.pi / 2], corners.sum())
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(turns)
    wobble = np.convolve(rng.normal(0, 1, n_steps + 20), np.ones(21) / np.sqrt(21), mode="valid")[:n_steps]
    speed = SPEED_M_S[mode] * np.clip(1 + 0.3 * wobble, 0.1, 1.5)
    speed[_stops(rng, n_steps, _STOP_SHARE[mode])] = 0.0
    step = speed * TRACK_STEP_S
    dx = np.concatenate([[0.0], np.cumsum(step * np.cos(heading))])
    dy = np.concatenate([[0.0], np.cumsum(step * np.sin(heading))])
    rot, hu, hv = _beat(rng, start, half, core)
    c, s = np.cos(rot), np.sin(rot)
    u = _fold(c * dx + s * dy, -hu, hu)  # in the beat's own frame
    v = _fold(-s * dx + c * dy, -hv, hv)
    x = start[0] + c * u - s * v
    y = start[1] + s * u + c * v
    return shapely.LineString(np.column_stack([x, y]))


def _patrols(rng: np.random.Generator, geo: _Geo, hotspots: list[_Hotspots], greens, n: int = PATROL_SHIFTS) -> gpd.GeoDataFrame:
    df = _facts_cached()
    units = np.array(list(_UNIT_SHARE))
    unit_idx = rng.choice(len(units), size=n, p=list(_UNIT_SHARE.values()))
    modes = np.array(list(SPEED_M_S))
    night = rng.random(n) < _NIGHT_SHIFT_SHARE
    # at night most shifts go by car; by day the mode depends on the unit
    mode_table = np.array([_MODE_BY_UNIT[u] for u in units] + [_NIGHT_MODES])
    mode_idx = _sample_groups(rng, _cdf(mode_table), np.where(night, len(units), unit_idx))

    # where: the centre gets ~60 %; elsewhere weight by cases² so that quiet
    # outer districts are rarely or never patrolled
    centre_idx = np.array([geo.index(c) for c in _CENTRE_WEIGHTS])
    cases = df["crime_total_cases"].to_numpy(dtype=float)
    outer_w = cases**2
    outer_w[centre_idx] = 0
    in_centre = rng.random(n) < _CENTRE_SHARE
    district = np.where(
        in_centre,
        centre_idx[rng.choice(len(centre_idx), size=n, p=np.array(list(_CENTRE_WEIGHTS.values())))],
        rng.choice(len(cases), size=n, p=outer_w / outer_w.sum()),
    )

    # when: mostly daytime shifts on working days, some evening/night shifts
    ndays = _period_days()
    wd = _weekday_of_day(np.arange(ndays))
    day_w = np.array([[1, 1, 1, 1, 1, 0.5, 0.25], [0.6, 0.6, 0.8, 0.9, 1.5, 1.5, 0.5]])[:, wd]
    day = _sample_groups(rng, _cdf(day_w), night.astype(np.int64))
    start_hour = np.where(night, rng.integers(18, 23, size=n), rng.integers(7, 16, size=n))
    start_sec = start_hour * 3600 + rng.integers(0, 4, size=n) * 900
    duration_s = rng.integers(6, 17, size=n) * 1800  # 3–8 h in half hours
    start = _local_to_utc(rng, day, start_sec)
    end = start + pd.to_timedelta(duration_s, unit="s")

    kind = rng.choice(3, size=n, p=[0.8, 0.1, 0.1])  # track, post, area
    # night shifts keep to the streets: their beats stay clear of green spaces
    away_from_green = shapely.union_all([g[3] for g in greens]).buffer(_NIGHT_GREEN_CLEARANCE_M)
    night_room: dict[int, BaseGeometry] = {}
    geoms = []
    for k in range(n):
        i = int(district[k])
        mode = str(modes[mode_idx[k]])
        core = geo.core[i]
        if night[k]:
            if i not in night_room:
                room = core.difference(away_from_green)
                room = core if room.area < 0.05 * core.area else room
                shapely.prepare(room)
                night_room[i] = room
            core = night_room[i]
        hs = hotspots[i]
        # beat centre: a (non-green) hotspot by day, else near the district point
        street = np.flatnonzero(~hs.green)
        if not night[k] and len(street) and rng.random() < 0.6:
            anchor = hs.xy[rng.choice(street)]
        else:
            anchor = geo.xy[i]
        cand = anchor + rng.normal(0, 200.0, (8, 2))
        cand = cand[shapely.contains_xy(core, cand[:, 0], cand[:, 1])]
        if night[k] or len(cand) == 0:  # the night room can be patchy: look around
            cand = np.concatenate([cand, _uniform_in(rng, core, 16)])
        # the candidate with most room around it (beats should not be squeezed)
        c = cand[int(np.argmax(shapely.distance(shapely.points(cand), core.boundary)))]
        if kind[k] == 0:
            half = min(_BEAT_HALF_M[mode], 0.45 * np.sqrt(geo.cells[i].area))
            geoms.append(_track(rng, c, mode, int(duration_s[k] // TRACK_STEP_S), half, core))
        elif kind[k] == 1:
            geoms.append(shapely.Point(c))
        else:
            area = np.pi * rng.uniform(150.0, 400.0) ** 2
            poly = _largest_part(_star(rng, c, area, max_elongation=1.4).intersection(core.buffer(40.0)))
            geoms.append(shapely.normalize(poly))

    order = np.lexsort((np.arange(n), start.asi8))
    frame = pd.DataFrame(
        {
            "shift_id": [f"S-{j:04d}" for j in range(1, n + 1)],
            "unit": units[unit_idx[order]].astype(str),
            "mode": modes[mode_idx[order]].astype(str),
            "start": start[order],
            "end": end[order],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=_to_store_geoms([geoms[j] for j in order]).to_numpy(), crs=domain.STORE_CRS)


# ---------------------------------------------------------------------------
# Meeting points (fictitious) and facilities
# ---------------------------------------------------------------------------

_MEETING_LABELS = (
    ("Treffpunkt Grillhütte (fiktiv)", "Treffpunkt im Freien"),
    ("Lagerfeuerplatz am Weg (fiktiv)", "Treffpunkt im Freien"),
    ("Waldgaststätte „Zur Eiche“ (fiktiv)", "Kneipe"),
    ("Vereinsheim Schützenverein (fiktiv)", "Vereinsräume"),
    ("Schutzhütte am Hang (fiktiv)", "Treffpunkt im Freien"),
    ("Gartenlaube Kleingartenrand (fiktiv)", "Privatgrundstück"),
    ("Sportlerheim am Waldrand (fiktiv)", "Vereinsräume"),
    ("Ausflugslokal „Waldblick“ (fiktiv)", "Kneipe"),
    ("Wanderparkplatz (fiktiv)", "Treffpunkt im Freien"),
    ("Hütte eines Heimatvereins (fiktiv)", "Vereinsräume"),
    ("Aussichtspunkt mit Feuerstelle (fiktiv)", "Treffpunkt im Freien"),
    ("Jagdhütte (fiktiv)", "Privatgrundstück"),
)


def _meeting_points(rng: np.random.Generator, geo: _Geo, greens) -> gpd.GeoDataFrame:
    forests = [(code, geom.buffer(-MEETING_MIN_DEPTH_M)) for code, _n, kind, geom in greens if kind == "forest"]
    forests = [(code, g) for code, g in forests if g.area > 20_000]
    weights = np.array([np.sqrt(g.area) * (0.15 if code in CENTRE_CODES else 1.0) for code, g in forests])
    labels = list(_MEETING_LABELS)
    order = rng.permutation(len(labels))
    points: list[np.ndarray] = []
    for _ in range(MEETING_POINTS):
        for _attempt in range(200):
            f = int(rng.choice(len(forests), p=weights / weights.sum()))
            p = _uniform_in(rng, forests[f][1], 1)[0]
            if all(np.hypot(*(p - q)) > 400 for q in points):
                break
        points.append(p)
    n = MEETING_POINTS
    status = np.where(rng.random(n) < 0.7, "active", "closed")
    ndays = _period_days()
    # last confirmation: recent for active points, earlier for closed ones
    day = np.where(status == "active", rng.integers(ndays - 240, ndays, size=n), rng.integers(0, ndays - 240, size=n))
    confirmed = _local_to_utc(rng, day, rng.integers(8 * 3600, 22 * 3600, size=n))
    xy = np.array(points)
    lon, lat = _to_store(xy[:, 0], xy[:, 1])
    return gpd.GeoDataFrame(
        {
            "id": [f"M-{j:02d}" for j in range(1, n + 1)],
            "label": [labels[order[j] % len(labels)][0] for j in range(n)],
            "kind": [labels[order[j] % len(labels)][1] for j in range(n)],
            "status": status.astype(str),
            "last_confirmed": confirmed,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=domain.STORE_CRS,
    )


def _facility_specs() -> list[tuple[str, str, str]]:
    """(code, name, kind) per facility, derived from district populations."""
    df = _facts_cached()
    specs = []
    for code, name, pop in zip(df["code"], df["name"], df["population_est"]):
        if pop >= 5_000:
            specs.append((code, f"Grundschule {name} (Demo)", "school"))
        if pop >= 7_000:
            specs.append((code, f"Jugendtreff {name} (Demo)", "youth_club"))
        if pop >= 12_000:
            specs.append((code, f"Schulsozialarbeit Oberschule {name} (Demo)", "school_social_work"))
    specs += [
        ("01", "Beratungsstelle gegen Rechtsextremismus Zentrum (Demo)", "counselling"),
        ("01", "Suchtberatung Zentrum (Demo)", "counselling"),
        ("21", "Familien- und Jugendberatung Sonnenberg (Demo)", "counselling"),
        ("62", "Erziehungsberatung Markersdorf (Demo)", "counselling"),
        ("01", "Jugendberufsagentur Zentrum (Demo)", "youth_vocational"),
        ("21", "Jugendwerkstatt Sonnenberg (Demo)", "youth_vocational"),
        ("63", "Jugendberufshilfe Morgenleite (Demo)", "youth_vocational"),
    ]
    return specs


def _facilities(rng: np.random.Generator, geo: _Geo, greens) -> gpd.GeoDataFrame:
    specs = _facility_specs()
    no_green = shapely.union_all([g[3] for g in greens])
    xy = np.empty((len(specs), 2))
    for j, (code, _name, _kind) in enumerate(specs):
        i = geo.index(code)
        near = shapely.Point(geo.xy[i]).buffer(700.0).intersection(geo.core[i]).difference(no_green)
        xy[j] = _uniform_in(rng, near, 1)[0]
    lon, lat = _to_store(xy[:, 0], xy[:, 1])
    return gpd.GeoDataFrame(
        {
            "id": [f"F-{j:03d}" for j in range(1, len(specs) + 1)],
            "name": [s[1] for s in specs],
            "kind": [s[2] for s in specs],
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=domain.STORE_CRS,
    )


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def generate(seed: int = 42, n_incidents: int = 20_000, n_shifts: int = PATROL_SHIFTS) -> dict[str, pd.DataFrame]:
    """All demo layers (GeoDataFrames in EPSG:4326) and the ``crime_stats`` table.

    Deterministic per ``seed``. Only the ``incidents`` layer depends on
    ``n_incidents`` and only ``patrols`` on ``n_shifts`` (about 540 GPS points
    per shift: 1,850 shifts give about a million).
    """
    if n_incidents < 1:
        raise ValueError("n_incidents must be at least 1")
    rngs = _streams(seed)
    geo = _geo()
    greens = _green_geometries(rngs["green"], geo)
    hotspots = _hotspots(rngs["hotspots"], geo, greens)
    return {
        "districts": _districts(),
        "green_spaces": _green_spaces(greens),
        "patrols": _patrols(rngs["patrols"], geo, hotspots, greens, int(n_shifts)),
        "incidents": _incidents(rngs["incidents"], geo, hotspots, int(n_incidents)),
        "meeting_points": _meeting_points(rngs["meeting_points"], geo, greens),
        "facilities": _facilities(rngs["facilities"], geo, greens),
        "crime_stats": _crime_stats(),
    }


def provenance(seed: int = 42) -> Provenance:
    return Provenance(source=f"{DEMO_SOURCE} Seed {seed}.", licence=DEMO_LICENCE, demo=True)


def write_demo(store, seed: int = 42, n_incidents: int = 20_000, n_shifts: int = PATROL_SHIFTS) -> dict[str, int]:
    """Generate the demo data and write every layer to ``store`` in one transaction.

    Replaces whatever the layers held before. Returns the row count per layer.
    """
    frames = generate(seed=seed, n_incidents=n_incidents, n_shifts=n_shifts)
    store.write(frames, provenance(seed), mode="replace")
    return {layer: len(frame) for layer, frame in frames.items()}
