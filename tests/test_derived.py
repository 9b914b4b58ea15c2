"""Derived data beside the store: prepared once per data version, read back on the next start."""

from __future__ import annotations

import pandas as pd
import pytest

from geodata import analysis
from loaders import bootstrap, derived
from loaders.store import GeoPackageStore, Provenance

PROV = Provenance("test", "CC0")


@pytest.fixture
def store(tmp_path, city, monkeypatch):
    monkeypatch.delenv("ATLAS_DERIVED_DIR", raising=False)
    s = GeoPackageStore(tmp_path / "atlas.gpkg")
    s.write(city, PROV)
    return s


def files(store) -> list:
    return sorted((store.path.parent / derived.DIRNAME).glob(f"*{derived.SUFFIX}"))


def forbid_prepare(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("prepared again although the derived data was kept")

    monkeypatch.setattr(analysis, "prepare", fail)


def test_second_start_reads_what_the_first_prepared(store, monkeypatch):
    first = bootstrap.load_prepared(store)
    assert len(files(store)) == 1
    assert oct(files(store)[0].stat().st_mode & 0o777) == "0o600"
    forbid_prepare(monkeypatch)
    second = bootstrap.load_prepared(store)
    pd.testing.assert_frame_equal(pd.DataFrame(first.incidents.drop(columns="geometry")), pd.DataFrame(second.incidents.drop(columns="geometry")))
    assert first.footprints.geometry.equals(second.footprints.geometry)
    sel = analysis.Selection()
    assert analysis.analyse(first, sel).districts["incidents"].tolist() == analysis.analyse(second, sel).districts["incidents"].tolist()


def test_new_data_settings_or_secret_prepare_again(store, city, monkeypatch):
    bootstrap.load_prepared(store)
    calls = []
    real = analysis.prepare
    monkeypatch.setattr(analysis, "prepare", lambda *a, **k: calls.append(1) or real(*a, **k))
    store.write({"incidents": city["incidents"].iloc[:3]}, PROV)  # new data version
    prep = bootstrap.load_prepared(store)
    assert len(calls) == 1 and len(prep.incidents) == 3
    bootstrap.load_prepared(store, tolerance_min=15)  # other settings
    assert len(calls) == 2
    bootstrap.load_prepared(store)  # back to the kept version
    assert len(calls) == 2
    assert len(files(store)) == derived.KEEP  # older files are removed
    key_file = store.path.parent / "atlas-release.key"
    key_file.write_bytes(b"another secret of thirty-two bytes")
    bootstrap.load_prepared(store)  # a new release secret changes the record keys
    assert len(calls) == 3


def test_a_broken_file_is_prepared_again_and_replaced(store, monkeypatch):
    bootstrap.load_prepared(store)
    (path,) = files(store)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    prep = bootstrap.load_prepared(store)
    assert isinstance(prep, analysis.Prepared) and len(prep.incidents) == 5
    forbid_prepare(monkeypatch)
    assert len(bootstrap.load_prepared(store).incidents) == 5  # the replacement is read


def test_an_unwritable_directory_only_costs_time(store, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv("ATLAS_DERIVED_DIR", str(blocker / "derived"))
    assert len(bootstrap.load_prepared(store).incidents) == 5


def test_the_code_digest_follows_the_analysis_code():
    assert len(derived.code_digest()) == 64
    a = derived.key("v1", {"grid_m": 100}, b"s" * 32)
    assert a != derived.key("v2", {"grid_m": 100}, b"s" * 32)
    assert a != derived.key("v1", {"grid_m": 50}, b"s" * 32)
    assert a != derived.key("v1", {"grid_m": 100}, b"t" * 32)
    derived.code_digest.cache_clear()
    try:
        derived._CODE = (*derived._CODE, "loaders/store.py")
        assert derived.key("v1", {"grid_m": 100}, b"s" * 32) != a
    finally:
        derived._CODE = derived._CODE[:-1]
        derived.code_digest.cache_clear()
