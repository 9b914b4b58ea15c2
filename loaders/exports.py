"""CSV for office software: German or English conventions, and no live formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read as a formula by Excel and LibreOffice (CSV injection, e.g. a district
or comment named ``=HYPERLINK(...)``). Such text cells get a leading
apostrophe, as OWASP recommends; numbers stay numbers.

Yes/no columns are written as words of the language (``ja``/``nein``,
``yes``/``no``), not as ``True``/``False``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES_NO = {"de": ("ja", "nein"), "en": ("yes", "no")}


def defuse_text(value):
    """A text value that spreadsheet software shows as text; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def defuse_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and column name) defused."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(defuse_text)
    out.columns = [defuse_text(str(c)) for c in out.columns]
    return out


def _is_yes_no(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return True
    if column.dtype != object:
        return False
    values = column.dropna()
    return bool(len(values)) and all(isinstance(v, (bool, np.bool_)) for v in values)


def yes_no_words(frame: pd.DataFrame, lang: str = "de") -> pd.DataFrame:
    """A copy with every yes/no column as words of the language; missing stays missing."""
    yes, no = YES_NO["en" if lang == "en" else "de"]

    def word(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        return yes if value else no

    out = frame.copy()
    for col in out.columns:
        if _is_yes_no(out[col]):
            out[col] = out[col].astype(object).map(word)
    return out


def csv_bytes(frame: pd.DataFrame, lang: str = "de") -> bytes:
    """CSV as office software in the language expects it (German: ';', decimal comma, UTF-8 with BOM),
    yes/no as words, formulas defused."""
    safe = defuse_formulas(yes_no_words(frame, lang))
    if lang == "de":
        return safe.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
    return safe.to_csv(index=False).encode("utf-8")
