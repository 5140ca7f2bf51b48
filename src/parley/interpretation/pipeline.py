"""Per-speaker interpretation pipelines and the meeting-level `Interpreter` that owns them.

    AudioChunk source ─▶ AsrStream ─▶ original Caption ─▶ translation worker ─▶ translated Caption
                                                                  └─▶ VoiceChannel (per language) ─▶ RTP

Events (`Caption`, `SpeechStart`/`SpeechEnd`, `EngineHealth`) go to an ``on_event`` callback
and to `events()`; the meeting layer forwards them to the bus. A missing engine or language
pair is announced once as `EngineHealth`, never papered over with fake output. Every stage
records its latency in `StageMetrics`.

Every line shown ends final. A pipeline keeps the newest partial of each line still open:
when no final came ``final_timeout_s`` after it, the partial becomes the final (``forced``) and
is translated as finals are; when the pipeline stops (speaker dropped after draining, meeting
closed, worker stopping) every open line is closed the same way; a final whose translation
fails closes that translation with an empty final.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.adapters import StreamAdapter, StreamingOptions
from parley.interpretation.asr.base import AsrEngine, AsrStream
from parley.interpretation.frames import (
    AudioChunk,
    Caption,
    EngineHealth,
    HealthStatus,
    PipelineEvent,
    Samples,
    SpeechEnd,
    SpeechStart,
    Transcript,
)
from parley.interpretation.metrics import StageMetrics
from parley.interpretation.mt.base import PairUnavailable
from parley.interpretation.mt.registry import Translator
from parley.interpretation.tts.base import Voices
from parley.interpretation.vad import Vad
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

EventSink = Callable[[PipelineEvent], Awaitable[None] | None]


class AudioSink(Protocol):
    """Where a voice channel's audio goes (an `RtpOpusSender`, or a test double)."""

    async def send(self, samples: Samples, sample_rate: int) -> int: ...


@dataclass(frozen=True)
class PipelineOptions:
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    translate_partials: bool = True
    drain_timeout_s: float = 30.0
    event_queue: int = 1000
    # a line whose final has not come this long after its newest partial is closed with that
    # partial (a final pass lost or stuck); None: only when the pipeline stops
    final_timeout_s: float | None = 20.0


class _Events:
    """Fan-out to the callback and, once someone listens, to a bounded queue (oldest dropped)."""

    def __init__(self, sink: EventSink | None, maxsize: int) -> None:
        self._sink = sink
        self._maxsize = maxsize
        self._queue: asyncio.Queue[PipelineEvent | None] | None = None
        self.dropped = 0

    async def emit(self, event: PipelineEvent) -> None:
        if self._sink is not None:
            try:
                result = self._sink(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a broken consumer must not stop interpretation
                log.exception("event sink failed on %s", event.kind)
        self.put(event)

    def put(self, item: PipelineEvent | None) -> None:
        if self._queue is None:
            return
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
                self.dropped += 1
        self._queue.put_nowait(item)

    def close(self) -> None:
        self.put(None)

    def subscribe(self) -> AsyncIterator[PipelineEvent]:
        """Events from now on (call before `start` to miss none); ends when the owner stops."""
        if self._queue is None:
            self._queue = asyncio.Queue(self._maxsize)
        return self._iterate(self._queue)

    @staticmethod
    async def _iterate(queue: asyncio.Queue[PipelineEvent | None]) -> AsyncIterator[PipelineEvent]:
        while True:
            item = await queue.get()
            if item is None:
                return
            yield item


@dataclass(eq=False)
class _MtJob:
    transcript: Transcript
    text: str


@dataclass(eq=False)
class _OpenLine:
    """A line shown as partial whose final has not come: its newest partial, and when."""

    transcript: Transcript
    updated_at: float


class VoiceChannel:
    """The synthesized voice for one target language: finals are spoken one after another.

    At most ``max_backlog`` sentences wait; past that the oldest are skipped, because late
    interpretation is worse than missing a sentence (the captions still carry it).
    """

    def __init__(self, language: str, voices: Voices, sink: AudioSink, *, clock: Clock,
                 metrics: StageMetrics | None = None, max_backlog: int = 3) -> None:
        self.language = language
        self.voices = voices
        self.sink = sink
        self.clock = clock
        self.metrics = metrics or StageMetrics()
        self._queue: deque[tuple[str, float]] = deque(maxlen=max_backlog)
        self._wake = asyncio.Event()
        self._tasks = TaskOwner(f"voice:{language}")
        self.spoken = 0
        self.skipped = 0
        self.on_health: Callable[[EngineHealth], None] | None = None
        self._status = HealthStatus.OK

    @property
    def available(self) -> bool:
        return self.voices.engine_for(self.language) is not None

    async def start(self) -> None:
        self._tasks.spawn("speak", self._speak_loop())

    async def stop(self) -> None:
        await self._tasks.stop()

    def say(self, text: str, audio_end_at: float) -> None:
        if not text.strip():
            return
        if len(self._queue) == self._queue.maxlen:
            self.skipped += 1
        self._queue.append((text, audio_end_at))
        self._wake.set()

    async def _speak_loop(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            text, audio_end_at = self._queue.popleft()
            t0 = self.clock.monotonic()
            try:
                speech = await self.voices.synthesize(text, self.language)
            except EngineError as exc:
                self.metrics.error("tts.synthesize")
                self._health(HealthStatus.FAILING, str(exc), exc.retryable)
                continue
            self._health(HealthStatus.OK, "speaking", False)
            started = self.clock.monotonic()
            self.metrics.observe("tts.synthesize", started - t0)
            self.metrics.observe("tts.voice_latency", started - audio_end_at)
            await self.sink.send(speech.samples, speech.sample_rate)
            self.spoken += 1

    def _health(self, status: HealthStatus, message: str, retryable: bool) -> None:
        if status is self._status:
            return
        self._status = status
        engine = self.voices.engine_for(self.language)
        if self.on_health is not None:
            self.on_health(EngineHealth(stage="tts", engine=engine.name if engine else "", status=status,
                                        message=message, retryable=retryable, target_language=self.language))


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
        self._events = _Events(on_event, self.options.event_queue)
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
                    await self._events.emit(_with_speaker(event, self.speaker_id))
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


def _with_speaker(event: EngineHealth, speaker_id: str) -> EngineHealth:
    if event.speaker_id == speaker_id:
        return event
    return EngineHealth(stage=event.stage, engine=event.engine, status=event.status, message=event.message,
                        retryable=event.retryable, source_language=event.source_language,
                        target_language=event.target_language, speaker_id=speaker_id)


@dataclass
class InterpreterEngines:
    """The engines one worker shares between all meetings and speakers."""

    asr: AsrEngine | None
    translator: Translator
    voices: Voices | None
    vad_factory: Callable[[], Vad]
    health: list[EngineHealth] = field(default_factory=list)


class Interpreter:
    """A meeting's interpretation: one `SpeakerPipeline` per speaker, one `VoiceChannel` per
    language with synthesized voice, and a shared set of listener languages.
    """

    def __init__(self, engines: InterpreterEngines, *, clock: Clock, targets: Collection[str] = (),
                 options: PipelineOptions | None = None, on_event: EventSink | None = None) -> None:
        self.engines = engines
        self.clock = clock
        self.targets = set(targets)
        self.options = options or PipelineOptions()
        self.metrics = StageMetrics()
        self._events = _Events(on_event, self.options.event_queue)
        self.pipelines: dict[str, SpeakerPipeline] = {}
        self.voices: dict[str, VoiceChannel] = {}
        self._tasks = TaskOwner("interpreter")

    async def start(self) -> None:
        for event in self.health():
            await self._emit(event)

    def health(self) -> list[EngineHealth]:
        """What this meeting cannot have: captions (no speech recognition), and language pairs
        with no translation. An engine of a chain that did not load (a model folder left
        empty while another engine covers its languages) is the operator's business: the
        worker logs it with its reason when it starts (`worker_link.local_engines`), and a
        meeting is never shown server paths."""
        events = [EngineHealth(stage="asr", engine=h.engine, status=h.status,
                               message="no speech recognition model is installed", retryable=h.retryable)
                  for h in self.engines.health if h.stage == "asr"]
        for s, t in self.engines.translator.missing(self.targets):
            events.append(EngineHealth(stage="mt", engine="", status=HealthStatus.MISSING,
                                       message=f"no translation engine for {s}->{t}", source_language=s,
                                       target_language=t))
        return events

    async def add_speaker(self, speaker_id: str, *, language: str | None = None,
                          source: AsyncIterable[AudioChunk] | None = None,
                          asr_stream: AsrStream | None = None) -> SpeakerPipeline:
        """Start interpreting a speaker. ``language`` None = detect it among the meeting's languages."""
        if speaker_id in self.pipelines:
            raise ValueError(f"speaker {speaker_id} is already interpreted")
        if asr_stream is None:
            if self.engines.asr is None:
                await self._emit(EngineHealth(stage="asr", engine="", status=HealthStatus.MISSING,
                                              message="no speech recognition engine is installed",
                                              speaker_id=speaker_id))
                raise EngineError("no speech recognition engine", retryable=False)
            asr = self.engines.asr
            if asr.capabilities.streaming:
                asr_stream = asr.stream(stream_id=speaker_id, language=language)
            else:
                asr_stream = StreamAdapter(asr, vad=self.engines.vad_factory(), stream_id=speaker_id, clock=self.clock,
                                           language=language, candidates=self.targets or None,
                                           options=self.options.streaming)
        pipeline = SpeakerPipeline(speaker_id, asr_stream, translator=self.engines.translator, targets=self.targets,
                                   clock=self.clock, voices=self.voices, options=self.options, on_event=self._emit,
                                   metrics=self.metrics)
        self.pipelines[speaker_id] = pipeline
        await pipeline.start()
        if source is not None:
            pipeline.attach(source)
        return pipeline

    async def remove_speaker(self, speaker_id: str, *, drain: bool = False) -> None:
        pipeline = self.pipelines.pop(speaker_id, None)
        if pipeline is None:
            return
        if drain:
            await pipeline.finish()
        else:
            await pipeline.stop()

    def set_targets(self, languages: Collection[str]) -> None:
        self.targets = set(languages)
        for pipeline in self.pipelines.values():
            pipeline.set_targets(self.targets)

    async def add_voice(self, language: str, sink: AudioSink) -> VoiceChannel | None:
        """Speak finals translated into ``language`` to ``sink``; None (and a health event) if no voice."""
        voices = self.engines.voices
        if voices is None or voices.engine_for(language) is None:
            await self._emit(EngineHealth(stage="tts", engine="", status=HealthStatus.MISSING,
                                          message=f"no speech synthesis for {language}", target_language=language))
            return None
        channel = VoiceChannel(language, voices, sink, clock=self.clock, metrics=self.metrics)
        channel.on_health = self._emit_soon
        await channel.start()
        self.voices[language] = channel
        for pipeline in self.pipelines.values():
            pipeline.voices[language] = channel
        return channel

    def events(self) -> AsyncIterator[PipelineEvent]:
        return self._events.subscribe()

    async def stop(self) -> None:
        for speaker_id in list(self.pipelines):
            await self.remove_speaker(speaker_id)
        for channel in self.voices.values():
            await channel.stop()
        self.voices.clear()
        await self._tasks.stop()
        self._events.close()

    async def _emit(self, event: PipelineEvent) -> None:
        await self._events.emit(event)

    def _emit_soon(self, event: EngineHealth) -> None:
        self._tasks.spawn("health", self._emit(event))
