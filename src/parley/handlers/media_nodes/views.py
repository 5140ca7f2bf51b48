"""What the media node registry takes and gives back: a node's registration and load
report, and a node as admins see it, with its open meetings and its secrets masked (enough
to tell two apart, never enough to use).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# What registers a node is what the store writes.
from parley.storage.stores.media_nodes import NodeRegistration as NodeRegistration
from parley.vocabulary import NodeState


@dataclass(frozen=True)
class LoadReport:
    """What a node measured; None leaves the last value as it was."""

    rooms: int | None = None
    participants: int | None = None
    cpu_load: float | None = None


@dataclass(frozen=True)
class HostedMeeting:
    meeting_id: int
    dialogue_id: int
    title: str


@dataclass(frozen=True)
class NodeView:
    id: int
    name: str
    ws_url: str
    admin_url: str
    advertise: str
    state: NodeState
    supervised: bool
    max_rooms: int
    max_participants: int
    rooms: int
    participants: int
    cpu_load: float
    last_seen: datetime | None
    # Open meetings placed on it.
    meetings: tuple[HostedMeeting, ...]
    # "ok", or why it takes no new meeting: draining | removed | stale | rooms_full | ...
    availability: str
    # The secrets, masked: enough to tell two apart, never enough to use.
    secrets: str


def mask(secret: str) -> str:
    return f"{secret[:3]}…({len(secret)})" if len(secret) >= 12 else "…"
