"""Streamlit's own English texts in the UI language.

Streamlit writes some texts itself, in English: the "Select all" entry of a multiselect,
"Choose an option" when nothing is chosen, "No results", the date range presets, the
"Press Enter to apply" hint and a few more. Where a widget has a parameter for its text
(``placeholder=...``) pages use it. For the rest, ``install(lang)`` (called once per run,
before the page) adds a tiny script to the page that

- replaces exactly the texts listed in ``BUILTIN`` and ``BUILTIN_PATTERNS`` wherever they
  appear as a whole text or as an input's placeholder, now and whenever Streamlit draws
  them again (one ``MutationObserver`` per browser tab); switching back to English turns
  them back;
- sets the document's language and the locale the browser reports (``navigator.language``),
  which Streamlit's date picker (month and weekday names) and its "localized" number
  formats read, to the UI language.

The lists below are the one place for these texts, in English (as Streamlit writes them)
and German. Streamlit's texts were taken from its frontend bundle
(``streamlit/static/static/js``); check them there after an upgrade.
"""

from __future__ import annotations

import json
import re

# (as Streamlit writes it, German)
BUILTIN: tuple[tuple[str, str], ...] = (
    # multiselect and selectbox
    ("Select all", "Alle auswählen"),
    ("No results", "Keine Treffer"),
    ("Choose an option", "Option wählen"),
    ("Choose options", "Optionen wählen"),
    ("Choose or add an option", "Option wählen oder hinzufügen"),
    ("Choose or add options", "Optionen wählen oder hinzufügen"),
    ("Add an option", "Option hinzufügen"),
    ("Add options", "Optionen hinzufügen"),
    ("No options to select", "Keine Optionen zur Auswahl"),
    # date input: the preset menu of a date range
    ("Select...", "Auswählen …"),
    ("Past Week", "Letzte Woche"),
    ("Past Month", "Letzter Monat"),
    ("Past 3 Months", "Letzte 3 Monate"),
    ("Past 6 Months", "Letzte 6 Monate"),
    ("Past Year", "Letztes Jahr"),
    ("Past 2 Years", "Letzte 2 Jahre"),
    ("Date range", "Zeitraum"),
    ("Use arrow keys to navigate dates. Enter to select. Escape to close.",
     "Mit den Pfeiltasten durch die Tage, Enter wählt aus, Escape schließt."),
    # text inputs and forms
    ("Press Enter to apply", "Enter zum Übernehmen"),
    ("Press Enter to submit form", "Enter zum Absenden"),
    ("Press Ctrl+Enter to apply", "Strg+Enter zum Übernehmen"),
    ("Press Ctrl+Enter to submit form", "Strg+Enter zum Absenden"),
    ("Press ⌘+Enter to apply", "⌘+Enter zum Übernehmen"),
    ("Press ⌘+Enter to submit form", "⌘+Enter zum Absenden"),
    # file uploader
    ("Drag and drop a file here", "Datei hierher ziehen"),
    ("Drag and drop files here", "Dateien hierher ziehen"),
    ("Upload", "Hochladen"),
    # table and chart toolbars (tooltips)
    ("Download as CSV", "Als CSV herunterladen"),
    ("Search", "Suchen"),
    ("Fullscreen", "Vollbild"),
    ("Close fullscreen", "Vollbild beenden"),
    ("Show/hide columns", "Spalten ein-/ausblenden"),
    # page furniture
    ("Skip to main content", "Zum Hauptinhalt springen"),
    ("View less", "Weniger anzeigen"),
)

# Texts with a number ({n}) or a value ({s}) in them: (as Streamlit writes it, German)
BUILTIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Select {n} matches", "{n} Treffer auswählen"),
    ("View {n} more", "{n} weitere anzeigen"),
    ("{s} per file", "{s} je Datei"),
    ("Choose date range, {s}", "Zeitraum wählen, {s}"),
    ("Choose date, {s}", "Datum wählen, {s}"),
)

LOCALES = {"de": "de-DE", "en": "en-GB"}


def translation(text: str, lang: str) -> str | None:
    """What the script shows for one of Streamlit's texts in ``lang`` (None: not one of them)."""
    for en, de in BUILTIN:
        if text == en:
            return de if lang == "de" else en
    for en, de in BUILTIN_PATTERNS:
        match = re.fullmatch(_regex(en), text)
        if match:
            return _fill(de if lang == "de" else en, match)
    return None


def _regex(template: str) -> str:
    """``Select {n} matches`` -> ``^Select (\\d+) matches$`` (as a Python and JavaScript regex)."""
    parts = re.split(r"(\{[ns]\})", template)
    body = "".join({"{n}": r"(\d+)", "{s}": r"(\S.*?)"}.get(p, re.escape(p)) for p in parts)
    return body


def _fill(template: str, match: re.Match) -> str:
    groups = iter(match.groups())
    return re.sub(r"\{[ns]\}", lambda _m: next(groups), template)


def _js_replacement(template: str) -> str:
    count = iter(range(1, 10))
    return re.sub(r"\{[ns]\}", lambda _m: f"${next(count)}", template.replace("$", "$$"))


def rules(lang: str) -> dict:
    """What the script replaces in ``lang``: German replaces Streamlit's English; English turns
    German replacements (left from before a language switch) back."""
    de = lang != "en"
    exact = {en: ger for en, ger in BUILTIN} if de else {ger: en for en, ger in BUILTIN}
    patterns = [
        ["^" + _regex(src) + "$", _js_replacement(dst)]
        for en, ger in BUILTIN_PATTERNS
        for src, dst in [(en, ger) if de else (ger, en)]
    ]
    return {"lang": "en" if not de else "de", "locale": LOCALES["de" if de else "en"], "exact": exact, "patterns": patterns}


SCRIPT = """<script>
(function () {
  var rules = %s;
  var w = window, doc = document;
  var state = w.__atlasBuiltinText || (w.__atlasBuiltinText = {});
  state.rules = rules;
  var compiled = rules.patterns.map(function (p) { return [new RegExp(p[0]), p[1]]; });
  state.compiled = compiled;
  doc.documentElement.lang = rules.lang;
  try {
    Object.defineProperty(w.navigator, "language", {configurable: true, get: function () { return state.rules.locale; }});
    Object.defineProperty(w.navigator, "languages", {configurable: true, get: function () { return [state.rules.locale]; }});
  } catch (e) {}
  function swap(text) {
    if (!text || text.length > 100) return null;
    var key = text.trim();
    var r = state.rules, hit = Object.prototype.hasOwnProperty.call(r.exact, key) ? r.exact[key] : null;
    if (hit === null) {
      for (var i = 0; i < state.compiled.length; i++) {
        if (state.compiled[i][0].test(key)) { hit = key.replace(state.compiled[i][0], state.compiled[i][1]); break; }
      }
    }
    return hit === null || hit === key ? null : text.replace(key, function () { return hit; });
  }
  function fixText(node) {
    var v = swap(node.nodeValue);
    if (v !== null) node.nodeValue = v;
  }
  function fixPlaceholder(el) {
    var v = swap(el.getAttribute("placeholder"));
    if (v !== null) el.setAttribute("placeholder", v);
  }
  function sweep(root) {
    if (!root) return;
    if (root.nodeType === 3) { fixText(root); return; }
    if (root.nodeType !== 1 && root.nodeType !== 9 && root.nodeType !== 11) return;
    if (root.nodeType === 1 && root.hasAttribute("placeholder")) fixPlaceholder(root);
    var walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT, null);
    for (var n = walker.nextNode(); n; n = walker.nextNode()) fixText(n);
    if (root.querySelectorAll) root.querySelectorAll("[placeholder]").forEach(fixPlaceholder);
  }
  state.sweep = sweep;
  if (!state.observer) {
    state.observer = new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === "characterData") fixText(r.target);
        else if (r.type === "attributes") fixPlaceholder(r.target);
        else r.addedNodes.forEach(sweep);
      });
    });
    state.observer.observe(doc.documentElement, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["placeholder"]});
  }
  sweep(doc.body);
})();
</script>"""

# the element that carries the script takes no room on the page
HIDE_CSS = '<style>.stElementContainer:has(> .stHtml #atlas-builtin-text), [data-testid="stElementContainer"]:has(#atlas-builtin-text) {display: none;}</style>'


def script(lang: str) -> str:
    """The script for ``lang``, with its rules as JSON (every "<" escaped, so no text can end the script)."""
    payload = json.dumps(rules(lang), ensure_ascii=False).replace("<", "\\u003c")
    return '<span id="atlas-builtin-text" hidden></span>' + SCRIPT % payload


def install(lang: str) -> None:
    """Put Streamlit's own texts into ``lang`` on this page (call once per run, before the page)."""
    import streamlit as st

    st.html(HIDE_CSS)
    st.html(script(lang), unsafe_allow_javascript=True)
