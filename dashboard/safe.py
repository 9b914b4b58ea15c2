"""Escaping for everything data-driven that is rendered: HTML and Markdown."""

from __future__ import annotations

import html

import pandas as pd

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$&")


def esc(value) -> str:
    """HTML-escaped text; missing values become the empty string."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def md(value) -> str:
    """Text to place inside Markdown (st.markdown, st.caption, labels): markup is shown, not applied."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text).replace("\n", " ")
