"""What the meeting handlers hand out: inputs, views, and the meeting state as each viewer sees it.

The whole state (`state_of`) is published on ``meeting:<dialogue id>`` after every change; each
socket cuts it for its viewer (`visible_state`), so nobody learns who waits or who has not
consented unless they host, and only people inside learn the room's pin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.clock import iso
from parley.errors import InvalidInput
from parley.handlers.access import DialogueRole
from parley.handlers.dialogues import clean_text
from parley.handlers.meetings.room import Room
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.meeting_snapshots import ParticipantDraft
from parley.storage.stores.meetings import MessageInfo, RecordingInfo
from parley.vocabulary import AttendeeRole, AttendeeStatus, DialogueState, MediaMode, RecordingStatus

CHAT_MAX = 2000
CHAT_PAGE_MAX = 100


def meeting_topic(dialogue_id: int) -> str:
    return f"meeting:{dialogue_id}"


@dataclass(frozen=True)
class MeetingDialogue:
    """What a meeting shows and decides of its dialogue: a value read with the access, so the
    meeting page and socket never hold the dialogue's row."""

    id: int
    title: str
    state: DialogueState
    languages: tuple[str, ...]

    @classmethod
    def of(cls, d: DialogueInfo) -> MeetingDialogue:
        return cls(id=d.id, title=d.title, state=d.state, languages=tuple(d.languages))


@dataclass(frozen=True)
class Access:
    dialogue: MeetingDialogue
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


# A chat message as the store reads it.
ChatMessage = MessageInfo


def chat_json(m: ChatMessage) -> dict[str, Any]:
    return {"id": m.id, "participant_id": m.participant_id, "author_name": m.author_name, "body": m.body,
            "created_at": iso(m.created_at)}


@dataclass(frozen=True)
class RecordingView:
    id: int
    status: RecordingStatus
    started_at: datetime
    stopped_at: datetime | None
    files: list[dict[str, Any]]
    error: str | None

    @classmethod
    def of(cls, r: RecordingInfo) -> RecordingView:
        return cls(r.id, r.status, r.started_at, r.stopped_at, list(r.files or []), r.error)


def _participant_json(p: ParticipantDraft, room: Room) -> dict[str, Any]:
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


def state_of(room: Room, dialogue: MeetingDialogue) -> dict[str, Any]:
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


def empty_state(dialogue: MeetingDialogue, now: datetime) -> dict[str, Any]:
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
