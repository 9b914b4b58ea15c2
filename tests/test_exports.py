"""CSV exports: office conventions and no live formulas."""

from __future__ import annotations

import io

import pandas as pd
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
