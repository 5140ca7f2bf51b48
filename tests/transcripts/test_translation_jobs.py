"""Transcripts translated in the background: once, with progress, across a restart and two
processes, failures in words and retried where that helps, gone with the transcript."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import httpx
import pytest

from parley.errors import EngineError
from parley.handlers.leases import Leases
from parley.handlers.transcript_formats import Format, TranslationStatus
from parley.handlers.transcript_translations import TranscriptTranslations, TranslationOptions
from parley.server import Server
from parley.storage.analysis_models import TranscriptTranslationState
from parley.storage.stores import transcript_translations as machine
from parley.storage.stores import transcripts as store
from parley.tasks import TaskOwner
from tests.analysis.helpers import Cast, client_for
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt
from tests.transcripts.conftest import Scene, install, line, prepare

HTML = {"Accept": "text/html"}
URL = "/api/v1/dialogues/{}/transcript"


class Scripted:
    """A translator for en->fr only (``[fr] text``) that fails or holds when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []
        self.failures: list[EngineError] = []
        self.hold_call: int | None = None  # the call (1-based) that waits for `gate`
        self.gate = asyncio.Event()

    def engine_for(self, source: str, target: str) -> str | None:
        return "scripted" if (source, target) == ("en", "fr") else None

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        self.calls.append((source, target, list(texts)))
        if self.hold_call == len(self.calls):
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        return [f"[{target}] {text}" for text in texts]


async def eventually(check: Callable[[], Awaitable[bool]], *, seconds: float = 20.0) -> None:
    """Wait for background work, on real time with a generous bound (the fake clock stands still)."""
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the background work did not finish in time")


async def cached(server: Server, dialogue_id: int, language: str) -> dict[int, tuple[str, str]]:
    async with server.db.session() as s:
        return await machine.translations(s, dialogue_id, language)


async def job_state(server: Server, dialogue_id: int, language: str) -> TranscriptTranslationState | None:
    async with server.db.session() as s:
        job = await machine.job(s, dialogue_id, language)
        return job.state if job is not None else None


# --- once ---------------------------------------------------------------------------------------


async def test_each_line_is_translated_once_whoever_asks_and_however_often(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await server.transcript_translations.meeting_ended(scene.dialogue)  # every dialogue language
    assert await server.transcript_translations.run_pending() == 0  # the last lines may still land
    server.clock.advance(20)  # type: ignore[attr-defined]
    assert await server.transcript_translations.run_pending() == 2  # en->fr; ru and en have no engine here
    assert mt.batch_log == [("en", "fr", ["Water for every village.", "Thank you all."])]

    # Pages, downloads, the other reader's own lines, a second pass: nothing is translated again.
    client = await client_for(server, make_client, cast.facilitator)
    for _ in range(2):
        page = await client.get(f"/dialogues/{scene.dialogue}/transcript", params={"language": "fr"}, headers=HTML)
        assert "[fr] Water for every village." in page.text
        vtt = await client.get(URL.format(scene.dialogue), params={"format": "vtt", "lang": "fr"})
        assert vtt.status_code == 200 and "[fr] Thank you all." in vtt.text
    await server.transcripts.get(cast.participants[1], scene.dialogue, scope="mine", language="fr")
    assert await server.transcript_translations.run_pending() == 0
    assert len(mt.batch_log) == 1
    # Kept with the engine's name, apart from the captions listeners saw.
    assert await cached(server, scene.dialogue, "fr") == {
        scene.en: ("[fr] Water for every village.", "fake-mt"), scene.facilitator: ("[fr] Thank you all.", "fake-mt")}
    async with server.db.session() as s:
        seg = await store.segment(s, scene.en)
        assert seg is not None and seg.translations == {}


async def test_lines_added_later_are_translated_when_someone_reads_them(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt) -> None:
    await prepare(server, scene.dialogue, "fr")
    late = await line(server, scene.dialogue, cast.facilitator, "One more thing.", minute=89, language="en")
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert view.preparing is not None and (view.preparing.done, view.preparing.total) == (2, 3)
    assert await server.transcript_translations.run_pending() == 1
    assert mt.batch_log[-1] == ("en", "fr", ["One more thing."])
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert next(x for x in view.lines if x.id == late).translation is not None and view.preparing is None


async def test_a_corrected_line_loses_its_old_translation(server: Server, cast: Cast, scene: Scene, mt: FakeMt) -> None:
    await prepare(server, scene.dialogue, "fr")
    async with server.db.session() as s:
        seg = await store.segment(s, scene.en)
        assert seg is not None
        await store.set_text(s, seg.id, "Clean water for every village.")
    assert scene.en not in await cached(server, scene.dialogue, "fr")
    await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")  # asks again
    await server.transcript_translations.run_pending()
    assert (await cached(server, scene.dialogue, "fr"))[scene.en][0] == "[fr] Clean water for every village."


# --- progress -----------------------------------------------------------------------------------


async def test_the_page_and_the_api_show_progress_then_the_translation(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    mt = Scripted()
    mt.hold_call = 2
    install(server, mt, options=TranslationOptions(background=False, batch_lines=1, export_wait_s=0))
    client = await client_for(server, make_client, cast.facilitator)
    url = f"/dialogues/{scene.dialogue}/transcript"
    first = await client.get(url, params={"language": "fr"}, headers=HTML)
    assert '<meta http-equiv="refresh" content="5">' in first.text
    # Until the worker starts, every line to translate counts (Russian too: no engine is known yet).
    assert "Translating into French: 0 of 3 lines." in first.text
    assert '<progress max="3" value="0"' in first.text
    assert "Water for every village." not in first.text  # the small page, while it works
    assert f'href="/dialogues/{scene.dialogue}/transcript">Read the originals meanwhile' in first.text

    running = asyncio.create_task(server.transcript_translations.run_pending())
    try:
        async def one_done() -> bool:
            return len(await cached(server, scene.dialogue, "fr")) == 1 and len(mt.calls) == 2
        await eventually(one_done)
        page = await client.get(url, params={"language": "fr"}, headers=HTML)
        assert "Translating into French: 1 of 2 lines." in page.text
        status = (await client.get(URL.format(scene.dialogue) + "/translations")).json()
        fr = next(x for x in status["languages"] if x["language"] == "fr")
        assert fr | {"message": ""} == {"language": "fr", "state": "translating", "done": 1, "total": 2,
                                        "unavailable": ["ru"], "error": None, "retry_at": None, "message": ""}
        assert fr["message"] == "Translating into French: 1 of 2 lines."
        # A download does not give half a translation: it says so (after waiting, here 0 s).
        refused = await client.get(URL.format(scene.dialogue), params={"format": "srt", "lang": "fr"})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "transcript_translation_pending"
        assert refused.headers["retry-after"] == "30"
    finally:
        mt.gate.set()
        await running
    done = await client.get(url, params={"language": "fr"}, headers=HTML)
    assert "http-equiv" not in done.text and "[fr] Thank you all." in done.text
    status = (await client.get(URL.format(scene.dialogue) + "/translations")).json()
    assert {x["language"]: (x["state"], x["done"], x["total"], x["unavailable"]) for x in status["languages"]} == {
        "en": ("waiting", 0, 1, []), "fr": ("ready", 2, 2, ["ru"]), "ru": ("waiting", 0, 3, [])}
    # Counts only: in French for a French reader.
    french = (await client.get(URL.format(scene.dialogue) + "/translations", params={"lang": "fr"})).json()
    assert next(x for x in french["languages"] if x["language"] == "fr")["message"] == "Prêt en français."


async def test_a_download_waits_a_while_for_the_worker(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    handler = install(server, Scripted(), options=TranslationOptions(background=True, export_wait_s=30))
    owner = TaskOwner("test")
    handler.translations.start(owner, once=server.leases)
    try:
        client = await client_for(server, make_client, cast.facilitator)
        txt = await client.get(URL.format(scene.dialogue), params={"format": "txt", "lang": "fr"})
        assert txt.status_code == 200, txt.text
        assert "    [fr] [fr] Water for every village.\n" in txt.text
        assert "    [fr] (non traduit)\n" in txt.text  # Russian: no engine; marked, in the file's language
    finally:
        await owner.stop()


# --- restart and several processes ------------------------------------------------------------------


async def test_a_restart_finds_pending_work_and_resumes_after_what_was_done(
        server: Server, cast: Cast, scene: Scene) -> None:
    await server.transcript_translations.queue(scene.dialogue, ["fr"])  # then the process stopped
    async with server.db.session() as s:  # after keeping one batch
        await machine.add(s, "fr", [machine.Made(scene.en, "Water for every village.", "[fr] earlier", "scripted")],
                          server.clock.now())
    mt = Scripted()
    after = install(server, mt, options=TranslationOptions(background=True)).translations
    owner = TaskOwner("restarted")
    after.start(owner, once=server.leases)
    try:
        async def done() -> bool:
            return await job_state(server, scene.dialogue, "fr") == TranscriptTranslationState.DONE
        await eventually(done)
    finally:
        await owner.stop()
    assert mt.calls == [("en", "fr", ["Thank you all."])]
    assert (await cached(server, scene.dialogue, "fr"))[scene.en] == ("[fr] earlier", "scripted")


async def test_two_processes_translate_each_line_once(server: Server, cast: Cast, scene: Scene) -> None:
    mt = Scripted()

    async def source() -> Scripted:
        return mt

    await server.transcript_translations.queue(scene.dialogue, ["fr", "en", "ru"])
    owners, workers = [], []
    for name in ("a", "b"):
        workers.append(TranscriptTranslations(server.db, server.clock, server.bus, translator=source))
        owners.append(TaskOwner(name))
        leases = Leases(server.db, server.clock, holder=f"host:{name}:ns:x", local=False)
        workers[-1].start(owners[-1], once=leases)
    try:
        async def all_done() -> bool:
            return all([await job_state(server, scene.dialogue, code) == TranscriptTranslationState.DONE
                        for code in ("fr", "en", "ru")])
        await eventually(all_done)
    finally:
        for owner in owners:
            await owner.stop()
    assert sorted(w.runs > 0 for w in workers) == [False, True]  # one holds the lease, the other waits
    assert mt.calls == [("en", "fr", ["Water for every village.", "Thank you all."])]


# --- failures ---------------------------------------------------------------------------------------


async def test_a_failure_a_retry_may_fix_is_retried_by_itself(
        server: Server, cast: Cast, scene: Scene, clock: FakeClock,
        make_client: Callable[[], httpx.AsyncClient], caplog: pytest.LogCaptureFixture) -> None:
    mt = Scripted()
    mt.failures = [EngineError("timed out after /srv/models/secret-path", retryable=True, engine="scripted")]
    install(server, mt)
    caplog.set_level(logging.DEBUG, logger="parley")
    await prepare(server, scene.dialogue, "fr")
    client = await client_for(server, make_client, cast.facilitator)
    page = await client.get(f"/dialogues/{scene.dialogue}/transcript", params={"language": "fr"}, headers=HTML)
    assert ("The translation engine (scripted) did not answer while translating English into French. "
            "Parley tries again by itself in a few minutes; 0 of 2 lines are done.") in page.text
    assert '<meta http-equiv="refresh" content="30">' in page.text
    assert "/srv/models" not in page.text  # the engine's message stays in the server
    assert await server.transcript_translations.run_pending() == 0  # not yet
    clock.advance(31)
    assert await server.transcript_translations.run_pending() == 2
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert view.preparing is None and view.progress["fr"].state == "ready"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Water for every village" not in logged and "Thank you all" not in logged  # no text in logs
    assert f"dialogue {scene.dialogue}" in logged


async def test_a_failure_only_a_person_can_fix_says_so_and_try_again_works(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    mt.fail_next = 1
    await prepare(server, scene.dialogue, "fr")
    client = await client_for(server, make_client, cast.facilitator)
    url = f"/dialogues/{scene.dialogue}/transcript"
    page = await client.get(url, params={"language": "fr"}, headers=HTML)
    assert 'id="translation-failed"' in page.text and "trying again will not help until an administrator" in page.text
    assert "Once it is fixed, press Try again." in page.text
    assert "Not translated into French." in page.text  # lines marked, never pretended
    assert await server.transcript_translations.run_pending() == 0  # it does not loop on its own
    from tests.conftest import csrf_from

    del client.headers["X-CSRF-Token"]
    again = await client.post(f"{url}/translate", data={"csrf_token": csrf_from(page.text), "language": "fr"},
                              headers=HTML)
    assert again.status_code == 303 and again.headers["location"] == f"{url}?language=fr"
    assert await server.transcript_translations.run_pending() == 2
    page = await client.get(url, params={"language": "fr"}, headers=HTML)
    assert "translation-failed" not in page.text and "[fr] Water for every village." in page.text


# --- consent and deletion -------------------------------------------------------------------------------


async def test_lines_kept_without_consent_are_not_translated(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt) -> None:
    await prepare(server, scene.dialogue, "fr")
    assert scene.withheld not in await cached(server, scene.dialogue, "fr")
    theirs = await server.transcripts.get(cast.participants[2], scene.dialogue, scope="mine", language="fr")
    assert theirs.preparing is None
    assert [x.translation.status for x in theirs.lines if x.translation] == [TranslationStatus.UNTRANSLATED]


async def test_deleting_the_transcript_deletes_its_translations(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await prepare(server, scene.dialogue, "fr", "en", "ru")
    # A participant deletes what they said: their lines' translations go with them.
    await server.transcripts.delete_mine(cast.participants[1], scene.dialogue)
    assert set(await cached(server, scene.dialogue, "fr")) == {scene.facilitator}
    client = await client_for(server, make_client, cast.facilitator)
    assert (await client.delete(URL.format(scene.dialogue))).json() == {"deleted": 4}
    async with server.db.session() as s:
        assert await machine.translated_ids(s, scene.dialogue) == {}
        assert await machine.jobs_of(s, scene.dialogue) == {}
    # Nothing left to translate, nothing waits.
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert view.lines == [] and view.preparing is None
    export = await server.transcripts.export(cast.facilitator, scene.dialogue, Format.TXT, language="fr")
    assert "Water" not in export.body
