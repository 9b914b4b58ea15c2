"""Präventionsatlas Chemnitz: entry point (`streamlit run dashboard/app.py`)."""

from __future__ import annotations

import streamlit as st

from dashboard import assets, ui
from dashboard.i18n import t

assets.ensure_installed()
st.set_page_config(page_title="Präventionsatlas Chemnitz", page_icon=str(assets.VENDOR_DIR / assets.FAVICON), layout="wide")
lang = ui.language()
pages = [
    st.Page("views/karte.py", title=t("page_map", lang), icon=":material/map:", url_path="karte", default=True),
    st.Page("views/luecken.py", title=t("page_gaps", lang), icon=":material/radar:", url_path="luecken"),
    st.Page("views/importieren.py", title=t("page_import", lang), icon=":material/upload:", url_path="importieren"),
    st.Page("views/info.py", title=t("page_info", lang), icon=":material/info:", url_path="info"),
]
st.navigation(pages).run()
