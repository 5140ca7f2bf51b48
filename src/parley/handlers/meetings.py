"""Meetings: a live dialogue becomes a Janus VideoRoom that participants join from a browser.

The meeting's live state (waiting room, who is in, the speaker queue, timed turns, speaking
time, lock, recording) lives in the database (`parley.storage.meeting_models`) so several
Parley processes can serve one meeting; every change runs under the meeting row's lock
through the pure rules in `meeting_state.Room`, commits, and is then announced on
``meeting:<dialogue id>``:

    meeting.state  {"dialogue_id", "state"}   the whole state; `visible_state` cuts it per viewer
    meeting.chat   {"dialogue_id", "message"} the participant-visible chat
    meeting.ended  {"dialogue_id", "summary"}

Janus side effects (rooms, tokens, kick, moderate, recording) come after the commit and are
best effort: the database is the truth, and after a Janus restart `recover` rebuilds every
open room and reinstalls every live token from it. A token stays in the database until
Janus has let go of it: one that could not be revoked (Janus away, an error) is put back,
and the ticker's sweep revokes it later, with every other token nobody may use any more
(holder gone, meeting over, expired). Chat text never reaches a log line.

Recording consent is given in the meeting (`JoinInput.consent`, `/me/consent`), never taken
from the registration. A recording starts only when everyone admitted agrees (hosts,
interpreters, listeners and observers too); someone who comes in without agreeing pauses it
(Janus stops writing) until they agree or leave; someone present who withdraws stops it.
Who may enter at all comes from `parley.handlers.access.dialogue_role`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus, Subscription
from parley.clock import Clock
from parley.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from parley.handlers.access import DialogueRole, dialogue_role, note_use
from parley.handlers.dialogues import Action, Dialogues, check_id, clean_text, dialogue_topic, runs
from parley.handlers.meeting_state import (
    DISPLAY_NAME_MAX,
    Room,
    SpeakingTime,
    feed_for,
    new_meeting,
    new_participant,
    participant_of_feed,
    token_live,
)
from parley.media.janus.guard import Scope
from parley.media.janus.service import JanusService, MediaEvent, RoomSpec
from parley.media.janus.videoroom import new_room_id, new_room_pin
from parley.storage.access_models import AuditAction
from parley.storage.database import Database
from parley.storage.meeting_models import (
    AttendeeRole,
    AttendeeStatus,
    MediaMode,
    Meeting,
    MeetingMessage,
    MeetingParticipant,
    MeetingRecording,
    MeetingStatus,
    Presence,
    RecordingStatus,
)
from parley.storage.models import Dialogue, DialogueState, User
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import meetings as store
from parley.storage.stores import registration as reg_store
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

T = TypeVar("T")

CHAT_MAX = 2000
CHAT_PAGE_MAX = 100
# Someone whose connection dropped shows as reconnecting this long, then as offline.
RECONNECT_GRACE = timedelta(seconds=60)
TICK_SECONDS = 1.0
# The ticker looks for tokens to revoke this often, and revokes at most a batch each time.
TOKEN_SWEEP_SECONDS = 15.0
TOKEN_SWEEP_BATCH = 50
RECORDINGS_FOLDER = "recordings"


def meeting_topic(dialogue_id: int) -> str:
    return f"meeting:{dialogue_id}"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _NoChange(Exception):
    """Raised inside a change to roll it back quietly (nothing to store or announce)."""


class _TokenChanged(Exception):
    """The token `connect` meant to hand out was revoked or replaced meanwhile: start again."""


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    dialogue: Dialogue
    role: AttendeeRole
    language_default: str
    # What `access.dialogue_role` said (observers' uses are audited).
    dialogue_role: DialogueRole


@dataclass(frozen=True)
class JoinInput:
    mode: str = MediaMode.AUDIO.value
    language: str = ""
    display_name: str = ""
    # Consent to the recording is given in the meeting itself, never taken from the registration.
    consent: bool = False


@dataclass(frozen=True)
class ConnectInfo:
    """What the browser needs to join the room; the token is only ever given to its owner."""

    server: str
    ice_servers: list[dict[str, Any]]
    token: str
    room_id: int
    text_room_id: int
    # The room's pin: Janus asks it of every joiner (subscribers too).
    pin: str
    feed_id: int
    participant_id: int
    mode: MediaMode


@dataclass(frozen=True)
class ChatMessage:
    id: int
    participant_id: int | None
    author_name: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, m: MeetingMessage) -> ChatMessage:
        return cls(m.id, m.participant_id, m.author_name, m.body, m.created_at)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "participant_id": self.participant_id, "author_name": self.author_name,
                "body": self.body, "created_at": iso(self.created_at)}


@dataclass(frozen=True)
class RecordingView:
    id: int
    status: RecordingStatus
    started_at: datetime
    stopped_at: datetime | None
    files: list[dict[str, Any]]
    error: str | None

    @classmethod
    def of(cls, r: MeetingRecording) -> RecordingView:
        return cls(r.id, r.status, r.started_at, r.stopped_at, list(r.files or []), r.error)


def _participant_json(p: MeetingParticipant, room: Room) -> dict[str, Any]:
    return {
        "id": p.id,
        "user_id": p.user_id,
        "display_name": p.display_name,
        "role": p.role.value,
        "status": p.status.value,
        "mode": p.mode.value,
        "language": p.language,
        "presence": p.presence.value,
        "self_muted": p.self_muted,
        "force_muted": p.force_muted,
        "camera_on": p.camera_on,
        "hand_raised": p.hand_raised_at is not None,
        "talking": p.talking_since is not None,
        "feed_id": p.feed_id,
        "speaking_seconds": round(room._speaking_ms(p) / 1000, 1),
        "turns": p.turns,
        "consent": p.recording_consent,
    }


def state_of(room: Room, dialogue: Dialogue) -> dict[str, Any]:
    """The whole meeting state (JSON-able); `visible_state` cuts it for one viewer."""
    m = room.meeting
    turn = None
    if m.speaker_id is not None and m.turn_started_at is not None:
        turn = {"participant_id": m.speaker_id, "started_at": iso(m.turn_started_at),
                "ends_at": iso(m.turn_ends_at)}
    return {
        "dialogue_id": dialogue.id,
        "title": dialogue.title,
        "dialogue_state": dialogue.state.value,
        "status": m.status.value,
        "version": m.version,
        "locked": m.locked,
        "turn_seconds": m.turn_seconds,
        "turn": turn,
        "recording": {"id": m.recording_id, "paused": not room.recording_live()} if room.recording else None,
        "can_record": room.can_record(),
        "blockers": [p.id for p in room.recording_blockers()],
        "queue": [p.id for p in room.queue()],
        "people": [_participant_json(p, room) for p in sorted(room.participants.values(), key=lambda p: p.id)],
        "server_time": iso(room.now),
        # For the people inside only (`visible_state`): a new pin reaches them at once.
        "room_pin": m.room_pin,
    }


def empty_state(dialogue: Dialogue, now: datetime) -> dict[str, Any]:
    return {
        "dialogue_id": dialogue.id, "title": dialogue.title, "dialogue_state": dialogue.state.value,
        "status": "not_started", "version": 0, "locked": False, "turn_seconds": None, "turn": None,
        "recording": None, "can_record": False, "blockers": [], "queue": [], "people": [],
        "server_time": iso(now),
    }


def visible_state(state: Mapping[str, Any], *, user_id: int, host: bool) -> dict[str, Any]:
    """What one viewer may see: hosts see the waiting room and who has not consented; people
    not (or no longer) admitted see only themselves."""
    people: list[dict[str, Any]] = list(state.get("people", []))
    you = next((dict(p) for p in people if p["user_id"] == user_id), None)

    def public(p: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in p.items() if k != "user_id"}
        if not host and p["user_id"] != user_id:
            out.pop("consent", None)
        return out

    if you is not None:
        you.pop("user_id", None)
    # Only people inside see who else is inside.
    inside = host or (you is not None and you["status"] == AttendeeStatus.ADMITTED.value)
    out = {k: v for k, v in state.items() if k not in ("people", "room_pin")}
    if inside and you is not None and you["status"] == AttendeeStatus.ADMITTED.value:
        out["room_pin"] = state.get("room_pin")
    out["participants"] = [public(p) for p in people if p["status"] == AttendeeStatus.ADMITTED.value] \
        if inside else []
    if not inside:
        out["queue"] = []
        out["turn"] = None
    out["waiting"] = [public(p) for p in people if p["status"] == AttendeeStatus.WAITING.value] if host else []
    if not host:
        out["blockers"] = []
    out["you"] = you
    out["is_host"] = host
    return out


def _new_pin(room: Room) -> tuple[int, str]:
    """Give the meeting's room a new pin (someone was sent out): the room id and the pin."""
    room.meeting.room_pin = new_room_pin()
    return room.meeting.room_id, room.meeting.room_pin


def admitted_in(state: Mapping[str, Any], user_id: int) -> bool:
    """Whether this user is inside the meeting in a published state (their media may flow)."""
    return any(p["user_id"] == user_id and p["status"] == AttendeeStatus.ADMITTED.value
               for p in state.get("people", []))


def check_body(body: str) -> str:
    text = clean_text(body, multiline=True)
    if text is None:
        raise InvalidInput("The message contains characters that are not allowed.", fields={"body": "invalid"},
                           code="body_invalid")
    if not text:
        raise InvalidInput("Write a message first.", fields={"body": "required"}, code="body_empty")
    if len(text) > CHAT_MAX:
        raise InvalidInput("The message is too long.", fields={"body": "length"}, code="body_too_long")
    return text


# --- the handler ------------------------------------------------------------------------------


class Meetings:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        dialogues: Dialogues,
        janus: JanusService | None,
        *,
        data_dir: Path,
        token_ttl: int = 43200,
        recorder: Sequence[str] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.dialogues = dialogues
        self.janus = janus
        self.data_dir = data_dir
        self.token_ttl = token_ttl
        # The converter runs as its own process: media never goes through the web process.
        self.recorder = list(recorder or (sys.executable, "-m", "parley.media.janus.recording"))
        self._tasks = TaskOwner("meetings")
        self._rooms_ready: set[int] = set()
        self._room_dialogue: dict[int, int] = {}
        self._dialogue_sub: Subscription | None = None
        self._started = False
        self.token_sweep_batch = TOKEN_SWEEP_BATCH
        self._next_sweep: float | None = None
        self._serials: dict[int, asyncio.Lock] = {}

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._dialogue_sub = await self.bus.subscribe([])
        self._tasks.spawn("dialogue-watch", self._watch_dialogues(self._dialogue_sub))
        self._tasks.spawn("ticker", self._ticker())
        try:
            async with self.db.session() as s:
                meetings = await store.open_meetings(s)
                processing = await store.processing_recordings(s)
        except DBAPIError as exc:
            log.error("meeting tables are missing or unreadable (run `parley migrate`): %s", type(exc).__name__)
            meetings, processing = [], []
        for m in meetings:
            await self._dialogue_sub.add(dialogue_topic(m.dialogue_id))
            self._room_dialogue[m.room_id] = m.dialogue_id
        for rid in processing:
            self._tasks.spawn(f"finalize:{rid}", self._finalize(rid))
        if self.janus is not None:
            self.janus.on_event(self._on_media_event)
            self.janus.on_recovered(self.recover)
            if self.janus.ready:
                await self.recover()

    async def stop(self) -> None:
        self._started = False
        await self._tasks.stop()
        if self._dialogue_sub is not None:
            await self._dialogue_sub.close()
            self._dialogue_sub = None

    def _media(self) -> JanusService:
        if self.janus is None:
            raise EngineError("meetings need Janus (janus.enabled or an external Janus)", retryable=False,
                              engine="janus")
        if not self.janus.ready:
            raise EngineError("janus is not connected", retryable=True, engine="janus")
        return self.janus

    # --- access ---------------------------------------------------------------------------------

    async def _access(self, s: AsyncSession, actor: User, dialogue_id: int) -> Access:
        """Who ``actor`` is in this dialogue's meeting, from `access.dialogue_role`: its hosts
        (those who run it), interpreters, observers (a grant), registered participants."""
        check_id(dialogue_id)
        d = await dialogue_store.dialogue(s, dialogue_id)
        if d is None:
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        language = d.languages[0] if d.languages else "en"
        own_language = actor.locale if actor.locale in d.languages else language
        role = await dialogue_role(s, actor, d)
        if role == DialogueRole.STAFF:
            if runs(actor, d):
                return Access(d, AttendeeRole.HOST, own_language, role)
            interpreters = await dialogue_store.interpreters(s, [d.id])
            mine = [lang for lang, u in interpreters[d.id] if u.id == actor.id]
            return Access(d, AttendeeRole.STAFF, mine[0] if mine else language, role)
        if role == DialogueRole.OBSERVER:
            return Access(d, AttendeeRole.OBSERVER, own_language, role)
        registration = await reg_store.registration(s, d.id, actor.id) if role == DialogueRole.PARTICIPANT else None
        if registration is None:
            if d.state == DialogueState.DRAFT:
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            raise Forbidden("Register for this dialogue to join its meeting.", code="not_registered")
        return Access(d, AttendeeRole.PARTICIPANT, registration.preferred_language, role)

    async def access(self, actor: User, dialogue_id: int) -> Access:
        async with self.db.session() as s:
            return await self._access(s, actor, dialogue_id)

    async def _host(self, s: AsyncSession, actor: User, dialogue_id: int) -> Access:
        access = await self._access(s, actor, dialogue_id)
        if access.role != AttendeeRole.HOST:
            raise Forbidden("Only the dialogue's facilitator or organiser can do this.", code="not_host")
        return access

    # --- the one way to change a meeting --------------------------------------------------------

    def _serial(self, dialogue_id: int) -> asyncio.Lock:
        """Changes to one meeting run one at a time in this process too: the row lock serialises
        processes on PostgreSQL, but SQLite reads outside any transaction (pysqlite starts one
        only at the first write), so two changes could otherwise each decide on a stale room."""
        lock = self._serials.get(dialogue_id)
        if lock is None:
            lock = self._serials[dialogue_id] = asyncio.Lock()
        return lock

    async def _change(
        self,
        dialogue_id: int,
        fn: Callable[[Room, AsyncSession], Awaitable[T]],
        *,
        actor: User | None = None,
        host_only: bool = False,
    ) -> tuple[T, dict[str, Any]]:
        """Run ``fn`` on the locked meeting; commit, announce the new state, return both.

        Keeps the invariant that Janus writes a recording only while everyone present agreed
        (`Room.recording_live`): a change that breaks it pauses the recording, one that
        restores it resumes it (same folder: the converter fills the gap with silence); a
        recording ``fn`` stopped (`_stop_recording`) is converted.
        """
        stopped: int | None = None
        switch: bool | None = None  # Janus recording: False pause, True resume
        resume_dir = ""
        async with self._serial(dialogue_id), self.db.session() as s:
            now = self.clock.now()
            if actor is not None:
                if host_only:
                    await self._host(s, actor, dialogue_id)
                else:
                    await self._access(s, actor, dialogue_id)
            meeting = await store.meeting_for(s, dialogue_id, lock=True)
            if meeting is None:
                raise NotFound("The meeting has not started yet.", code="meeting_not_started")
            dialogue = await dialogue_store.dialogue(s, dialogue_id)
            assert dialogue is not None  # the meeting row references it
            room = Room(meeting, await store.participants(s, meeting.id), now)
            rid_before, live_before = meeting.recording_id, room.recording_live()
            result = await fn(room, s)
            live_after = room.recording_live()
            if rid_before is not None and meeting.recording_id != rid_before:
                stopped = rid_before
            elif rid_before is not None and live_before != live_after:
                switch = live_after
                rec = await store.recording(s, rid_before)
                resume_dir = rec.directory if rec is not None else ""
                log.info("meeting %s: recording %s %s", dialogue_id, rid_before,
                         "resumed (everyone present agreed)" if live_after else "paused (consent missing)")
            meeting.version += 1
            meeting.updated_at = now
            state = state_of(room, dialogue)
            room_id = meeting.room_id
        await self.bus.publish(meeting_topic(dialogue_id),
                               {"type": "meeting.state", "dialogue_id": dialogue_id, "state": state})
        if stopped is not None:
            await self._stop_janus_recording(room_id)
            self._tasks.spawn(f"finalize:{stopped}", self._finalize(stopped))
        elif switch is False:
            await self._stop_janus_recording(room_id)
        elif switch and resume_dir and self.janus is not None and self.janus.ready:
            try:
                await self.janus.set_recording(room_id, self._abs(resume_dir))
            except EngineError as exc:
                log.error("meeting %s: janus refused to resume recording: %s", dialogue_id, exc)
        return result, state

    @staticmethod
    async def _stop_recording(room: Room, s: AsyncSession) -> int | None:
        """Inside a change: end the running (or paused) recording; `_change` stops Janus and
        converts it after the commit. The recording's id, None when there was none."""
        rid = room.meeting.recording_id
        if rid is None:
            return None
        rec = await store.recording(s, rid)
        if rec is not None:
            rec.status = RecordingStatus.PROCESSING
            rec.stopped_at = room.now
        room.meeting.recording_id = None
        return rid

    async def _try_change(self, dialogue_id: int, fn: Callable[[Room, AsyncSession], Awaitable[Any]]) -> bool:
        """`_change` for background events: False when nothing changed or there is no meeting."""
        try:
            await self._change(dialogue_id, fn)
        except (_NoChange, NotFound, Conflict):
            return False
        return True

    # --- reading -----------------------------------------------------------------------------------

    async def state(self, actor: User, dialogue_id: int) -> dict[str, Any]:
        """The meeting as ``actor`` sees it (also for a meeting that has not started)."""
        async with self.db.session() as s:
            access = await self._access(s, actor, dialogue_id)
            meeting = await store.meeting_for(s, dialogue_id)
            if meeting is None:
                full = empty_state(access.dialogue, self.clock.now())
            else:
                full = state_of(Room(meeting, await store.participants(s, meeting.id), self.clock.now()),
                                access.dialogue)
        return visible_state(full, user_id=actor.id, host=access.role == AttendeeRole.HOST)

    async def summary(self, actor: User, dialogue_id: int) -> list[SpeakingTime]:
        async with self.db.session() as s:
            access = await self._access(s, actor, dialogue_id)
            if access.role in (AttendeeRole.PARTICIPANT, AttendeeRole.OBSERVER):
                raise Forbidden("The speaking-time summary is for the facilitator.", code="not_host")
            meeting = await store.meeting_for(s, dialogue_id)
            if meeting is None:
                return []
            return Room(meeting, await store.participants(s, meeting.id), self.clock.now()).speaking_times()

    async def staff_channel(self, actor: User, dialogue_id: int) -> int | None:
        """The dialogue's workspace channel, shown beside the meeting for its staff."""
        async with self.db.session() as s:
            return await store.dialogue_channel_id(s, dialogue_id, actor.id)

    # --- opening and ending ---------------------------------------------------------------------

    async def start_meeting(self, actor: User, dialogue_id: int) -> dict[str, Any]:
        """The facilitator opens the meeting; a scheduled dialogue goes live."""
        async with self.db.session() as s:
            access = await self._host(s, actor, dialogue_id)
        state = access.dialogue.state
        if state == DialogueState.SCHEDULED:
            await self.dialogues.transition(actor, dialogue_id, Action.START)
        elif state != DialogueState.LIVE:
            raise Conflict("Only a scheduled or live dialogue can hold its meeting.", code="dialogue_not_live")
        await self._ensure_meeting(dialogue_id)
        return await self.state(actor, dialogue_id)

    async def _ensure_meeting(self, dialogue_id: int) -> Meeting:
        now = self.clock.now()
        async with self.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
        if meeting is None:
            try:
                async with self.db.session() as s:
                    meeting = new_meeting(dialogue_id, new_room_id(), new_room_id(), now, room_pin=new_room_pin())
                    s.add(meeting)
            except IntegrityError:  # another process opened it at the same moment
                async with self.db.session() as s:
                    meeting = await store.meeting_for(s, dialogue_id)
                if meeting is None:  # pragma: no cover
                    raise
            else:
                log.info("meeting for dialogue %s opened", dialogue_id)
                await self.bus.publish(meeting_topic(dialogue_id), {"type": "meeting.opened",
                                                                    "dialogue_id": dialogue_id})
        if meeting.status == MeetingStatus.OPEN:
            self._room_dialogue[meeting.room_id] = dialogue_id
            if self._dialogue_sub is not None:
                await self._dialogue_sub.add(dialogue_topic(dialogue_id))
            if self.janus is not None and self.janus.ready:
                try:
                    await self._open_rooms(meeting)
                except EngineError as exc:
                    log.error("could not open the rooms of meeting %s: %s", dialogue_id, exc)
        return meeting

    async def _open_rooms(self, meeting: Meeting) -> None:
        janus = self._media()
        if meeting.room_pin is None:
            meeting.room_pin = await self._give_pin(meeting.dialogue_id)
        async with self.db.session() as s:
            now = self.clock.now()
            people = await store.live_tokens(s, [meeting.id], now)
            dialogue = await dialogue_store.dialogue(s, meeting.dialogue_id)
            current = await store.meeting_for(s, meeting.dialogue_id) or meeting
            room = Room(current, await store.participants(s, current.id), now)
            # A paused recording stays paused in the recreated room.
            recording = await store.recording(s, current.recording_id) \
                if current.recording_id is not None and room.recording_live() else None
        capacity = dialogue.capacity if dialogue is not None else 16
        spec = RoomSpec(
            room_id=meeting.room_id,
            text_room_id=meeting.text_room_id,
            description=f"dialogue {meeting.dialogue_id}",
            publishers=min(capacity + 8, 200),
            allowed=tuple(p.janus_token for p in people if p.janus_token),
            pin=meeting.room_pin,
            record_dir=self._abs(recording.directory) if recording is not None else None,
        )
        await janus.open_rooms(spec)
        self._rooms_ready.add(meeting.room_id)

    async def end_meeting(self, actor: User, dialogue_id: int) -> list[SpeakingTime]:
        """The facilitator ends the meeting; a live dialogue ends with it."""
        async with self.db.session() as s:
            access = await self._host(s, actor, dialogue_id)
        summary = await self._end(dialogue_id)
        if access.dialogue.state == DialogueState.LIVE:
            with contextlib.suppress(Conflict):
                await self.dialogues.transition(actor, dialogue_id, Action.END)
        return summary

    async def _end(self, dialogue_id: int) -> list[SpeakingTime]:
        holders: list[int] = []

        async def end(room: Room, s: AsyncSession) -> list[SpeakingTime]:
            if not room.open:
                raise _NoChange
            # Their tokens stay until Janus has revoked them (below, or the sweep).
            holders.extend(p.id for p in room.participants.values() if p.janus_token)
            await self._stop_recording(room, s)
            room.end()
            return room.speaking_times()

        try:
            summary, state = await self._change(dialogue_id, end)
        except _NoChange:
            async with self.db.session() as s:
                meeting = await store.meeting_for(s, dialogue_id)
                if meeting is None:
                    return []
                return Room(meeting, await store.participants(s, meeting.id), self.clock.now()).speaking_times()
        log.info("meeting for dialogue %s ended", dialogue_id)
        async with self.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
        if meeting is not None:
            self._room_dialogue.pop(meeting.room_id, None)
            self._rooms_ready.discard(meeting.room_id)
            if self.janus is not None and self.janus.ready:
                try:
                    await self.janus.close_rooms(meeting.room_id, meeting.text_room_id)
                except EngineError as exc:
                    log.error("janus cleanup of meeting %s failed: %s", dialogue_id, exc)
        if holders:
            await self._retire_tokens(dialogue_id, holders)
        if self._dialogue_sub is not None:
            await self._dialogue_sub.remove(dialogue_topic(dialogue_id))
        await self.bus.publish(meeting_topic(dialogue_id), {
            "type": "meeting.ended", "dialogue_id": dialogue_id,
            "summary": [{"participant_id": t.participant_id, "display_name": t.display_name,
                         "seconds": round(t.seconds, 1), "turns": t.turns, "share": round(t.share, 3)}
                        for t in summary],
        })
        return summary

    # --- entering -------------------------------------------------------------------------------

    async def join(self, actor: User, dialogue_id: int, data: JoinInput) -> dict[str, Any]:
        """Enter through the lobby: the waiting room, or straight in for the dialogue's staff."""
        async with self.db.session() as s:
            access = await self._access(s, actor, dialogue_id)
        d = access.dialogue
        if d.state != DialogueState.LIVE:
            if d.state in (DialogueState.DRAFT, DialogueState.SCHEDULED):
                raise Conflict("The meeting has not started yet.", code="meeting_not_started")
            raise Conflict("This meeting has ended.", code="meeting_ended")
        errors: dict[str, str] = {}
        try:
            mode = MediaMode(data.mode)
        except ValueError:
            errors["mode"] = "invalid"
            mode = MediaMode.AUDIO
        if access.role == AttendeeRole.OBSERVER:
            mode = MediaMode.LISTEN  # observers listen; they never publish
        language = data.language or access.language_default
        if language not in d.languages and access.role == AttendeeRole.PARTICIPANT:
            errors["language"] = "not_offered"
        name = clean_text(data.display_name) if data.display_name else actor.display_name
        if not name or len(name) > DISPLAY_NAME_MAX:
            errors["display_name"] = "length"
        if errors:
            raise InvalidInput("Some fields need attention.", fields=errors)
        assert name is not None
        consent = data.consent
        await self._ensure_meeting(dialogue_id)

        async def enter(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is not None:
                withdraws = p.status == AttendeeStatus.ADMITTED and p.recording_consent and not consent
                room.reenter(p, mode=mode, language=language, display_name=name, consent=consent)
                if withdraws:
                    await self._withdrawn(room, s, p)
            else:
                if room.meeting.locked and access.role == AttendeeRole.PARTICIPANT:
                    raise Conflict("The meeting is locked: nobody new can join.", code="meeting_locked")
                if not room.open:
                    raise Conflict("This meeting has ended.", code="meeting_ended")
                p = new_participant(room.meeting, user_id=actor.id, display_name=name, role=access.role, mode=mode,
                                    language=language, consent=consent, now=room.now)
                s.add(p)
                await s.flush()
                room.add(p)
            if access.role == AttendeeRole.OBSERVER:
                # Should an observer's browser publish anyway, Janus keeps it muted.
                p.force_muted = True
                await note_use(s, room.now, actor, access.dialogue, access.dialogue_role, AuditAction.JOIN_MEETING)

        await self._change(dialogue_id, enter)
        return await self.state(actor, dialogue_id)

    async def _mine(self, s: AsyncSession, actor: User, dialogue_id: int) -> tuple[Meeting, MeetingParticipant]:
        await self._access(s, actor, dialogue_id)
        meeting = await store.meeting_for(s, dialogue_id)
        if meeting is None:
            raise NotFound("The meeting has not started yet.", code="meeting_not_started")
        p = next((p for p in await store.participants(s, meeting.id) if p.user_id == actor.id), None)
        if p is None:
            raise Conflict("Join the meeting first.", code="not_joined")
        return meeting, p

    async def connect(self, actor: User, dialogue_id: int) -> ConnectInfo:
        """Credentials for one connection to Janus: a token (issued once) and a fresh feed id."""
        for _ in range(3):
            try:
                return await self._connect(actor, dialogue_id)
            except _TokenChanged:
                continue  # revoked (the sweep, a leave) or replaced while we looked: look again
        raise EngineError("the janus token kept changing", retryable=True, engine="janus")

    async def _connect(self, actor: User, dialogue_id: int) -> ConnectInfo:
        async with self.db.session() as s:
            meeting, p = await self._mine(s, actor, dialogue_id)
        if meeting.status != MeetingStatus.OPEN:
            raise Conflict("This meeting has ended.", code="meeting_ended")
        if p.status != AttendeeStatus.ADMITTED:
            raise Forbidden("The facilitator has not let you in yet.", code="not_admitted")
        janus = self._media()
        if meeting.room_id not in self._rooms_ready:
            await self._open_rooms(meeting)
        now = self.clock.now()
        fresh: str | None = None
        reused = p.janus_token
        if p.janus_token is None or p.token_expires_at is None or p.token_expires_at <= now + timedelta(minutes=5):
            fresh = await janus.issue_token()
            await janus.allow(meeting.room_id, meeting.text_room_id, fresh, True)
        old_feed = p.feed_id
        replaced: list[str] = []
        pins: list[str | None] = []

        async def assign(room: Room, s: AsyncSession) -> MeetingParticipant:
            pins[:] = [room.meeting.room_pin]  # read under the lock: a removal may just have changed it
            me = room.get(p.id)
            if me.status != AttendeeStatus.ADMITTED:
                raise Forbidden("The facilitator has not let you in yet.", code="not_admitted")
            replaced.clear()
            if fresh is not None:
                if me.janus_token is not None:
                    replaced.append(me.janus_token)
                me.janus_token = fresh
                me.token_expires_at = room.now + timedelta(seconds=self.token_ttl)
            elif me.janus_token != reused:
                raise _TokenChanged
            me.feed_id = feed_for(me.id)
            if me.presence == Presence.OFFLINE:
                me.presence = Presence.RECONNECTING
            me.updated_at = room.now
            return me

        try:
            me, _ = await self._change(dialogue_id, assign)
        except BaseException:
            if fresh is not None:
                with contextlib.suppress(EngineError):
                    await janus.revoke_token(fresh)
            raise
        for token in replaced:
            try:
                await janus.revoke_token(token)
            except EngineError as exc:
                log.error("meeting %s: janus kept a replaced token of participant %s: %s", dialogue_id, me.id, exc)
        if old_feed is not None and old_feed != me.feed_id:
            with contextlib.suppress(EngineError):
                await janus.kick(meeting.room_id, old_feed)
        assert me.janus_token is not None and me.feed_id is not None
        browser = janus.browser_config(me.id)
        server = browser.server
        if server.startswith("/"):
            server = f"{server}?dialogue={dialogue_id}"
        pin = pins[0] if pins and pins[0] is not None else meeting.room_pin
        assert pin is not None  # _open_rooms gave the meeting one
        return ConnectInfo(server=server, ice_servers=browser.ice_servers, token=me.janus_token,
                           room_id=meeting.room_id, text_room_id=meeting.text_room_id, pin=pin,
                           feed_id=me.feed_id, participant_id=me.id, mode=me.mode)

    async def janus_scope(self, actor: User, dialogue_id: int) -> Scope | None:
        """The one room ``actor``'s Janus proxy socket may reach, with their publisher id; None
        when they may not open one (not admitted, or the meeting is not open)."""
        try:
            async with self.db.session() as s:
                meeting, p = await self._mine(s, actor, dialogue_id)
        except (NotFound, Forbidden, Conflict):
            return None
        if meeting.status != MeetingStatus.OPEN or p.status != AttendeeStatus.ADMITTED:
            return None
        return Scope(room_id=meeting.room_id, feed_id=p.feed_id)

    async def may_use_janus(self, actor: User, dialogue_id: int) -> bool:
        """Whether ``actor`` may open Parley's Janus WebSocket proxy for this meeting."""
        return await self.janus_scope(actor, dialogue_id) is not None

    # --- what a participant does to themselves ---------------------------------------------------

    async def _own(
        self, actor: User, dialogue_id: int, fn: Callable[[Room, MeetingParticipant], None]
    ) -> dict[str, Any]:
        async def change(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is None:
                raise Conflict("Join the meeting first.", code="not_joined")
            fn(room, p)

        await self._change(dialogue_id, change, actor=actor)
        return await self.state(actor, dialogue_id)

    async def report(self, actor: User, dialogue_id: int, *, self_muted: bool | None = None,
                     camera_on: bool | None = None, presence: str | None = None) -> dict[str, Any]:
        try:
            where = Presence(presence) if presence is not None else None
        except ValueError:
            raise InvalidInput("Unknown presence.", fields={"presence": "invalid"}) from None

        def report(room: Room, p: MeetingParticipant) -> None:
            room.report(p.id, self_muted=self_muted, camera_on=camera_on, presence=where)

        return await self._own(actor, dialogue_id, report)

    async def raise_hand(self, actor: User, dialogue_id: int, raised: bool) -> dict[str, Any]:
        def hand(room: Room, p: MeetingParticipant) -> None:
            room.raise_hand(p.id, raised)

        return await self._own(actor, dialogue_id, hand)

    async def set_consent(self, actor: User, dialogue_id: int, consent: bool) -> dict[str, Any]:
        """Agree to the recording, or withdraw: someone present who withdraws stops a running
        (or paused) recording at once; a new one needs everyone's agreement again."""

        async def agree(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is None:
                raise Conflict("Join the meeting first.", code="not_joined")
            room.set_consent(p.id, consent)
            if not consent and p.status == AttendeeStatus.ADMITTED:
                await self._withdrawn(room, s, p)

        await self._change(dialogue_id, agree, actor=actor)
        return await self.state(actor, dialogue_id)

    async def _withdrawn(self, room: Room, s: AsyncSession, p: MeetingParticipant) -> None:
        rid = await self._stop_recording(room, s)
        if rid is not None:
            log.info("meeting %s: recording %s stopped (participant %s withdrew consent)",
                     room.meeting.dialogue_id, rid, p.id)

    async def leave(self, actor: User, dialogue_id: int) -> dict[str, Any]:
        gone: list[MeetingParticipant] = []

        def leave(room: Room, p: MeetingParticipant) -> None:
            room.leave(p.id)
            gone.append(p)

        state = await self._own(actor, dialogue_id, leave)
        await self._disconnect(dialogue_id, gone)
        return state

    async def socket_closed(self, actor: User, dialogue_id: int) -> None:
        """The meeting page's socket went away: show the person as reconnecting (not left)."""

        async def lost(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is None or not room.media_lost(p.id):
                raise _NoChange

        await self._try_change(dialogue_id, lost)

    # --- what the facilitator does ---------------------------------------------------------------

    async def admit(self, actor: User, dialogue_id: int, participant_id: int) -> dict[str, Any]:
        async def admit(room: Room, s: AsyncSession) -> None:
            room.admit(participant_id)

        await self._change(dialogue_id, admit, actor=actor, host_only=True)
        return await self.state(actor, dialogue_id)

    async def admit_all(self, actor: User, dialogue_id: int) -> dict[str, Any]:
        async def admit(room: Room, s: AsyncSession) -> None:
            for p in room.waiting():
                room.admit(p.id)

        await self._change(dialogue_id, admit, actor=actor, host_only=True)
        return await self.state(actor, dialogue_id)

    async def deny(self, actor: User, dialogue_id: int, participant_id: int) -> dict[str, Any]:
        async def deny(room: Room, s: AsyncSession) -> None:
            room.deny(participant_id)

        await self._change(dialogue_id, deny, actor=actor, host_only=True)
        return await self.state(actor, dialogue_id)

    async def remove(self, actor: User, dialogue_id: int, participant_id: int) -> dict[str, Any]:
        """Remove someone: Janus kicks their feed, refuses their token from now on, and the
        room gets a new pin (what they knew opens nothing); their proxy sockets close when
        the new state reaches them (`admitted_in`)."""
        gone: list[MeetingParticipant] = []
        pins: list[tuple[int, str]] = []

        async def remove(room: Room, s: AsyncSession) -> None:
            gone.append(room.remove(participant_id))
            pins.append(_new_pin(room))

        await self._change(dialogue_id, remove, actor=actor, host_only=True)
        await self._disconnect(dialogue_id, gone)
        for room_id, pin in pins:
            await self._set_pin(dialogue_id, room_id, pin)
        log.info("meeting %s: participant %s removed by user %s", dialogue_id, participant_id, actor.id)
        return await self.state(actor, dialogue_id)

    async def _set_pin(self, dialogue_id: int, room_id: int, pin: str) -> None:
        """Tell Janus the room's new pin; if it cannot hear it now, `recover` sets it later."""
        if self.janus is None or not self.janus.ready or room_id not in self._rooms_ready:
            return
        try:
            await self.janus.set_pin(room_id, pin)
        except EngineError as exc:
            self._rooms_ready.discard(room_id)  # the next connect reopens (and re-pins) the rooms
            log.error("meeting %s: janus kept the old room pin: %s", dialogue_id, exc)

    async def _give_pin(self, dialogue_id: int) -> str:
        """A pin for a meeting opened before rooms had pins (stored, so every process agrees)."""

        async def give(room: Room, s: AsyncSession) -> str:
            if room.meeting.room_pin is None:
                room.meeting.room_pin = new_room_pin()
            return room.meeting.room_pin

        pin, _ = await self._change(dialogue_id, give)
        return pin

    async def _disconnect(self, dialogue_id: int, people: Sequence[MeetingParticipant]) -> None:
        """Janus side of someone leaving: kick their feed, revoke and disallow their token."""
        await self._retire_tokens(dialogue_id, [p.id for p in people], feeds={p.id: p.feed_id for p in people})

    async def _retire_tokens(self, dialogue_id: int, participant_ids: Sequence[int], *,
                             feeds: Mapping[int, int | None] | None = None) -> int:
        """Revoke the tokens of these participants that nobody may use any more; the count revoked.

        Forgets each token under the meeting's lock first (so `connect` cannot hand it out
        again meanwhile), then asks Janus; a token Janus could not revoke is put back for the
        sweep to retry, unless its holder got a new one since (which `connect` then revokes).
        """
        taken: list[tuple[int, str, datetime | None]] = []
        async with self._serial(dialogue_id), self.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id, lock=True)
            if meeting is None:
                return 0
            wanted = set(participant_ids)
            now = self.clock.now()
            for p in await store.participants(s, meeting.id):
                if p.id in wanted and p.janus_token is not None and not token_live(meeting, p, now):
                    taken.append((p.id, p.janus_token, p.token_expires_at))
                    p.janus_token = None
                    p.token_expires_at = None
            is_open = meeting.status == MeetingStatus.OPEN
            room_id, text_room_id = meeting.room_id, meeting.text_room_id
        janus = self.janus
        if not taken or janus is None:
            return len(taken)  # without Janus there is nothing to revoke them from
        feeds = feeds or {}
        failed: list[tuple[int, str, datetime | None]] = []

        async def attempt(what: str, pid: int, call: Awaitable[None]) -> bool:
            # Each step on its own: one failing must not leave the others undone.
            try:
                await call
            except EngineError as exc:
                log.error("janus %s for participant %s failed: %s", what, pid, exc)
                return False
            return True

        for pid, token, expires in taken:
            feed = feeds.get(pid)
            live_room = is_open and janus.ready
            if feed is not None and live_room:
                await attempt("kick", pid, janus.kick(room_id, feed))
            if not await attempt("revoke", pid, janus.revoke_token(token)):
                failed.append((pid, token, expires))
                continue
            if live_room:
                await attempt("disallow", pid, janus.allow(room_id, text_room_id, token, False))
        if failed:
            await self._restore_tokens(dialogue_id, failed)
        return len(taken) - len(failed)

    async def _restore_tokens(self, dialogue_id: int, tokens: Sequence[tuple[int, str, datetime | None]]) -> None:
        async with self._serial(dialogue_id), self.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id, lock=True)
            rows = {p.id: p for p in await store.participants(s, meeting.id)} if meeting is not None else {}
            for pid, token, expires in tokens:
                p = rows.get(pid)
                if p is not None and p.janus_token is None:
                    p.janus_token, p.token_expires_at = token, expires
                else:
                    log.error("meeting %s: a token of participant %s stays in janus (revoking it failed)",
                              dialogue_id, pid)

    async def mute(self, actor: User, dialogue_id: int, participant_id: int, muted: bool) -> dict[str, Any]:
        """Block (or release) someone's microphone in Janus itself."""

        async def mute(room: Room, s: AsyncSession) -> tuple[int, int | None]:
            p = room.force_mute(participant_id, muted)
            return room.meeting.room_id, p.feed_id

        (room_id, feed), _ = await self._change(dialogue_id, mute, actor=actor, host_only=True)
        if feed is not None and self.janus is not None and self.janus.ready:
            try:
                await self.janus.moderate(room_id, feed, muted)
            except EngineError as exc:
                log.error("janus moderate in meeting %s failed: %s", dialogue_id, exc)
        return await self.state(actor, dialogue_id)

    async def lock(self, actor: User, dialogue_id: int, locked: bool) -> dict[str, Any]:
        async def lock(room: Room, s: AsyncSession) -> None:
            room.set_locked(locked)

        await self._change(dialogue_id, lock, actor=actor, host_only=True)
        return await self.state(actor, dialogue_id)

    async def floor(self, actor: User, dialogue_id: int, action: str, *, participant_id: int | None = None,
                    seconds: int | None = None) -> dict[str, Any]:
        """The speaker queue: ``next`` (head of the queue), ``give`` (someone), ``end``, ``length``."""
        if action not in ("next", "give", "end", "length"):
            raise InvalidInput("Unknown action.", fields={"action": "invalid"})
        if action == "give" and participant_id is None:
            raise InvalidInput("Say who gets the floor.", fields={"participant_id": "required"})

        async def floor(room: Room, s: AsyncSession) -> None:
            if action == "length":
                room.set_turn_seconds(seconds)
            elif action == "end":
                room.end_turn()
            else:
                room.give_floor(participant_id if action == "give" else None)

        await self._change(dialogue_id, floor, actor=actor, host_only=True)
        return await self.state(actor, dialogue_id)

    # --- recording --------------------------------------------------------------------------------

    def _abs(self, relative: str) -> Path:
        return (self.data_dir / relative).resolve()

    async def set_recording(self, actor: User, dialogue_id: int, on: bool) -> dict[str, Any]:
        """Start recording the audio (only if everyone sending audio consented), or stop it."""
        async with self.db.session() as s:
            await self._host(s, actor, dialogue_id)
        if on:
            await self._start_recording(actor, dialogue_id, self._media())
        else:
            async def stop(room: Room, s: AsyncSession) -> None:
                if await self._stop_recording(room, s) is None:
                    raise Conflict("The meeting is not being recorded.", code="not_recording")

            await self._change(dialogue_id, stop, actor=actor, host_only=True)
            log.info("meeting %s: recording stopped by user %s", dialogue_id, actor.id)
        return await self.state(actor, dialogue_id)

    async def _start_recording(self, actor: User, dialogue_id: int, janus: JanusService) -> None:
        folder: list[str] = []

        async def start(room: Room, s: AsyncSession) -> tuple[int, int]:
            if room.meeting.recording_id is not None:
                raise Conflict("The meeting is already being recorded.", code="already_recording")
            # Everyone present, the host included, agrees in the meeting first: starting a
            # recording is not taken as anyone's consent.
            if not room.can_record():
                names = [p.id for p in room.recording_blockers()]
                raise Conflict("Everyone in the meeting must agree before it is recorded.",
                               code="consent_missing", fields={"blockers": ",".join(map(str, names))})
            rec = MeetingRecording(
                meeting_id=room.meeting.id, dialogue_id=dialogue_id, status=RecordingStatus.RECORDING,
                directory="", files=[], started_by_id=actor.id, started_at=room.now, stopped_at=None, error=None,
            )
            s.add(rec)
            await s.flush()
            rec.directory = f"{RECORDINGS_FOLDER}/{dialogue_id}/{rec.id}"
            folder.append(rec.directory)
            room.meeting.recording_id = rec.id
            return rec.id, room.meeting.room_id

        (rid, room_id), _ = await self._change(dialogue_id, start, actor=actor, host_only=True)
        path = self._abs(folder[0])
        await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        try:
            await janus.set_recording(room_id, path)
        except EngineError as exc:
            log.error("meeting %s: janus refused to record: %s", dialogue_id, exc)

            async def undo(room: Room, s: AsyncSession) -> None:
                rec = await store.recording(s, rid)
                if rec is not None:
                    rec.status = RecordingStatus.FAILED
                    rec.stopped_at = room.now
                    rec.error = "janus refused to record"
                if room.meeting.recording_id == rid:
                    room.meeting.recording_id = None

            await self._change(dialogue_id, undo)
            raise
        log.info("meeting %s: recording %s started by user %s", dialogue_id, rid, actor.id)

    async def _stop_janus_recording(self, room_id: int) -> None:
        if self.janus is None or not self.janus.ready:
            return
        try:
            await self.janus.set_recording(room_id, None)
        except EngineError as exc:
            log.error("janus could not stop recording room: %s", exc)

    async def _finalize(self, recording_id: int) -> None:
        """Convert Janus's .mjr files into one Ogg Opus file per speaker, in a separate process."""
        async with self.db.session() as s:
            rec = await store.recording(s, recording_id)
            if rec is None or rec.status != RecordingStatus.PROCESSING:
                return
            folder, started = self._abs(rec.directory), rec.started_at
        manifest: list[dict[str, Any]] = []
        error: str | None = None
        if await asyncio.to_thread(folder.is_dir):
            proc = await asyncio.create_subprocess_exec(
                *self.recorder, str(folder), str(int(started.timestamp() * 1_000_000)),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await proc.communicate()
            except asyncio.CancelledError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
                raise
            if proc.returncode == 0:
                try:
                    loaded = json.loads(out.decode() or "[]")
                    manifest = [m for m in loaded if isinstance(m, dict)]
                except ValueError:
                    error = "converter output unreadable"
            else:
                error = f"converter failed ({proc.returncode})"
                log.error("recording %s: converter failed: %s", recording_id, err.decode(errors="replace")[-300:])
        async with self.db.session() as s:
            rec = await store.recording(s, recording_id)
            if rec is None:
                return
            meeting = await s.get(Meeting, rec.meeting_id)
            names = {p.id: p.display_name for p in await store.participants(s, meeting.id)} if meeting else {}
            for item in manifest:
                item["display_name"] = names.get(int(item.get("participant_id", 0)), "")
            rec.files = manifest
            rec.status = RecordingStatus.FAILED if error else RecordingStatus.READY
            rec.error = error
            dialogue_id = rec.dialogue_id
        await self.bus.publish(meeting_topic(dialogue_id), {"type": "meeting.recording", "dialogue_id": dialogue_id,
                                                            "recording_id": recording_id})

    async def recordings(self, actor: User, dialogue_id: int) -> list[RecordingView]:
        async with self.db.session() as s:
            await self._host(s, actor, dialogue_id)
            return [RecordingView.of(r) for r in await store.recordings(s, dialogue_id)]

    async def recording_file(self, actor: User, dialogue_id: int, recording_id: int, name: str) -> Path:
        async with self.db.session() as s:
            await self._host(s, actor, dialogue_id)
            rec = await store.recording(s, recording_id)
            if rec is None or rec.dialogue_id != dialogue_id:
                raise NotFound("No such recording.", code="recording_not_found")
            if not any(f.get("file") == name for f in rec.files or []):
                raise NotFound("No such file in this recording.", code="file_not_found")
            return self._abs(rec.directory) / name

    async def delete_recording(self, actor: User, dialogue_id: int, recording_id: int) -> None:
        async with self.db.session() as s:
            await self._host(s, actor, dialogue_id)
            rec = await store.recording(s, recording_id)
            if rec is None or rec.dialogue_id != dialogue_id:
                raise NotFound("No such recording.", code="recording_not_found")
            if rec.status in (RecordingStatus.RECORDING, RecordingStatus.PROCESSING):
                raise Conflict("Stop the recording (and let it finish) before deleting it.", code="recording_busy")
            folder = self._abs(rec.directory)
            await s.delete(rec)
        root = self._abs(RECORDINGS_FOLDER)
        if folder.is_relative_to(root) and folder != root:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        log.info("recording %s of dialogue %s deleted by user %s", recording_id, dialogue_id, actor.id)
        await self.bus.publish(meeting_topic(dialogue_id), {"type": "meeting.recording", "dialogue_id": dialogue_id,
                                                            "recording_id": recording_id})

    # --- chat ------------------------------------------------------------------------------------------

    async def chat_history(self, actor: User, dialogue_id: int, *, before: int | None = None,
                           limit: int = 50) -> list[ChatMessage]:
        if not 1 <= limit <= CHAT_PAGE_MAX:
            raise InvalidInput("Ask for 1 to 100 messages.", fields={"limit": "range"}, code="invalid_limit")
        async with self.db.session() as s:
            meeting, p = await self._mine(s, actor, dialogue_id)
            if p.status != AttendeeStatus.ADMITTED and p.role != AttendeeRole.HOST:
                raise Forbidden("The chat is for people in the meeting.", code="not_admitted")
            return [ChatMessage.of(m) for m in await store.messages(s, meeting.id, limit=limit, before=before)]

    async def post_chat(self, actor: User, dialogue_id: int, body: str) -> ChatMessage:
        text = check_body(body)
        async with self.db.session() as s:
            meeting, p = await self._mine(s, actor, dialogue_id)
            if meeting.status != MeetingStatus.OPEN:
                raise Conflict("This meeting has ended.", code="meeting_ended")
            if p.status != AttendeeStatus.ADMITTED:
                raise Forbidden("The chat is for people in the meeting.", code="not_admitted")
            message = MeetingMessage(meeting_id=meeting.id, participant_id=p.id, author_name=p.display_name,
                                     body=text, created_at=self.clock.now())
            s.add(message)
            await s.flush()
            view = ChatMessage.of(message)
        await self.bus.publish(meeting_topic(dialogue_id),
                               {"type": "meeting.chat", "dialogue_id": dialogue_id, "message": view.to_json()})
        return view

    # --- background: timers, Janus events, recovery, dialogue state ------------------------------

    async def tick(self) -> None:
        """Pass on or end timed turns that are over; show long-lost connections as offline;
        every `TOKEN_SWEEP_SECONDS`, revoke a batch of tokens nobody may use any more."""
        now = self.clock.now()
        async with self.db.session() as s:
            due = await store.due_turns(s, now)
            stale = await store.stale_reconnects(s, now - RECONNECT_GRACE)

        async def expire(room: Room, s: AsyncSession) -> None:
            if not room.tick():
                raise _NoChange

        async def offline(room: Room, s: AsyncSession) -> None:
            changed = False
            for p in room.admitted():
                if p.presence == Presence.RECONNECTING and p.updated_at <= room.now - RECONNECT_GRACE:
                    p.presence = Presence.OFFLINE
                    p.updated_at = room.now
                    changed = True
            if not changed:
                raise _NoChange

        for dialogue_id in due:
            await self._try_change(dialogue_id, expire)
        for dialogue_id in stale:
            await self._try_change(dialogue_id, offline)
        if self._next_sweep is None or self.clock.monotonic() >= self._next_sweep:
            self._next_sweep = self.clock.monotonic() + TOKEN_SWEEP_SECONDS
            await self.sweep_tokens()

    async def sweep_tokens(self) -> int:
        """Revoke in Janus, then forget, up to `token_sweep_batch` tokens nobody may use any more:
        their holder left or was removed, the meeting ended, or the token expired; how many.

        Catches what the immediate revocations missed (Janus away or failing, a crash in
        between). Waits while Janus is not connected: one that restarted has forgotten every
        token already, and `recover` reinstalls only the live ones.
        """
        if self.janus is not None and not self.janus.ready:
            return 0
        async with self.db.session() as s:
            found = await store.stale_tokens(s, self.clock.now(), limit=self.token_sweep_batch)
        by_dialogue: dict[int, list[int]] = {}
        for pid, dialogue_id in found:
            by_dialogue.setdefault(dialogue_id, []).append(pid)
        revoked = 0
        for dialogue_id, pids in by_dialogue.items():
            revoked += await self._retire_tokens(dialogue_id, pids)
        if revoked:
            log.info("revoked %d stale janus token(s)", revoked)
        return revoked

    async def _ticker(self) -> None:
        while True:
            await self.clock.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("meeting ticker failed")

    async def _dialogue_for_room(self, room_id: int) -> int | None:
        dialogue_id = self._room_dialogue.get(room_id)
        if dialogue_id is None:
            async with self.db.session() as s:
                meeting = await store.meeting_by_room(s, room_id)
            if meeting is None or meeting.status != MeetingStatus.OPEN:
                return None
            dialogue_id = self._room_dialogue[room_id] = meeting.dialogue_id
        return dialogue_id

    async def _on_media_event(self, event: MediaEvent) -> None:
        dialogue_id = await self._dialogue_for_room(event.room_id)
        if dialogue_id is None:
            return
        pid = participant_of_feed(event.feed_id)
        reapply_mute: list[bool] = []

        async def apply(room: Room, s: AsyncSession) -> None:
            p = room.participants.get(pid)
            if p is None or p.feed_id != event.feed_id:
                raise _NoChange  # an old connection of someone who reconnected since
            if event.kind in ("talking", "stopped-talking"):
                if not room.talking(pid, event.kind == "talking"):
                    raise _NoChange
            elif event.kind == "left":
                if not room.media_lost(pid):
                    raise _NoChange
            elif event.kind == "published":
                if p.force_muted:
                    reapply_mute.append(True)
                if p.status != AttendeeStatus.ADMITTED or p.presence == Presence.ONLINE:
                    raise _NoChange
                p.presence = Presence.ONLINE
                p.updated_at = room.now
            else:
                raise _NoChange

        await self._try_change(dialogue_id, apply)
        if reapply_mute and self.janus is not None and self.janus.ready:
            with contextlib.suppress(EngineError):
                await self.janus.moderate(event.room_id, event.feed_id, True)

    async def recover(self) -> None:
        """Janus came (back) up: recreate every open meeting's rooms and reinstall live tokens."""
        janus = self.janus
        if janus is None or not janus.ready:
            return
        self._rooms_ready.clear()
        async with self.db.session() as s:
            meetings = await store.open_meetings(s)
            holders = await store.live_tokens(s, [m.id for m in meetings], self.clock.now())
        try:
            await janus.install_tokens([p.janus_token for p in holders if p.janus_token])
        except EngineError as exc:
            log.error("reinstalling janus tokens failed: %s", exc)
        for meeting in meetings:
            self._room_dialogue[meeting.room_id] = meeting.dialogue_id
            try:
                await self._open_rooms(meeting)
            except EngineError as exc:
                log.error("recreating the rooms of meeting %s failed: %s", meeting.dialogue_id, exc)
                continue
            await self.bus.publish(meeting_topic(meeting.dialogue_id),
                                   {"type": "meeting.media_restarted", "dialogue_id": meeting.dialogue_id})
        if meetings:
            log.info("janus recovered: %d meeting(s), %d token(s)", len(meetings), len(holders))

    async def _observer_revoked(self, event: Mapping[str, Any]) -> None:
        """An observer's grant was revoked: they leave the meeting now, and Janus drops them."""
        dialogue_id, user_id = event.get("dialogue_id"), event.get("user_id")
        if not isinstance(dialogue_id, int) or not isinstance(user_id, int):
            return
        gone: list[MeetingParticipant] = []
        pins: list[tuple[int, str]] = []

        async def out(room: Room, s: AsyncSession) -> None:
            p = room.of_user(user_id)
            if p is None or p.role != AttendeeRole.OBSERVER or p.status not in (AttendeeStatus.ADMITTED,
                                                                                  AttendeeStatus.WAITING):
                raise _NoChange
            gone.append(room.leave(p.id))
            pins.append(_new_pin(room))

        try:
            if await self._try_change(dialogue_id, out):
                await self._disconnect(dialogue_id, gone)
                for room_id, pin in pins:
                    await self._set_pin(dialogue_id, room_id, pin)
        except Exception:
            log.exception("sending a revoked observer out of meeting %s failed", dialogue_id)

    async def _watch_dialogues(self, sub: Subscription) -> None:
        """A dialogue ended some other way (its own page): end its meeting too."""
        async for _topic, event in sub:
            if event.get("type") == "dialogue.observer_revoked":
                await self._observer_revoked(event)
                continue
            if event.get("type") != "dialogue.state" or event.get("state") == DialogueState.LIVE.value:
                continue
            dialogue_id = event.get("dialogue_id")
            if isinstance(dialogue_id, int):
                try:
                    await self._end(dialogue_id)
                except Exception:
                    log.exception("ending the meeting of dialogue %s failed", dialogue_id)

