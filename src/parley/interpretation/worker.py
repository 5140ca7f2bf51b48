"""One interpretation worker: many meetings, one `Interpreter` each, one UDP port for all.

Parley (`handlers/interpretation/`) sends `protocol` commands; the worker answers each
and streams what the pipelines produce:

    Janus rtp_forward (SSRC per speaker) ─▶ RtpReceiver ─▶ RtpAudioSource ─▶ Interpreter
    Interpreter events ─▶ `Event` messages ─▶ Parley (captions on the bus, transcripts)
    VoiceChannel ─▶ RtpOpusSender ─▶ Janus remote publisher (the synthesized voice)

The transport (a WebSocket in `worker_link.py`, or a direct call in tests and the
in-process mode) only moves frames; everything the worker decides happens here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.frames import Caption, EngineHealth, PipelineEvent
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import Interpreter, InterpreterEngines, PipelineOptions
from parley.interpretation.protocol import (
    AddSpeaker,
    AddVoice,
    CloseMeeting,
    Command,
    DropSpeaker,
    Event,
    Hello,
    Load,
    OpenMeeting,
    Ping,
    Reply,
    SetTargets,
    WorkerMessage,
    glossary_from_terms,
)
from parley.interpretation.rtp import RtpAudioSource, RtpOpusSender, RtpReceiver
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

Send = Callable[[WorkerMessage], Awaitable[None]]
# Languages whose translation pairs a worker reports in its hello (what organisers pick from).
REPORTED_LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh", "pt", "de", "it", "ca", "gl", "sw", "hi")


@dataclass
class _Meeting:
    interpreter: Interpreter
    # Names and terms the recogniser should expect (the dialogue's glossary).
    hotwords: str = ""
    ssrcs: dict[str, int] = field(default_factory=dict)
    senders: dict[str, RtpOpusSender] = field(default_factory=dict)


class InterpretationWorker:
    def __init__(self, engines: InterpreterEngines, *, clock: Clock, send: Send, name: str = "worker",
                 rtp_bind: str = "127.0.0.1", rtp_advertise: str | None = None,
                 options: PipelineOptions | None = None, load_interval_s: float = 2.0) -> None:
        self.engines = engines
        self.clock = clock
        self.name = name
        self._send = send
        self._options = options
        self._receiver = RtpReceiver(clock=clock, host=rtp_bind)
        self._advertise = rtp_advertise
        self._meetings: dict[int, _Meeting] = {}
        self._tasks = TaskOwner(f"worker:{name}")
        self._load_interval = load_interval_s
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._receiver.start()
        self._tasks.spawn("load", self._report_load())

    async def stop(self) -> None:
        await self.close_all()
        await self._tasks.stop()
        await self._receiver.stop()

    async def close_all(self) -> None:
        async with self._lock:
            for meeting in list(self._meetings):
                await self._close(meeting)

    @property
    def rtp_address(self) -> tuple[str, int]:
        host, port = self._receiver.address
        return self._advertise or host, port

    def hello(self) -> Hello:
        asr = self.engines.asr
        voices = self.engines.voices
        translator = self.engines.translator
        pairs = tuple((s, t) for s in REPORTED_LANGUAGES for t in REPORTED_LANGUAGES
                      if s != t and translator.route(s, t) is not None)
        return Hello(
            worker=self.name,
            asr=asr is not None,
            languages=tuple(sorted(asr.capabilities.languages)) if asr is not None else (),
            voices=tuple(lang for lang in REPORTED_LANGUAGES if voices is not None and voices.engine_for(lang)),
            pairs=pairs,
            health=tuple(h.to_dict() for h in self.engines.health),
        )

    def load(self) -> Load:
        return Load(meetings=len(self._meetings),
                    speakers=sum(len(m.interpreter.pipelines) for m in self._meetings.values()))

    async def handle(self, command_id: int, command: Command) -> Reply:
        """Carry out one command; errors become a failed reply, never a dead worker."""
        if isinstance(command, Ping):  # answered at once, even while a command holds the worker
            return Reply(command_id, True)
        try:
            async with self._lock:
                result = await self._dispatch(command)
        except EngineError as exc:
            return Reply(command_id, False, error=str(exc), retryable=exc.retryable)
        except (KeyError, ValueError) as exc:
            return Reply(command_id, False, error=f"{exc.__class__.__name__}: {exc}")
        return Reply(command_id, True, result)

    async def _dispatch(self, command: Command) -> dict[str, object]:
        if isinstance(command, OpenMeeting):
            await self._open(command)
            return {}
        if isinstance(command, CloseMeeting):
            await self._close(command.meeting)
            return {}
        meeting = self._meetings.get(command.meeting)
        if meeting is None:
            raise KeyError(f"meeting {command.meeting} is not open on this worker")
        if isinstance(command, AddSpeaker):
            return await self._add_speaker(meeting, command)
        if isinstance(command, DropSpeaker):
            # end the audio first (the source sees its end), then let the last words finish
            ssrc = meeting.ssrcs.pop(command.speaker, None)
            if ssrc is not None:
                self._receiver.unsubscribe(ssrc)
            # draining may take a while (a last long sentence): not while holding the worker
            self._tasks.spawn(f"drain:{command.speaker}",
                              meeting.interpreter.remove_speaker(command.speaker, drain=True))
            if self.engines.asr is not None:
                self.engines.asr.set_hotwords(command.speaker, "")
            return {}
        if isinstance(command, SetTargets):
            meeting.interpreter.set_targets(command.targets)
            for event in meeting.interpreter.health():
                await self._emit(command.meeting, event)
            return {}
        if isinstance(command, AddVoice):
            return await self._add_voice(command.meeting, meeting, command)
        raise ValueError(f"unhandled command {command.op}")

    async def _open(self, command: OpenMeeting) -> None:
        glossary = glossary_from_terms(command.glossary)
        existing = self._meetings.get(command.meeting)
        if existing is not None:  # Parley reconnected, or the glossary changed: keep the pipelines
            existing.interpreter.engines.translator.glossary = glossary
            existing.hotwords = command.hotwords
            if self.engines.asr is not None:
                for speaker in existing.ssrcs:
                    self.engines.asr.set_hotwords(speaker, command.hotwords)
            existing.interpreter.set_targets(command.targets)
            return
        # Each meeting translates with its own glossary over the worker's shared engines.
        base = self.engines.translator
        translator = Translator(base.engines, pivots=base.pivots, glossary=glossary)
        translator.unavailable = dict(base.unavailable)
        engines = dataclasses.replace(self.engines, translator=translator)
        meeting_id = command.meeting

        async def on_event(event: PipelineEvent) -> None:
            await self._emit(meeting_id, event)

        interpreter = Interpreter(engines, clock=self.clock, targets=command.targets, options=self._options,
                                  on_event=on_event)
        self._meetings[meeting_id] = _Meeting(interpreter, hotwords=command.hotwords)
        await interpreter.start()
        log.info("meeting %s open on %s (%d target languages)", meeting_id, self.name, len(command.targets))

    async def _close(self, meeting_id: int) -> None:
        meeting = self._meetings.pop(meeting_id, None)
        if meeting is None:
            return
        for speaker, ssrc in meeting.ssrcs.items():
            self._receiver.unsubscribe(ssrc)
            if self.engines.asr is not None:
                self.engines.asr.set_hotwords(speaker, "")
        await meeting.interpreter.stop()
        for sender in meeting.senders.values():
            await sender.stop()
        log.info("meeting %s closed on %s", meeting_id, self.name)

    async def _add_speaker(self, meeting: _Meeting, command: AddSpeaker) -> dict[str, object]:
        host, port = self.rtp_address
        if command.speaker in meeting.ssrcs:  # a new forward of the same person (reconnected)
            return {"host": host, "port": port, "ssrc": meeting.ssrcs[command.speaker]}
        ssrc = self._new_ssrc()
        queue = self._receiver.subscribe(ssrc)
        source = RtpAudioSource(queue, clock=self.clock)
        try:
            await meeting.interpreter.add_speaker(command.speaker, language=command.language, source=source)
        except BaseException:
            self._receiver.unsubscribe(ssrc)
            raise
        meeting.ssrcs[command.speaker] = ssrc
        if self.engines.asr is not None:
            self.engines.asr.set_hotwords(command.speaker, meeting.hotwords)
        return {"host": host, "port": port, "ssrc": ssrc}

    async def _add_voice(self, meeting_id: int, meeting: _Meeting, command: AddVoice) -> dict[str, object]:
        old = meeting.senders.pop(command.language, None)
        if old is not None:  # Janus gave the voice a new port (restart): re-point it
            await old.stop()
        sender = RtpOpusSender(command.host, command.port, clock=self.clock, ssrc=command.ssrc)
        await sender.start()
        channel = meeting.interpreter.voices.get(command.language)
        if channel is not None:
            channel.sink = sender
        elif await meeting.interpreter.add_voice(command.language, sender) is None:
            await sender.stop()
            return {"voice": False}
        meeting.senders[command.language] = sender
        return {"voice": True}

    def _new_ssrc(self) -> int:
        taken = {s for m in self._meetings.values() for s in m.ssrcs.values()}
        while True:
            ssrc = secrets.randbelow(2**32 - 2) + 1
            if ssrc not in taken:
                return ssrc

    async def _emit(self, meeting_id: int, event: PipelineEvent) -> None:
        if isinstance(event, Caption | EngineHealth) or event.kind in ("speech_start", "speech_end"):
            try:
                await self._send(Event(meeting_id, event.to_dict()))
            except ConnectionError:
                # Parley is gone (and closes the lines it showed itself); it re-places the meeting
                log.debug("meeting %s: an event found no connection to Parley", meeting_id)

    async def _report_load(self) -> None:
        while True:
            await self.clock.sleep(self._load_interval)
            with contextlib.suppress(ConnectionError):
                await self._send(self.load())
