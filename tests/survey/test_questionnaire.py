"""The questionnaire itself: default content, translations, option order, definition checks."""

from __future__ import annotations

import pytest

from parley.consultation.questionnaire import Codebook, option_order, parse_definition
from parley.consultation.survey import WithdrawalCodes
from parley.consultation.survey_content import LANGS, default_definition
from parley.errors import InvalidInput

pytestmark = pytest.mark.unit


def test_default_survey_is_un75s_in_the_six_un_languages() -> None:
    d = parse_definition(default_definition())
    assert set(d.languages) == {"en", "fr", "es", "ar", "ru", "zh"}
    assert [q.key for q in d.questions] == ["future", "priorities", "trends", "cooperation", "advice"]
    assert d.missing_translations() == []
    for key, texts in d.labels.items():
        assert set(texts) == set(LANGS), key
    priorities = d.question("priorities")
    assert priorities is not None and priorities.max_choices == 3 and priorities.randomise and priorities.allow_other
    assert {"human_rights", "less_conflict", "basic_services", "environment", "employment",
            "less_corruption"} <= set(priorities.option_keys)
    trends = d.question("trends")
    assert trends is not None
    assert {"climate", "armed_conflict", "new_technologies", "forced_migration", "health_risks", "cyber_warfare",
            "terrorism", "nuclear_weapons", "population", "relations"} <= set(trends.option_keys)
    cooperation = d.question("cooperation")
    assert cooperation is not None and len(cooperation.options) == 5


def test_option_order_is_random_per_respondent_stable_per_key_and_other_stays_last() -> None:
    d = parse_definition(default_definition())
    priorities = d.question("priorities")
    future = d.question("future")
    assert priorities is not None and future is not None
    orders = {tuple(o.key for o in option_order(priorities, f"respondent-{i}")) for i in range(20)}
    assert len(orders) > 10
    assert all(order[-1] == "other" for order in orders)
    assert all(sorted(order) == sorted(priorities.option_keys) for order in orders)
    again = [o.key for o in option_order(priorities, "respondent-3")]
    assert again == [o.key for o in option_order(priorities, "respondent-3")]
    assert option_order(future, "respondent-3") == future.options


def test_definition_errors_name_the_field() -> None:
    data = default_definition()
    data["questions"][1]["options"][0]["key"] = "Bad Key"
    data["questions"][2]["text"].pop("en")
    data["questions"][3]["kind"] = "ranking"
    with pytest.raises(InvalidInput) as info:
        parse_definition(data)
    assert set(info.value.fields) == {"questions.1.options.0.key", "questions.2.text.en", "questions.3.kind"}


def test_codebook_only_grows_and_keeps_bits() -> None:
    d1 = parse_definition(default_definition())
    book1 = Codebook.from_json(None).extended(d1)
    data = default_definition()
    data["questions"][1]["options"] = [o for o in data["questions"][1]["options"] if o["key"] != "employment"]
    data["questions"][1]["options"].insert(0, {"key": "peace", "text": {"en": "Peace"}})
    book2 = book1.extended(parse_definition(data))
    assert book2.bits["priorities"]["employment"] == book1.bits["priorities"]["employment"]
    assert book2.bits["priorities"]["peace"] == len(book1.bits["priorities"])
    assert book2.slots == book1.slots
    mask = book2.encode("priorities", ["peace", "employment"])
    assert sorted(book2.decode("priorities", mask)) == ["employment", "peace"]


def test_a_choice_question_cannot_become_a_text_question_under_the_same_key() -> None:
    book = Codebook.from_json(None).extended(parse_definition(default_definition()))
    data = default_definition()
    data["questions"][0] = {"key": "future", "kind": "text", "text": {"en": "Say it"}, "options": []}
    with pytest.raises(InvalidInput) as info:
        book.extended(parse_definition(data))
    assert "questions.0.kind" in info.value.fields


def test_withdrawal_codes_round_trip_and_reject_forgeries() -> None:
    codes = WithdrawalCodes("secret-one")
    code = codes.make("response", 123456)
    assert codes.read(code) == ("response", 123456)
    assert codes.read(code.lower().replace("-", " ")) == ("response", 123456)
    assert codes.read(codes.make("receipt", 7)) == ("receipt", 7)
    assert WithdrawalCodes("another-secret").read(code) is None
    tampered = ("0" if code[0] != "0" else "1") + code[1:]
    assert codes.read(tampered) is None
    assert codes.read("not a code") is None
    assert "123456" not in code.replace("-", "")
