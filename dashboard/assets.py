"""Self-hosted map assets: Leaflet (the map needs nothing else; folium's defaults of jQuery,
Bootstrap and icon fonts would only cost the map frame time to load).

Nothing the map page loads comes from a CDN. The files come from PyPI's
XStatic packages (installed with the requirements) and are copied into
``dashboard/vendor`` by ``python -m dashboard.assets`` (the setup command runs
it; the app runs it too when the folder is missing). Streamlit serves that
folder through a static component route, with proper content types, and
folium is pointed at those URLs instead of its CDN defaults.

Run ``python -m dashboard.assets`` to (re)install the files.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"

# (xstatic module, source path inside its data dir, target path in VENDOR_DIR)
_FILES = [
    ("leaflet", "leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "leaflet.css", "leaflet/leaflet.css"),
    ("leaflet", "images", "leaflet/images"),
]

# What folium's Map loads, in order, as paths below VENDOR_DIR.
MAP_JS = [
    ("leaflet", "leaflet/leaflet.js"),
]
MAP_CSS = [
    ("leaflet_css", "leaflet/leaflet.css"),
]


def _xstatic_dir(name: str) -> Path:
    module = __import__(f"xstatic.pkg.{name}", fromlist=["BASE_DIR"])
    return Path(module.BASE_DIR)


def install(target: Path = VENDOR_DIR) -> list[Path]:
    """Copy the asset files from the installed XStatic packages into ``target``."""
    written = []
    for package, src, dst in _FILES:
        source = _xstatic_dir(package) / src
        dest = target / dst
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, dest)
        written.append(dest)
    _draw_favicon(target / FAVICON)
    written.append(target / FAVICON)
    return written


FAVICON = "favicon.png"


def _draw_favicon(path: Path) -> None:
    """A small map-pin icon, drawn here so the browser asks no icon CDN."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((12, 4, 52, 44), fill=(91, 44, 131, 255))
    draw.polygon([(16, 32), (48, 32), (32, 62)], fill=(91, 44, 131, 255))
    draw.ellipse((24, 16, 40, 32), fill=(255, 255, 255, 255))
    img.save(path)


def missing(target: Path = VENDOR_DIR) -> list[str]:
    files = [dst for _, _, dst in _FILES] + [FAVICON]
    return [dst for dst in files if not (target / dst).exists()]


def ensure_installed(target: Path = VENDOR_DIR) -> None:
    if missing(target):
        install(target)


def urls(prefix: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """folium-style (name, url) lists for JS and CSS below ``prefix``."""
    prefix = prefix.rstrip("/")
    return ([(n, f"{prefix}/{p}") for n, p in MAP_JS], [(n, f"{prefix}/{p}") for n, p in MAP_CSS])


if __name__ == "__main__":
    paths = install()
    print(f"Installed {len(paths)} map asset entries into {VENDOR_DIR}")
    sys.exit(0)
