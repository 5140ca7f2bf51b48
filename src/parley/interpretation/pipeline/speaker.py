"""One speaker's pipeline: audio -> streaming recognition -> original captions ->
translation per listener language -> translated captions and voices. Every line shown ends
final: an open line whose final does not come is closed with its newest partial.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Collection, Mapping
from dataclasses import dataclass

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.asr.base import AsrStream
from parley.interpretation.frames import (
    AudioChunk,
    Caption,
    EngineHealth,
    HealthStatus,
    PipelineEvent,
    SpeechEnd,
    SpeechStart,
    Transcript,
)
from parley.interpretation.metrics import StageMetrics
from parley.interpretation.mt.base import PairUnavailable
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline.events import EventFanout, EventSink, with_speaker
from parley.interpretation.pipeline.options import PipelineOptions
from parley.interpretation.pipeline.voice import VoiceChannel
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _MtJob:
    transcript: Transcript
    text: str


@dataclass(eq=False)
class _OpenLine:
    """A line shown as partial whose final has not come: its newest partial, and when."""

    transcript: Transcript
    updated_at: float


class SpeakerPipeline:
    """One speaker: recognition, captions, translations into ``targets``, and voice."""

    def __init__(self, speaker_id: str, asr: AsrStream, *, translator: Translator, targets: Collection[str],
                 clock: Clock, voices: Mapping[str, VoiceChannel] | None = None,
                 options: PipelineOptions | None = None, on_event: EventSink | None = None,
                 metrics: StageMetrics | None = None) -> None:
        self.speaker_id = speaker_id
        self.asr = asr
        self.translator = translator
        self.targets = set(targets)
        self.clock = clock
        self.voices = dict(voices or {})
        self.options = options or PipelineOptions()
        self.metrics = metrics or StageMetrics()
        self._events = EventFanout(on_event, self.options.event_queue)
        self._tasks = TaskOwner(f"pipeline:{speaker_id}")
        self._jobs: deque[_MtJob] = deque()
        self._jobs_ready = asyncio.Event()
        self._asr_done = False
        self._revisions: dict[tuple[str, str], int] = {}
        self._translated_stable: dict[str, str] = {}
        self._open: dict[str, _OpenLine] = {}  # utterance -> its newest partial
        self._open_translations: dict[tuple[str, str], Caption] = {}  # (utterance, language) -> partial
        self.forced = 0  # lines closed with their partial
        self._pair_status: dict[tuple[str, str], HealthStatus] = {}
        self._consumer: asyncio.Task[None] | None = None
        self._translator_task: asyncio.Task[None] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self.language: str | None = None

    async def start(self) -> None:
        self._consumer = self._tasks.spawn("asr-events", self._consume())
        self._translator_task = self._tasks.spawn("translate", self._translate_loop())
        if self.options.final_timeout_s is not None:
            self._tasks.spawn("final-timeout", self._final_watchdog(self.options.final_timeout_s))

    def attach(self, source: AsyncIterable[AudioChunk]) -> None:
        """Feed the pipeline from an audio source (e.g. an `RtpAudioSource`) until it ends."""
        self._pump_task = self._tasks.spawn("source", self._pump(source))

    def push_audio(self, chunk: AudioChunk) -> None:
        self.asr.push_audio(chunk)

    def set_targets(self, languages: Collection[str]) -> None:
        self.targets = set(languages)

    def events(self) -> AsyncIterator[PipelineEvent]:
        return self._events.subscribe()

    async def finish(self) -> None:
        """No more audio: let the last utterance be recognised and translated, then stop.

        With an attached source, what it still holds is played in first (end it beforehand,
        e.g. by unsubscribing its RTP route, or this waits up to ``drain_timeout_s``).
        """
        if self._pump_task is not None:
            await asyncio.wait({self._pump_task}, timeout=self.options.drain_timeout_s)
        self.asr.end_input()
        tasks = [t for t in (self._consumer, self._translator_task) if t is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=self.options.drain_timeout_s)
        await self.stop()

    async def stop(self) -> None:
        """Stop now; lines still open are closed with their partials (see the module's docstring)."""
        await self._tasks.stop()
        await self.asr.aclose()
        await self._close_open_lines()
        self._events.close()

    async def _close_open_lines(self) -> None:
        now = self.clock.monotonic()
        for line in list(self._open.values()):
            await self._force_final(line, translate=False)
        for (utterance_id, language), partial in list(self._open_translations.items()):
            self._open_translations.pop((utterance_id, language), None)
            await self._events.emit(dataclasses.replace(
                partial, revision=self._revision(utterance_id, language), is_final=True, stable_text=partial.text,
                emitted_at=now, forced=True))

    async def _force_final(self, line: _OpenLine, *, translate: bool) -> None:
        t = line.transcript
        log.info("speaker %s: line %s closed with its last partial", self.speaker_id, t.utterance_id)
        self.forced += 1
        final = dataclasses.replace(t, is_final=True, stable_count=len(t.words), emitted_at=self.clock.monotonic())
        await self._on_transcript(final, forced=True, translate=translate)

    async def _final_watchdog(self, bound: float) -> None:
        """Close the lines whose final has not come ``bound`` seconds after their newest partial."""
        while True:
            await self.clock.sleep(bound / 4)
            now = self.clock.monotonic()
            for line in [line for line in self._open.values() if now - line.updated_at >= bound]:
                await self._force_final(line, translate=True)

    async def _pump(self, source: AsyncIterable[AudioChunk]) -> None:
        async for chunk in source:
            self.asr.push_audio(chunk)
        self.asr.end_input()

    # --- recognition -> captions ------------------------------------------------------------

    async def _consume(self) -> None:
        try:
            async for event in self.asr:
                if isinstance(event, Transcript):
                    await self._on_transcript(event)
                elif isinstance(event, EngineHealth):
                    await self._events.emit(with_speaker(event, self.speaker_id))
                elif isinstance(event, SpeechStart | SpeechEnd):
                    await self._events.emit(event)
        finally:
            self._asr_done = True
            self._jobs_ready.set()

    async def _on_transcript(self, t: Transcript, *, forced: bool = False, translate: bool = True) -> None:
        self.language = t.language
        now = self.clock.monotonic()
        latency = now - t.audio_end_at
        if not forced:
            self.metrics.observe("asr.final_latency" if t.is_final else "asr.partial_latency", latency)
        if t.is_final:
            self._open.pop(t.utterance_id, None)
        else:
            self._open[t.utterance_id] = _OpenLine(t, now)
        await self._events.emit(Caption(
            speaker_id=self.speaker_id, utterance_id=t.utterance_id,
            revision=self._revision(t.utterance_id, t.language),
            role="original", language=t.language, source_language=t.language, text=t.text,
            stable_text=t.stable_text, is_final=t.is_final, start=t.start, end=t.end, emitted_at=now,
            latency=latency, engine="asr", forced=forced,
        ))
        if t.is_final:
            self._translated_stable.pop(t.utterance_id, None)
            # a final supersedes every partial job of its utterance still waiting
            for job in [j for j in self._jobs if j.transcript.utterance_id == t.utterance_id]:
                self._jobs.remove(job)
            if translate:
                # with no text there is nothing to translate, but the job still closes the
                # translations shown for the line
                self._jobs.append(_MtJob(t, t.text))
        elif self.options.translate_partials:
            stable = t.stable_text
            if stable and stable != self._translated_stable.get(t.utterance_id):
                self._translated_stable[t.utterance_id] = stable
                for job in [j for j in self._jobs if not j.transcript.is_final]:
                    self._jobs.remove(job)  # only the newest partial is worth translating
                self._jobs.append(_MtJob(t, stable))
        self._jobs_ready.set()

    # --- translation ------------------------------------------------------------------------

    async def _translate_loop(self) -> None:
        while True:
            if not self._jobs:
                if self._asr_done:
                    return
                self._jobs_ready.clear()
                await self._jobs_ready.wait()
                continue
            job = self._jobs.popleft()
            targets = sorted(self.targets - {job.transcript.language}) if job.text else []
            results = await asyncio.gather(*(self._translate(job, target) for target in targets),
                                           return_exceptions=True)
            for error in results:
                if isinstance(error, Exception):  # a bug in one pair must not stop the others' lines
                    self.metrics.error("mt.translate")
                    log.error("speaker %s: translating a line failed", self.speaker_id, exc_info=error)
            if job.transcript.is_final:
                await self._close_translations(job.transcript)

    async def _close_translations(self, t: Transcript) -> None:
        """After a final's translations: one still shown as partial (its translation failed,
        or its language is no longer read) ends with an empty final, never a stale text."""
        now = self.clock.monotonic()
        for utterance_id, language in [k for k in self._open_translations if k[0] == t.utterance_id]:
            partial = self._open_translations.pop((utterance_id, language))
            await self._events.emit(dataclasses.replace(
                partial, revision=self._revision(utterance_id, language), text="", stable_text="", is_final=True,
                emitted_at=now, latency=now - t.audio_end_at, engine=""))

    async def _translate(self, job: _MtJob, target: str) -> None:
        t = job.transcript
        pair = (t.language, target)
        t0 = self.clock.monotonic()
        try:
            result = await self.translator.translate([job.text], t.language, target)
        except PairUnavailable as exc:
            await self._pair_health(pair, HealthStatus.MISSING, str(exc), "")
            return
        except EngineError as exc:
            self.metrics.error("mt.translate")
            await self._pair_health(pair, HealthStatus.FAILING, str(exc), exc.engine, exc.retryable)
            return
        await self._pair_health(pair, HealthStatus.OK, "translating", result.engine)
        now = self.clock.monotonic()
        self.metrics.observe("mt.translate", now - t0)
        self.metrics.observe("mt.final_latency" if t.is_final else "mt.partial_latency", now - t.audio_end_at)
        text = result.texts[0]
        caption = Caption(
            speaker_id=self.speaker_id, utterance_id=t.utterance_id, revision=self._revision(t.utterance_id, target),
            role="translation", language=target, source_language=t.language, text=text,
            stable_text=text if t.is_final else "", is_final=t.is_final, start=t.start, end=t.end,
            emitted_at=now, latency=now - t.audio_end_at, engine=result.engine,
        )
        if t.is_final:
            self._open_translations.pop((t.utterance_id, target), None)
        else:
            self._open_translations[(t.utterance_id, target)] = caption
        await self._events.emit(caption)
        voice = self.voices.get(target)
        if t.is_final and voice is not None:
            voice.say(text, t.audio_end_at)

    async def _pair_health(self, pair: tuple[str, str], status: HealthStatus, message: str, engine: str,
                           retryable: bool = False) -> None:
        previous = self._pair_status.get(pair)
        if previous is status or (previous is None and status is HealthStatus.OK):
            self._pair_status[pair] = status
            return
        self._pair_status[pair] = status
        await self._events.emit(EngineHealth(stage="mt", engine=engine, status=status, message=message,
                                             retryable=retryable, source_language=pair[0],
                                             target_language=pair[1], speaker_id=self.speaker_id))

    def _revision(self, utterance_id: str, language: str) -> int:
        key = (utterance_id, language)
        self._revisions[key] = self._revisions.get(key, 0) + 1
        if len(self._revisions) > 4000:  # forget utterances long finished
            for old in list(self._revisions)[:2000]:
                del self._revisions[old]
        return self._revisions[key]
