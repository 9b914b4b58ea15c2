"""Präventionsatlas Chemnitz: entry point (`streamlit run dashboard/app.py`).

Nothing but the sign-in form is served until a user has signed in; then only
the pages the user's role may open are registered.

`streamlit run` finds the ``st.App`` below and serves the dashboard through it,
with ``dashboard.server_guard`` in front of Streamlit's own routes (uploads only
for sessions allowed to import, no metrics). Each session then runs this file
as its script (``__name__ == "__main__"``).
"""

from __future__ import annotations

import contextlib
import threading

import streamlit as st

from dashboard import server_guard

PAGES = [
    ("karte", "views/karte.py", "page_map", ":material/map:"),
    ("luecken", "views/luecken.py", "page_gaps", ":material/radar:"),
    ("workshop", "views/workshop.py", "page_workshop", ":material/groups:"),
    ("importieren", "views/importieren.py", "page_import", ":material/upload:"),
    ("protokoll", "views/protokoll.py", "page_audit", ":material/history:"),
    ("info", "views/info.py", "page_info", ":material/info:"),
]
UPLOAD_PAGES = {"importieren"}  # the only pages with a file uploader


def main() -> None:
    from dashboard import assets, auth, builtin_text, ui
    from dashboard.i18n import t

    assets.ensure_installed()
    st.set_page_config(page_title="Präventionsatlas Chemnitz", page_icon=str(assets.VENDOR_DIR / assets.FAVICON), layout="wide")
    ui.page_style()
    lang = ui.language()
    builtin_text.install(lang)  # Streamlit's own texts (placeholders, dropdowns, date picker) in the UI language
    user = auth.current_user()

    if user is None:
        server_guard.set_uploads(False)

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
    pages = {
        key: st.Page(path, title=t(title, lang), icon=icon, url_path=key, default=(key == first))
        for key, path, title, icon in PAGES
        if key in allowed
    }
    auth.sidebar_account(user, lang)
    current = st.navigation(list(pages.values()))
    # uploads reach the server only for a session that shows the import page to a role allowed to import
    server_guard.set_uploads(any(pages.get(key) is current for key in UPLOAD_PAGES & allowed))
    current.run()


@contextlib.asynccontextmanager
async def _lifespan(_app):
    """At server start: prepare what the first visitor's map needs, in the background."""
    from dashboard import cache

    threading.Thread(target=cache.warm_up, args=(cache.default_location(),), name="atlas-warm-up", daemon=True).start()
    yield None


if __name__ == "__main__":
    main()
else:
    app = st.App(__file__, middleware=server_guard.middleware(), lifespan=_lifespan)
