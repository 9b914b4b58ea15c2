"""A process killed in the middle of an import leaves the previous data intact."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from loaders.store import GeoPackageStore, Provenance
from tests.apprunner import poll

ROOT = Path(__file__).resolve().parent.parent


def test_kill_during_import_keeps_previous_store(tmp_path, city):
    db = tmp_path / "atlas.gpkg"
    GeoPackageStore(db).write(city, Provenance("test", "CC0"))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    rows = "".join(f"K{i},2025-03-01T21:15,drugs,police,,{50.80 + (i % 900) / 10000},{12.90 + (i % 700) / 10000}\n" for i in range(400_000))
    big = tmp_path / "big.csv"
    big.write_text("id,occurred_at,category,source,description,lat,lon\n" + rows)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders", "--db", str(db), "import", "incidents", str(big), "--replace"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    size = db.stat().st_size
    def writing() -> bool:
        # kill once the writer's copy has grown past the original: new rows are being written
        copies = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp.gpkg")]
        return proc.poll() is not None or any(p.exists() and p.stat().st_size > size for p in copies)

    poll(writing, 120, interval=0.01)
    assert proc.poll() is None, "the import finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert len(GeoPackageStore(db).read("incidents")) == len(city["incidents"])
    # the next write cleans up the killed writer's copy and works
    GeoPackageStore(db).write({"incidents": city["incidents"]}, Provenance("test", "CC0"))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.gpkg")] == []
