"""The GeoPackage store: round trips, all-or-nothing writes, provenance."""

from __future__ import annotations

import hashlib
import os

import pandas as pd
import pyogrio
import pytest

from loaders import schema
from loaders.store import GeoPackageStore, Provenance

PROV = Provenance(source="test", licence="CC0")


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_all_layers(tmp_path, city):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    store.write(city, PROV)
    assert set(city) <= set(store.layers())
    for layer, frame in city.items():
        back = store.read(layer)
        assert len(back) == len(frame), layer
    inc = store.read("incidents")
    assert str(inc["occurred_at"].dtype) == "datetime64[ms, UTC]"
    assert inc["description"].tolist()[3] == "<img src=x onerror=alert(1)>"  # stored as text
    assert store.read("districts").crs.to_epsg() == 4326
    src = store.sources()
    assert set(src["layer"]) == set(city) and (src["licence"] == "CC0").all()
    # it is a real GeoPackage: GDAL lists the layers with their geometry types
    kinds = dict(pyogrio.list_layers(tmp_path / "atlas.gpkg"))
    assert kinds["incidents"] == "Point" and kinds["crime_stats"] is None


def test_invalid_data_leaves_store_byte_identical(tmp_path, city):
    path = tmp_path / "atlas.gpkg"
    store = GeoPackageStore(path)
    store.write(city, PROV)
    before = digest(path)
    bad = city["incidents"].copy()
    bad.loc[2, "category"] = "nonsense"
    with pytest.raises(schema.ValidationError) as err:
        store.write({"incidents": bad}, PROV, mode="replace")
    assert "row 3" in str(err.value) and "nonsense" in str(err.value)
    assert digest(path) == before


def test_append_adds_and_rejects_known_ids(tmp_path, city):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    store.write(city, PROV)
    more = city["incidents"].iloc[:2].copy()
    more["id"] = ["N1", "N2"]
    store.write({"incidents": more}, PROV, mode="append")
    assert len(store.read("incidents")) == 7
    before = digest(store.path)
    with pytest.raises(schema.ValidationError, match="already stored"):
        store.write({"incidents": more}, PROV, mode="append")
    assert digest(store.path) == before


def test_crash_during_write_keeps_previous_file(tmp_path, city, monkeypatch):
    path = tmp_path / "atlas.gpkg"
    store = GeoPackageStore(path)
    store.write(city, PROV)
    before = digest(path)

    def boom(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", boom)
    changed = city["incidents"].iloc[:1]
    with pytest.raises(OSError):
        store.write({"incidents": changed}, PROV)
    assert digest(path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.gpkg")] == []


def test_version_changes_on_write(tmp_path, city):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    assert store.version() == "absent" and store.layers() == []
    assert len(store.read("incidents")) == 0
    store.write({"districts": city["districts"]}, PROV)
    v1 = store.version()
    store.write({"incidents": city["incidents"]}, PROV)
    assert store.version() != v1
    assert set(store.sources()["layer"]) == {"districts", "incidents"}


def test_empty_frame_is_rejected(tmp_path, city):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    with pytest.raises(schema.ValidationError, match="no rows"):
        store.write({"incidents": city["incidents"].iloc[:0]}, PROV)
    assert not (tmp_path / "atlas.gpkg").exists()


def test_schema_reports_each_problem_with_its_row(city):
    inc = city["incidents"].copy()
    inc.loc[1, "id"] = "I0"
    inc.loc[2, "source"] = "gossip"
    inc["occurred_at"] = inc["occurred_at"].astype(object)
    inc.loc[4, "occurred_at"] = "2025-02-30"
    _, report = schema.validate("incidents", inc)
    found = {(p.row, p.column) for p in report.problems}
    assert {(1, "id"), (2, "source"), (4, "occurred_at")} <= found
    allowed = [p.message for p in report.problems if p.column == "source"][0]
    assert "ordnungsdienst" in allowed  # the allowed values are listed


def test_schema_rejects_wrong_geometry_and_places(city):
    from shapely.geometry import Point

    fac = city["facilities"].copy()
    fac = pd.concat([fac] * 3, ignore_index=True)
    fac["id"] = ["a", "b", "c"]
    fac = fac.set_geometry([Point(13.5, 51.5), Point(50.83, 12.92), city["districts"].geometry.iloc[0]])
    _, report = schema.validate("facilities", fac)
    msgs = {p.row: p.message for p in report.problems}
    assert "outside Chemnitz" in msgs[0]
    assert "swapped" in msgs[1]
    assert "wrong geometry type Polygon" in msgs[2]


def test_append_matches_columns_by_name_not_position(tmp_path, city):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    store.write(city, PROV)
    more = city["patrols"].assign(shift_id="S2")
    reordered = more[["end", "geometry", "mode", "start", "unit", "shift_id"]]
    store.write({"patrols": reordered}, PROV, mode="append")
    back = store.read("patrols").set_index("shift_id")
    assert back.loc["S2", "start"] == city["patrols"]["start"].iloc[0]
    assert back.loc["S2", "unit"] == "ordnungsdienst"


def test_version_changes_even_when_size_and_time_repeat(tmp_path, city):
    """An equal-size rewrite within one clock tick must still change the version (cache key)."""
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    store.write(city, PROV)
    v1 = store.version()
    same = city["incidents"].copy()
    store.write({"incidents": same}, PROV)
    assert store.version() != v1
    fixed = os.stat(store.path)
    real = store.path

    class FrozenPath(type(real)):
        def stat(self, *args, **kwargs):  # as if size, time and inode had not changed
            return fixed

    def version_seen_frozen():
        store.path = FrozenPath(real)
        try:
            return store.version()
        finally:
            store.path = real

    before = version_seen_frozen()
    store.write({"incidents": same}, PROV)
    assert version_seen_frozen() != before  # the token beside the store tells them apart
