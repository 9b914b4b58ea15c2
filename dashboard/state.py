"""The view (filters, colouring, layers, chosen district) and its URL form.

Pure functions: query parameters in, ``View`` out, and back. Unknown or
malformed parameters are ignored rather than breaking a shared link.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from geodata import domain
from geodata.analysis import Selection
from geodata.timewindow import ALL_WEEKDAYS, TimeWindow

METRICS = ("incidents_per_1000", "incidents_per_km2", "coverage_share", "crime_rate", "gap_score")
LAYER_KEYS = ("districts", "green", "coverage", "incidents", "hotspots", "meeting", "facilities")
DEFAULT_LAYERS = tuple(k for k in LAYER_KEYS if k != "hotspots")


@dataclass(frozen=True)
class View:
    selection: Selection = field(default_factory=Selection)
    metric: str = METRICS[0]
    layers: tuple[str, ...] = DEFAULT_LAYERS
    district: str | None = None  # the district whose panel is open
    lang: str = "de"
    present: bool = False  # presentation mode for the projector
    zoom: float | None = None  # map zoom and centre (lat, lon) of a saved view
    center: tuple[float, float] | None = None
    compare: tuple[str, ...] = ()  # districts compared side by side (at most COMPARE_MAX)


COMPARE_MAX = 3


def _list(params: dict, key: str, allowed) -> tuple[str, ...]:
    raw = params.get(key)
    if not raw:
        return ()
    return tuple(v for v in str(raw).split(",") if v in allowed)


def _date(raw) -> date | None:
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _hours(raw) -> tuple[int, int]:
    try:
        start, end = (int(x) for x in str(raw).split("-"))
    except (TypeError, ValueError):
        return (0, 24)
    if 0 <= start <= 23 and 0 <= end <= 24:
        return (start, end)
    return (0, 24)


def from_params(params: dict, district_codes=(), centre: str = domain.DEFAULT_CENTRE_DISTRICT) -> View:
    """Parse query parameters (a plain dict of str → str)."""
    wd = params.get("wd")
    weekdays = frozenset(int(c) for c in str(wd) if c in "0123456") if wd else ALL_WEEKDAYS
    window = TimeWindow(
        date_from=_date(params.get("from")),
        date_to=_date(params.get("to")),
        hours=_hours(params.get("h")) if params.get("h") else (0, 24),
        weekdays=weekdays or ALL_WEEKDAYS,
    )
    sel = Selection(
        window=window,
        categories=_list(params, "cat", domain.CATEGORIES),
        sources=_list(params, "src", domain.SOURCES),
        units=_list(params, "unit", domain.UNITS),
        modes=_list(params, "mode", domain.MODES),
        districts=_list(params, "d", set(district_codes)) if district_codes else (),
        outside_centre=str(params.get("outside", "")) in ("1", "true", "yes"),
        centre=centre,
    )
    layers = params.get("layers")
    layer_tuple = DEFAULT_LAYERS if layers is None else tuple(k for k in str(layers).split(",") if k in LAYER_KEYS)
    district = params.get("sel")
    zoom, center = _zoom(params.get("z")), _center(params.get("c"))
    return View(
        selection=sel,
        metric=params.get("metric") if params.get("metric") in METRICS else METRICS[0],
        layers=layer_tuple,
        district=district if district in set(district_codes) else None,
        lang="en" if params.get("lang") == "en" else "de",
        present=str(params.get("present", "")) == "1",
        zoom=zoom,
        center=center,
        compare=_list(params, "cmp", set(district_codes))[:COMPARE_MAX] if district_codes else (),
    )


def _zoom(raw) -> float | None:
    try:
        z = float(raw)
    except (TypeError, ValueError):
        return None
    return z if 8 <= z <= 19 else None


def _center(raw) -> tuple[float, float] | None:
    try:
        lat, lon = (float(v) for v in str(raw).split(","))
    except (TypeError, ValueError):
        return None
    return (lat, lon) if 50.5 <= lat <= 51.2 and 12.4 <= lon <= 13.4 else None


def to_params(view: View) -> dict[str, str]:
    """Query parameters for a view; defaults are left out to keep links short."""
    sel, win = view.selection, view.selection.window
    out: dict[str, str] = {}
    if view.lang != "de":
        out["lang"] = view.lang
    if win.date_from:
        out["from"] = win.date_from.isoformat()
    if win.date_to:
        out["to"] = win.date_to.isoformat()
    if tuple(win.hours) != (0, 24) and not win.is_all_day:
        out["h"] = f"{win.hours[0]}-{win.hours[1]}"
    if win.weekdays != ALL_WEEKDAYS:
        out["wd"] = "".join(str(d) for d in sorted(win.weekdays))
    for key, values in (("cat", sel.categories), ("src", sel.sources), ("unit", sel.units), ("mode", sel.modes), ("d", sel.districts)):
        if values:
            out[key] = ",".join(values)
    if sel.outside_centre:
        out["outside"] = "1"
    if view.metric != METRICS[0]:
        out["metric"] = view.metric
    if tuple(view.layers) != DEFAULT_LAYERS:
        out["layers"] = ",".join(view.layers)
    if view.district:
        out["sel"] = view.district
    if view.compare:
        out["cmp"] = ",".join(view.compare)
    if view.present:
        out["present"] = "1"
    if view.zoom is not None:
        out["z"] = f"{view.zoom:g}"
    if view.center is not None:
        out["c"] = f"{view.center[0]:.5f},{view.center[1]:.5f}"
    return out


PARAM_KEYS = frozenset(
    {"lang", "from", "to", "h", "wd", "cat", "src", "unit", "mode", "d", "outside", "metric", "layers", "sel", "cmp", "present", "z", "c"}
)
POSITION_KEYS = ("z", "c")


def restrict(params: dict, layers, keep_position: bool) -> dict[str, str]:
    """Query parameters of a view as a user may receive them: only known parameters, only the
    ``layers`` this user may see (an explicit list; without one the page shows the user's own
    defaults), and the map's centre and zoom only with ``keep_position``."""
    out = {str(k): str(v) for k, v in params.items() if k in PARAM_KEYS}
    if "layers" in out:
        out["layers"] = ",".join(k for k in out["layers"].split(",") if k in LAYER_KEYS and k in layers)
    if not keep_position:
        for key in POSITION_KEYS:
            out.pop(key, None)
    return out


def with_selection(view: View, **changes) -> View:
    return replace(view, selection=replace(view.selection, **changes))
