"""Facilitator reports: the pre-draft from consented transcript lines, editing with autosave,
submission (which moves the dialogue to report_submitted), reopening, quotes and consent,
and who may do what."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from parley.consultation.reports import QuoteInput, ReportInput
from parley.errors import Conflict, Forbidden, InvalidInput
from parley.server import Server
from parley.storage.analysis_models import AnalysisCoding, ReportQuote, SourceType
from parley.storage.models import DialogueState
from parley.storage.stores import transcripts
from tests.analysis.helpers import (
    Cast,
    MissingEmbedder,
    client_for,
    ended_dialogue,
    install_analysis,
    register,
    say,
    set_consent,
)

SECRET = "Zanzibarquux"  # said by someone who did not allow a transcript


async def dialogue_with_transcript(server: Server, cast: Cast) -> int:
    """90 minutes: the future (0-30), on track? (30-60), actions (60-90), in three languages."""
    d = await ended_dialogue(server, cast)
    fr, en, silent, ru = cast.participants
    await register(server, d, fr, language="fr")
    await register(server, d, en, quotes=False, language="en")
    await register(server, d, silent, transcript=False, quotes=False, language="en")
    await register(server, d, ru, language="ru")
    lines = [
        (fr, 3, "fr", "Je rêve d'un monde sans réchauffement climatique et avec des forêts protégées."),
        (en, 5, "en", "A future where climate change is stopped and forests are protected for our children."),
        (silent, 8, "en", f"My name is {SECRET} and I think climate matters."),
        (ru, 12, "ru", "Я хочу будущее, где климат защищён и леса сохранены для детей."),
        (en, 35, "en", "We are not on track: emissions keep growing and governments fail us."),
        (fr, 40, "fr", "Nous ne sommes pas sur la bonne voie, les émissions de carbone augmentent encore."),
        (silent, 45, "en", f"{SECRET} says the emissions are a disaster."),
        (en, 65, "en", "We need more schools and better education for every girl and boy."),
        (fr, 70, "fr", "Il faut investir dans l'éducation et former plus d'enseignants dans les écoles."),
        (ru, 75, "ru", "Нужно больше школ и хорошее образование для всех детей мира."),
        (en, 80, "en", "Ok."),
    ]
    for user, minute, lang, text in lines:
        await say(server, d, user, text, at_minute=minute, language=lang)
    await say(server, d, cast.facilitator, "Thank you all for coming, this was a great dialogue.", at_minute=88)
    return d


async def test_the_predraft_reads_consented_lines_by_phase_and_translates_where_it_can(
        server: Server, cast: Cast) -> None:
    install_analysis(server)
    d = await dialogue_with_transcript(server, cast)

    report = await server.reports.start(cast.facilitator, d, language="en")

    assert report.status == "draft" and report.language == "en"
    everything = " ".join([report.future, report.on_track_text, report.actions, *(q.text for q in report.quotes),
                           *((q.translation or "") for q in report.quotes)])
    assert SECRET not in everything
    assert "Thank you all" not in everything  # the facilitator has no registration: no consent on record
    assert "climat" in report.future.lower() and "school" not in report.future.lower()
    assert "emission" in report.on_track_text.lower()
    assert "school" in report.actions.lower() or "école" in report.actions.lower()
    # French is translated (fake engine), Russian has no engine: kept and marked.
    assert "[en] Je rêve" in report.future
    assert "[ru]" in report.future and "Я хочу" in report.future
    assert "translation_unavailable:ru-en" in report.notices
    # Quote candidates: only speakers who allow quotes, at most two each, none included yet.
    speakers = {q.speaker_user_id for q in report.quotes}
    assert speakers <= {cast.participants[0].id, cast.participants[3].id} and speakers
    assert all(not q.included and q.consent_quotes for q in report.quotes)
    assert max(sum(1 for q in report.quotes if q.speaker_user_id == s) for s in speakers) <= 2
    french = [q for q in report.quotes if q.language == "fr"]
    assert french and all(q.translation == f"[en] {q.text}" and q.translation_engine for q in french)
    russian = [q for q in report.quotes if q.language == "ru"]
    assert all(q.translation is None for q in russian)
    assert report.participant_count == 4 and set(report.languages) == {"en", "fr", "ru"}
    assert {s.user_id for s in report.speakers} == {cast.participants[0].id, cast.participants[3].id}
    # Starting again returns the same report.
    assert (await server.reports.start(cast.facilitator, d)).id == report.id


async def test_without_engines_the_predraft_still_picks_sentences_and_keeps_originals(
        server: Server, cast: Cast) -> None:
    install_analysis(server, translation=False, embedder=MissingEmbedder())
    d = await dialogue_with_transcript(server, cast)

    report = await server.reports.start(cast.facilitator, d, language="en")

    assert "engine_missing" in report.notices and "translation_unavailable:fr-en" in report.notices
    assert "Je rêve" in report.future and "[fr]" in report.future
    assert SECRET not in report.future + report.on_track_text + report.actions


async def test_a_dialogue_without_transcript_gets_an_empty_draft(server: Server, cast: Cast) -> None:
    install_analysis(server)
    d = await ended_dialogue(server, cast)
    report = await server.reports.start(cast.facilitator, d)
    assert report.notices == ["no_transcript"] and report.future == "" and report.quotes == []


async def test_a_report_waits_for_the_dialogue_to_end(server: Server, cast: Cast) -> None:
    install_analysis(server)
    from parley.handlers.dialogues import Action, DialogueInput

    view = await server.dialogues.create(cast.organiser, DialogueInput(
        title="Not yet", starts_at="2026-07-01T10:00", time_zone="UTC", facilitator_id=cast.facilitator.id))
    await server.dialogues.transition(cast.organiser, view.id, Action.PUBLISH)
    with pytest.raises(Conflict) as caught:
        await server.reports.start(cast.facilitator, view.id)
    assert caught.value.code == "dialogue_not_ended"


COMPLETE = {"future": "Clean energy for all.", "on_track": "partly", "on_track_text": "Progress is slow.",
            "actions": "Build schools; plant forests.", "participant_count": 4, "notes": "Lively group."}


async def test_facilitator_autosaves_submits_and_the_report_locks(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server)
    d = await dialogue_with_transcript(server, cast)
    client = await client_for(server, make_client, cast.facilitator)

    started = await client.post(f"/api/v1/dialogues/{d}/report", json={"language": "en"})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["exists"] and body["status"] == "draft" and body["permissions"]["can_submit"]
    version = body["version"]

    saved = await client.put(f"/api/v1/dialogues/{d}/report", json={"version": version, "future": "Peace."})
    assert saved.status_code == 200 and saved.json()["future"] == "Peace."
    stale = await client.put(f"/api/v1/dialogues/{d}/report", json={"version": version, "future": "Lost?"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "report_changed"

    incomplete = await client.post(f"/api/v1/dialogues/{d}/report/submit", json={"on_track": ""})
    assert incomplete.status_code == 422
    assert incomplete.json()["error"]["code"] == "report_incomplete"
    assert set(incomplete.json()["error"]["fields"]) >= {"on_track"}
    assert (await server.dialogues.get(cast.facilitator, d)).state == DialogueState.ENDED

    quote = next(q for q in body["quotes"] if q["language"] == "fr")
    submitted = await client.post(f"/api/v1/dialogues/{d}/report/submit", json={
        **COMPLETE, "quotes": [{"id": quote["id"], "included": True}]})
    assert submitted.status_code == 200, submitted.text
    report = submitted.json()
    assert report["status"] == "submitted" and report["submitted_at"]
    assert [q["id"] for q in report["quotes"]] == [quote["id"]]  # candidates left out are dropped
    assert not report["permissions"]["can_edit"]
    assert (await server.dialogues.get(cast.facilitator, d)).state == DialogueState.REPORT_SUBMITTED

    locked = await client.put(f"/api/v1/dialogues/{d}/report", json={"future": "Changed"})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "report_locked"

    # The submitted sections are analysis sources now.
    await analysis.run_once()
    async with server.db.session() as s:
        sections = set((await s.execute(select(AnalysisCoding.report_section).where(
            AnalysisCoding.source_type == SourceType.REPORT))).scalars())
    assert sections == {"future", "on_track", "actions", "notes"}


async def test_organisers_reopen_and_the_facilitator_submits_again(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server)
    d = await dialogue_with_transcript(server, cast)
    await server.reports.start(cast.facilitator, d)
    await server.reports.submit(cast.facilitator, d, ReportInput(**COMPLETE))  # type: ignore[arg-type]
    await analysis.run_once()

    facilitator = await client_for(server, make_client, cast.facilitator)
    refused = await facilitator.post(f"/api/v1/dialogues/{d}/report/reopen")
    assert refused.status_code == 403
    other = await client_for(server, make_client, cast.other_organiser)  # organising the campaign is not enough
    assert (await other.post(f"/api/v1/dialogues/{d}/report/reopen")).status_code == 403
    organiser = await client_for(server, make_client, cast.organiser)  # the dialogue's owner (or an admin)
    reopened = await organiser.post(f"/api/v1/dialogues/{d}/report/reopen")
    assert reopened.status_code == 200 and reopened.json()["status"] == "draft"
    async with server.db.session() as s:
        left = (await s.execute(select(func.count()).select_from(AnalysisCoding).where(
            AnalysisCoding.source_type == SourceType.REPORT))).scalar_one()
    assert left == 0  # a reopened report is not analysed until submitted again

    again = await facilitator.post(f"/api/v1/dialogues/{d}/report/submit", json={"notes": "Updated."})
    assert again.status_code == 200 and again.json()["status"] == "submitted"
    assert (await server.dialogues.get(cast.facilitator, d)).state == DialogueState.REPORT_SUBMITTED


async def test_quotes_need_the_speakers_consent_and_vanish_when_it_is_withdrawn(server: Server, cast: Cast) -> None:
    analysis, _ = install_analysis(server)
    d = await dialogue_with_transcript(server, cast)
    report = await server.reports.start(cast.facilitator, d)
    fr, en = cast.participants[0], cast.participants[1]

    with pytest.raises(InvalidInput) as caught:
        await server.reports.save(cast.facilitator, d, ReportInput(quotes=[QuoteInput(
            speaker_user_id=en.id, text="Something quotable without consent.", language="en")]))
    assert caught.value.fields == {"quotes.0.speaker_user_id": "no_consent"}

    report = await server.reports.save(cast.facilitator, d, ReportInput(quotes=[QuoteInput(
        speaker_user_id=fr.id, text="Nous devons agir maintenant.", language="fr", translation="We must act now.")]))
    typed = next(q for q in report.quotes if q.text == "Nous devons agir maintenant.")
    assert typed.included and typed.translation == "We must act now." and typed.translation_engine == ""

    await set_consent(server, d, fr, transcript=True, quotes=False)
    report = await server.reports.get(cast.facilitator, d)
    assert all(q.speaker_user_id != fr.id for q in report.quotes)  # hidden at once
    await analysis.run_once()  # ... and deleted by the next pass
    async with server.db.session() as s:
        stored = (await s.execute(select(func.count()).select_from(ReportQuote).where(
            ReportQuote.speaker_user_id == fr.id))).scalar_one()
    assert stored == 0


async def test_deleting_a_participant_removes_their_lines_and_quotes(server: Server, cast: Cast) -> None:
    install_analysis(server)
    d = await dialogue_with_transcript(server, cast)
    await server.reports.start(cast.facilitator, d)
    fr = cast.participants[0]
    assert await server.registrations.delete_all(fr)
    async with server.db.session() as s:
        lines = await transcripts.for_dialogue(s, d)
        quotes = (await s.execute(select(func.count()).select_from(ReportQuote))).scalar_one()
    assert all(line.speaker_user_id != fr.id for line in lines)
    report = await server.reports.get(cast.facilitator, d)
    assert quotes == len(report.quotes) and all(q.speaker_user_id != fr.id for q in report.quotes)


async def test_who_may_see_and_write_a_report(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install_analysis(server)
    d = await dialogue_with_transcript(server, cast)
    await server.reports.start(cast.facilitator, d)
    url = f"/api/v1/dialogues/{d}/report"

    anonymous = make_client()
    assert (await anonymous.get(url)).status_code == 401
    assert (await anonymous.get(f"/api/v1/dialogues/{d}/transcript")).status_code == 401
    for user in (cast.participants[0], cast.interpreter, cast.other_facilitator):
        c = await client_for(server, make_client, user)
        assert (await c.get(url)).status_code == 403, user.role
        assert (await c.get(f"/api/v1/dialogues/{d}/transcript")).status_code == 403
        assert (await c.put(url, json={"future": "x"})).status_code == 403
    viewer = await client_for(server, make_client, cast.other_organiser)
    assert (await viewer.get(url)).status_code == 403  # not its staff
    assert (await viewer.get(f"/api/v1/dialogues/{d}/transcript")).status_code == 403
    await server.observers.grant(cast.organiser, d, cast.other_organiser.id)
    seen = await viewer.get(url)
    assert seen.status_code == 200 and not seen.json()["permissions"]["can_edit"]
    assert (await viewer.put(url, json={"future": "x"})).status_code == 403
    for user in (cast.organiser, cast.admin, cast.facilitator):
        c = await client_for(server, make_client, user)
        assert (await c.get(url)).json()["permissions"]["can_edit"], user.role

    # Facilitators list only their own dialogues' reports.
    other = await ended_dialogue(server, cast, title="Another one")
    async with server.db.session() as s:
        from parley.storage.models import Dialogue

        row = await s.get(Dialogue, other)
        assert row is not None
        row.facilitator_id = cast.other_facilitator.id
    mine = await (await client_for(server, make_client, cast.facilitator)).get("/api/v1/reports")
    assert [r["dialogue_id"] for r in mine.json()] == [d]
    everyone = await (await client_for(server, make_client, cast.organiser)).get("/api/v1/reports")
    assert {r["dialogue_id"] for r in everyone.json()} == {d, other}
    participant = await client_for(server, make_client, cast.participants[0])
    assert (await participant.get("/api/v1/reports")).status_code == 403
    with pytest.raises(Forbidden):
        await server.transcripts.get(cast.interpreter, d)
