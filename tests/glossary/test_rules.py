"""Glossary rules without a database: validation, the CSV format, merging entries into the
effective glossary, recognition hints, and the translator applying the result."""

from __future__ import annotations

import pytest

from parley.errors import InvalidInput
from parley.handlers.glossary import (
    DialogueGlossary,
    EntryInput,
    Term,
    build_glossary,
    hotwords,
    parse_csv,
    parse_translations,
    validate_entry,
)
from parley.interpretation.mt.registry import Translator
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt

pytestmark = pytest.mark.unit

BELT = Term("Belt and Road", "en", {"fr": "la Ceinture et la Route", "es": "la Franja y la Ruta"})
UN75 = Term("UN75", "*", {})


def problems(data: EntryInput) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        validate_entry(data)
    return caught.value.fields


# --- validation ------------------------------------------------------------------------------


def test_a_valid_entry_is_cleaned() -> None:
    clean = validate_entry(EntryInput(term="  Belt   and Road ", language="EN",
                                      translations="fr = la Ceinture et la Route\nes=la Franja y la Ruta",
                                      note=" Chinese infrastructure programme "))
    assert clean.term == "Belt and Road" and clean.term_key == "belt and road"
    assert clean.language == "en"
    assert clean.translations == {"fr": "la Ceinture et la Route", "es": "la Franja y la Ruta"}
    assert clean.note == "Chinese infrastructure programme"


def test_a_name_kept_as_is_needs_only_the_term() -> None:
    clean = validate_entry(EntryInput(term="UN75"))
    assert (clean.language, clean.translations) == ("*", {})


def test_language_codes_are_checked_and_canonical() -> None:
    clean = validate_entry(EntryInput(term="Amazonia", language="pt_br",
                                      translations={"ES": "Amazonía", "*": "Amazon"}))
    assert clean.language == "pt-BR" and clean.translations == {"es": "Amazonía", "*": "Amazon"}
    assert problems(EntryInput(term="Amazonia", language="klingon")) == {"language": "unknown_language"}
    assert problems(EntryInput(term="Amazonia", translations={"xx-1": "A"})) == {"translations": "unknown_language"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (EntryInput(term=""), {"term": "required"}),
        (EntryInput(term="U"), {"term": "length"}),
        (EntryInput(term="x" * 101), {"term": "length"}),
        (EntryInput(term="--"), {"term": "invalid"}),
        (EntryInput(term="line\nbreak"), {"term": "invalid"}),
        (EntryInput(term="a\\b"), {"term": "invalid_character"}),
        (EntryInput(term="UN75", translations="fr"), {"translations": "syntax"}),
        (EntryInput(term="UN75", translations="fr=a;fr=b"), {"translations": "duplicate_language"}),
        (EntryInput(term="UN75", translations={"fr": ""}), {"translations": "length"}),
        (EntryInput(term="UN75", translations={"fr": "x" * 201}), {"translations": "length"}),
        (EntryInput(term="UN75", translations={"fr": "a\\1"}), {"translations": "invalid_character"}),
        (EntryInput(term="UN75", language="en", translations={"en": "UN 75"}), {"translations": "same_language"}),
        (EntryInput(term="UN75", translations={f"l{i:02}": "x" for i in range(31)}), {"translations": "count"}),
        (EntryInput(term="UN75", note="n" * 501), {"note": "length"}),
        (EntryInput(term="", language="zz", note="n" * 501),
         {"term": "required", "language": "unknown_language", "note": "length"}),
    ],
)
def test_invalid_entries_name_every_field(data: EntryInput, expected: dict[str, str]) -> None:
    assert problems(data) == expected


def test_translations_text_accepts_semicolons_and_lines() -> None:
    assert parse_translations("fr=a; es=b\r\nru=c\n\n") == ({"fr": "a", "es": "b", "ru": "c"}, None)
    assert parse_translations("") == ({}, None)


# --- CSV ------------------------------------------------------------------------------------


def test_csv_reads_a_pasted_list() -> None:
    text = (
        "term,language,translations,note\n"
        "UN75,*,,\n"
        '"Belt and Road",en,"fr=la Ceinture et la Route;es=la Franja y la Ruta",A programme\n'
        "\n"
        "Secretary-General\n"  # only the term: any language, kept as written
    )
    rows = parse_csv(text)
    assert [(r.term, r.language, r.translations, r.note) for r in rows] == [
        ("UN75", "*", {}, ""),
        ("Belt and Road", "en", {"fr": "la Ceinture et la Route", "es": "la Franja y la Ruta"}, "A programme"),
        ("Secretary-General", "*", {}, ""),
    ]


def test_csv_reads_columns_copied_from_a_spreadsheet() -> None:
    rows = parse_csv("Agenda 2030\ten\tfr=Programme 2030;es=Agenda 2030\n")
    assert [(r.term, r.language, r.translations) for r in rows] == [
        ("Agenda 2030", "en", {"fr": "Programme 2030", "es": "Agenda 2030"})
    ]


def test_csv_problems_are_reported_per_line_and_nothing_is_read() -> None:
    text = "term,language,translations\nUN75,*,\nun75,*,\nGood term,zz,\nX,en,\nA,b,c,d,e\nFine,fr,en=Fine\n"
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert caught.value.code == "invalid_csv"
    assert caught.value.fields == {
        "line.3.term": "duplicate",
        "line.4.language": "unknown_language",
        "line.5.term": "length",
        "line.6": "columns",
    }


# --- the effective glossary -------------------------------------------------------------------


def pairs(g: DialogueGlossary) -> set[tuple[str, str, str, str]]:
    return {(p[0], p[1], p[2], p[3]) for p in g.to_json()["pairs"]}


def test_entries_expand_over_the_dialogue_languages() -> None:
    g = build_glossary([BELT, UN75], ["en", "fr", "es"])
    assert pairs(g) >= {
        ("en", "fr", "Belt and Road", "la Ceinture et la Route"),
        ("en", "es", "Belt and Road", "la Franja y la Ruta"),
        # read backwards: said in French, English and Spanish listeners get their fixed forms
        ("fr", "en", "la Ceinture et la Route", "Belt and Road"),
        ("fr", "es", "la Ceinture et la Route", "la Franja y la Ruta"),
        # a name kept as written, whatever the pair
        ("en", "fr", "UN75", "UN75"),
        ("fr", "es", "UN75", "UN75"),
        ("es", "en", "UN75", "UN75"),
    }
    assert not any(source == target for source, target, _, _ in pairs(g))


def test_languages_without_a_rendering_are_left_to_the_engine() -> None:
    g = build_glossary([BELT], ["en", "ru"])
    assert pairs(g) == set()
    assert g.terms_for("en") == ["Belt and Road"]


def test_a_regional_language_uses_its_base_language_entries() -> None:
    g = build_glossary([Term("Amazonia", "pt", {"es": "Amazonía"})], ["pt-BR", "es"])
    assert pairs(g) == {("pt-BR", "es", "Amazonia", "Amazonía"), ("es", "pt-BR", "Amazonía", "Amazonia")}


def test_a_dialogue_entry_overrides_the_installation_entry() -> None:
    installation = Term("UN75", "en", {"fr": "ONU75"})
    dialogue = Term("UN75", "*", {}, dialogue=True)
    g = build_glossary([installation, dialogue], ["en", "fr"])
    assert ("en", "fr", "UN75", "UN75") in pairs(g)
    assert ("en", "fr", "UN75", "ONU75") not in pairs(g)
    # and the other way round: the dialogue's specific entry beats the installation's "*"
    g = build_glossary([Term("UN75", "*", {}), Term("UN75", "en", {"fr": "ONU75"}, dialogue=True)],
                       ["en", "fr", "es"])
    assert ("en", "fr", "UN75", "ONU75") in pairs(g)
    assert ("es", "fr", "UN75", "UN75") in pairs(g)  # elsewhere the installation's entry still holds


def test_an_entry_in_its_language_beats_a_rendering_read_backwards() -> None:
    explicit = Term("la Ceinture et la Route", "fr", {"en": "BRI"})
    g = build_glossary([BELT, explicit], ["en", "fr"])
    assert ("fr", "en", "la Ceinture et la Route", "BRI") in pairs(g)
    assert ("fr", "en", "la Ceinture et la Route", "Belt and Road") not in pairs(g)


def test_the_glossary_travels_as_json() -> None:
    g = build_glossary([BELT, UN75], ["en", "fr", "es"])
    copy = DialogueGlossary.from_json(g.to_json())
    assert pairs(copy) == pairs(g) and copy.terms == g.terms and copy.languages == g.languages
    assert copy.protect("UN75 now", "en", "fr") == g.protect("UN75 now", "en", "fr")


# --- recognition hints ------------------------------------------------------------------------


def test_hotwords_list_the_terms_spoken_in_a_language() -> None:
    installation = Term("Agenda 2030", "en", {})
    g = build_glossary([installation, BELT, UN75, Term("SDG", "en", {}, dialogue=True)], ["en", "fr", "es"])
    en = hotwords(g, "en")
    assert en.split(", ")[0] == "SDG"  # the dialogue's own terms first
    assert set(en.split(", ")) == {"SDG", "Agenda 2030", "Belt and Road", "UN75"}
    assert set(hotwords(g, "fr").split(", ")) == {"la Ceinture et la Route", "UN75"}
    assert set(hotwords(g, None).split(", ")) >= {"SDG", "la Franja y la Ruta", "UN75"}  # language being detected
    assert hotwords(g, "fr-CA") == hotwords(g, "fr")
    assert hotwords(g, "ru") == "" and hotwords(build_glossary([], ["en"]), "en") == ""


def test_hotwords_stay_short() -> None:
    many = [Term(f"Programme number {i:03}", "en", {}) for i in range(100)]
    text = hotwords(build_glossary(many, ["en"]), "en", limit=100)
    assert len(text) <= 100 and text.startswith("Programme number")
    assert all(part.startswith("Programme number ") for part in text.split(", "))


# --- the translator -----------------------------------------------------------------------------


async def test_the_translator_renders_terms_the_fixed_way(clock: FakeClock) -> None:
    mt = FakeMt(clock=clock, pairs=[("en", "fr"), ("fr", "en"), ("en", "es")])
    translator = Translator([mt], pivots=(), glossary=build_glossary([BELT, UN75], ["en", "fr", "es"]))
    await translator.start()
    out = await translator.translate(["The belt and road meets un75 today."], "en", "fr")
    assert out.texts == ["[fr] The la Ceinture et la Route meets UN75 today."]
    # the engine never saw the terms, so it could not mistranslate them
    assert "belt" not in mt.batch_log[0][2][0].lower() and "un75" not in mt.batch_log[0][2][0].lower()
    back = await translator.translate(["La Ceinture et la Route et UN75."], "fr", "en")
    assert back.texts == ["[en] Belt and Road et UN75."]
    await translator.aclose()
