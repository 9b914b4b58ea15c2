"""Numbers, shares, times, yes/no, tables and charts in the UI language (dashboard.formats)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import formats

NBSP = "\u00a0"


def parse_de(text: str) -> float:
    """A German number back to a float: '.' groups thousands, ',' marks decimals."""
    assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d+)?", text), text
    return float(text.replace(".", "").replace(",", "."))


def parse_en(text: str) -> float:
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", text), text
    return float(text.replace(",", ""))


# -- numbers ---------------------------------------------------------------------------

def test_numbers_in_either_language():
    assert formats.number(1234.5, "de", 1) == "1.234,5"
    assert formats.number(1234.5, "en", 1) == "1,234.5"
    assert formats.number(3.923, "de", 2) == "3,92"
    assert formats.number(1234567, "de") == "1.234.567"
    assert formats.number(np.int64(91), "de") == "91"
    assert formats.number(-0.004, "de", 2) == "0,00"  # no "-0"
    assert formats.number(-1234.5, "de", 1) == "-1.234,5"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, float("inf"), -np.inf])
def test_missing_values_are_a_dash(missing):
    assert formats.number(missing, "de") == "–"
    assert formats.percent(missing, "en") == "–"
    assert formats.yes_no(missing, "de") == "–"
    assert formats.cell_text(missing, 2, "de") == "–"


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_german_numbers_parse_back(value, decimals):
    text = formats.number(value, "de", decimals)
    assert ("," in text) == (decimals > 0)
    assert len(text.split(",")[1]) == decimals if decimals else True
    assert math.isclose(parse_de(text), value, abs_tol=0.5 * 10**-decimals + 1e-9 * abs(value))
    assert not re.fullmatch(r"-0(,0*)?", text)


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_english_numbers_parse_back(value, decimals):
    text = formats.number(value, "en", decimals)
    assert math.isclose(parse_en(text), value, abs_tol=0.5 * 10**-decimals + 1e-9 * abs(value))
    # the same digits as in German, with the marks swapped
    assert text.translate(str.maketrans(",.", ".,")) == formats.number(value, "de", decimals)


# -- shares ---------------------------------------------------------------------------

def test_shares_are_percent_in_either_language():
    assert formats.percent(0.91, "de") == f"91{NBSP}%"
    assert formats.percent(0.91, "en") == "91%"
    assert formats.percent(1, "de") == f"100{NBSP}%"
    assert formats.percent(0.1234, "de", 1) == f"12,3{NBSP}%"
    assert formats.percent_points(91.4, "de") == f"91{NBSP}%"
    assert formats.progress_format("de") == f"%.0f{NBSP}%%" and formats.progress_format("en") == "%.0f%%"


@given(st.floats(min_value=0, max_value=1, allow_nan=False))
def test_percent_rounds_to_the_nearest_whole_percent(share):
    de, en = formats.percent(share, "de"), formats.percent(share, "en")
    assert de.endswith(f"{NBSP}%") and en.endswith("%") and not en.endswith(" %")
    shown = parse_de(de.removesuffix(f"{NBSP}%"))
    assert shown == int(shown) and 0 <= shown <= 100
    assert abs(shown - 100 * share) <= 0.5 + 1e-9
    assert parse_en(en.removesuffix("%")) == shown


@given(st.floats(min_value=-1e-7, max_value=1e-7, allow_nan=False))
def test_a_share_of_almost_nothing_is_zero_percent(share):
    assert formats.percent(share, "de") == f"0{NBSP}%"


# -- yes/no, dates, times ----------------------------------------------------------------

def test_yes_no():
    assert [formats.yes_no(v, "de") for v in (True, False, np.bool_(True), 1, 0)] == ["Ja", "Nein", "Ja", "Ja", "Nein"]
    assert [formats.yes_no(v, "en") for v in (True, False)] == ["Yes", "No"]


def test_times_are_local_berlin_time():
    assert formats.datetime("2025-06-30T22:30:00+00:00", "de") == "01.07.2025, 00:30"  # summer time
    assert formats.datetime("2025-01-15T12:00:00Z", "de") == "15.01.2025, 13:00"
    assert formats.datetime("2025-01-15T12:00:00", "de") == "15.01.2025, 13:00"  # naive: UTC, as stored
    assert formats.datetime(pd.Timestamp("2025-06-30T22:30", tz="UTC"), "en") == "1 Jul 2025, 00:30"
    assert formats.datetime(datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc), "de") == "01.01.2026, 00:30"
    assert formats.date(date(2025, 3, 9), "de") == "09.03.2025"
    assert formats.date(date(2025, 3, 9), "en") == "9 Mar 2025"
    assert formats.datetime(None, "de") == "–" and formats.datetime("kein Datum", "de") == "kein Datum"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d", formats.now("de"))


# -- tables ---------------------------------------------------------------------------------

def display_texts(styler) -> pd.DataFrame:
    """What st.dataframe shows: the Styler's display values, taken the way Streamlit takes them."""
    from streamlit.elements.lib.pandas_styler_utils import _use_display_values

    styler._compute()
    return _use_display_values(styler.data, styler._translate(False, False))


def sample() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Stadtteil": ["Zentrum", None, "Rand"],
            "Einwohner": [12345.0, 800.0, np.nan],
            "je 1.000": [3.923, 8.876, np.nan],
            "Anteil %": [91.4, 100.0, np.nan],
            "n < 5": [False, True, False],
            "Fälle": [1200, 3, 0],
        }
    )
    return formats.with_formats(frame, {"Einwohner": 0, "je 1.000": 2, "Anteil %": "percent"})


def test_tables_show_german_numbers_and_keep_them_for_sorting():
    styler = formats.table_style(sample(), "de")
    shown = display_texts(styler)
    assert list(shown["Einwohner"]) == ["12.345", "800", "–"]
    assert list(shown["je 1.000"]) == ["3,92", "8,88", "–"]
    assert list(shown["Anteil %"]) == [f"91{NBSP}%", f"100{NBSP}%", "–"]
    assert list(shown["Fälle"]) == ["1.200", "3", "0"]  # whole numbers by default
    assert list(shown["Stadtteil"]) == ["Zentrum", "–", "Rand"]
    # the cells keep their numbers (st.dataframe sorts by them)
    assert pd.api.types.is_float_dtype(styler.data["je 1.000"]) and styler.data["Einwohner"].iloc[0] == 12345.0


def test_tables_in_english():
    shown = display_texts(formats.table_style(sample(), "en"))
    assert list(shown["Einwohner"])[:2] == ["12,345", "800"]
    assert list(shown["je 1.000"])[:2] == ["3.92", "8.88"]
    assert list(shown["Anteil %"])[:2] == ["91%", "100%"]


def test_table_formats_survive_sorting_and_can_be_given_per_call():
    frame = sample().sort_values("Fälle")
    assert formats.table_formats(frame)["je 1.000"] == 2
    shown = display_texts(formats.table_style(frame.reset_index(drop=True), "de", {"Fälle": "text"}))
    assert list(shown["Fälle"]) == ["0", "3", "1200"]


def test_dataframe_arguments_show_missing_cells_as_a_dash():
    assert formats.dataframe_args("de")["placeholder"] == "–"


# -- charts ---------------------------------------------------------------------------------

def test_charts_use_the_languages_separators_and_whole_counts():
    small = px.bar(pd.DataFrame({"n": [1, 2, 3], "k": ["a", "b", "c"]}), x="n", y="k", orientation="h")
    formats.style_figure(small, "de", count_axis="x")
    assert small.layout.separators == ",."
    assert small.layout.xaxis.tickformat == ",d" and small.layout.xaxis.dtick == 1 and small.layout.xaxis.tick0 == 0
    assert small.layout.yaxis.dtick is None

    large = go.Figure(go.Bar(x=list(range(24)), y=[0, 40, 1200] + [5] * 21))
    formats.style_figure(large, "en", count_axis="y")
    assert large.layout.separators == ".,"
    assert large.layout.yaxis.tickformat == ",d" and large.layout.yaxis.dtick is None  # plotly picks whole steps


def test_heatmap_colour_scale_counts():
    fig = go.Figure(go.Heatmap(z=[[0, 1], [2, 3]]))
    formats.style_figure(fig, "de", count_axis="z")
    assert fig.data[0].colorbar.tickformat == ",d" and fig.data[0].colorbar.dtick == 1
    with pytest.raises(ValueError):
        formats.style_figure(fig, "de", count_axis="w")
