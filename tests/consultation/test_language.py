from __future__ import annotations

import pytest

from parley.consultation.analysis.language import LanguageIdentifier

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The United Nations should do more to stop climate change.", "en"),
        ("Les Nations unies devraient agir davantage contre le changement climatique.", "fr"),
        ("Las Naciones Unidas deberían hacer más contra el cambio climático.", "es"),
        ("Die Vereinten Nationen sollten mehr gegen den Klimawandel tun.", "de"),
        ("يجب على الأمم المتحدة أن تفعل المزيد لوقف تغير المناخ.", "ar"),
        ("Организация Объединённых Наций должна больше делать для борьбы с изменением климата.", "ru"),
        ("联合国应该采取更多行动应对气候变化。", "zh"),
        ("我覺得政府應該對運輸業設置公平的管制規則。", "zh"),
    ],
)
def test_identifies_un_languages(languages: LanguageIdentifier, text: str, code: str) -> None:
    guess = languages.identify(text)
    assert guess.code == code
    assert guess.reliable
    assert 0.5 <= guess.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "12345 !!!", "🙂🙂", "?"])
def test_no_letters_is_undetermined(languages: LanguageIdentifier, text: str) -> None:
    guess = languages.identify(text)
    assert guess.undetermined
    assert guess.confidence == 0.0
    assert not guess.reliable


def test_short_text_is_guessed_but_unreliable(languages: LanguageIdentifier) -> None:
    guess = languages.identify("ok")
    assert guess.code != "und"
    assert not guess.reliable


def test_short_chinese_is_not_called_japanese(languages: LanguageIdentifier) -> None:
    assert languages.identify("气候变化").code == "zh"
    assert languages.identify("ひらがなとカタカナ").code == "ja"


def test_newlines_do_not_break_detection(languages: LanguageIdentifier) -> None:
    guess = languages.identify("Der Klimawandel\nist eine\r\nBedrohung für uns alle.")
    assert guess.code == "de"


def test_identify_many_keeps_order(languages: LanguageIdentifier) -> None:
    texts = ["Bonjour tout le monde, merci beaucoup.", "", "Hola a todos, muchas gracias."]
    codes = [g.code for g in languages.identify_many(texts)]
    assert codes == ["fr", "und", "es"]
