"""Green spaces (parks, forests, cemeteries, playgrounds, recreation grounds) from OpenStreetMap.

One Overpass query fetches every green way and multipolygon relation inside
the city of Chemnitz with ``out geom;``, so ways and relation members carry
their coordinates inline and no node lookup is needed. ``parse_overpass``
turns that JSON into valid polygons:

* closed ways become polygons;
* multipolygon relations are assembled from their member ways with shapely
  (``union_all`` to node, ``line_merge`` to join split ways end to end,
  ``polygonize`` to form rings); inner rings become holes of the outer rings
  they lie in, several outers give a MultiPolygon;
* invalid results are repaired with ``shapely.make_valid`` (polygonal parts only);
* untagged member ways of an assembled relation are not separate features,
  open ways that are not relation members are skipped, and slivers below
  ``MIN_AREA_M2`` are dropped.

Data: © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from geodata import domain
from loaders.http import Progress, SourceFormatError, SourceUnavailable, get_json
from loaders.sources import Source

OVERPASS_URL = "https://overpass-api.de/api/interpreter"

# Everything green inside the city of Chemnitz. ``out geom;`` puts the
# coordinates of ways and of relation member ways inline.
QUERY = """[out:json][timeout:180];
area["boundary"="administrative"]["name"="Chemnitz"]["admin_level"="6"]->.city;
(
  way["leisure"~"^(park|garden|playground|recreation_ground)$"](area.city);
  relation["leisure"~"^(park|garden|playground|recreation_ground)$"](area.city);
  way["landuse"~"^(forest|cemetery|recreation_ground)$"](area.city);
  relation["landuse"~"^(forest|cemetery|recreation_ground)$"](area.city);
  way["natural"="wood"](area.city);
  relation["natural"="wood"](area.city);
  way["amenity"="grave_yard"](area.city);
  relation["amenity"="grave_yard"](area.city);
);
out geom;
"""

# (tag key, tag value) -> kind, in order of precedence: the first match wins
# (a leisure=park on landuse=forest is a park).
TAG_KINDS: tuple[tuple[str, str, str], ...] = (
    ("leisure", "park", "park"),
    ("leisure", "garden", "park"),
    ("leisure", "playground", "playground"),
    ("leisure", "recreation_ground", "recreation_ground"),
    ("amenity", "grave_yard", "cemetery"),
    ("landuse", "cemetery", "cemetery"),
    ("landuse", "recreation_ground", "recreation_ground"),
    ("landuse", "forest", "forest"),
    ("natural", "wood", "forest"),
)

MIN_AREA_M2 = 50.0
COLUMNS = ["name", "kind", "osm_id"]
# Overpass timeout is 180 s; give the server a little more before giving up.
HTTP_TIMEOUT_S = 240.0


def green_kind(tags: dict | None) -> str | None:
    """The green kind (key of ``domain.GREEN_KINDS``) for OSM tags, or None."""
    if not tags:
        return None
    for key, value, kind in TAG_KINDS:
        if tags.get(key) == value:
            return kind
    return None


def _coords(geometry: object) -> list[tuple[float, float]] | None:
    """(lon, lat) pairs of an Overpass ``geometry`` list; None if incomplete or malformed."""
    if not isinstance(geometry, list):
        return None
    out = []
    for point in geometry:
        if not isinstance(point, dict):
            return None  # Overpass writes null for nodes clipped away
        try:
            out.append((float(point["lon"]), float(point["lat"])))
        except (KeyError, TypeError, ValueError):
            return None
    return out


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """``geom`` as a valid Polygon/MultiPolygon (make_valid, polygonal parts only), or None."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    if not parts:
        return None
    geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if not geom.is_valid:  # union of repaired parts is valid in practice; be sure
        geom = shapely.make_valid(geom)
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else None
    return None if geom is None or geom.is_empty else geom


def _way_polygon(coords: list[tuple[float, float]]) -> BaseGeometry | None:
    """A closed way as a polygon (repaired if it crosses itself); None if not closed."""
    if len(coords) < 4 or coords[0] != coords[-1]:
        return None
    return _polygonal(Polygon(coords))


def _rings(lines: list[LineString]) -> list[Polygon]:
    """Filled rings formed by ``lines``; ways split into pieces are joined end to end.

    The lines are noded (``union_all``), merged (``line_merge``) and
    polygonized; each face is filled (its exterior only), so nested rings of
    the same role come back as separate, overlapping polygons.
    """
    if not lines:
        return []
    merged = shapely.line_merge(shapely.union_all(lines))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(merged)))
    return [Polygon(face.exterior) for face in faces if not face.is_empty]


def _relation_polygon(members: Iterable[dict]) -> BaseGeometry | None:
    """Assemble a multipolygon relation from its member ways; None if no outer ring closes."""
    outer_lines, inner_lines = [], []
    for member in members:
        if not isinstance(member, dict) or member.get("type") != "way":
            continue
        coords = _coords(member.get("geometry"))
        if not coords or len(coords) < 2:
            continue
        line = LineString(coords)
        # An empty role is legacy tagging for "outer".
        (inner_lines if member.get("role") == "inner" else outer_lines).append(line)
    outers = _rings(outer_lines)
    if not outers:
        return None
    inners = _rings(inner_lines)
    pieces = []
    for outer in outers:
        # An inner ring is a hole of this outer if it reaches into it; an inner
        # ring that encloses this outer (an island in a hole) is not.
        holes = [
            inner for inner in inners if inner.intersects(outer) and not inner.covers(outer) and not inner.touches(outer)
        ]
        pieces.append(outer.difference(shapely.union_all(holes)) if holes else outer)
    return _polygonal(shapely.union_all(pieces))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_overpass(doc: dict) -> gpd.GeoDataFrame:
    """Green polygons from an Overpass JSON answer made with ``out geom;``.

    Returns a GeoDataFrame in EPSG:4326 with columns name (None if untagged),
    kind, osm_id ("way/123", "relation/45") and geometry (valid Polygon or
    MultiPolygon, at least ``MIN_AREA_M2``, clipped to ``CHEMNITZ_BBOX``).
    """
    elements = doc.get("elements") if isinstance(doc, dict) else None
    if not isinstance(elements, list):
        raise SourceFormatError('Overpass answer has no "elements" list; is this an Overpass JSON answer ([out:json])?')

    records: list[tuple[str | None, str, str, BaseGeometry]] = []
    # outer member way id -> kinds of the assembled relations it belongs to
    covered: dict[int, set[str]] = {}
    for element in elements:
        if not isinstance(element, dict) or element.get("type") != "relation":
            continue
        tags = element.get("tags") or {}
        kind = green_kind(tags)
        if kind is None or tags.get("type") != "multipolygon":
            continue
        members = element.get("members") or []
        geom = _relation_polygon(members)
        if geom is None:
            continue
        records.append((_text(tags.get("name")), kind, f"relation/{element.get('id')}", geom))
        for member in members:
            if isinstance(member, dict) and member.get("type") == "way" and member.get("role") != "inner":
                covered.setdefault(member.get("ref"), set()).add(kind)

    way_records = []
    for element in elements:
        if not isinstance(element, dict) or element.get("type") != "way":
            continue
        tags = element.get("tags") or {}
        kind = green_kind(tags)
        if kind is None:
            continue  # untagged (e.g. only a relation member) or not green
        way_id = element.get("id")
        if kind in covered.get(way_id, ()):
            continue  # outer way tagged like its relation: the relation already has it
        coords = _coords(element.get("geometry"))
        geom = _way_polygon(coords) if coords else None
        if geom is None:
            continue  # open ways (e.g. a park's fence line) are not areas
        way_records.append((_text(tags.get("name")), kind, f"way/{way_id}", geom))
    records = way_records + records

    # The city's area query also returns features that straddle the city limits;
    # keep only their part inside the box the store accepts.
    clip = box(*domain.CHEMNITZ_BBOX)
    shapely.prepare(clip)
    clipped = []
    for name, kind, osm_id, geom in records:
        if not clip.contains(geom):
            geom = _polygonal(geom.intersection(clip))
            if geom is None:
                continue
        clipped.append((name, kind, osm_id, geom))
    records = clipped

    if not records:
        empty = {c: pd.Series([], dtype=object) for c in COLUMNS}
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=domain.STORE_CRS), crs=domain.STORE_CRS)

    frame = gpd.GeoDataFrame(
        {
            # object dtype so that a missing name stays None (pandas' str dtype would make it NaN)
            "name": pd.Series([r[0] for r in records], dtype=object),
            "kind": [r[1] for r in records],
            "osm_id": [r[2] for r in records],
        },
        geometry=[r[3] for r in records],
        crs=domain.STORE_CRS,
    )
    area = frame.geometry.to_crs(domain.METRIC_CRS).area.to_numpy()
    frame = frame[area >= MIN_AREA_M2]
    return frame.reset_index(drop=True)[[*COLUMNS, "geometry"]]


def fetch_green_spaces(url: str, progress: Progress | None = None) -> gpd.GeoDataFrame:
    """Download green spaces from an Overpass endpoint and parse them."""
    doc = get_json(url, method="POST", data={"data": QUERY}, timeout=HTTP_TIMEOUT_S, progress=progress)
    if not isinstance(doc, dict):
        raise SourceFormatError("Overpass answer is not a JSON object")
    remark = str(doc.get("remark") or "")
    if "error" in remark.lower():
        # Overpass answers HTTP 200 with a remark when the query timed out or ran out of memory;
        # the elements are then incomplete and must not replace the layer.
        raise SourceUnavailable(f"Overpass did not finish the query: {remark.strip()}")
    frame = parse_overpass(doc)
    if frame.empty:
        n = len(doc.get("elements") or [])
        raise SourceFormatError(f"Overpass answer ({n} elements) contains no green spaces (parks, forests, cemeteries, …)")
    return frame


SOURCES = [
    Source(
        name="green_spaces",
        layer="green_spaces",
        default_url=OVERPASS_URL,
        licence="ODbL 1.0, © OpenStreetMap contributors",
        description="OpenStreetMap via Overpass API",
        fetch=fetch_green_spaces,
    )
]
