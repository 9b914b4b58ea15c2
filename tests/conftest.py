"""Shared fixtures: a tiny synthetic city whose right answers are known."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geodata import domain

# Two 1 km x 1 km districts side by side in EPSG:25833, inside Chemnitz.
X0, Y0 = 356_000, 5_632_000


def metric_box(x, y, w, h):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def to_store(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.set_crs(domain.METRIC_CRS).to_crs(domain.STORE_CRS)


@pytest.fixture
def city() -> dict[str, pd.DataFrame]:
    """District A (01, 'Zentrum') is patrolled by day; district B (02, 'Rand') never."""
    districts = to_store(
        gpd.GeoDataFrame(
            {"code": ["01", "02"], "name": ["Zentrum", "Rand"], "population": [2000.0, 1000.0]},
            geometry=[metric_box(0, 0, 1000, 1000), metric_box(1000, 0, 1000, 1000)],
        )
    )
    green = to_store(gpd.GeoDataFrame({"name": ["Park A", "Wald B"], "kind": ["park", "forest"]},
                                      geometry=[metric_box(400, 400, 200, 200), metric_box(1400, 400, 200, 200)]))
    t = pd.Timestamp("2025-06-02 10:00", tz=domain.LOCAL_TZ)  # a Monday
    # a vehicle patrol area over A's western 600 m reaches 400 m further: all of A, none of B
    patrols = to_store(
        gpd.GeoDataFrame(
            {
                "shift_id": ["S1"],
                "unit": ["ordnungsdienst"],
                "mode": ["vehicle"],
                "start": [(t - pd.Timedelta(hours=2)).tz_convert("UTC")],
                "end": [(t + pd.Timedelta(hours=4)).tz_convert("UTC")],
            },
            geometry=[metric_box(0, 0, 600, 1000)],
        )
    )
    times = [t, t + pd.Timedelta(hours=12), t, t + pd.Timedelta(hours=12), t + pd.Timedelta(days=5)]
    incidents = to_store(
        gpd.GeoDataFrame(
            {
                "id": [f"I{i}" for i in range(5)],
                "occurred_at": [x.tz_convert("UTC") for x in times],
                "category": ["verbal_violence", "racist_insult", "drugs", "verbal_violence", "disorder"],
                "source": ["police", "ordnungsdienst", "police", "chronicle", "police"],
                "description": ["a", "b", "c", "<img src=x onerror=alert(1)>", "e"],
            },
            geometry=[Point(X0 + 300, Y0 + 300), Point(X0 + 700, Y0 + 700), Point(X0 + 1300, Y0 + 300),
                      Point(X0 + 1700, Y0 + 700), Point(X0 + 1500, Y0 + 500)],
        )
    )
    meeting = to_store(gpd.GeoDataFrame(
        {"id": ["M1"], "label": ["Treffpunkt (fiktiv)"], "kind": ["Treffpunkt im Freien"], "status": ["active"],
         "last_confirmed": [pd.Timestamp("2025-05-01", tz="UTC")]},
        geometry=[Point(X0 + 1500, Y0 + 500)]))
    facilities = to_store(gpd.GeoDataFrame({"id": ["F1"], "name": ["Jugendtreff"], "kind": ["youth_club"]},
                                           geometry=[Point(X0 + 200, Y0 + 800)]))
    crime = pd.DataFrame({"code": ["01", "02"], "year": [2025, 2025], "crime_total_cases": [100, 10],
                          "crime_total_rate": [5000.0, 1000.0]})
    return {"districts": districts, "green_spaces": green, "patrols": patrols, "incidents": incidents,
            "meeting_points": meeting, "facilities": facilities, "crime_stats": crime}


def digest(path) -> str:
    """Fingerprint of a file, to show that a store stayed byte for byte the same."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path, city):
    """A GeoPackage store holding the synthetic city."""
    from loaders.store import GeoPackageStore, Provenance

    path = tmp_path / "atlas.gpkg"
    GeoPackageStore(path).write(city, Provenance("test", "CC0"))
    return path


APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def open_app(db, monkeypatch, page: str | None = None, timeout: int = 180, role: str | None = "admin"):
    """The real app under AppTest on the store ``db``, signed in with ``role`` (None: not signed in);
    optionally switched to ``views/<page>.py``."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import SESSION_KEY, User

    monkeypatch.setenv("ATLAS_DB", str(db))
    monkeypatch.setenv("ATLAS_BASEMAP", "none")
    at = AppTest.from_file(APP, default_timeout=timeout)
    if role:
        at.session_state[SESSION_KEY] = User(f"test-{role}", role, "password")
    if page:
        at.run()
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception
    return at


def sign_in(at, name: str, password: str) -> None:
    """Sign in through the app's form (AppTest), as a person would."""
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value(password)
    next(b for b in at.button if b.label == "Anmelden").click().run()
    assert not at.exception


def signed_out(at) -> bool:
    """The app shows its sign-in form and holds no user."""
    return "_user" not in at.session_state and [t.label for t in at.text_input][-2:] == ["Name", "Passwort"]


def demo_store(tmp_path_factory, seed: int, n_incidents: int):
    """A demo GeoPackage for a test module."""
    from loaders import demo
    from loaders.store import GeoPackageStore

    path = tmp_path_factory.mktemp(f"demo{seed}") / "atlas.gpkg"
    demo.write_demo(GeoPackageStore(path), seed=seed, n_incidents=n_incidents)
    return path


def pytest_collection_modifyitems(config, items):
    """Tests that start the real app (marked ``e2e``) run one after another on one worker
    (``--dist loadgroup``): two app servers and two browsers at once overload a two-core
    machine, while the other worker runs the rest of the suite."""
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group("app"))
