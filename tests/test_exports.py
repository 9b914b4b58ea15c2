"""CSV exports: office conventions and no live formulas."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders.exports import FORMULA_START, csv_bytes


def test_formulas_are_defused_and_numbers_stay_numbers():
    frame = pd.DataFrame({"Stadtteil": ['=HYPERLINK("http://x","klick")', "+1", "-2", "@SUM(A1)", "Zentrum"], "n": [1, -2, 3, 4, 5]})
    text = csv_bytes(frame, "de").decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert back["Stadtteil"].tolist() == ["'=HYPERLINK(\"http://x\",\"klick\")", "'+1", "'-2", "'@SUM(A1)", "Zentrum"]
    assert back["n"].tolist() == [1, -2, 3, 4, 5]


@given(st.lists(st.text(max_size=20), min_size=1, max_size=10))
def test_no_text_cell_starts_like_a_formula(values):
    frame = pd.DataFrame({"text": values})
    back = pd.read_csv(io.StringIO(csv_bytes(frame, "en").decode("utf-8")), keep_default_na=False, dtype=str)
    for cell in back["text"]:
        assert not cell.startswith(FORMULA_START)


def test_yes_no_columns_are_words_of_the_language():
    frame = pd.DataFrame({"Stadtteil": ["A", "B", "C"], "n < 5": [True, False, True],
                          "offen": pd.array([True, None, False], dtype="boolean"), "Anteil": [0.5, 1.25, None]})
    de = csv_bytes(frame, "de").decode("utf-8-sig")
    assert de.splitlines()[1:] == ["A;ja;ja;0,5", "B;nein;;1,25", "C;ja;nein;"]
    en = csv_bytes(frame, "en").decode("utf-8")
    assert en.splitlines()[1:] == ["A,yes,yes,0.5", "B,no,,1.25", "C,yes,no,"]
    assert "True" not in en and "False" not in en


def district_figures(name: str) -> pd.DataFrame:
    """One district as the map page's analysis delivers it."""
    return pd.DataFrame(
        {
            "code": ["01"], "name": [name], "population": [1234.4], "area_km2": [3.921], "incidents": [3],
            "incidents_per_1000": [2.4302], "incidents_per_km2": [0.765], "coverage_share": [0.914],
            "green_coverage_share": [None], "meeting_points_active": [1], "facilities": [2], "crime_cases": [10],
            "crime_rate": [810.0], "small_count": [True], "in_scope": [True], "geometry": [None],
        }
    )


@pytest.mark.parametrize("lang, sep, small", [("de", ";", "ja"), ("en", ",", "yes")])
def test_the_district_table_csv_defuses_names_and_writes_yes_no(lang, sep, small):
    from dashboard import tables

    frame = tables.district_table(district_figures('=HYPERLINK("http://x","klick")'), lang)
    text = tables.to_csv(frame, lang).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), sep=sep, decimal="," if lang == "de" else ".", keep_default_na=False)
    name, small_col = back.columns[1], back.columns[-1]
    assert back[name].tolist() == ["'=HYPERLINK(\"http://x\",\"klick\")"]
    assert back[small_col].tolist() == [small]
    assert back.iloc[0, 3] == pytest.approx(3.92)  # numbers stay numbers, with the language's decimal mark
    # a styled table (as st.dataframe gets it) exports the same
    from dashboard import formats

    assert tables.to_csv(formats.table_style(frame, lang), lang).decode("utf-8-sig") == text
