"""Präventionsatlas Chemnitz: entry point (`streamlit run dashboard/app.py`).

Nothing but the sign-in form is served until a user has signed in; then only
the pages the user's role may open are registered.
"""

from __future__ import annotations

import streamlit as st

from dashboard import assets, auth, ui
from dashboard.i18n import t

assets.ensure_installed()
st.set_page_config(page_title="Präventionsatlas Chemnitz", page_icon=str(assets.VENDOR_DIR / assets.FAVICON), layout="wide")
lang = ui.language()
user = auth.current_user()

PAGES = [
    ("karte", "views/karte.py", "page_map", ":material/map:"),
    ("luecken", "views/luecken.py", "page_gaps", ":material/radar:"),
    ("workshop", "views/workshop.py", "page_workshop", ":material/groups:"),
    ("importieren", "views/importieren.py", "page_import", ":material/upload:"),
    ("protokoll", "views/protokoll.py", "page_audit", ":material/history:"),
    ("info", "views/info.py", "page_info", ":material/info:"),
]
if user is None:
    # every address shows the sign-in form, and keeps its path for after signing in
    def _sign_in_for(key):
        def page():
            auth.login_page(lang)

        page.__name__ = f"sign_in_{key}"
        return page

    pages = [st.Page(_sign_in_for(key), title=t("login_submit", lang), url_path=key, default=(key == "karte")) for key, *_ in PAGES]
    st.navigation(pages, position="hidden").run()
    st.stop()

allowed = user.policy.pages
first = next((key for key, *_ in PAGES if key in allowed), None)
pages = [
    st.Page(path, title=t(title, lang), icon=icon, url_path=key, default=(key == first))
    for key, path, title, icon in PAGES
    if key in allowed
]
auth.sidebar_account(user, lang)
st.navigation(pages).run()
