"""Media nodes and which node hosts which meeting: every query and write of `handlers.media_nodes`.

Nodes are handed out as values (`NodeInfo`); registering one, its state and a clean stop are
calls here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.media_node_models import MediaNode, NodeState
from parley.storage.meeting_models import AttendeeStatus, Meeting, MeetingParticipant, MeetingStatus, Presence
from parley.storage.models import Dialogue


@dataclass(frozen=True)
class NodeRegistration:
    """What registers a node: where its Janus answers, its secrets and its capacity."""

    name: str
    ws_url: str
    admin_url: str
    api_secret: str = field(repr=False)
    admin_secret: str = field(repr=False)
    admin_key: str = field(repr=False)
    advertise: str = ""
    max_rooms: int = 0
    max_participants: int = 0
    # True: a `parley media-node` runs it and heartbeats.
    supervised: bool = False

    def values(self) -> dict[str, Any]:
        """The fields as column values (a subclass's own fields left out)."""
        return {f.name: getattr(self, f.name) for f in fields(NodeRegistration)}


@dataclass(frozen=True, kw_only=True)
class NodeInfo(NodeRegistration):
    """A registered node, with its state and its last load report."""

    id: int
    state: NodeState
    rooms: int
    participants: int
    cpu_load: float
    # None: never seen, or stopped cleanly.
    last_seen: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: MediaNode) -> NodeInfo:
        return cls(
            id=row.id, name=row.name, ws_url=row.ws_url, admin_url=row.admin_url, api_secret=row.api_secret,
            admin_secret=row.admin_secret, admin_key=row.admin_key, advertise=row.advertise,
            max_rooms=row.max_rooms, max_participants=row.max_participants, supervised=row.supervised,
            state=row.state, rooms=row.rooms, participants=row.participants, cpu_load=row.cpu_load,
            last_seen=row.last_seen, created_at=row.created_at, updated_at=row.updated_at,
        )


async def node(s: AsyncSession, node_id: int) -> NodeInfo | None:
    row = await s.get(MediaNode, node_id)
    return None if row is None else NodeInfo.of(row)


async def add(s: AsyncSession, reg: NodeRegistration, now: datetime, *, last_seen: datetime | None) -> int:
    """A new active node, inserted now (a name taken fails here); its id."""
    row = MediaNode(**reg.values(), state=NodeState.ACTIVE, rooms=0, participants=0, cpu_load=0.0,
                    last_seen=last_seen, created_at=now, updated_at=now)
    s.add(row)
    await s.flush()
    return row.id


async def reregister(s: AsyncSession, node_id: int, reg: NodeRegistration, now: datetime) -> None:
    """The node registered again, seen ``now``: its settings replaced, a removed node active."""
    state = case((MediaNode.state == NodeState.REMOVED, NodeState.ACTIVE), else_=MediaNode.state)
    await s.execute(update(MediaNode).where(MediaNode.id == node_id)
                    .values(**reg.values(), state=state, last_seen=now, updated_at=now))


async def set_state(s: AsyncSession, node_id: int, state: NodeState, now: datetime) -> None:
    await s.execute(update(MediaNode).where(MediaNode.id == node_id).values(state=state, updated_at=now))


async def departed(s: AsyncSession, node_id: int, now: datetime) -> None:
    """A clean stop: not seen, no load."""
    await s.execute(update(MediaNode).where(MediaNode.id == node_id)
                    .values(last_seen=None, rooms=0, participants=0, updated_at=now))


async def by_name(s: AsyncSession, name: str) -> NodeInfo | None:
    row = (await s.execute(select(MediaNode).where(MediaNode.name == name))).scalar_one_or_none()
    return None if row is None else NodeInfo.of(row)


async def nodes(s: AsyncSession, *, states: Collection[NodeState] | None = None) -> list[NodeInfo]:
    query = select(MediaNode).order_by(MediaNode.name, MediaNode.id)
    if states is not None:
        query = query.where(MediaNode.state.in_(list(states)))
    return [NodeInfo.of(row) for row in (await s.execute(query)).scalars()]


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
