"""Every number, share, date and yes/no the dashboard shows, in the UI language.

German: ``1.234,5``, ``91 %``, ``31.12.2025, 14:05``, ``Ja``/``Nein``.
English: ``1,234.5``, ``91%``, ``31 Dec 2025, 14:05``, ``Yes``/``No``.
Missing values (None, NaN, NA, infinite) are shown as ``–``. Times are shown in
local time (Europe/Berlin); naive times are read as UTC, the store's convention.

Tables: ``st.dataframe`` formats numbers with a printf pattern (always a decimal
point) or with the *browser's* locale ("localized", "percent"), not with the
UI language. So tables get a pandas ``Styler`` (``table_style``) whose display
texts are in the UI language, while the cells keep their numbers, and sorting
stays numeric. Missing cells show ``DATAFRAME_PLACEHOLDER`` (``dataframe_args``).

Charts: ``style_figure`` sets plotly's decimal and thousands separators and
keeps count axes on whole numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geodata import domain
from loaders.exports import YES_NO

DASH = "–"
DATAFRAME_PLACEHOLDER = DASH
LOCAL_TZ = ZoneInfo(domain.LOCAL_TZ)
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# a German share keeps its number and the sign together: no line break in between
PERCENT_SPACE = "\u00a0"


def _lang(lang: str | None) -> str:
    return "en" if lang == "en" else "de"


def is_missing(value) -> bool:
    """None, NaN, pandas' NA/NaT and infinite numbers: nothing to show."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (str, bytes, bool, np.bool_)):
        return False
    try:
        return bool(pd.isna(value)) or (isinstance(value, (int, float, np.number)) and not math.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


# -- numbers -------------------------------------------------------------------

def number(value, lang: str = "de", decimals: int = 0) -> str:
    """``1.234,5`` (German) or ``1,234.5`` (English) with ``decimals`` places; ``–`` when missing."""
    if is_missing(value):
        return DASH
    x = float(value)
    text = f"{x:,.{decimals}f}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]  # no "-0" for a value that rounds to zero
    if _lang(lang) == "de":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return text


def percent(share, lang: str = "de", decimals: int = 0) -> str:
    """A share (0..1) in percent: ``91 %`` (German, with a no-break space) or ``91%``; ``–`` when missing."""
    if is_missing(share):
        return DASH
    text = number(100 * float(share), lang, decimals)
    return f"{text}{PERCENT_SPACE}%" if _lang(lang) == "de" else f"{text}%"


def percent_points(value, lang: str = "de", decimals: int = 0) -> str:
    """A value already in percent points (0..100), shown like ``percent``."""
    return DASH if is_missing(value) else percent(float(value) / 100, lang, decimals)


def progress_format(lang: str = "de") -> str:
    """printf pattern for ``st.column_config.ProgressColumn`` over 0..100: whole percent, the language's way."""
    return f"%.0f{PERCENT_SPACE}%%" if _lang(lang) == "de" else "%.0f%%"


# -- yes/no --------------------------------------------------------------------

def yes_no(value, lang: str = "de") -> str:
    """``Ja``/``Nein`` or ``Yes``/``No``; ``–`` when missing."""
    if is_missing(value):
        return DASH
    yes, no = YES_NO[_lang(lang)]
    return (yes if bool(value) else no).capitalize()


# -- dates and times ----------------------------------------------------------------

def to_local(value) -> pd.Timestamp | None:
    """A time (ISO text, datetime, Timestamp) in Europe/Berlin; naive values are read as UTC."""
    if is_missing(value) or value == "":
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if ts is pd.NaT:
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize(timezone.utc)
    return ts.tz_convert(LOCAL_TZ)


def date(value, lang: str = "de") -> str:
    """``31.12.2025`` or ``31 Dec 2025``; a date stays as it is, a time is taken in Europe/Berlin."""
    if is_missing(value) or value == "":
        return DASH
    if isinstance(value, _date) and not isinstance(value, _datetime):
        day = value
    else:
        ts = to_local(value)
        if ts is None:
            return str(value)
        day = ts.date()
    if _lang(lang) == "de":
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def datetime(value, lang: str = "de") -> str:
    """Local time (Europe/Berlin): ``31.12.2025, 14:05`` or ``31 Dec 2025, 14:05``; unreadable text as it is."""
    if is_missing(value) or value == "":
        return DASH
    ts = to_local(value)
    if ts is None:
        return str(value)
    return f"{date(ts, lang)}, {ts.hour:02d}:{ts.minute:02d}"


def now(lang: str = "de") -> str:
    """The current local time, as ``datetime`` shows it."""
    return datetime(_datetime.now(timezone.utc), lang)


# -- tables ---------------------------------------------------------------------------

# How a table column is shown: a number of decimal places, "percent" (values in percent
# points, 0..100), "text" (as it is, missing as "–") or "yesno".
FORMATS_ATTR = "formats"


def _whole(series: pd.Series) -> bool:
    values = pd.to_numeric(series, errors="coerce").dropna()
    values = values[np.isfinite(values.astype(float))]
    return bool(((values % 1) == 0).all())


def column_kind(series: pd.Series):
    """The default display of a column: booleans stay (checkboxes), numbers get as many
    decimals as they need (none for whole numbers, else two), everything else is text."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return 0 if _whole(series) else 2
    return "text"


def cell_text(value, kind, lang: str = "de") -> str:
    """One table cell as text, shown the way ``kind`` says."""
    if is_missing(value):
        return DASH
    if kind == "percent":
        return percent_points(value, lang)
    if kind == "yesno":
        return yes_no(value, lang)
    if isinstance(kind, int) and not isinstance(kind, bool):
        try:
            return number(float(value), lang, kind)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def table_formats(frame: pd.DataFrame) -> dict:
    """The display of each column: what the table's maker set (``frame.attrs["formats"]``), else the default."""
    given = dict(frame.attrs.get(FORMATS_ATTR) or {})
    return {col: given.get(col, column_kind(frame[col])) for col in frame.columns}


def with_formats(frame: pd.DataFrame, formats: Mapping) -> pd.DataFrame:
    """``frame`` with the display of some columns set (kept in ``frame.attrs``)."""
    frame.attrs[FORMATS_ATTR] = {**(frame.attrs.get(FORMATS_ATTR) or {}), **{k: v for k, v in formats.items() if k in frame.columns}}
    return frame


def table_style(frame: pd.DataFrame, lang: str = "de", formats: Mapping | None = None):
    """A pandas Styler for ``st.dataframe``: display texts in the UI language, numbers kept for sorting.

    ``formats`` (column -> decimals | "percent" | "text" | "yesno") adds to the table's own
    (``with_formats``); other columns get ``column_kind``'s default. Boolean columns stay
    checkboxes. Do not set a ``format`` in a NumberColumn's column config: Streamlit then
    ignores the display texts.
    """
    frame = frame.reset_index(drop=True) if not frame.index.is_unique else frame
    kinds = {**table_formats(frame), **{k: v for k, v in (formats or {}).items() if k in frame.columns}}
    shown = {col: (lambda v, kind=kind: cell_text(v, kind, lang)) for col, kind in kinds.items() if kind is not None}
    return frame.style.format(shown, na_rep=DASH)


def dataframe_args(lang: str = "de") -> dict:
    """Keyword arguments for every ``st.dataframe``: missing cells as ``–``, no index, full width."""
    return {"placeholder": DATAFRAME_PLACEHOLDER, "hide_index": True, "width": "stretch"}


def show_table(frame: pd.DataFrame, lang: str = "de", column_config: dict | None = None, formats: Mapping | None = None, **kwargs):
    """``st.dataframe`` of ``frame`` with numbers, shares and yes/no in the UI language."""
    import streamlit as st

    args = {**dataframe_args(lang), **kwargs}
    return st.dataframe(table_style(frame, lang, formats), column_config=column_config, **args)


# -- charts ----------------------------------------------------------------------------

SEPARATORS = {"de": ",.", "en": ".,"}  # plotly: decimal mark, then thousands separator
SMALL_COUNT_RANGE = 10  # up to this many, a count axis gets a tick at every whole number


def _finite_max(values: Iterable) -> float | None:
    try:
        arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    arr = arr[np.isfinite(arr)]
    return float(np.abs(arr).max()) if arr.size else None


def _axis_max(fig, axis: str) -> float | None:
    tops = []
    for trace in fig.data:
        values = getattr(trace, axis, None)
        if values is None:
            continue
        top = _finite_max(values)
        if top is not None:
            tops.append(top)
    return max(tops) if tops else None


def count_axis_layout(top: float | None) -> dict:
    """Axis settings for counts: whole-number ticks with thousands separators, one tick per
    unit while the largest count is small (no 0.5 steps)."""
    layout = {"tickformat": ",d", "hoverformat": ",d", "rangemode": "tozero"}
    if top is None or top <= SMALL_COUNT_RANGE:
        layout.update(tick0=0, dtick=1)
    return layout


def style_figure(fig, lang: str = "de", count_axis: str | None = None):
    """Plotly figure in the UI language's number format; ``count_axis`` ("x", "y" or "z" for a
    heatmap's colour scale) holds counts and gets whole-number ticks. Returns the figure."""
    fig.update_layout(separators=SEPARATORS[_lang(lang)])
    if count_axis in ("x", "y"):
        axis = count_axis_layout(_axis_max(fig, count_axis))
        (fig.update_xaxes if count_axis == "x" else fig.update_yaxes)(**axis)
    elif count_axis == "z":
        top = _axis_max(fig, "z")
        bar = {"tickformat": ",d"}
        if top is None or top <= SMALL_COUNT_RANGE:
            bar.update(tick0=0, dtick=1)
        fig.update_traces(colorbar=bar, selector={"type": "heatmap"})
    elif count_axis is not None:
        raise ValueError(f"count_axis must be 'x', 'y', 'z' or None, not {count_axis!r}")
    return fig
