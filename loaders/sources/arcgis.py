"""Stadt Chemnitz open-data portal (ArcGIS Online feature services).

Layers are queried as GeoJSON in WGS84 (``where=1=1&outFields=*&outSR=4326&f=geojson``)
and paged with ``resultOffset``/``resultRecordCount`` while the service reports
``exceededTransferLimit``. Licence: Datenlizenz Deutschland – Namensnennung 2.0
(dl-de/by-2-0), Stadt Chemnitz.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from loaders.http import Progress, SourceFormatError, get_bytes
from loaders.sources import Source

SERVICES_URL = "https://services6.arcgis.com/jiszdsDupTUO3fSM/arcgis/rest/services"
DISTRICTS_URL = f"{SERVICES_URL}/Stadtteile_FL_1/FeatureServer/0"
LICENCE = "Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0), Stadt Chemnitz"
PAGE_SIZE = 1000
MAX_PAGES = 500

# facility layers of the portal: (service name, kind, id prefix)
FACILITY_LAYERS = (
    ("Schulsozialarbeit_FL_1", "school_social_work", "SSA"),
    ("Jugendberufshilfen_FL_1", "youth_vocational", "JBH"),
    ("Schulen_OpenData", "school", "SCH"),
)


def _query_url(layer_url: str) -> str:
    layer_url = layer_url.rstrip("/")
    return layer_url if layer_url.endswith("/query") else f"{layer_url}/query"


def query_layer(layer_url: str, progress: Progress | None = None, page_size: int = PAGE_SIZE) -> gpd.GeoDataFrame:
    """All features of an ArcGIS feature layer as a GeoDataFrame (EPSG:4326)."""
    url = _query_url(layer_url)
    features: list[dict] = []
    for _page in range(MAX_PAGES):
        params = {
            "where": "1=1",
            "outFields": "*",
            "outSR": "4326",
            "f": "geojson",
            # the service may return fewer than asked (its maxRecordCount): go on from what came
            "resultOffset": str(len(features)),
            "resultRecordCount": str(page_size),
        }
        body = get_bytes(url, params, progress=progress)
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceFormatError(f"{url}: the answer is not JSON ({exc})") from exc
        if "error" in doc:
            err = doc["error"]
            raise SourceFormatError(f"{url}: the service reports error {err.get('code')}: {err.get('message')}")
        if not isinstance(doc.get("features"), list):
            raise SourceFormatError(f"{url}: the answer is not a GeoJSON FeatureCollection")
        features.extend(doc["features"])
        more = doc.get("exceededTransferLimit") or (doc.get("properties") or {}).get("exceededTransferLimit")
        if not more or not doc["features"]:
            break
    else:
        raise SourceFormatError(f"{url}: more than {MAX_PAGES} pages, stopped")
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = " ".join(str(value).split())
    return text or None


def fetch_districts(url: str, progress: Progress | None = None) -> gpd.GeoDataFrame:
    """The 39 Stadtteile: code (STADTTS), name (STADTTNAME), population (atlas estimate)."""
    from loaders.demo import facts

    raw = query_layer(url, progress)
    missing = {"STADTTS", "STADTTNAME"} - set(raw.columns)
    if missing:
        raise SourceFormatError(f"{url}: fields {', '.join(sorted(missing))} are missing")
    codes = raw["STADTTS"].map(lambda v: str(v).strip().zfill(2))
    population = dict(zip(facts()["code"], facts()["population_est"]))
    out = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": raw["STADTTNAME"].map(_text),
            "population": codes.map(population).astype(float),
        },
        geometry=raw.geometry,
        crs="EPSG:4326",
    )
    return out.sort_values("code").reset_index(drop=True)


def _facility_name(row: pd.Series) -> str:
    for key in ("BEZEICHNUNG", "KURZBEZEICHNUNG"):
        if _text(row.get(key)):
            return _text(row.get(key))
    service, operator, street = _text(row.get("LEISTUNGEN")), _text(row.get("TRAEGER")), _text(row.get("STRASSE"))
    parts = [p for p in (service, operator) if p]
    name = " – ".join(parts) if parts else (street or "unbenannt")
    return f"{name} ({street})" if street and parts else name


def fetch_facilities(url: str, progress: Progress | None = None) -> gpd.GeoDataFrame:
    """School social work, youth vocational support and schools from the portal's layers.

    ``url`` is the services root; each layer is ``{url}/{service}/FeatureServer/0``.
    """
    frames = []
    for service, kind, prefix in FACILITY_LAYERS:
        raw = query_layer(f"{url.rstrip('/')}/{service}/FeatureServer/0", progress)
        if raw.empty:
            continue
        ident = raw["OBJECTID"] if "OBJECTID" in raw else raw.get("ID", pd.Series(range(1, len(raw) + 1)))
        frames.append(
            gpd.GeoDataFrame(
                {
                    "id": [f"{prefix}-{v}" for v in ident],
                    "name": raw.apply(_facility_name, axis=1),
                    "kind": kind,
                    "operator": raw["TRAEGER"].map(_text) if "TRAEGER" in raw else None,
                    "address": raw["STRASSE"].map(_text) if "STRASSE" in raw else None,
                },
                geometry=raw.geometry,
                crs="EPSG:4326",
            )
        )
    if not frames:
        raise SourceFormatError(f"{url}: none of the facility layers returned features")
    return pd.concat(frames, ignore_index=True)


SOURCES = [
    Source("districts", "districts", DISTRICTS_URL, LICENCE, "Stadt Chemnitz Open Data: Stadtteile_FL_1", fetch_districts),
    Source(
        "facilities",
        "facilities",
        SERVICES_URL,
        LICENCE,
        "Stadt Chemnitz Open Data: Schulsozialarbeit_FL_1, Jugendberufshilfen_FL_1, Schulen_OpenData",
        fetch_facilities,
    ),
]
