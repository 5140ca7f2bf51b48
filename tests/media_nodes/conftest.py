"""Fixtures for media nodes: the handler on a real database with a pool of fake Janus nodes,
open meetings to place, and the registrations of two nodes."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest

from parley.config import Config
from parley.handlers.media_nodes import MediaNodes, NodeRegistration
from parley.media.janus.pool import JanusPool
from parley.server import Server
from parley.storage.database import Database
from parley.storage.meeting_models import Meeting, MeetingStatus
from parley.storage.models import Dialogue
from tests.conftest import running_server
from tests.fakes.clock import FakeClock
from tests.media_nodes.fakes import CREDS, FakeNodes

MakeMeeting = Callable[[], Awaitable[int]]


def registration(name: str = "media-1", **fields: object) -> NodeRegistration:
    values: dict[str, object] = {
        "name": name, "ws_url": f"ws://{name}.example:8188", "admin_url": f"http://{name}.example:7088/admin",
        "api_secret": CREDS.api_secret, "admin_secret": CREDS.admin_secret, "admin_key": CREDS.admin_key,
        "max_rooms": 10, "max_participants": 100, "supervised": True,
    }
    values.update(fields)
    return NodeRegistration(**values)  # type: ignore[arg-type]


@pytest.fixture
def fake_nodes(clock: FakeClock) -> FakeNodes:
    return FakeNodes(clock)


@pytest.fixture
async def server(config: Config, clock: FakeClock, fake_nodes: FakeNodes) -> AsyncIterator[Server]:
    """The shared `server` fixture, whose pool reaches fake Janus nodes (never the network)."""
    pool = JanusPool(clock, fake_nodes.factory, lost_after=15, check_every=1)
    async with running_server(config, clock, lambda _srv: {"janus_pool": pool}) as srv:
        yield srv


@pytest.fixture
def media_nodes(server: Server) -> MediaNodes:
    return server.media_nodes


async def open_meeting(db: Database, now: datetime, n: int) -> int:
    """An open meeting (of a dialogue of its own, titled "Dialogue <n>"), not yet placed; its id."""
    async with db.session() as s:
        dialogue = Dialogue(title=f"Dialogue {n}", questions=[], languages=["en"], invite_code=f"code-{n}",
                            created_at=now, updated_at=now)
        s.add(dialogue)
        await s.flush()
        meeting = Meeting(dialogue_id=dialogue.id, status=MeetingStatus.OPEN, room_id=1000 + n,
                          text_room_id=2000 + n, created_at=now, updated_at=now)
        s.add(meeting)
        await s.flush()
        return meeting.id


@pytest.fixture
def make_meeting(server: Server, clock: FakeClock) -> MakeMeeting:
    counter = itertools.count(1)

    async def factory() -> int:
        return await open_meeting(server.db, clock.now(), next(counter))

    return factory
