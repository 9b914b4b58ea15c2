"""Take the README's screenshot of the map from the real app in headless chromium.

Usage: .venv/bin/python scripts/screenshot.py [output.png]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loaders import demo  # noqa: E402
from loaders.store import GeoPackageStore  # noqa: E402
from tests.apprunner import chromium, create_accounts, login, running_app  # noqa: E402


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "atlas.gpkg"
        demo.write_demo(GeoPackageStore(db))
        names = create_accounts(db, ["council"])
        with running_app(db) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            login(page, url, names["council"], path="/?h=20-4&outside=1&sel=21")
            page.locator('iframe[title="streamlit_folium.st_folium"]').wait_for(timeout=60_000)
            frame = next(f for f in page.frames if "streamlit_folium" in f.url)
            frame.locator(".leaflet-districts-pane path").first.wait_for(timeout=60_000)
            time.sleep(2)
            page.screenshot(path=str(out))
    print(f"saved {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
