"""A meeting read for a change: its row and its participants' rows as plain values to edit.

`take` reads them as drafts (under the meeting row's lock when asked: ``SELECT ... FOR UPDATE``
on PostgreSQL, which serialises every change to one meeting across processes); the domain's
`Room` edits the drafts in memory; `save` writes back, in the same transaction, exactly the
fields that differ from what was read. A new meeting or participant is a draft until
`add_meeting` or `add_participant` stores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.meeting_models import Meeting, MeetingParticipant
from parley.storage.stores.meetings import MeetingInfo, ParticipantInfo
from parley.vocabulary import AttendeeRole, AttendeeStatus, MediaMode, MeetingStatus, Presence


@dataclass(kw_only=True)
class MeetingDraft:
    """A meeting as a change edits it (fields: see `Meeting`); ``id`` is 0 until stored."""

    id: int = 0
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


@dataclass(kw_only=True)
class ParticipantDraft:
    """A participant as a change edits them (fields: see `MeetingParticipant`); ``id`` is 0
    until stored."""

    id: int = 0
    meeting_id: int
    user_id: int
    display_name: str
    role: AttendeeRole
    status: AttendeeStatus
    mode: MediaMode
    language: str
    presence: Presence
    feed_id: int | None
    janus_token: str | None
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


def _values(draft: MeetingDraft | ParticipantDraft) -> dict[str, Any]:
    """A draft's columns, without its id."""
    return {f.name: getattr(draft, f.name) for f in fields(draft) if f.name != "id"}


def _edited(draft: MeetingDraft | ParticipantDraft, read: MeetingInfo | ParticipantInfo | None) -> dict[str, Any]:
    """The columns ``draft`` changed since it was ``read`` (all of them if it was not)."""
    values = _values(draft)
    return values if read is None else {k: v for k, v in values.items() if getattr(read, k) != v}


class Snapshot:
    """A meeting and its participants as drafts (`meeting`, `participants`), and what they were
    when read, so `save` knows what a change edited."""

    def __init__(self, meeting: Meeting, rows: Sequence[MeetingParticipant]) -> None:
        self._meeting = MeetingInfo.of(meeting)
        self._participants = {p.id: ParticipantInfo.of(p) for p in rows}
        self.meeting = MeetingDraft(**{f.name: getattr(self._meeting, f.name) for f in fields(MeetingDraft)})
        self.participants = [ParticipantDraft(**{f.name: getattr(p, f.name) for f in fields(ParticipantDraft)})
                             for p in self._participants.values()]

    def meeting_edits(self) -> dict[str, Any]:
        return _edited(self.meeting, self._meeting)

    def participant_edits(self, p: ParticipantDraft) -> dict[str, Any]:
        """What a change edited of ``p``: everything, for someone added during it."""
        return _edited(p, self._participants.get(p.id))


async def take(s: AsyncSession, dialogue_id: int, *, lock: bool = False) -> Snapshot | None:
    """The dialogue's meeting and its participants (oldest first) as drafts; with ``lock`` the
    meeting's row stays locked until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway), which serialises every change to it."""
    query = select(Meeting).where(Meeting.dialogue_id == dialogue_id)
    if lock:
        query = query.with_for_update()
    meeting = (await s.execute(query)).scalar_one_or_none()
    if meeting is None:
        return None
    rows = await s.execute(
        select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id).order_by(MeetingParticipant.id)
    )
    return Snapshot(meeting, list(rows.scalars()))


async def save(s: AsyncSession, snapshot: Snapshot, participants: Iterable[ParticipantDraft]) -> None:
    """Write back what a change edited: the meeting's changed fields, and each of
    ``participants``' (the snapshot's, and anyone `add_participant` stored during the change)."""
    edits = snapshot.meeting_edits()
    if edits:
        await s.execute(update(Meeting).where(Meeting.id == snapshot.meeting.id).values(**edits))
    for p in participants:
        edits = snapshot.participant_edits(p)
        if edits:
            await s.execute(update(MeetingParticipant).where(MeetingParticipant.id == p.id).values(**edits))


async def add_meeting(s: AsyncSession, draft: MeetingDraft) -> MeetingInfo:
    """Store a new meeting (the dialogue must have none: an integrity error otherwise)."""
    row = Meeting(**_values(draft))
    s.add(row)
    await s.flush()
    return MeetingInfo.of(row)


async def add_participant(s: AsyncSession, draft: ParticipantDraft) -> ParticipantDraft:
    """Store someone new in the meeting: the draft with its id."""
    row = MeetingParticipant(**_values(draft))
    s.add(row)
    await s.flush()
    return replace(draft, id=row.id)
