"""A change edits the meeting as drafts, and `save` writes back exactly the fields it edited:
what someone else wrote to another field meanwhile stays, and someone let in during the change
is stored with everything the change then did to them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import update

from parley.handlers.meetings.room import new_meeting, new_participant
from parley.server import Server
from parley.storage.meeting_models import Meeting
from parley.storage.models import Dialogue, User
from parley.storage.stores import meeting_snapshots as snapshots
from parley.storage.stores import meetings as store
from parley.vocabulary import AttendeeRole, AttendeeStatus, MediaMode

pytestmark = pytest.mark.integration


async def a_meeting(server: Server) -> int:
    """An open meeting of a dialogue of its own; the dialogue's id."""
    now = server.clock.now()
    async with server.db.session() as s:
        dialogue = Dialogue(title="Water", questions=[], languages=["en"], invite_code="water", created_at=now,
                            updated_at=now)
        s.add(dialogue)
        await s.flush()
        await snapshots.add_meeting(s, new_meeting(dialogue.id, 11, 12, now, room_pin="pin"))
        return dialogue.id


async def test_save_writes_only_what_the_change_edited(server: Server) -> None:
    dialogue_id = await a_meeting(server)
    async with server.db.session() as s:
        snapshot = await snapshots.take(s, dialogue_id, lock=True)
    assert snapshot is not None
    # Someone else sets another field after the snapshot was read (in real use the lock prevents it).
    async with server.db.session() as s:
        await s.execute(update(Meeting).where(Meeting.id == snapshot.meeting.id).values(turn_seconds=60))

    snapshot.meeting.locked = True
    snapshot.meeting.version += 1
    assert snapshot.meeting_edits() == {"locked": True, "version": 2}
    async with server.db.session() as s:
        await snapshots.save(s, snapshot, snapshot.participants)
        meeting = await store.meeting_for(s, dialogue_id)
    assert meeting is not None
    assert (meeting.locked, meeting.version, meeting.turn_seconds) == (True, 2, 60)


async def test_someone_let_in_during_a_change_is_stored_as_the_change_left_them(
    server: Server, make_user: Callable[..., Awaitable[User]],
) -> None:
    dialogue_id = await a_meeting(server)
    user = await make_user()
    async with server.db.session() as s:
        snapshot = await snapshots.take(s, dialogue_id, lock=True)
        assert snapshot is not None
        p = await snapshots.add_participant(s, new_participant(
            snapshot.meeting, user_id=user.id, display_name="Amina", role=AttendeeRole.PARTICIPANT,
            mode=MediaMode.AUDIO, language="en", consent=True, now=server.clock.now()))
        assert p.id > 0
        p.status = AttendeeStatus.ADMITTED
        p.force_muted = True
        await snapshots.save(s, snapshot, [*snapshot.participants, p])
    async with server.db.session() as s:
        people = await store.participants(s, snapshot.meeting.id)
    assert [(q.id, q.display_name, q.status, q.force_muted) for q in people] == [
        (p.id, "Amina", AttendeeStatus.ADMITTED, True)]
