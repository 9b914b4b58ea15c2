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
* ``patrols``: a duty roster of the order service, its contracted security
  firm and joint patrols with the police: regular foot and bike loops, fixed
  posts and vehicle patrol areas, several teams a day for three years; the
  centre by day, thinly at night, the outskirts rarely.
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
import itertools
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
# Patrols: a duty roster of regular routes, posts and areas
# ---------------------------------------------------------------------------
#
# The order service does not patrol at random: a fixed set of beats (foot and
# bike loops, fixed posts, vehicle patrol areas) is staffed on fixed weekdays
# and hours. A scheduled shift takes place with some probability (illness,
# other duties); a minimum staffing rule keeps at least two teams out on every
# day. Shifts whose team carries a GPS logger record a track that follows
# their loop; the others carry the planned loop itself.

SPEED_M_S = {"foot": 1.2, "bike": 4.0, "vehicle": 8.0}
TRACK_STEP_S = 60  # one GPS vertex a minute
GPS_NOISE_M = 4.0  # standard deviation of the GPS error, clipped at 2.5 of them
LOGGER_SHARE = 0.05  # share of foot and bike shifts that carry a GPS logger
MIN_TEAMS_PER_DAY = 2
_STOP_SHARE = {"foot": 0.3, "bike": 0.3, "vehicle": 0.5}  # time spent standing (talks, checks, breaks)
_ROUTE_MARGIN_M = 15.0  # loops keep this far inside their district's core, so GPS noise stays inside
_NIGHT_GREEN_MARGIN_M = 25.0  # beats on duty at night keep their reach plus this clear of green spaces
_NIGHT_START_MIN, _NIGHT_END_MIN = 22 * 60, 5 * 60

_MON_FRI = (0, 1, 2, 3, 4)

# Schematic landmarks of Zentrum: bearing (degrees from north) and distance (m)
# from the district's representative point, which is the city's main hotspot
# (the central stop by the Markt). Pulled towards that point when they would
# fall outside the schematic district.
_ZENTRUM_LANDMARKS = {
    "Zentralhaltestelle": (0.0, 0.0),
    "Hauptbahnhof/Busbahnhof": (30.0, 800.0),
    "Brückenstraße": (0.0, 400.0),
    "Theaterplatz": (300.0, 550.0),
    "Johannisplatz": (150.0, 420.0),
    "Rathaus": (235.0, 280.0),
    "Stadthalle": (105.0, 380.0),
}


@dataclass(frozen=True)
class _Route:
    """A regular beat with its recurrence."""

    key: str
    code: str  # district
    unit: str
    mode: str
    geom: BaseGeometry  # METRIC_CRS: closed LineString (loop), Point (post) or Polygon (area)
    weekdays: tuple[int, ...]  # 0 = Monday
    start_min: int  # local start, minutes after midnight
    minutes: int  # planned duration
    p: float  # probability that a scheduled shift takes place
    first: int = 0  # first and last day (index into DEMO_PERIOD) the route runs
    last: int = 1 << 30
    months: tuple[int, ...] = tuple(range(1, 13))
    every_weeks: int = 1
    week_offset: int = 0


def _on_duty_at_night(start_h: float, hours: float) -> bool:
    start = start_h * 60
    return start + hours * 60 > _NIGHT_START_MIN or start < _NIGHT_END_MIN


def _day_of(d: date) -> int:
    return (d - DEMO_PERIOD[0]).days


class _RosterBuilder:
    """Places beats inside their district and collects the routes."""

    def __init__(self, rng: np.random.Generator, geo: _Geo, greens) -> None:
        self.rng = rng
        self.geo = geo
        self.green = shapely.union_all([g[3] for g in greens])
        self._regions: dict[tuple, BaseGeometry] = {}
        self.routes: list[_Route] = []

    def region(self, code: str, mode: str, night: bool, inset: float = 0.0) -> BaseGeometry:
        """The district's core; at night without the green spaces and the mode's reach around them."""
        key = (code, mode if night else "", night, inset)
        if key not in self._regions:
            core = self.geo.core[self.geo.index(code)]
            room = core
            if night:
                clear = self.green.buffer(domain.DEFAULT_REACH_M[mode] + _NIGHT_GREEN_MARGIN_M, quad_segs=8)
                room = core.difference(clear)
                if room.area < 0.05 * core.area:
                    room = core  # no room left: stay on the streets of the district anyway
            if inset:
                room = room.buffer(-inset)
            shapely.prepare(room)
            self._regions[key] = room
        return self._regions[key]

    def place(self, xy: np.ndarray, code: str, mode: str, night: bool) -> np.ndarray:
        """``xy`` itself when it lies well inside the region, else the nearest point that does."""
        inner = self.region(code, mode, night, _ROUTE_MARGIN_M + 8.0)
        if shapely.contains_xy(inner, xy[0], xy[1]):
            return np.asarray(xy, dtype=float)
        line = shapely.shortest_line(inner, shapely.Point(xy))
        return shapely.get_coordinates(line)[0]

    def post(self, xy: np.ndarray, code: str, night: bool) -> BaseGeometry:
        return shapely.Point(self.place(xy, code, "foot", night))

    def area(self, anchor: np.ndarray, radius: float, code: str, night: bool) -> BaseGeometry:
        region = self.region(code, "vehicle", night)
        anchor = self.place(anchor, code, "vehicle", night)
        target = np.pi * radius**2
        best = shapely.Polygon()
        for _ in range(20):
            poly = shapely.normalize(_largest_part(_star(self.rng, anchor, target, max_elongation=1.4).intersection(region)))
            if poly.is_valid and poly.area > best.area:
                best = poly
            if best.area > 0.5 * target:
                break
        return best

    def loop(self, points, code: str, mode: str, night: bool, block_m: float = 300.0) -> BaseGeometry:
        """A closed walking (or cycling) loop through ``points``, inside the district.

        The points are visited along the shortest round trip, now and then
        with a street corner between two of them (on a grid turned by a random
        angle); a leg that would cross a hole of the region (at night: the
        surroundings of a green space) makes a detour around it. While the
        loop does not fit, the point whose removal helps most is dropped
        (never the first); one or two points left get a street block around
        them, or the roomiest place near the first point does.
        """
        inner = self.region(code, mode, night, _ROUTE_MARGIN_M)
        probe = self.region(code, mode, night, _ROUTE_MARGIN_M + 5.0)
        pts: list[np.ndarray] = []
        for p in points:
            q = self.place(np.asarray(p, dtype=float), code, mode, night)
            if all(np.hypot(*(q - r)) > 100.0 for r in pts):
                pts.append(q)
        theta = self.rng.uniform(0, np.pi / 2)
        axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])

        def outside(ring: BaseGeometry) -> float:
            if not ring.is_simple:
                return np.inf
            return ring.length - shapely.intersection(ring, inner).length

        while len(pts) >= 3:
            for corners in (True, False):
                ring = self._ring(np.array(pts), axes, corners, inner, probe)
                if ring.is_simple and inner.contains(ring):
                    lean = shapely.simplify(ring, 3.0)  # detours follow buffered shapes: drop their fine print
                    return lean if lean.is_simple and inner.contains(lean) else ring
            cost = [outside(self._ring(np.array(pts[:j] + pts[j + 1 :]), axes, False, inner, probe)) for j in range(1, len(pts))]
            pts.pop(1 + int(np.argmin(cost)))
        for subset in (pts, pts[:1]):
            ring = self._block(np.array(subset), axes, block_m, inner, 0.6)
            if ring is not None:
                return ring
        ring = self._block(self._roomy(pts[0], inner)[None, :], axes, block_m, inner, 0.0)
        if ring is None:  # a narrow district: a small block where it is widest
            ring = _inscribed_square(inner, axes)
        if ring is None:
            raise RuntimeError(f"no room for a patrol loop in district {code}")
        return ring

    def _roomy(self, anchor: np.ndarray, inner: BaseGeometry) -> np.ndarray:
        """A point of ``inner`` near ``anchor`` with much room around it."""
        near = shapely.Point(anchor).buffer(700.0).intersection(inner)
        cand = np.vstack([anchor[None, :], _uniform_in(self.rng, near if near.area > 0 else inner, 48)])
        score = shapely.distance(shapely.points(cand), inner.boundary) - 0.3 * np.hypot(*(cand - anchor).T)
        score[~shapely.contains_xy(inner, cand[:, 0], cand[:, 1])] = -np.inf
        return cand[int(np.argmax(score))]

    def _ring(self, pts: np.ndarray, axes: np.ndarray, corners: bool, inner: BaseGeometry, probe: BaseGeometry) -> BaseGeometry:
        pts = pts[_shortest_tour(pts)]
        stops = []
        for a, b in zip(pts, np.roll(pts, -1, axis=0)):
            stops.append(a)
            du, dv = axes @ (b - a)
            if corners and abs(du) > 60 and abs(dv) > 60:
                stops.append(a + du * axes[0] if self.rng.random() < 0.5 else a + dv * axes[1])
        stops.append(pts[0])
        coords = [stops[0]]
        for a, b in zip(stops[:-1], stops[1:]):
            coords.extend(_detour(a, b, probe)[1:])
        return shapely.LineString(np.array(coords))

    def _block(self, pts: np.ndarray, axes: np.ndarray, size: float, inner: BaseGeometry, min_scale: float) -> BaseGeometry | None:
        """A rectangular street block around ``pts`` (shrunk until it fits, down to ``min_scale``)."""
        uv = pts @ axes.T
        lo, hi = uv.min(axis=0) - size / 2, uv.max(axis=0) + size / 2
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * np.array([1.0, self.rng.uniform(0.6, 1.0)])
        square = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1], [1, 1]], dtype=float)
        scale = 1.0
        while scale >= max(min_scale, 0.05):
            ring = shapely.LineString((mid + scale * half * square) @ axes)
            if inner.contains(ring):
                return ring
            scale *= 0.9
        return None

    def add(self, key: str, code: str, unit: str, mode: str, geom: BaseGeometry, weekdays, start_h: float, hours: float,
            p: float | None = None, **recurrence) -> None:
        p = float(self.rng.uniform(0.8, 0.95)) if p is None else p
        self.routes.append(
            _Route(key, code, unit, mode, geom, tuple(int(w) for w in weekdays), int(round(start_h * 60)),
                   int(round(hours * 60)), p, **recurrence)
        )


def _inscribed_square(inner: BaseGeometry, axes: np.ndarray) -> BaseGeometry | None:
    """A square loop, turned like the street grid ``axes``, around the centre of the largest
    circle inside ``inner``: its corners stay inside that circle, so the loop fits."""
    part = max(getattr(inner, "geoms", [inner]), key=lambda g: g.area)
    radius_line = shapely.maximum_inscribed_circle(part)
    centre, radius = np.asarray(radius_line.coords[0]), radius_line.length
    if radius < 5.0:
        return None
    square = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1], [1, 1]], dtype=float)
    ring = shapely.LineString(centre + (0.6 * radius * square) @ axes)
    return ring if inner.contains(ring) else None


def _detour(a: np.ndarray, b: np.ndarray, probe: BaseGeometry) -> list[np.ndarray]:
    """Points from ``a`` to ``b`` (both inside ``probe``) along a path that stays in ``probe``.

    Where the straight leg leaves ``probe`` (crosses a hole, or a bay of its
    outline), the path follows the boundary it met, the shorter way round,
    to the point where the leg comes back in.
    """
    leg = shapely.LineString([a, b])
    if probe.contains(leg):
        return [a, b]
    rings = [r for poly in shapely.get_parts(probe) for r in (poly.exterior, *poly.interiors)]
    parts = [p for p in shapely.get_parts(leg.difference(probe)) if p.geom_type == "LineString" and p.length > 0]
    parts.sort(key=lambda p: leg.project(shapely.Point(p.coords[0])))
    path = [a]
    for part in parts:
        xy = shapely.get_coordinates(part)
        p, q = (xy[0], xy[-1]) if leg.project(shapely.Point(xy[0])) <= leg.project(shapely.Point(xy[-1])) else (xy[-1], xy[0])
        ring = min(rings, key=lambda r: r.distance(shapely.Point(p)) + r.distance(shapely.Point(q)))
        path.extend(_along(ring, p, q))
    path.append(b)
    return path


def _along(ring: BaseGeometry, p: np.ndarray, q: np.ndarray) -> list[np.ndarray]:
    """From ``p`` to ``q`` (both on the closed ``ring``) along the ring, the shorter way round."""
    rc = shapely.get_coordinates(ring)[:-1]
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.vstack([rc, rc[:1]]), axis=0).T))])
    length = cum[-1]
    sp, sq = ring.project(shapely.Point(p)), ring.project(shapely.Point(q))
    forward = (sq - sp) % length
    if forward <= length - forward:
        offset, dist = (cum[:-1] - sp) % length, forward
    else:
        offset, dist = (sp - cum[:-1]) % length, length - forward
    between = np.flatnonzero((offset > 0) & (offset < dist))
    return [p, *rc[between[np.argsort(offset[between])]], q]


def _shortest_tour(pts: np.ndarray) -> np.ndarray:
    """Order of the points along the shortest closed tour (exhaustive up to 8 points, else by angle)."""
    n = len(pts)
    if n <= 3 or n > 8:
        c = pts.mean(axis=0)
        return np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]))
    rest = np.array(list(itertools.permutations(range(1, n))))
    tours = np.column_stack([np.zeros(len(rest), dtype=int), rest, np.zeros(len(rest), dtype=int)])
    dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    length = dist[tours[:, :-1], tours[:, 1:]].sum(axis=1)
    return tours[int(np.argmin(length)), :-1]


def _month_start(rng: np.random.Generator, year: int, months: tuple[int, int]) -> int:
    return _day_of(date(year, int(rng.integers(months[0], months[1] + 1)), 1))


def _roster(rng: np.random.Generator, geo: _Geo, hotspots: list[_Hotspots], greens) -> list[_Route]:
    """The regular routes, posts and areas of the demo order service, in priority order."""
    b = _RosterBuilder(rng, geo, greens)
    df = _facts_cached()
    ndays = _period_days()
    z = geo.index("01")

    def street(code: str) -> list[np.ndarray]:
        hs = hotspots[geo.index(code)]
        return [hs.xy[j] for j in np.flatnonzero(~hs.green)]

    def parks(code: str) -> list[np.ndarray]:
        """A point in each park of the district; the edge of a forest."""
        out = []
        for c, _name, kind, geom in greens:
            if c != code:
                continue
            if kind == "park":
                out.append(shapely.get_coordinates(geom.representative_point())[0])
            elif kind == "forest":
                out.append(shapely.get_coordinates(shapely.shortest_line(geom.exterior, shapely.Point(geo.xy[geo.index(code)])))[0])
        return out

    inner_z = geo.core[z].buffer(-80.0)
    lm = {}
    for name, (bearing, dist) in _ZENTRUM_LANDMARKS.items():
        direction = np.array([np.sin(np.radians(bearing)), np.cos(np.radians(bearing))])
        for _ in range(30):
            p = geo.xy[z] + dist * direction
            if shapely.contains_xy(inner_z, p[0], p[1]):
                break
            dist *= 0.85
        lm[name] = p

    # Zentrum on foot: two loops, each walked by an early and a late shift
    north = b.loop([lm[k] for k in ("Zentralhaltestelle", "Brückenstraße", "Hauptbahnhof/Busbahnhof", "Theaterplatz")],
                   "01", "foot", False)
    south = b.loop([lm["Zentralhaltestelle"], *street("01")[1:], lm["Johannisplatz"], lm["Stadthalle"], lm["Rathaus"]], "01", "foot", False)
    b.add("01-foot-early-north", "01", "ordnungsdienst", "foot", north, _MON_FRI, 7, 8)
    b.add("01-foot-early-south", "01", "ordnungsdienst", "foot", south, _MON_FRI, 7.5, 8)
    b.add("01-foot-late-north", "01", "ordnungsdienst", "foot", north, range(7), 15, 7)
    b.add("01-foot-late-south", "01", "ordnungsdienst", "foot", south, range(7), 15, 7)
    b.add("01-foot-afternoon", "01", "ordnungsdienst", "foot", south, _MON_FRI, 12, 6)
    b.add("01-foot-saturday", "01", "ordnungsdienst", "foot", north, (5,), 9, 7)
    b.add("01-foot-sunday", "01", "ordnungsdienst", "foot", south, (6,), 10, 6)

    # fixed posts: contracted security at the central stop every evening and,
    # from a later contract on, at the main station; a mobile office on the Markt
    b.add("01-post-zentralhaltestelle", "01", "security", "foot", b.post(lm["Zentralhaltestelle"], "01", True), range(7), 15, 6, p=0.95)
    b.add("01-post-hauptbahnhof", "01", "security", "foot", b.post(lm["Hauptbahnhof/Busbahnhof"], "01", True), (3, 4, 5, 6), 17, 8,
          p=0.95, first=_month_start(rng, 2024, (5, 10)))
    b.add("01-post-markt", "01", "ordnungsdienst", "foot", b.post(lm["Zentralhaltestelle"], "01", False), (1, 3), 10, 6)

    # joint patrol with the police, Wednesday to Saturday evenings into the night,
    # and the order service's own night team on weekend nights
    joint = b.loop([lm[k] for k in ("Zentralhaltestelle", "Brückenstraße", "Hauptbahnhof/Busbahnhof", "Theaterplatz", "Rathaus")],
                   "01", "foot", _on_duty_at_night(18, 8))
    b.add("01-joint-evening", "01", "joint", "foot", joint, (2, 3, 4, 5), 19, 8, p=float(rng.uniform(0.8, 0.9)))
    b.add("01-foot-weekend-night", "01", "ordnungsdienst", "foot", joint, (4, 5), 22, 6)
    # contracted security walks the same loop every night
    b.add("01-security-night", "01", "security", "foot", joint, range(7), 20, 8, p=0.95)
    try:  # and a second loop through the south of the centre, where the night leaves room for one
        south_night = b.loop([lm["Zentralhaltestelle"], *street("01")[1:], lm["Johannisplatz"], lm["Stadthalle"], lm["Rathaus"]],
                             "01", "foot", True)
    except RuntimeError:
        south_night = None
    if south_night is not None and not south_night.equals(joint):
        b.add("01-security-night-south", "01", "security", "foot", south_night, range(7), 20, 8, p=0.95)

    # bikes through the big central parks by day, April to October
    season = tuple(range(4, 11))
    b.add("01-bike-parks", "01", "ordnungsdienst", "bike",
          b.loop([*parks("01"), lm["Stadthalle"], lm["Johannisplatz"], lm["Theaterplatz"]], "01", "bike", False, 600.0),
          _MON_FRI, 10, 7, months=season)
    b.add("02-bike-parks", "02", "ordnungsdienst", "bike",
          b.loop([*parks("02"), *street("02"), geo.xy[geo.index("02")]], "02", "bike", False, 800.0),
          (1, 3, 5), 11, 6, months=season)

    # the inner neighbours on foot; Lutherviertel's team moves to a new outer route later
    cases = df["crime_total_cases"].to_numpy(dtype=float)
    outer = [i for i, c in enumerate(geo.codes) if c not in CENTRE_CODES]
    eligible = sorted((i for i in outer if cases[i] >= np.median(cases[outer])), key=lambda i: -cases[i])
    new_code = geo.codes[int(rng.choice(eligible[:3]))]
    new_first = _month_start(rng, 2025, (1, 6))
    # foot beats by day and in the evening, cars of the order service by day and every evening
    # (Lutherviertel's foot team moves to the new outer route)
    for code, foot_days, late_days, car_days, evening_days, recurrence in (
        ("01", (), (), (0, 1, 2, 3, 4, 5), range(7), {}),
        ("21", (0, 2, 4), _MON_FRI, (0, 1, 2, 3, 4, 5), range(7), {}),
        ("91", (0, 2, 4), (), (1, 3, 5), range(7), {}),
        ("02", (1, 3), (), (0, 2, 4, 5), range(7), {}),
        ("22", (2, 4), (), (0, 1, 3, 5), (0, 1, 2, 3, 4, 5), {"last": new_first - 1}),
    ):
        i = geo.index(code)
        if foot_days:
            beat = b.loop([geo.xy[i], *street(code)], code, "foot", False)
            b.add(f"{code}-foot-day", code, "ordnungsdienst", "foot", beat, foot_days, 9, 8, **recurrence)
        if late_days:
            evening = b.loop([geo.xy[i], *street(code)], code, "foot", True)  # into the night: away from the parks
            b.add(f"{code}-foot-late", code, "ordnungsdienst", "foot", evening, late_days, 16, 7, **recurrence)
        area = b.area(geo.xy[i], np.sqrt(geo.cells[i].area / np.pi), code, False)
        if car_days:
            b.add(f"{code}-vehicle-day", code, "ordnungsdienst", "vehicle", area, car_days, 9, 7)
        b.add(f"{code}-vehicle-evening", code, "ordnungsdienst", "vehicle", area, evening_days, 16, 6)
    i = geo.index(new_code)
    b.add(f"{new_code}-foot-day", new_code, "ordnungsdienst", "foot",
          b.loop([geo.xy[i], *street(new_code)], new_code, "foot", False, 400.0), (1, 3), 10, 7, first=new_first)

    # weekend nights: a vehicle patrol area in the inner neighbour with most room away from green spaces
    # weekend nights: a car in Sonnenberg, the inner neighbour with the busiest nights, and in the
    # inner neighbour with most room away from green spaces
    for night_code in dict.fromkeys(("21", max(("91", "02", "22"), key=lambda c: b.region(c, "vehicle", True).area))):
        i = geo.index(night_code)
        anchor = (street(night_code) or [geo.xy[i]])[0]
        nights = tuple(range(7)) if night_code == "21" else (3, 4, 5)  # Sonnenberg every night
        b.add(f"{night_code}-vehicle-night", night_code, "ordnungsdienst", "vehicle", b.area(anchor, 600.0, night_code, True), nights, 21, 8)

    # rare day patrols by car in outer districts with many cases (the quiet half never gets one):
    # weekly in the busiest outer district and one more, every other week in four others
    w = cases[eligible]
    rest = eligible[1:]
    picked = [eligible[0], *rng.choice(rest, size=5, replace=False, p=cases[rest] / cases[rest].sum())]
    for rank, i in enumerate(sorted(picked, key=lambda i: -cases[i])):
        code = geo.codes[i]
        every = 1 if rank < 2 else 2
        spots = street(code) or [geo.xy[i]]
        anchor = spots[int(rng.integers(len(spots)))]
        b.add(f"{code}-vehicle-day", code, "ordnungsdienst", "vehicle", b.area(anchor, float(rng.uniform(450.0, 700.0)), code, False),
              (int(rng.integers(0, 5)),), float(rng.choice([9.0, 10.0])), 6, every_weeks=every, week_offset=int(rng.integers(0, every)))

    # special operations: evening campaigns of 2–6 weeks at outer-district hotspots
    for k in range(int(rng.integers(3, 6))):
        i = int(rng.choice(eligible, p=w / w.sum()))
        code = geo.codes[i]
        spots = street(code) or [geo.xy[i]]
        anchor = spots[int(rng.integers(len(spots)))]
        weeks = int(rng.integers(2, 7))
        first = int(rng.integers(0, ndays - 7 * weeks))
        unit = "joint" if rng.random() < 0.5 else "ordnungsdienst"
        beat = b.loop([anchor], code, "foot", _on_duty_at_night(17, 5), 350.0)
        b.add(f"{code}-operation-{k + 1}", code, unit, "foot", beat, (2, 3, 4, 5), 17, 5, first=first, last=first + 7 * weeks - 1)
    return b.routes


def _schedule(rng: np.random.Generator, routes: list[_Route]) -> tuple[np.ndarray, np.ndarray]:
    """(route index, day index) of every shift that takes place, by route, then day."""
    ndays = _period_days()
    days = np.arange(ndays)
    weekday = _weekday_of_day(days)
    dates = np.datetime64(DEMO_PERIOD[0].isoformat(), "D") + days
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    week = (days + DEMO_PERIOD[0].weekday()) // 7
    route_parts, day_parts = [], []
    for k, r in enumerate(routes):
        on = (
            np.isin(weekday, r.weekdays)
            & (days >= r.first)
            & (days <= r.last)
            & np.isin(month, r.months)
            & ((week - r.week_offset) % r.every_weeks == 0)
        )
        route_parts.append(np.full(int(on.sum()), k))
        day_parts.append(days[on])
    route = np.concatenate(route_parts)
    day = np.concatenate(day_parts)
    held = rng.random(len(route)) < np.array([r.p for r in routes])[route]
    # minimum staffing: on a thin day, cancelled shifts are staffed after all (in priority order)
    count = np.bincount(day[held], minlength=ndays)
    for d in np.flatnonzero(count < MIN_TEAMS_PER_DAY):
        spare = np.flatnonzero((day == d) & ~held)
        held[spare[: MIN_TEAMS_PER_DAY - count[d]]] = True
    return route[held], day[held]


def _stops(rng: np.random.Generator, n_steps: int, stop_share: float, moving_mean: float = 10.0) -> np.ndarray:
    """Boolean mask of the steps a patrol stands still (alternating runs, ``moving_mean`` steps moving on average)."""
    stopped_mean = moving_mean * stop_share / (1 - stop_share)
    runs = n_steps // 2 + 2
    moving = rng.geometric(1 / moving_mean, runs)
    stopped = rng.geometric(1 / stopped_mean, runs)
    lengths = np.column_stack([moving, stopped]).ravel()
    state = np.tile([False, True], runs)
    return np.repeat(state, lengths)[:n_steps]


def _gps_track(rng: np.random.Generator, ring: np.ndarray, mode: str, n_steps: int) -> BaseGeometry:
    """A GPS track along the closed loop ``ring`` (coordinates), one vertex every TRACK_STEP_S.

    The team goes round and round its loop (from a random point, in either
    direction) at a varying speed, standing still for a while now and then;
    every vertex has a few metres of GPS error. The error drifts slowly, as
    real GPS errors do (a team standing still is not drawn as a zigzag).
    """
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(ring, axis=0).T))])
    length = cum[-1]
    wobble = np.convolve(rng.normal(0, 1, n_steps + 10), np.ones(11) / np.sqrt(11), mode="valid")[:n_steps]
    speed = SPEED_M_S[mode] * np.clip(1 + 0.2 * wobble, 0.4, 1.4)
    speed[_stops(rng, n_steps, _STOP_SHARE[mode])] = 0.0
    direction = 1.0 if rng.random() < 0.5 else -1.0
    s = np.mod(rng.uniform(0, length) + direction * np.concatenate([[0.0], np.cumsum(speed * TRACK_STEP_S)]), length)
    xy = np.column_stack([np.interp(s, cum, ring[:, 0]), np.interp(s, cum, ring[:, 1])])
    k = 7  # minutes over which the error stays alike
    raw = rng.normal(0, 1, (len(xy) + k - 1, 2))
    drift = np.column_stack([np.convolve(raw[:, j], np.ones(k) / np.sqrt(k), mode="valid") for j in range(2)])
    noise = np.clip(GPS_NOISE_M * drift + rng.normal(0, 0.5, xy.shape), -2.5 * GPS_NOISE_M, 2.5 * GPS_NOISE_M)
    return shapely.LineString(xy + noise)


def _patrols(rng: np.random.Generator, geo: _Geo, hotspots: list[_Hotspots], greens, n_shifts: int | None = None) -> gpd.GeoDataFrame:
    routes = _roster(rng, geo, hotspots, greens)
    route, day = _schedule(rng, routes)
    if n_shifts is not None:  # more or fewer teams on the same roster
        factor = n_shifts / max(len(route), 1)
        copies = int(factor) + (rng.random(len(route)) < factor - int(factor))
        route, day = np.repeat(route, copies), np.repeat(day, copies)
    n = len(route)

    # teams log on a few minutes after the planned start and off a few minutes before the planned end
    planned_start = np.array([r.start_min for r in routes], dtype=np.int64)[route]
    planned_end = planned_start + np.array([r.minutes for r in routes], dtype=np.int64)[route]
    start_min = planned_start + rng.integers(0, 4, size=n) * 5
    end_min = planned_end - rng.integers(0, 4, size=n) * 5
    start = _local_to_utc(rng, day, start_min * 60)
    end = (start + pd.to_timedelta((end_min - start_min) * 60, unit="s")).as_unit("ms")

    # geometry: the route's own (one shared object per route), or a GPS track along its loop
    planned = _to_store_geoms([r.geom for r in routes]).to_numpy()
    geoms = planned[route]
    is_loop = np.array([r.geom.geom_type == "LineString" for r in routes], dtype=bool)[route]
    logged = np.flatnonzero(is_loop & (rng.random(n) < LOGGER_SHARE))
    rings = {k: shapely.get_coordinates(r.geom) for k, r in enumerate(routes) if r.geom.geom_type == "LineString"}
    tracks = np.empty(len(logged), dtype=object)
    steps = (end_min - start_min) * 60 // TRACK_STEP_S
    tracks[:] = [_gps_track(rng, rings[route[j]], routes[route[j]].mode, int(steps[j])) for j in logged]
    if len(tracks):
        cores = np.array([geo.core[geo.index(routes[route[j]].code)] for j in logged], dtype=object)
        inside = shapely.contains(cores, tracks)  # a track that cuts a corner out of its district keeps the plan
        geoms[logged[inside]] = _to_store_geoms(tracks[inside]).to_numpy()

    order = np.lexsort((np.arange(n), start.asi8))
    width = max(5, len(str(n)))
    units = np.array([r.unit for r in routes])
    modes = np.array([r.mode for r in routes])
    frame = pd.DataFrame(
        {
            "shift_id": [f"S-{j:0{width}d}" for j in range(1, n + 1)],
            "unit": units[route[order]],
            "mode": modes[route[order]],
            "start": start[order],
            "end": end[order],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms[order], crs=domain.STORE_CRS).to_numpy(), crs=domain.STORE_CRS)


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


def generate(seed: int = 42, n_incidents: int = 20_000, n_shifts: int | None = None) -> dict[str, pd.DataFrame]:
    """All demo layers (GeoDataFrames in EPSG:4326) and the ``crime_stats`` table.

    Deterministic per ``seed``. Only the ``incidents`` layer depends on
    ``n_incidents`` and only ``patrols`` on ``n_shifts``: ``None`` gives the full
    duty roster (about 8,000 shifts), a number about that many shifts on the
    same roster (fewer or more teams per scheduled shift). About one foot or
    bike shift in ten carries a GPS track (one point a minute); the default
    layer has about 350,000 vertices in all.
    """
    if n_incidents < 1:
        raise ValueError("n_incidents must be at least 1")
    if n_shifts is not None and n_shifts < 1:
        raise ValueError("n_shifts must be at least 1")
    rngs = _streams(seed)
    geo = _geo()
    greens = _green_geometries(rngs["green"], geo)
    hotspots = _hotspots(rngs["hotspots"], geo, greens)
    return {
        "districts": _districts(),
        "green_spaces": _green_spaces(greens),
        "patrols": _patrols(rngs["patrols"], geo, hotspots, greens, None if n_shifts is None else int(n_shifts)),
        "incidents": _incidents(rngs["incidents"], geo, hotspots, int(n_incidents)),
        "meeting_points": _meeting_points(rngs["meeting_points"], geo, greens),
        "facilities": _facilities(rngs["facilities"], geo, greens),
        "crime_stats": _crime_stats(),
    }


def provenance(seed: int = 42) -> Provenance:
    return Provenance(source=f"{DEMO_SOURCE} Seed {seed}.", licence=DEMO_LICENCE, demo=True)


def write_demo(store, seed: int = 42, n_incidents: int = 20_000, n_shifts: int | None = None) -> dict[str, int]:
    """Generate the demo data and write every layer to ``store`` in one transaction.

    Replaces whatever the layers held before. Returns the row count per layer.
    """
    frames = generate(seed=seed, n_incidents=n_incidents, n_shifts=n_shifts)
    store.write(frames, provenance(seed), mode="replace")
    return {layer: len(frame) for layer, frame in frames.items()}
