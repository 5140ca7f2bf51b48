"""Media nodes and which node hosts which meeting: every query and write of `handlers.media_nodes`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.media_node_models import MediaNode, NodeState
from parley.storage.meeting_models import AttendeeStatus, Meeting, MeetingParticipant, MeetingStatus, Presence
from parley.storage.models import Dialogue


async def node(s: AsyncSession, node_id: int) -> MediaNode | None:
    return await s.get(MediaNode, node_id)


def add(s: AsyncSession, node: MediaNode) -> None:
    """A new node, inserted with the caller's next flush (which gives it its id)."""
    s.add(node)


async def by_name(s: AsyncSession, name: str) -> MediaNode | None:
    return (await s.execute(select(MediaNode).where(MediaNode.name == name))).scalar_one_or_none()


async def nodes(s: AsyncSession, *, states: Collection[NodeState] | None = None) -> list[MediaNode]:
    query = select(MediaNode).order_by(MediaNode.name, MediaNode.id)
    if states is not None:
        query = query.where(MediaNode.state.in_(list(states)))
    return list((await s.execute(query)).scalars())


async def report(s: AsyncSession, node_id: int, *, now: datetime, rooms: int | None, participants: int | None,
                 cpu_load: float | None) -> bool:
    """Record that the node is alive, with whatever load it measured; False: no such node."""
    values: dict[str, object] = {"last_seen": now}
    if rooms is not None:
        values["rooms"] = rooms
    if participants is not None:
        values["participants"] = participants
    if cpu_load is not None:
        values["cpu_load"] = cpu_load
    result = await s.execute(update(MediaNode).where(MediaNode.id == node_id).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def open_meetings_per_node(s: AsyncSession) -> dict[int, int]:
    """Open meetings placed on each node (nodes with none are left out)."""
    rows = await s.execute(
        select(Meeting.media_node_id, func.count())
        .where(Meeting.status == MeetingStatus.OPEN, Meeting.media_node_id.is_not(None))
        .group_by(Meeting.media_node_id)
    )
    return {int(node_id): int(n) for node_id, n in rows.all() if node_id is not None}


async def open_meetings_on(s: AsyncSession, node_id: int | None = None) -> list[tuple[int, int, int, str]]:
    """(node id, meeting id, dialogue id, dialogue title) of the open meetings placed on a node
    (``node_id``, or every node), by node then meeting."""
    query = (
        select(Meeting.media_node_id, Meeting.id, Meeting.dialogue_id, Dialogue.title)
        .join(Dialogue, Dialogue.id == Meeting.dialogue_id)
        .where(Meeting.status == MeetingStatus.OPEN, Meeting.media_node_id.is_not(None))
        .order_by(Meeting.media_node_id, Meeting.id)
    )
    if node_id is not None:
        query = query.where(Meeting.media_node_id == node_id)
    rows = await s.execute(query)
    return [(int(n), int(m), int(d), str(t)) for n, m, d, t in rows.all() if n is not None]


async def meeting_node(s: AsyncSession, meeting_id: int) -> tuple[bool, int | None]:
    """(the meeting exists and is open, the node hosting it)."""
    row = (await s.execute(select(Meeting.status, Meeting.media_node_id).where(Meeting.id == meeting_id))).first()
    if row is None:
        return False, None
    return row[0] == MeetingStatus.OPEN, row[1]


async def assign(s: AsyncSession, meeting_id: int, node_id: int | None, *, expected: int | None) -> bool:
    """Move the meeting to ``node_id`` only if it is still on ``expected`` (two processes placing
    the same meeting at once: one wins, the other reads the winner's choice)."""
    current = Meeting.media_node_id.is_(None) if expected is None else Meeting.media_node_id == expected
    result = await s.execute(update(Meeting).where(Meeting.id == meeting_id, current).values(media_node_id=node_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def participants_per_node(s: AsyncSession) -> dict[int, int]:
    """Participants connected in the open meetings of each node (what Parley itself knows)."""
    rows = await s.execute(
        select(Meeting.media_node_id, func.count())
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.OPEN, Meeting.media_node_id.is_not(None),
               MeetingParticipant.status == AttendeeStatus.ADMITTED, MeetingParticipant.presence == Presence.ONLINE)
        .group_by(Meeting.media_node_id)
    )
    return {int(node_id): int(n) for node_id, n in rows.all() if node_id is not None}
