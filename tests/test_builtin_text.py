"""Streamlit's own texts in the UI language (dashboard.builtin_text): the list, the script, chosen labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import streamlit

from dashboard import builtin_text

BUNDLE = Path(streamlit.__file__).parent / "static" / "static" / "js"

# Texts the frontend puts together at run time, and the pieces it puts them together from.
COMPOSED = {
    "Press Enter to apply": ["`Press Enter to ${e}`", "`apply`"],
    "Press Enter to submit form": ["`Press Enter to ${e}`", "`submit form`"],
    "Press Ctrl+Enter to apply": ["+Enter to ${e}`", "`Ctrl`", "`apply`"],
    "Press Ctrl+Enter to submit form": ["+Enter to ${e}`", "`Ctrl`", "`submit form`"],
    "Press ⌘+Enter to apply": ["+Enter to ${e}`", "`⌘`", "`apply`"],
    "Press ⌘+Enter to submit form": ["+Enter to ${e}`", "`⌘`", "`submit form`"],
    "Choose date range, {s}": ["`Choose date range`"],  # the calendar's heading: its label, the month
    "Choose date, {s}": ["`Choose date`"],
}


@pytest.fixture(scope="module")
def bundle() -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in BUNDLE.glob("*.js"))


@pytest.mark.parametrize("english", [en for en, _ in builtin_text.BUILTIN + builtin_text.BUILTIN_PATTERNS])
def test_every_listed_text_is_one_streamlit_writes(bundle, english):
    """After an upgrade of Streamlit, a text it no longer writes shows up here."""
    if english in COMPOSED:
        pieces = COMPOSED[english]
    elif "{" in english:  # a template: its literal parts
        pieces = [part for part in re.split(r"\{[ns]\}", english) if part.strip()]
    else:
        pieces = [f"`{english}`"]
    for piece in pieces:
        assert piece in bundle, (english, piece)


def test_each_text_has_one_german_translation_and_back():
    english = [en for en, _ in builtin_text.BUILTIN]
    german = [de for _, de in builtin_text.BUILTIN]
    assert len(set(english)) == len(english) and len(set(german)) == len(german)
    assert not set(english) & set(german)
    for en, de in builtin_text.BUILTIN:
        assert builtin_text.translation(en, "de") == de and builtin_text.translation(en, "en") == en
    assert builtin_text.translation("Select 12 matches", "de") == "12 Treffer auswählen"
    assert builtin_text.translation("200MB per file", "de") == "200MB je Datei"
    assert builtin_text.translation("Choose date range, November 2023", "de") == "Zeitraum wählen, November 2023"
    assert builtin_text.translation("Verbale Gewalt", "de") is None


def test_the_rules_replace_english_in_german_and_turn_german_back_in_english():
    de, en = builtin_text.rules("de"), builtin_text.rules("en")
    assert de["exact"]["Select all"] == "Alle auswählen" and en["exact"]["Alle auswählen"] == "Select all"
    assert (de["lang"], de["locale"], en["lang"], en["locale"]) == ("de", "de-DE", "en", "en-GB")
    # the patterns as the script applies them (JavaScript's "$1" is Python's "\\1")
    def apply(rules, text):
        for source, target in rules["patterns"]:
            if re.search(source, text):
                return re.sub(source, target.replace("$", "\\"), text)

    assert apply(de, "Select 3 matches") == "3 Treffer auswählen" and apply(en, "3 Treffer auswählen") == "Select 3 matches"
    assert apply(de, "View 2 more") == "2 weitere anzeigen" and apply(de, "Select all") is None


def test_the_script_carries_its_rules_as_data_only():
    script = builtin_text.script("de")
    payload = script.split("var rules = ", 1)[1].split(";\n", 1)[0]
    assert "<" not in payload  # nothing in the data can close the script element
    assert json.loads(payload) == builtin_text.rules("de")
    assert script.count("<script>") == 1 and 'id="atlas-builtin-text"' in script


def _filters():
    import streamlit as st

    from dashboard import ui
    from dashboard.i18n import term
    from geodata import domain

    lang = ui.language()  # the sidebar's language switch, as on every page
    chosen = st.multiselect("c", list(domain.CATEGORIES), format_func=lambda k: term(domain.CATEGORIES, k, lang), key="f_cat")
    # as every page does: the view, in keys, is published after the widgets are read
    st.session_state[ui.VIEW_KEY] = {"cat": ",".join(ui.as_keys("f_cat", chosen)), **({"lang": "en"} if lang == "en" else {})}


def test_a_chosen_label_is_sent_again_after_a_switch_of_language():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_filters, default_timeout=60)
    at.run()
    at.multiselect(key="f_cat").select("racist_insult").run()
    assert at.multiselect(key="f_cat").value == ["racist_insult"]
    for lang, label in (("en", "Racist insult"), ("de", "Rassistische Beleidigung"), ("en", "Racist insult")):
        at.sidebar.button_group[0].set_value(lang).run()
        proto = at.multiselect(key="f_cat").proto
        # the browser draws the chips from what it was sent: without a new value the old label would stay
        assert proto.set_value and list(proto.raw_values) == [label]
        assert at.multiselect(key="f_cat").value == ["racist_insult"]
        at.run()
        assert not at.multiselect(key="f_cat").proto.set_value  # once drawn in the language, nothing more to send
