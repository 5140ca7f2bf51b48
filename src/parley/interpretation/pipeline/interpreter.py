"""A meeting's interpretation: one `SpeakerPipeline` per speaker and one `VoiceChannel`
per language with a synthesized voice, over the engines a worker shares between meetings
(`InterpreterEngines`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from dataclasses import dataclass, field

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.adapters import StreamAdapter
from parley.interpretation.asr.base import AsrEngine, AsrStream
from parley.interpretation.frames import AudioChunk, EngineHealth, HealthStatus, PipelineEvent
from parley.interpretation.metrics import StageMetrics
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline.events import EventFanout, EventSink
from parley.interpretation.pipeline.options import PipelineOptions
from parley.interpretation.pipeline.speaker import SpeakerPipeline
from parley.interpretation.pipeline.voice import AudioSink, VoiceChannel
from parley.interpretation.tts.base import Voices
from parley.interpretation.vad import Vad
from parley.tasks import TaskOwner


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
        self._events = EventFanout(on_event, self.options.event_queue)
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
