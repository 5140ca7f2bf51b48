"""Meetings, their participants, chat and recordings: every query and write of the meeting handlers.

Everything is handed out as values: meetings as `MeetingInfo`, participants as
`ParticipantInfo`, chat messages as `MessageInfo`, recordings as `RecordingInfo`, and changed
by calls here. A change of the meeting itself (`MeetingChanges.change`) edits drafts instead:
`meeting_snapshots` reads them under the meeting's lock and writes back what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
from parley.storage.models import Channel, ChannelMember


@dataclass(frozen=True)
class MeetingInfo:
    """A meeting as handlers read it outside a change."""

    id: int
    dialogue_id: int
    status: MeetingStatus
    room_id: int
    text_room_id: int
    room_pin: str | None
    locked: bool
    turn_seconds: int | None
    speaker_id: int | None
    turn_started_at: datetime | None
    turn_ends_at: datetime | None
    recording_id: int | None
    media_node_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, m: Meeting) -> MeetingInfo:
        return cls(id=m.id, dialogue_id=m.dialogue_id, status=m.status, room_id=m.room_id,
                   text_room_id=m.text_room_id, room_pin=m.room_pin, locked=m.locked, turn_seconds=m.turn_seconds,
                   speaker_id=m.speaker_id, turn_started_at=m.turn_started_at, turn_ends_at=m.turn_ends_at,
                   recording_id=m.recording_id, media_node_id=m.media_node_id, version=m.version,
                   created_at=m.created_at, updated_at=m.updated_at, ended_at=m.ended_at)


async def meeting_for(s: AsyncSession, dialogue_id: int) -> MeetingInfo | None:
    """The dialogue's meeting, read outside a change (`meeting_snapshots.take` reads it for one)."""
    row = (await s.execute(select(Meeting).where(Meeting.dialogue_id == dialogue_id))).scalar_one_or_none()
    return None if row is None else MeetingInfo.of(row)


async def meeting_by_room(s: AsyncSession, room_id: int) -> MeetingInfo | None:
    row = (await s.execute(select(Meeting).where(Meeting.room_id == room_id))).scalar_one_or_none()
    return None if row is None else MeetingInfo.of(row)


async def open_meetings(s: AsyncSession) -> list[MeetingInfo]:
    rows = await s.execute(select(Meeting).where(Meeting.status == MeetingStatus.OPEN).order_by(Meeting.id))
    return [MeetingInfo.of(m) for m in rows.scalars()]


async def due_turns(s: AsyncSession, now: datetime) -> list[int]:
    """Dialogue ids of open meetings whose timed turn is over."""
    rows = await s.execute(
        select(Meeting.dialogue_id).where(
            Meeting.status == MeetingStatus.OPEN, Meeting.turn_ends_at.is_not(None), Meeting.turn_ends_at <= now
        )
    )
    return list(rows.scalars())


async def stale_reconnects(s: AsyncSession, before: datetime) -> list[int]:
    """Dialogue ids of open meetings with someone reconnecting since before ``before``."""
    rows = await s.execute(
        select(Meeting.dialogue_id)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(
            Meeting.status == MeetingStatus.OPEN,
            MeetingParticipant.status == AttendeeStatus.ADMITTED,
            MeetingParticipant.presence == Presence.RECONNECTING,
            MeetingParticipant.updated_at <= before,
        )
        .distinct()
    )
    return list(rows.scalars())


@dataclass(frozen=True)
class ParticipantInfo:
    """Someone's place in a meeting, read outside a change (`MeetingParticipant` says what
    each column holds)."""

    id: int
    meeting_id: int
    user_id: int
    display_name: str
    role: AttendeeRole
    status: AttendeeStatus
    mode: MediaMode
    language: str
    presence: Presence
    feed_id: int | None
    janus_token: str | None = field(repr=False)
    token_expires_at: datetime | None
    self_muted: bool
    camera_on: bool
    force_muted: bool
    caption_language: str | None
    listen_channel: str | None
    hand_raised_at: datetime | None
    talking_since: datetime | None
    speaking_ms: int
    turns: int
    recording_consent: bool
    joined_at: datetime
    admitted_at: datetime | None
    left_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, p: MeetingParticipant) -> ParticipantInfo:
        return cls(id=p.id, meeting_id=p.meeting_id, user_id=p.user_id, display_name=p.display_name, role=p.role,
                   status=p.status, mode=p.mode, language=p.language, presence=p.presence, feed_id=p.feed_id,
                   janus_token=p.janus_token, token_expires_at=p.token_expires_at, self_muted=p.self_muted,
                   camera_on=p.camera_on, force_muted=p.force_muted, caption_language=p.caption_language,
                   listen_channel=p.listen_channel, hand_raised_at=p.hand_raised_at, talking_since=p.talking_since,
                   speaking_ms=p.speaking_ms, turns=p.turns, recording_consent=p.recording_consent,
                   joined_at=p.joined_at, admitted_at=p.admitted_at, left_at=p.left_at, updated_at=p.updated_at)


async def participants(s: AsyncSession, meeting_id: int) -> list[ParticipantInfo]:
    rows = await s.execute(
        select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id).order_by(MeetingParticipant.id)
    )
    return [ParticipantInfo.of(p) for p in rows.scalars()]


async def participant(s: AsyncSession, participant_id: int) -> ParticipantInfo | None:
    row = await s.get(MeetingParticipant, participant_id)
    return None if row is None else ParticipantInfo.of(row)


async def attendee(s: AsyncSession, meeting_id: int, user_id: int) -> ParticipantInfo | None:
    """The user's place in the meeting, whatever its status."""
    row = await s.scalar(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id,
                                                          MeetingParticipant.user_id == user_id))
    return None if row is None else ParticipantInfo.of(row)


async def set_listening(s: AsyncSession, participant_id: int, *, caption_language: str | None,
                        listen_channel: str | None, now: datetime) -> None:
    """What a participant reads captions in and listens to (None: their own language, the floor)."""
    await s.execute(update(MeetingParticipant).where(MeetingParticipant.id == participant_id)
                    .values(caption_language=caption_language, listen_channel=listen_channel, updated_at=now))


async def live_tokens(s: AsyncSession, meeting_ids: Sequence[int], now: datetime) -> list[str]:
    """The unexpired Janus tokens of admitted participants in these (open) meetings."""
    if not meeting_ids:
        return []
    rows = await s.execute(
        select(MeetingParticipant.janus_token).where(
            MeetingParticipant.meeting_id.in_(list(meeting_ids)),
            MeetingParticipant.status == AttendeeStatus.ADMITTED,
            MeetingParticipant.janus_token.is_not(None),
            MeetingParticipant.token_expires_at > now,
        )
    )
    return [token for token in rows.scalars() if token is not None]


async def stale_tokens(s: AsyncSession, now: datetime, *, limit: int) -> list[tuple[int, int]]:
    """(participant id, dialogue id) of up to ``limit`` Janus tokens nobody may use any more:
    their holder is no longer admitted, the meeting is over, or the token expired (the SQL
    form of `handlers.meetings.room.token_live`), oldest participants first."""
    rows = await s.execute(
        select(MeetingParticipant.id, Meeting.dialogue_id)
        .join(Meeting, Meeting.id == MeetingParticipant.meeting_id)
        .where(
            MeetingParticipant.janus_token.is_not(None),
            or_(
                MeetingParticipant.status != AttendeeStatus.ADMITTED,
                Meeting.status != MeetingStatus.OPEN,
                MeetingParticipant.token_expires_at.is_(None),
                MeetingParticipant.token_expires_at <= now,
            ),
        )
        .order_by(MeetingParticipant.id)
        .limit(limit)
    )
    return [(pid, did) for pid, did in rows.all()]


@dataclass(frozen=True)
class MessageInfo:
    """A chat message as handlers read it."""

    id: int
    participant_id: int | None
    author_name: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, m: MeetingMessage) -> MessageInfo:
        return cls(m.id, m.participant_id, m.author_name, m.body, m.created_at)


async def messages(s: AsyncSession, meeting_id: int, *, limit: int, before: int | None = None) -> list[MessageInfo]:
    query = select(MeetingMessage).where(MeetingMessage.meeting_id == meeting_id)
    if before is not None:
        query = query.where(MeetingMessage.id < before)
    rows = await s.execute(query.order_by(MeetingMessage.id.desc()).limit(limit))
    return [MessageInfo.of(m) for m in reversed(list(rows.scalars()))]


async def add_message(s: AsyncSession, meeting_id: int, participant_id: int, author_name: str, body: str,
                      at: datetime) -> MessageInfo:
    row = MeetingMessage(meeting_id=meeting_id, participant_id=participant_id, author_name=author_name, body=body,
                         created_at=at)
    s.add(row)
    await s.flush()
    return MessageInfo.of(row)


@dataclass(frozen=True)
class RecordingInfo:
    """A recording as handlers read it (`files`: see `MeetingRecording.files`)."""

    id: int
    meeting_id: int
    dialogue_id: int
    status: RecordingStatus
    directory: str
    files: tuple[dict[str, Any], ...]
    started_by_id: int | None
    started_at: datetime
    stopped_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, r: MeetingRecording) -> RecordingInfo:
        return cls(id=r.id, meeting_id=r.meeting_id, dialogue_id=r.dialogue_id, status=r.status,
                   directory=r.directory, files=tuple(r.files or ()), started_by_id=r.started_by_id,
                   started_at=r.started_at, stopped_at=r.stopped_at, error=r.error)


async def recordings(s: AsyncSession, dialogue_id: int) -> list[RecordingInfo]:
    rows = await s.execute(
        select(MeetingRecording).where(MeetingRecording.dialogue_id == dialogue_id).order_by(MeetingRecording.id)
    )
    return [RecordingInfo.of(r) for r in rows.scalars()]


async def processing_recordings(s: AsyncSession) -> list[int]:
    """Recordings stopped but not yet converted (a restart interrupted them)."""
    rows = await s.execute(select(MeetingRecording.id).where(MeetingRecording.status == RecordingStatus.PROCESSING))
    return list(rows.scalars())


async def recording(s: AsyncSession, recording_id: int) -> RecordingInfo | None:
    row = await s.get(MeetingRecording, recording_id)
    return None if row is None else RecordingInfo.of(row)


async def add_recording(s: AsyncSession, meeting_id: int, dialogue_id: int, started_by_id: int, at: datetime,
                        folder: str) -> RecordingInfo:
    """A recording starting now; its directory is ``folder``/<its id>."""
    row = MeetingRecording(meeting_id=meeting_id, dialogue_id=dialogue_id, status=RecordingStatus.RECORDING,
                           directory="", files=[], started_by_id=started_by_id, started_at=at, stopped_at=None,
                           error=None)
    s.add(row)
    await s.flush()
    row.directory = f"{folder}/{row.id}"
    return RecordingInfo.of(row)


async def stop_recording(s: AsyncSession, recording_id: int, at: datetime, *, error: str | None = None) -> None:
    """Stopped: to be converted (`RecordingStatus.PROCESSING`), or failed with ``error``."""
    status = RecordingStatus.PROCESSING if error is None else RecordingStatus.FAILED
    values: dict[str, Any] = {"status": status, "stopped_at": at}
    if error is not None:
        values["error"] = error
    await s.execute(update(MeetingRecording).where(MeetingRecording.id == recording_id).values(**values))


async def converted(s: AsyncSession, recording_id: int, files: list[dict[str, Any]], error: str | None) -> None:
    """The converter's files, and READY (or FAILED with ``error``)."""
    status = RecordingStatus.FAILED if error else RecordingStatus.READY
    await s.execute(update(MeetingRecording).where(MeetingRecording.id == recording_id)
                    .values(files=files, status=status, error=error))


async def dialogue_channel_id(s: AsyncSession, dialogue_id: int, user_id: int) -> int | None:
    """The dialogue's workspace channel, if ``user_id`` is a member of it."""
    row = await s.execute(
        select(Channel.id)
        .join(ChannelMember, ChannelMember.channel_id == Channel.id)
        .where(Channel.dialogue_id == dialogue_id, ChannelMember.user_id == user_id)
    )
    return row.scalar_one_or_none()


async def add(s: AsyncSession, row: Meeting | MeetingParticipant | MeetingRecording) -> None:
    """Store a row a test made (a meeting, a recording); its id is set on return. The handlers
    open meetings and let people in through `meeting_snapshots`."""
    s.add(row)
    await s.flush()


async def meeting(s: AsyncSession, meeting_id: int) -> MeetingInfo | None:
    row = await s.get(Meeting, meeting_id)
    return None if row is None else MeetingInfo.of(row)


async def delete_recording(s: AsyncSession, recording_id: int) -> None:
    await s.execute(delete(MeetingRecording).where(MeetingRecording.id == recording_id))
