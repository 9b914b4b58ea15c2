"""Audit log page (admins): view and export the append-only log."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, ui
from dashboard.i18n import t

lang = ui.current_language()
user = ui.require_page("protokoll")
st.title(t("page_audit", lang))
st.caption(t("audit_intro", lang))
log = auth.audit_log(auth.accounts_path())
entries = log.entries(limit=2000)
st.dataframe(entries, hide_index=True, width="stretch")
st.download_button(t("download_audit", lang), log.to_csv(), file_name="protokoll.csv", mime="text/csv")
