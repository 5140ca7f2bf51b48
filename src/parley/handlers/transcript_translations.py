"""A transcript translated by machine in the background, once per line and language.

    meeting ended (every dialogue language) --\\
    a reader asks for a language not ready ----queue--> transcript_translation_jobs (pending)
                                                          | worker: one process (`Leases`),
                                                          v batches per source language
                                TextTranslator --> transcript_machine_translations (text, engine)
    Transcripts.get / export <-- those rows + the job's state: `LanguageProgress`

Translating a long meeting took as long as the page (and again each download) when it was done
during the request. Now a job per (dialogue, language) does it once, through the same
translator (the analysis's: engines, pivots, glossary), and a restart finds pending jobs again.
What it makes is kept apart from the caption translations, with the engine that made it, so a
machine translation is never shown as what listeners saw, nor the other way round.

An engine failure is kept as the engine's name, the source language and whether a retry helps
(never its message, which can hold server paths, nor any text): retryable failures are tried
again after a growing delay, the others wait for someone to press "Try again". Logs carry ids,
languages and counts, never text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from parley.bus.base import Bus, Subscription
from parley.clock import Clock, wait_set
from parley.errors import EngineError
from parley.handlers.leases import Once, run_here
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import transcript_translations as store
from parley.storage.stores import transcripts as transcript_store
from parley.storage.stores.transcript_translations import JobInfo
from parley.storage.stores.transcripts import SegmentInfo
from parley.tasks import TaskOwner
from parley.vocabulary import TranscriptTranslationState

log = logging.getLogger(__name__)

TOPIC = "transcripts"
JOB_NAME = "transcripts.translation"


class TextTranslator(Protocol):
    """What the transcript needs from machine translation: the analysis's translator (an
    adapter over `parley.interpretation.mt.registry.Translator`, with its pivots and glossary)
    fits, as does ``RegistryTranslator(Translator([...]))`` built for the purpose."""

    def engine_for(self, source: str, target: str) -> str | None:
        """The engine (or route) that translates this pair, None when none does."""

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate a batch; raises EngineError when the pair is not covered or the engine fails."""


TranslatorSource = Callable[[], Awaitable[TextTranslator | None]]


def base_language(code: str) -> str:
    return code.split("-")[0].lower()


def caption(translations: Mapping[str, str], language: str) -> str | None:
    """The caption translation into ``language`` (exact tag first, then any of its region)."""
    if translations.get(language, "").strip():
        return translations[language]
    base = base_language(language)
    for code, text in sorted(translations.items()):
        if base_language(code) == base and text.strip():
            return text
    return None


def needs_machine(language: str, translations: Mapping[str, str], target: str) -> bool:
    """A line in ``language`` is neither in ``target`` nor captioned into it: only an engine can give it."""
    return base_language(language) != base_language(target) and caption(translations, target) is None


@dataclass(frozen=True)
class TranslationOptions:
    background: bool = True  # run the worker (off: jobs wait for `run_pending`, as in tests)
    interval_s: float = 60.0  # the worker looks for due jobs at least this often
    batch_lines: int = 32  # lines per engine call and per write: what progress moves by
    settle_s: float = 15.0  # after a meeting ends, for its last lines to land
    retry_s: float = 30.0  # the first retry after a failure a retry may fix; doubles each time
    retry_max_s: float = 900.0
    attempts: int = 6  # then it waits for someone to press "Try again"
    export_wait_s: float = 20.0  # a download waits this long for a language being prepared
    poll_s: float = 1.0  # how often a waiting download looks (another process's worker)

    @classmethod
    def from_config(cls, config: Any) -> TranslationOptions:
        section = getattr(config, "transcripts", None)
        if section is None:
            return cls()
        return cls(background=bool(section.translate_in_background), export_wait_s=float(section.export_wait_s))


@dataclass(frozen=True)
class JobError:
    """The last engine failure of a language's job, as a reader is told about it."""

    source: str
    engine: str
    retryable: bool

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> JobError | None:
        if not data:
            return None
        return cls(source=str(data.get("source", "")), engine=str(data.get("engine", "")),
                   retryable=bool(data.get("retryable")))


ProgressState = Literal["ready", "waiting", "translating", "retrying", "failed"]


@dataclass(frozen=True)
class LanguageProgress:
    """How far a transcript (the lines a reader sees) is translated into one language.

    ``total`` counts the lines only a machine can give in it (neither spoken in it nor captioned
    into it) whose language an engine covers; ``done`` those translated. ``state``: ready (every
    line has its rendition), waiting (lines to translate, not asked for yet), translating,
    retrying (after a failure a retry may fix, at ``retry_at``), failed (someone must act).
    """

    language: str
    state: ProgressState
    done: int = 0
    total: int = 0
    unavailable: tuple[str, ...] = ()  # source languages no engine translates into it
    error: JobError | None = None
    retry_at: datetime | None = None

    @property
    def preparing(self) -> bool:
        return self.state in ("translating", "retrying")

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def left(self) -> int:
        return max(0, self.total - self.done)

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


def progress_of(language: str, sources: Sequence[tuple[int, str]], done_ids: set[int],
                job: JobInfo | None) -> LanguageProgress:
    """The progress of ``language`` over lines (id, source language) that need a machine."""
    unavailable = tuple(sorted(job.unavailable or ())) if job is not None else ()
    covered = [(i, src) for i, src in sources if base_language(src) not in unavailable]
    done = sum(i in done_ids for i, _ in covered)
    total = len(covered)
    error = JobError.of(job.error) if job is not None else None
    state: ProgressState
    if job is not None and job.state == TranscriptTranslationState.PENDING and done < total:
        state = "retrying" if job.not_before is not None and error is not None else "translating"
    elif done >= total:
        state = "ready"
    elif job is not None and job.state == TranscriptTranslationState.FAILED:
        state = "failed"
    else:
        state = "waiting"
    retry_at = job.not_before if state == "retrying" and job is not None else None
    return LanguageProgress(language=language, state=state, done=done, total=total, unavailable=unavailable,
                            error=error if state in ("retrying", "failed") else None, retry_at=retry_at)


class TranscriptTranslations:
    """Queues, runs and reports the background translation of transcripts."""

    def __init__(self, db: Database, clock: Clock, bus: Bus, *, translator: TranslatorSource | None = None,
                 options: TranslationOptions | None = None) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.options = options or TranslationOptions()
        self._translator = translator
        self._lock = asyncio.Lock()  # one pass at a time in this process
        self._kick = asyncio.Event()
        self._changed = asyncio.Event()  # set after each job this process ran (waiting downloads)
        self.runs = 0  # passes this process ran (tests)

    # --- asking -----------------------------------------------------------------------------------

    async def queue(self, dialogue_id: int, languages: Iterable[str], *, settle: bool = False,
                    again: bool = False) -> None:
        """Ask for the dialogue's transcript in these languages (``settle``: not before the last
        lines of a meeting that just ended land; ``again``: now, even if it waits to retry)."""
        wanted = {base_language(code) for code in languages if code}
        if not wanted:
            return
        now = self.clock.now()
        not_before = now + timedelta(seconds=self.options.settle_s) if settle else None
        async with self.db.session() as s:
            await store.queue(s, dialogue_id, wanted, now, not_before=not_before, again=again)
        log.info("transcript of dialogue %s queued for translation into %s", dialogue_id, ",".join(sorted(wanted)))
        await self.kick()

    async def meeting_ended(self, dialogue_id: int) -> None:
        """The transcript into every language of the dialogue, once the last lines land."""
        async with self.db.session() as s:
            d = await dialogue_store.info(s, dialogue_id)
            languages = list(d.languages) if d is not None else []
        await self.queue(dialogue_id, languages, settle=True)

    async def kick(self) -> None:
        """Wake the worker, in this process and wherever it runs."""
        self._kick.set()
        try:
            await self.bus.publish(TOPIC, {"type": "transcripts.translate"})
        except Exception as exc:  # the worker also looks every interval_s
            log.warning("could not announce a transcript translation (%s)", type(exc).__name__)

    async def wait_ready(self, dialogue_id: int, language: str, seconds: float) -> None:
        """Wait up to ``seconds`` (on the clock) while the language's job is being run (not
        while it waits to retry or has failed: that will not end soon)."""
        deadline = self.clock.monotonic() + seconds
        language = base_language(language)
        while self.clock.monotonic() < deadline:
            self._changed.clear()  # before looking: a job that ends meanwhile is not missed
            async with self.db.session() as s:
                job = await store.job(s, dialogue_id, language)
            if job is None or job.state != TranscriptTranslationState.PENDING or job.error is not None:
                return
            await wait_set(self.clock, self._changed, min(self.options.poll_s, deadline - self.clock.monotonic()))

    # --- working ----------------------------------------------------------------------------------

    def start(self, tasks: TaskOwner, *, once: Once = run_here) -> None:
        """The worker, in one process at a time (``once``: the server's `Leases`)."""
        if self.options.background:
            tasks.spawn("transcripts:translation", once(JOB_NAME, self._worker))

    async def run_pending(self) -> int:
        """Run every due job now; how many lines were translated."""
        async with self._lock:
            self.runs += 1
            made = 0
            async with self.db.session() as s:
                jobs = await store.due(s, self.clock.now())
            for job in jobs:
                made += await self._run(job)
                self._changed.set()
            return made

    async def _worker(self) -> None:
        sub = await self.bus.subscribe([TOPIC])
        listener = asyncio.create_task(self._listen(sub), name="transcripts:listen")
        try:
            while True:
                self._kick.clear()
                try:
                    await self.run_pending()
                except Exception as exc:  # the type only: SQL errors can quote text
                    log.error("transcript translation pass failed: %s", type(exc).__name__)
                await wait_set(self.clock, self._kick, await self._next_wait())
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await sub.close()

    async def _listen(self, sub: Subscription) -> None:
        async for _topic, _event in sub:
            self._kick.set()

    async def _next_wait(self) -> float:
        try:
            async with self.db.session() as s:
                due = await store.next_due(s)
        except Exception as exc:
            log.warning("could not read the transcript translation jobs (%s)", type(exc).__name__)
            due = None
        wait = self.options.interval_s
        if due is not None:
            wait = min(wait, max(0.0, (due - self.clock.now()).total_seconds()))
        return wait

    async def _run(self, job: JobInfo) -> int:
        """Translate what the job's dialogue still lacks in its language, batch by batch (each
        batch kept at once: progress shows, and a restart resumes after it)."""
        started = self.clock.now()
        target = job.language
        async with self.db.session() as s:
            lines = await transcript_store.translatable(s, job.dialogue_id)
            done = (await store.translated_ids(s, job.dialogue_id)).get(target, set())
        todo: dict[str, list[SegmentInfo]] = {}
        for seg in lines:
            if seg.id not in done and needs_machine(seg.language, seg.translations or {}, target):
                todo.setdefault(base_language(seg.language), []).append(seg)
        translator = await self._translator() if todo and self._translator is not None else None
        engines = {source: translator.engine_for(source, target) if translator is not None else None
                   for source in todo}
        unavailable = sorted(source for source, engine in engines.items() if engine is None)
        if unavailable:  # told at once: progress counts only what can be translated
            async with self.db.session() as s:
                await store.set_unavailable(s, job.id, unavailable)
        error: dict[str, Any] | None = None
        made = 0
        for source, segs in todo.items():
            engine = engines[source]
            if translator is None or engine is None:
                continue
            for i in range(0, len(segs), max(1, self.options.batch_lines)):
                batch = segs[i:i + self.options.batch_lines]
                failure = None
                try:
                    texts = await translator.translate([seg.text for seg in batch], source, target)
                    if len(texts) != len(batch):
                        failure = EngineError("wrong count", retryable=False, engine=engine)
                except EngineError as exc:
                    failure = exc
                if failure is not None:
                    log.warning("transcript of dialogue %s: translation %s->%s failed (%s, retryable=%s)",
                                job.dialogue_id, source, target, failure.engine or engine, failure.retryable)
                    error = error or {"source": source, "engine": failure.engine or engine,
                                      "retryable": failure.retryable}
                    break
                async with self.db.session() as s:
                    made += await store.add(s, target, [
                        store.Made(segment_id=seg.id, source_text=seg.text, text=text, engine=engine)
                        for seg, text in zip(batch, texts, strict=True)], self.clock.now())
                self._changed.set()
        await self._finish(job, started, unavailable, error)
        log.info("transcript of dialogue %s: %d lines translated into %s", job.dialogue_id, made, target)
        return made

    async def _finish(self, job: JobInfo, started: datetime, unavailable: list[str],
                      error: dict[str, Any] | None) -> None:
        now = self.clock.now()
        state, attempts, not_before = TranscriptTranslationState.DONE, 0, None
        if error is not None:
            attempts = job.attempts + 1
            if error["retryable"] and attempts < self.options.attempts:
                state = TranscriptTranslationState.PENDING
                delay = min(self.options.retry_max_s, self.options.retry_s * 2 ** (attempts - 1))
                not_before = now + timedelta(seconds=delay)
            else:
                state = TranscriptTranslationState.FAILED
        async with self.db.session() as s:
            await store.finish(s, job.id, state=state, now=now, unavailable=unavailable, error=error,
                               attempts=attempts, not_before=not_before, started=started)
