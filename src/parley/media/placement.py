"""Which media node takes a meeting: a pure policy over what the nodes reported.

    candidates = nodes that are active, seen within `stale_after`, and below every limit
                  (CPU is a soft limit: a busy node is chosen only when no other can be)
    choose      = the least utilised candidate, where utilisation is the highest of
                  rooms / max_rooms, participants / max_participants and cpu_load / max_cpu
    ties        = fewer rooms, then fewer participants, then the name, then the id

A node's rooms are the larger of what it reported and the open meetings Parley placed on it:
reports lag by a heartbeat, placements do not, so a burst of new meetings spreads instead of
piling onto the node that looked emptiest a few seconds ago. `plan` places several meetings
at once (a dead node's meetings), counting each choice before the next one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parley.errors import ClientError

ACTIVE = "active"


class NoMediaNode(ClientError):
    """No media node can take the meeting now (all full, draining, removed or silent)."""

    status = 503
    code = "no_media_node"


@dataclass(frozen=True)
class NodeLoad:
    """One node as placement sees it."""

    id: int
    name: str
    state: str
    last_seen: datetime | None
    # Capacity; 0 means no limit of that kind.
    max_rooms: int = 0
    max_participants: int = 0
    rooms: int = 0
    participants: int = 0
    cpu_load: float = 0.0
    # Open meetings Parley has placed on it.
    placed: int = 0

    @property
    def room_count(self) -> int:
        return max(self.rooms, self.placed)


@dataclass(frozen=True)
class PlacementPolicy:
    # A node not heard from for this long takes no new meeting.
    stale_after: float = 30.0
    # A node this busy (load average per core) takes no new meeting.
    max_cpu: float = 0.9
    # Participants a new meeting is expected to bring (for the participant limit).
    participants_per_meeting: int = 0

    def utilisation(self, node: NodeLoad) -> float:
        shares = [node.cpu_load / self.max_cpu if self.max_cpu > 0 else 0.0]
        if node.max_rooms > 0:
            shares.append(node.room_count / node.max_rooms)
        if node.max_participants > 0:
            shares.append(node.participants / node.max_participants)
        return max(shares)

    def why_not(self, node: NodeLoad, now: datetime) -> str | None:
        """Why the node cannot take a new meeting now, or None when it can."""
        if node.state != ACTIVE:
            return node.state
        if node.last_seen is None or now - node.last_seen > timedelta(seconds=self.stale_after):
            return "stale"
        if node.max_rooms > 0 and node.room_count >= node.max_rooms:
            return "rooms_full"
        wanted = node.participants + self.participants_per_meeting
        if node.max_participants > 0 and (node.participants >= node.max_participants
                                          or wanted > node.max_participants):
            return "participants_full"
        if self.max_cpu > 0 and node.cpu_load >= self.max_cpu:
            return "cpu_busy"
        return None

    def candidates(self, nodes: Collection[NodeLoad], now: datetime, *,
                   exclude: Collection[int] = ()) -> list[NodeLoad]:
        """The nodes that may take a meeting, best first. CPU is a soft limit: busy nodes come
        only when no other node can take it (a lone busy node still serves its operator)."""
        reasons = {n.id: self.why_not(n, now) for n in nodes if n.id not in exclude}
        able = [n for n in nodes if n.id in reasons and reasons[n.id] is None]
        if not able:
            able = [n for n in nodes if n.id in reasons and reasons[n.id] == "cpu_busy"]
        return sorted(able, key=lambda n: (self.utilisation(n), n.room_count, n.participants, n.name, n.id))

    def choose(self, nodes: Collection[NodeLoad], now: datetime, *, exclude: Collection[int] = ()) -> NodeLoad:
        """The node for one new meeting; NoMediaNode when none can take it."""
        best = self.candidates(nodes, now, exclude=exclude)
        if not best:
            raise NoMediaNode("No media server can take this meeting now; try again in a moment.")
        return best[0]

    def plan(self, nodes: Sequence[NodeLoad], count: int, now: datetime, *,
             exclude: Collection[int] = ()) -> list[NodeLoad]:
        """Nodes for ``count`` meetings in turn (each choice counted before the next); fewer when
        the nodes fill up before all are placed."""
        current = {n.id: n for n in nodes}
        chosen: list[NodeLoad] = []
        for _ in range(count):
            try:
                node = self.choose(current.values(), now, exclude=exclude)
            except NoMediaNode:
                break
            chosen.append(node)
            current[node.id] = replace(node, placed=node.room_count + 1,
                                       participants=node.participants + self.participants_per_meeting)
        return chosen
