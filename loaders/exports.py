"""CSV for office software: German or English conventions, and no live formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read as a formula by Excel and LibreOffice (CSV injection, e.g. a district
or comment named ``=HYPERLINK(...)``). Such text cells get a leading
apostrophe, as OWASP recommends; numbers stay numbers.
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def csv_bytes(frame: pd.DataFrame, lang: str = "de") -> bytes:
    """CSV as office software in the language expects it (German: ';', decimal comma, UTF-8 with BOM)."""
    safe = defuse_formulas(frame)
    if lang == "de":
        return safe.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
    return safe.to_csv(index=False).encode("utf-8")
