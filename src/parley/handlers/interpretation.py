"""Live interpretation of meetings: Parley's side of the interpretation workers.

    Janus "published" ─▶ AddSpeaker ─▶ worker answers host:port:ssrc ─▶ Janus rtp_forward
    worker Event(caption) ─▶ bus meeting:<id> {"type": "caption"} ─▶ each listener's socket
                          └▶ transcript_segments (final lines of speakers who consented)
    listener picks "voice:es" ─▶ Janus remote publisher ─▶ AddVoice ─▶ worker speaks into it

Workers connect (`connect_worker`) and may come and go: a meeting lives on one worker and is
moved, speakers and voices with it, when that worker disconnects. Everything added to Janus
here (forwarders, remote publishers) is removed here, because Janus keeps both after the
session that made them is gone.

Every line listeners saw as a partial ends final, and its original in the transcript: the
hub keeps each line's newest partial until its final comes, and closes it with that partial
(``forced``) when the final cannot come: its worker disconnected, its speaker left and the
worker's drain is over, the meeting ended, or nothing came for `FINAL_TIMEOUT_S`. Finals
that arrive after their speaker left still count; a real final after a forced one replaces
it in the transcript.

Caption text is personal data: it goes to the bus and to consenting speakers' transcript
rows, never to logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import statistics
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus, Subscription
from parley.clock import Clock
from parley.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues import dialogue_topic
from parley.handlers.glossary import INSTALLATION_TOPIC
from parley.handlers.meeting_state import participant_of_feed
from parley.handlers.meetings import meeting_topic
from parley.interpretation.mt.base import Glossary
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
    ProtocolError,
    Reply,
    SetTargets,
    command_to_json,
    glossary_terms,
    parse_worker_message,
)
from parley.storage.analysis_models import TranscriptSegment
from parley.storage.database import Database
from parley.storage.meeting_models import (
    AttendeeRole,
    AttendeeStatus,
    MediaMode,
    Meeting,
    MeetingParticipant,
    MeetingStatus,
    Presence,
)
from parley.storage.models import Dialogue, DialogueInterpreter, Registration, User
from parley.storage.stores import meetings as store
from parley.storage.stores import transcripts
from parley.tasks import TaskOwner

if TYPE_CHECKING:
    from parley.handlers.meetings import Access
    from parley.media.janus.service import JanusService, MediaEvent

log = logging.getLogger(__name__)

VOICE_DISPLAY = "parley:voice:"
REQUEST_TIMEOUT_S = 15.0
LAG_WINDOW = 50
RECONCILE_S = 5.0
KEPT_SEGMENTS = 500
# A line still partial this long after its newest update is closed here (the worker closes
# its own after `PipelineOptions.final_timeout_s`; this is for a worker that cannot).
FINAL_TIMEOUT_S = 60.0
# A speaker who left: the worker drains their last words (`PipelineOptions.drain_timeout_s`)
# before the lines still open are closed here.
LEAVE_GRACE_S = 40.0
# How long a worker with a name already connected has to answer before the newcomer replaces it.
PROBE_S = 5.0
TranscriptHook = Callable[[int], Awaitable[None]]
# The meeting role someone has in a dialogue (`Meetings.access`): hosts see the health view
# without having joined.
AccessCheck = Callable[[User, int], Awaitable["Access"]]
GlossarySource = Callable[[int], Awaitable[tuple[Glossary, str]]]


class WorkerPeer:
    """One connected worker: sends commands as frames and matches replies to them."""

    def __init__(self, hello: Hello, send: Callable[[str], Awaitable[None]]) -> None:
        self.hello = hello
        self.load = Load(0, 0)
        self._send = send
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self.closed = False

    @property
    def name(self) -> str:
        return self.hello.worker

    async def request(self, command: Command, wait_s: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
        if self.closed:
            raise EngineError(f"worker {self.name} is gone", retryable=True, engine="worker")
        command_id = next(self._ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            await self._send(command_to_json(command_id, command))
            reply = await asyncio.wait_for(future, wait_s)
        except TimeoutError as exc:
            raise EngineError(f"worker {self.name} did not answer {command.op}", retryable=True,
                              engine="worker") from exc
        except ConnectionError as exc:
            raise EngineError(f"worker {self.name} is gone", retryable=True, engine="worker") from exc
        finally:
            self._pending.pop(command_id, None)
        if not reply.ok:
            raise EngineError(f"worker {self.name}: {reply.error}", retryable=reply.retryable, engine="worker")
        return reply.result

    def resolve(self, reply: Reply) -> None:
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

    def close(self) -> None:
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("worker disconnected"))
        self._pending.clear()


@dataclass
class _Speaker:
    participant_id: int
    user_id: int
    name: str
    feed_id: int
    mid: str
    language: str | None
    keep_transcript: bool
    stream_id: int | None = None


@dataclass
class _OpenLine:
    """A caption line shown as partial: the worker's newest event for it, and when it came."""

    event: dict[str, Any]
    speaker_id: str
    updated_at: float


@dataclass
class _Voice:
    publisher_id: int
    host: str
    port: int
    on_worker: bool = False


@dataclass
class _Session:
    dialogue_id: int
    meeting_id: int
    room_id: int
    languages: tuple[str, ...]
    worker: WorkerPeer | None = None
    speakers: dict[str, _Speaker] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    voices: dict[str, _Voice] = field(default_factory=dict)
    health: dict[str, dict[str, Any]] = field(default_factory=dict)
    lag: dict[str, deque[float]] = field(default_factory=dict)
    captions: dict[str, int] = field(default_factory=dict)
    segments: OrderedDict[str, int] = field(default_factory=OrderedDict)
    # (utterance, language) -> the line's newest partial, until its final
    open: dict[tuple[str, str], _OpenLine] = field(default_factory=dict)
    # speakers who left, for the finals of their last words
    departed: dict[str, _Speaker] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _health_key(event: dict[str, Any]) -> str:
    return ":".join(str(event.get(k, "")) for k in ("stage", "engine", "source_language", "target_language",
                                                       "speaker_id"))


class Interpretation:
    def __init__(self, db: Database, clock: Clock, bus: Bus, janus: JanusService | None, *,
                 enabled: bool = True, glossary: GlossarySource | None = None,
                 on_transcript: TranscriptHook | None = None, access: AccessCheck | None = None) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.janus = janus
        self.enabled = enabled
        self.glossary = glossary
        self.on_transcript = on_transcript
        self.access = access
        self.workers: list[WorkerPeer] = []
        self._sessions: dict[int, _Session] = {}
        self._ending: dict[int, _Session] = {}  # closing on their worker: its last finals still count
        self._room_dialogue: dict[int, int] = {}
        self._tasks = TaskOwner("interpretation")
        self._sub: Subscription | None = None
        self._worker_ready = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.enabled:
            return
        if self.janus is not None:
            self.janus.on_event(self._on_media_event)
            self.janus.on_recovered(self._on_janus_recovered)
        self._sub = await self.bus.subscribe([INSTALLATION_TOPIC])
        self._tasks.spawn("meeting-events", self._watch_meetings(self._sub))
        self._tasks.spawn("reconcile", self._reconcile_loop())

    async def stop(self) -> None:
        for dialogue_id in list(self._sessions):
            with contextlib.suppress(Exception):
                await self._end(dialogue_id)
        if self._sub is not None:
            await self._sub.close()
        await self._tasks.stop()
        for peer in self.workers:
            peer.close()
        self.workers.clear()

    # --- workers --------------------------------------------------------------------------------

    async def connect_worker(self, hello: Hello, send: Callable[[str], Awaitable[None]]) -> WorkerPeer:
        """A worker said hello: meetings waiting for one are placed on it.

        A worker's name is its identity: while a worker of that name still answers, a second
        one is refused (`Conflict` ``duplicate_worker``): an orphan of a crashed server, or a
        second copy started by mistake, must not take meetings twice. One that no longer
        answers (its connection died unnoticed) is replaced.
        """
        for old in [w for w in self.workers if w.name == hello.worker and not w.closed]:
            try:
                await old.request(Ping(0), wait_s=PROBE_S)
            except EngineError:
                log.warning("interpretation worker %s reconnected; its old connection no longer answers",
                            hello.worker)
                await self.disconnect_worker(old)
                continue
            log.error("refused a second interpretation worker named %s: one is connected and answering",
                      hello.worker)
            raise Conflict(f"A worker named {hello.worker} is already connected.", code="duplicate_worker")
        peer = WorkerPeer(hello, send)
        self.workers.append(peer)
        log.info("interpretation worker %s connected (asr %s, %d voices, %d pairs)", hello.worker,
                 "yes" if hello.asr else "no", len(hello.voices), len(hello.pairs))
        for session in list(self._sessions.values()):
            if session.worker is None:
                self._tasks.spawn(f"place:{session.dialogue_id}", self._place(session))
        return peer

    async def disconnect_worker(self, peer: WorkerPeer) -> None:
        """The worker is gone: its meetings move to another worker (or wait for one), and the
        lines it was still recognising are closed with what listeners saw of them."""
        if peer.closed and peer not in self.workers:
            return  # already replaced (see `connect_worker`)
        peer.close()
        with contextlib.suppress(ValueError):
            self.workers.remove(peer)
        log.warning("interpretation worker %s disconnected", peer.name)
        for session in list(self._sessions.values()):
            if session.worker is peer:
                session.worker = None
                for voice in session.voices.values():
                    voice.on_worker = False
                await self._close_lines(session)
                await self._stop_forwards(session)
                self._tasks.spawn(f"place:{session.dialogue_id}", self._place(session))

    async def worker_frame(self, peer: WorkerPeer, frame: str) -> None:
        """One frame from a worker; a malformed one is logged and dropped."""
        try:
            message = parse_worker_message(frame)
        except ProtocolError as exc:
            log.warning("bad frame from worker %s: %s", peer.name, exc)
            return
        if isinstance(message, Reply):
            peer.resolve(message)
        elif isinstance(message, Load):
            peer.load = message
        elif isinstance(message, Event):
            await self._on_worker_event(message)

    def _pick_worker(self) -> WorkerPeer | None:
        live = [w for w in self.workers if not w.closed and w.hello.asr]
        if not live:
            return None
        placed = {id(w): 0 for w in live}
        for session in self._sessions.values():
            if session.worker is not None and id(session.worker) in placed:
                placed[id(session.worker)] += 1 + len(session.speakers)
        return min(live, key=lambda w: (placed[id(w)], w.load.speakers))

    # --- sessions -------------------------------------------------------------------------------

    async def _session(self, dialogue_id: int) -> _Session | None:
        """The interpretation session of an open meeting (created on first need)."""
        session = self._sessions.get(dialogue_id)
        if session is not None:
            return session
        async with self.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
            dialogue = await s.get(Dialogue, dialogue_id)
        if meeting is None or meeting.status != MeetingStatus.OPEN or dialogue is None:
            return None
        session = self._sessions.get(dialogue_id)
        if session is not None:
            return session
        session = _Session(dialogue_id, meeting.id, meeting.room_id, tuple(dialogue.languages))
        self._sessions[dialogue_id] = session
        self._room_dialogue[meeting.room_id] = dialogue_id
        if self._sub is not None:
            await self._sub.add(meeting_topic(dialogue_id))
            await self._sub.add(dialogue_topic(dialogue_id))
        session.targets, _ = await self._listening(session)
        await self._place(session)
        return session

    async def _place(self, session: _Session) -> None:
        """Open the meeting on a worker, then re-add its speakers and voices there."""
        async with session.lock:
            if session.worker is not None or self._sessions.get(session.dialogue_id) is not session:
                return
            worker = self._pick_worker()
            if worker is None:
                await self._set_health(session, {
                    "kind": "engine_health", "stage": "asr", "engine": "worker", "status": "missing",
                    "message": "no interpretation worker is connected", "retryable": True,
                })
                return
            try:
                await worker.request(await self._open_command(session))
            except EngineError as exc:
                log.error("opening meeting %s on worker %s failed: %s", session.dialogue_id, worker.name, exc)
                return
            session.worker = worker
            await self._set_health(session, {
                "kind": "engine_health", "stage": "asr", "engine": "worker", "status": "ok",
                "message": f"interpreted by {worker.name}", "retryable": False,
            })
            for speaker_id, speaker in list(session.speakers.items()):
                await self._forward(session, speaker_id, speaker)
            for language in list(session.voices):
                await self._voice_on_worker(session, language)

    async def _open_command(self, session: _Session) -> OpenMeeting:
        glossary, hotwords = (Glossary(), "")
        if self.glossary is not None:
            try:
                glossary, hotwords = await self.glossary(session.dialogue_id)
            except Exception:
                log.exception("loading the glossary of dialogue %s failed", session.dialogue_id)
        return OpenMeeting(session.dialogue_id, session.targets, tuple(glossary_terms(glossary)), hotwords)

    async def _glossary_changed(self, session: _Session) -> None:
        """Organisers edited a glossary during the meeting: the worker takes it at once."""
        async with session.lock:
            if session.worker is not None:
                with contextlib.suppress(EngineError):
                    await session.worker.request(await self._open_command(session))

    async def _end(self, dialogue_id: int) -> None:
        session = self._sessions.pop(dialogue_id, None)
        if session is None:
            return
        self._room_dialogue.pop(session.room_id, None)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.remove(meeting_topic(dialogue_id))
                await self._sub.remove(dialogue_topic(dialogue_id))
        self._ending[dialogue_id] = session
        try:
            async with session.lock:
                await self._stop_forwards(session)
                await self._remove_voices(session)
                if session.worker is not None:
                    # the worker closes its open lines before it answers
                    with contextlib.suppress(EngineError):
                        await session.worker.request(CloseMeeting(dialogue_id))
                    session.worker = None
                await self._close_lines(session)
        finally:
            self._ending.pop(dialogue_id, None)
        log.info("interpretation of meeting %s ended", dialogue_id)

    # --- speakers -------------------------------------------------------------------------------

    async def _on_media_event(self, event: MediaEvent) -> None:
        if event.kind not in ("published", "left"):
            return
        dialogue_id = self._room_dialogue.get(event.room_id)
        if dialogue_id is None:
            async with self.db.session() as s:
                meeting = await store.meeting_by_room(s, event.room_id)
            if meeting is None or meeting.status != MeetingStatus.OPEN:
                return
            dialogue_id = meeting.dialogue_id
        if event.kind == "published":
            await self.speaker_published(dialogue_id, event.feed_id, event.audio_mids)
        else:
            await self.speaker_left(dialogue_id, event.feed_id)

    async def speaker_published(self, dialogue_id: int, feed_id: int, mids: Sequence[str]) -> None:
        """A participant's audio is in the room: forward it to the meeting's worker."""
        if not mids:
            return
        participant_id = participant_of_feed(feed_id)
        async with self.db.session() as s:
            p = await s.get(MeetingParticipant, participant_id)
            if p is None or p.feed_id != feed_id or p.status != AttendeeStatus.ADMITTED or p.mode == MediaMode.LISTEN:
                return
            if await self._interpreter_language(s, dialogue_id, p) is not None:
                return  # an interpreter's channel is for listeners, not for recognition
            keep = p.role != AttendeeRole.PARTICIPANT or bool(await s.scalar(
                select(Registration.consent_transcript).where(Registration.dialogue_id == dialogue_id,
                                                              Registration.user_id == p.user_id)))
            speaker = _Speaker(p.id, p.user_id, p.display_name, feed_id, mids[0], p.language or None, keep)
        session = await self._session(dialogue_id)
        if session is None:
            return
        speaker_id = f"p{participant_id}"
        async with session.lock:
            old = session.speakers.get(speaker_id)
            if old is not None and old.feed_id == feed_id and old.stream_id is not None:
                return
            if old is not None:
                await self._stop_forward(session, old)
            session.speakers[speaker_id] = speaker
            await self._forward(session, speaker_id, speaker)

    async def speaker_left(self, dialogue_id: int, feed_id: int) -> None:
        session = self._sessions.get(dialogue_id)
        if session is None:
            return
        speaker_id = f"p{participant_of_feed(feed_id)}"
        async with session.lock:
            speaker = session.speakers.get(speaker_id)
            if speaker is None or speaker.feed_id != feed_id:
                return
            del session.speakers[speaker_id]
            session.departed[speaker_id] = speaker  # the finals of their last words still come
            await self._stop_forward(session, speaker)
            if session.worker is not None:
                with contextlib.suppress(EngineError):
                    await session.worker.request(DropSpeaker(dialogue_id, speaker_id))
        shown = {key for key, line in session.open.items() if line.speaker_id == speaker_id}
        self._tasks.spawn(f"left:{dialogue_id}:{speaker_id}", self._after_leaving(session, speaker_id, speaker, shown))

    async def _after_leaving(self, session: _Session, speaker_id: str, speaker: _Speaker,
                             shown: set[tuple[str, str]]) -> None:
        """Once the worker had time to drain a speaker who left, close what is still open of
        them (the lines open when they left; any, unless they are back)."""
        await self.clock.sleep(LEAVE_GRACE_S)
        back = speaker_id in session.speakers
        await self._close_lines(session, lambda key, line: line.speaker_id == speaker_id
                                and (key in shown or not back))
        if session.departed.get(speaker_id) is speaker:
            del session.departed[speaker_id]

    async def _forward(self, session: _Session, speaker_id: str, speaker: _Speaker) -> None:
        """Ask the worker where to send this speaker, then have Janus forward there."""
        if session.worker is None or self.janus is None or not self.janus.ready:
            return
        try:
            where = await session.worker.request(AddSpeaker(session.dialogue_id, speaker_id, speaker.language))
            speaker.stream_id = await self.janus.forward_audio(session.room_id, speaker.feed_id, speaker.mid,
                                                               str(where["host"]), int(where["port"]),
                                                               int(where["ssrc"]))
        except (EngineError, KeyError, ValueError) as exc:
            log.error("forwarding speaker %s of meeting %s failed: %s", speaker_id, session.dialogue_id, exc)
            await self._set_health(session, {
                "kind": "engine_health", "stage": "rtp", "engine": "janus", "status": "failing",
                "message": "a speaker's audio could not reach interpretation", "retryable": True,
                "speaker_id": speaker_id,
            })

    async def _stop_forward(self, session: _Session, speaker: _Speaker) -> None:
        stream_id, speaker.stream_id = speaker.stream_id, None
        if stream_id is None or self.janus is None or not self.janus.ready:
            return
        try:
            await self.janus.stop_forward(session.room_id, speaker.feed_id, stream_id)
        except EngineError as exc:
            log.warning("stopping a forwarder of meeting %s failed: %s", session.dialogue_id, exc)

    async def _stop_forwards(self, session: _Session) -> None:
        for speaker in session.speakers.values():
            await self._stop_forward(session, speaker)

    # --- listeners ------------------------------------------------------------------------------

    async def choose(self, actor: User, dialogue_id: int, *, caption_language: str | None,
                     listen_channel: str | None) -> dict[str, Any]:
        """A participant picks a caption language and what to listen to; returns the view."""
        async with self.db.session() as s:
            meeting, me = await self._attendee(s, actor, dialogue_id)
            dialogue = await s.get(Dialogue, dialogue_id)
            assert dialogue is not None
            if caption_language is not None and caption_language not in dialogue.languages:
                raise InvalidInput("Captions can be shown in the dialogue's languages only.",
                                   code="caption_language", fields={"caption_language": "not_in_dialogue"})
            if listen_channel is not None:
                kind, _, language = listen_channel.partition(":")
                if kind not in ("voice", "interpreter") or language not in dialogue.languages:
                    raise InvalidInput("Choose the floor, a synthesized voice or an interpreter channel.",
                                       code="listen_channel", fields={"listen_channel": "unknown"})
            me.caption_language = caption_language
            me.listen_channel = listen_channel
            me.updated_at = self.clock.now()
            await s.commit()
        session = self._sessions.get(dialogue_id) if not self.enabled else await self._session(dialogue_id)
        if session is not None:
            await self._refresh_listeners(session)
        return await self.view(actor, dialogue_id)

    async def _refresh_listeners(self, session: _Session) -> None:
        targets, voices = await self._listening(session)
        async with session.lock:
            if targets != session.targets:
                session.targets = targets
                if session.worker is not None:
                    with contextlib.suppress(EngineError):
                        await session.worker.request(SetTargets(session.dialogue_id, targets))
            for language in voices:
                if language not in session.voices:
                    await self._add_voice(session, language)

    async def _listening(self, session: _Session) -> tuple[tuple[str, ...], set[str]]:
        """One read of who is in: the languages captions are read in (targets), and the
        synthesized voices someone listens to (each also a target)."""
        captions: set[str] = set()
        voices: set[str] = set()
        async with self.db.session() as s:
            for p in await store.participants(s, session.meeting_id):
                if p.status != AttendeeStatus.ADMITTED:
                    continue
                captions.add(p.caption_language or p.language)
                if p.listen_channel and p.listen_channel.startswith("voice:"):
                    voices.add(p.listen_channel.partition(":")[2])
        return tuple(sorted(lang for lang in captions | voices if lang)), voices

    async def _add_voice(self, session: _Session, language: str) -> None:
        if self.janus is None or not self.janus.ready:
            return
        try:
            remote = await self.janus.add_voice(session.room_id, f"{VOICE_DISPLAY}{language}")
        except EngineError as exc:
            log.error("adding the %s voice to meeting %s failed: %s", language, session.dialogue_id, exc)
            return
        session.voices[language] = _Voice(remote.id, remote.ip, remote.port)
        await self._voice_on_worker(session, language)

    async def _voice_on_worker(self, session: _Session, language: str) -> None:
        voice = session.voices[language]
        if session.worker is None or voice.on_worker:
            return
        try:
            result = await session.worker.request(AddVoice(session.dialogue_id, language, voice.host, voice.port))
        except EngineError as exc:
            log.error("starting the %s voice of meeting %s failed: %s", language, session.dialogue_id, exc)
            return
        voice.on_worker = bool(result.get("voice"))

    async def _remove_voices(self, session: _Session) -> None:
        voices, session.voices = session.voices, {}
        if self.janus is None or not self.janus.ready:
            return
        for language, voice in voices.items():
            try:
                await self.janus.remove_voice(session.room_id, voice.publisher_id)
            except EngineError as exc:
                log.warning("removing the %s voice of meeting %s failed: %s", language, session.dialogue_id, exc)

    # --- events from workers --------------------------------------------------------------------

    async def _on_worker_event(self, message: Event) -> None:
        session = self._sessions.get(message.meeting) or self._ending.get(message.meeting)
        if session is None:
            return
        event = message.event
        kind = event.get("kind")
        if kind == "caption":
            await self._caption(session, event)
        elif kind == "engine_health":
            await self._set_health(session, event)

    async def _caption(self, session: _Session, event: dict[str, Any]) -> None:
        speaker_id = str(event.get("speaker_id"))
        speaker = session.speakers.get(speaker_id) or session.departed.get(speaker_id)
        language = str(event.get("language", ""))
        key = (str(event.get("utterance_id")), language)
        if event.get("is_final"):
            session.open.pop(key, None)
        else:
            session.open[key] = _OpenLine(event, speaker_id, self.clock.monotonic())
        caption = {k: event.get(k) for k in ("speaker_id", "utterance_id", "revision", "role", "language",
                                             "source_language", "text", "stable_text", "is_final", "latency")}
        caption["forced"] = bool(event.get("forced"))
        caption["speaker_name"] = speaker.name if speaker is not None else ""
        latency = event.get("latency")
        if event.get("revision") == 1 and isinstance(latency, int | float):
            # the first time a line shows in a language: how long listeners of it waited
            session.lag.setdefault(language, deque(maxlen=LAG_WINDOW)).append(float(latency))
        if event.get("is_final"):
            session.captions[language] = session.captions.get(language, 0) + 1
        await self.bus.publish(meeting_topic(session.dialogue_id), {"type": "caption", "caption": caption})
        if event.get("is_final") and speaker is not None and speaker.keep_transcript:
            await self._keep(session, speaker, event)

    async def _close_lines(self, session: _Session,
                           which: Callable[[tuple[str, str], _OpenLine], bool] | None = None) -> None:
        """Close open lines with their newest partial, as if the worker had sent that as final."""
        for key, line in list(session.open.items()):
            if session.open.get(key) is not line or (which is not None and not which(key, line)):
                continue
            revision = int(line.event.get("revision") or 0) + 1
            event = {**line.event, "is_final": True, "forced": True, "revision": revision,
                     "stable_text": line.event.get("text", "")}
            await self._caption(session, event)

    async def _close_stale_lines(self) -> None:
        now = self.clock.monotonic()
        for session in list(self._sessions.values()):
            await self._close_lines(session, lambda _, line: now - line.updated_at >= FINAL_TIMEOUT_S)

    async def _keep(self, session: _Session, speaker: _Speaker, event: dict[str, Any]) -> None:
        """Final lines go into the dialogue's transcript (translations onto their original).

        A forced translation covers only the start of its line: shown, not kept. A real final
        after a forced one replaces its text.
        """
        utterance = str(event.get("utterance_id"))
        text = str(event.get("text", "")).strip()
        if not text or (event.get("forced") and event.get("role") != "original"):
            return
        now = self.clock.now()
        async with self.db.session() as s:
            if event.get("role") == "original":
                kept = session.segments.get(utterance)
                row = await s.get(TranscriptSegment, kept) if kept is not None else None
                if row is not None:
                    row.text = text
                    await s.commit()
                    return
                latency = float(event.get("latency") or 0.0)
                duration = max(0.0, float(event.get("end") or 0.0) - float(event.get("start") or 0.0))
                ended = now - timedelta(seconds=latency)
                segment = await transcripts.add(
                    s, dialogue_id=session.dialogue_id, speaker_user_id=speaker.user_id, speaker_name=speaker.name,
                    language=str(event.get("language")), started_at=ended - timedelta(seconds=duration),
                    ended_at=ended, text=text, created_at=now,
                )
                await s.commit()
                session.segments[utterance] = segment.id
                while len(session.segments) > KEPT_SEGMENTS:
                    session.segments.popitem(last=False)
                if self.on_transcript is not None:
                    await self.on_transcript(session.dialogue_id)
                return
            segment_id = session.segments.get(utterance)
            if segment_id is None:
                return
            row = await s.get(TranscriptSegment, segment_id)
            if row is None:
                return
            row.translations = {**(row.translations or {}), str(event.get("language")): text}
            await s.commit()

    async def _set_health(self, session: _Session, event: dict[str, Any]) -> None:
        key = _health_key(event)
        entry = {k: event.get(k, "") for k in ("stage", "engine", "status", "message", "source_language",
                                               "target_language", "speaker_id")}
        entry["at"] = self.clock.now().isoformat()
        if session.health.get(key, {}).get("status") == entry["status"] and \
                session.health[key].get("message") == entry["message"]:
            return
        session.health[key] = entry
        await self.bus.publish(meeting_topic(session.dialogue_id), {"type": "interpretation", "health": entry})

    # --- meeting and Janus lifecycle ------------------------------------------------------------

    async def _watch_meetings(self, sub: Subscription) -> None:
        async for topic, event in sub:
            kind = event.get("type")
            if kind == "glossary.updated" and topic == INSTALLATION_TOPIC:
                for session in list(self._sessions.values()):
                    await self._glossary_changed(session)
                continue
            dialogue_id = event.get("dialogue_id")
            if not isinstance(dialogue_id, int):
                dialogue_id = int(topic.partition(":")[2]) if topic.startswith("meeting:") else None
            if dialogue_id is None or dialogue_id not in self._sessions:
                continue
            try:
                if kind == "meeting.ended":
                    await self._end(dialogue_id)
                elif kind == "glossary.updated":
                    await self._glossary_changed(self._sessions[dialogue_id])
                elif kind == "meeting.state":
                    await self._refresh_listeners(self._sessions[dialogue_id])
            except Exception:
                log.exception("interpretation of meeting %s could not follow a change", dialogue_id)

    async def _reconcile_loop(self) -> None:
        while True:
            await self.clock.sleep(RECONCILE_S)
            try:
                await self._close_stale_lines()
                await self.reconcile()
            except Exception:
                log.exception("interpretation reconcile failed")

    async def reconcile(self) -> None:
        """Make every session whole again: a worker, a forward per speaker, the voices wanted.

        Each step can fail on its own (Janus restarting, a worker gone); this retries them
        without waiting for the next event that would have.
        """
        for session in list(self._sessions.values()):
            if session.worker is None or session.worker.closed:
                session.worker = None
                await self._place(session)
                continue
            async with session.lock:
                for speaker_id, speaker in list(session.speakers.items()):
                    if speaker.stream_id is None:
                        await self._forward(session, speaker_id, speaker)
                for language in list(session.voices):
                    await self._voice_on_worker(session, language)
            await self._refresh_listeners(session)

    async def _on_janus_recovered(self) -> None:
        """Janus restarted: its forwarders and remote publishers are gone, so re-make them."""
        for session in list(self._sessions.values()):
            async with session.lock:
                for speaker in session.speakers.values():
                    speaker.stream_id = None
                languages = list(session.voices)
                session.voices = {}
            for language in languages:
                await self._add_voice(session, language)
            # speakers come back through their new "published" events when browsers reconnect

    # --- views ----------------------------------------------------------------------------------

    async def _attendee(self, s: AsyncSession, actor: User, dialogue_id: int) -> tuple[Meeting, MeetingParticipant]:
        meeting = await store.meeting_for(s, dialogue_id)
        if meeting is None:
            raise NotFound("This dialogue has no meeting yet.", code="no_meeting")
        if meeting.status != MeetingStatus.OPEN:
            raise Conflict("This meeting has ended.", code="meeting_ended")
        me = await s.scalar(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                              MeetingParticipant.user_id == actor.id))
        if me is None or me.status != AttendeeStatus.ADMITTED:
            raise Forbidden("Only people in the meeting can choose how to follow it.", code="not_admitted")
        return meeting, me

    async def _interpreter_language(self, s: AsyncSession, dialogue_id: int, p: MeetingParticipant) -> str | None:
        if p.role != AttendeeRole.STAFF:
            return None
        language: str | None = await s.scalar(select(DialogueInterpreter.language).where(
            DialogueInterpreter.dialogue_id == dialogue_id, DialogueInterpreter.user_id == p.user_id))
        return language

    async def view(self, actor: User, dialogue_id: int) -> dict[str, Any]:
        """What a participant's page needs: languages, channels, own choices, health (and lag for hosts)."""
        host_only = False
        async with self.db.session() as s:
            try:
                meeting, me = await self._attendee(s, actor, dialogue_id)
            except Forbidden:
                if self.access is None or (await self.access(actor, dialogue_id)).role != AttendeeRole.HOST:
                    raise
                found = await store.meeting_for(s, dialogue_id)
                assert found is not None  # _attendee raised NotFound otherwise
                meeting, me, host_only = found, None, True
            dialogue = await s.get(Dialogue, dialogue_id)
            assert dialogue is not None
            people = await store.participants(s, meeting.id)
            interpreters = {row.user_id: row.language for row in (await s.execute(
                select(DialogueInterpreter).where(DialogueInterpreter.dialogue_id == dialogue_id))).scalars()}
        session = self._sessions.get(dialogue_id)
        voices = self._voice_languages()
        channels: list[dict[str, Any]] = []
        for language in dialogue.languages:
            if language in voices:
                voice = session.voices.get(language) if session is not None else None
                channels.append({"id": f"voice:{language}", "kind": "voice", "language": language,
                                 "feed_id": voice.publisher_id if voice is not None else None})
        for p in people:
            into = interpreters.get(p.user_id)
            if into is not None and p.role == AttendeeRole.STAFF and p.status == AttendeeStatus.ADMITTED:
                channels.append({"id": f"interpreter:{into}", "kind": "interpreter", "language": into,
                                 "feed_id": p.feed_id if p.presence == Presence.ONLINE else None,
                                 "name": p.display_name})
        host = host_only or (me is not None and me.role == AttendeeRole.HOST)
        health = list(session.health.values()) if session is not None else []
        if not self.enabled:
            health = [{"stage": "asr", "engine": "off", "status": "missing",
                       "message": "interpretation is turned off on this server"}]
        elif not self.workers:
            health = [{"stage": "asr", "engine": "worker", "status": "missing",
                       "message": "no interpretation worker is connected"}]
        out: dict[str, Any] = {
            "enabled": self.enabled,
            "languages": list(dialogue.languages),
            "caption_language": (me.caption_language or me.language) if me is not None else dialogue.languages[0],
            "listen_channel": me.listen_channel if me is not None else None,
            "channels": channels,
            "interpreting": interpreters.get(me.user_id) if me is not None and me.role == AttendeeRole.STAFF else None,
            "health": [h for h in health if host or h.get("status") != "ok"],
            "workers": len(self.workers),
        }
        if host and session is not None:
            out["languages_status"] = [
                {"language": lang,
                 "captions": session.captions.get(lang, 0),
                 "median_lag_s": round(statistics.median(session.lag[lang]), 2) if session.lag.get(lang) else None,
                 "listeners": sum(1 for p in people if p.status == AttendeeStatus.ADMITTED
                                  and (p.caption_language or p.language) == lang)}
                for lang in sorted(set(session.targets) | set(session.lag))
            ]
            out["speakers"] = len(session.speakers)
            out["worker"] = session.worker.name if session.worker is not None else None
        return out

    def _voice_languages(self) -> set[str]:
        return {lang for w in self.workers if not w.closed for lang in w.hello.voices}

    def sessions(self) -> list[int]:
        return sorted(self._sessions)
