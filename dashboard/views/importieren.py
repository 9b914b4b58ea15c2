"""Import page: upload a file, see the check's summary and a preview, then store it.

Uses the same code path as `python -m loaders import` and `fetch`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, cache, ui, uploads
from dashboard.i18n import t, term
from geodata import domain
from loaders import schema

lang = ui.current_language()
st.title(t("page_import", lang))
ctx = ui.context(lang, "importieren")
store = cache.store(ctx.location)

st.markdown(t("import_intro", lang))
layer = st.selectbox(t("layer", lang), list(schema.SPECS), key="imp_layer")
upload = st.file_uploader(t("file", lang), key="imp_file")
mode = st.radio(" ", ["replace", "append"], format_func=lambda m: t(f"mode_{m}", lang), horizontal=True, label_visibility="collapsed")
licence = st.text_input(t("licence", lang), value="dl-de/by-2-0")
defaults = None
if layer == "patrols":
    st.caption(t("patrol_defaults", lang))
    c1, c2 = st.columns(2)
    defaults = {
        "unit": c1.selectbox(t("units", lang), list(domain.UNITS), format_func=lambda k: term(domain.UNITS, k, lang)),
        "mode": c2.selectbox(t("modes", lang), list(domain.MODES), format_func=lambda k: term(domain.MODES, k, lang)),
    }

uploads.keep_only(upload, st.session_state)  # a replaced or cleared upload's temp copy goes
done = st.session_state.get("_imp_done")
if upload is not None and done and done[0] == uploads.upload_key(upload):
    # imported already: not checked or stored again unless the file is chosen again
    st.success(t("imported", lang))
    st.code(done[1], language=None)
    st.caption(t("import_again", lang))
elif upload is not None:
    checked = uploads.check_upload(upload, layer, defaults)
    if checked.error:
        st.error(t("check_failed", lang))
        st.code(checked.error, language=None)
    else:
        st.subheader(t("summary", lang))
        st.code(checked.summary, language=None)
        st.caption(t("preview", lang))
        st.dataframe(checked.preview, hide_index=True, width="stretch")
        if st.button(t("commit", lang), type="primary"):
            result = uploads.commit(store, checked, mode, licence)
            if result.error:
                st.error(t("check_failed", lang))
                st.code(result.error, language=None)
            else:
                auth.audit("import", layer, f"{mode}: {int(result.preview['rows'].iloc[0])} rows from file {upload.name[:120]}")
                st.session_state["_imp_done"] = (uploads.upload_key(upload), result.summary)
                st.success(t("imported", lang))
                st.code(result.summary, language=None)

st.divider()
st.subheader(t("fetch_title", lang))
st.caption(t("fetch_intro", lang))
for name, source in uploads.sources().items():
    c1, c2 = st.columns([3, 1])
    c1.markdown(f"**{name}** → `{source.layer}`  \n{source.description} · {source.licence}")
    if c2.button(t("fetch_button", lang), key=f"fetch_{name}"):
        with st.spinner(source.default_url):
            message, ok = uploads.fetch(store, name)
        if ok:
            auth.audit("fetch", source.layer, message)
        (st.success if ok else st.error)(t("imported", lang) if ok else t("fetch_failed", lang))
        st.code(message, language=None)
