"""Fake media nodes: the meetings' fake Janus (tests/meetings/fakes.py) that can also be down
(connections refused) and that counts participants in its room list, and a pool factory
that builds a JanusService for each registered node from them."""

from __future__ import annotations

import httpx

from parley.clock import Clock
from parley.config import JanusConfig
from parley.errors import EngineError
from parley.media.janus.admin import JanusAdmin
from parley.media.janus.client import JanusClient, JsonObject
from parley.media.janus.pool import NodeEndpoint, ServiceFactory
from parley.media.janus.process import Backoff
from parley.media.janus.service import JanusService
from tests.fakes.janus import FakeJanus, FakeTransport, Reply
from tests.meetings.fakes import CREDS, MeetingJanus, RecordingVideoRoom


class CountingVideoRoom(RecordingVideoRoom):
    def do_list(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        return Reply({"videoroom": "success", "list": [
            {"room": r.id, "description": r.description, "num_participants": len(r.participants)}
            for r in self.rooms.values()]})


class NodeJanus(MeetingJanus):
    def __init__(self) -> None:
        super().__init__()
        self.videoroom = CountingVideoRoom(self)
        self.plugins[self.videoroom.package] = self.videoroom
        self.down = False

    def kill(self) -> None:
        """The machine is gone: every connection cut, and new ones refused until `revive`."""
        self.down = True
        self.restart()

    def revive(self) -> None:
        self.down = False


class _RefusingTransport(FakeTransport):
    async def connect(self) -> None:
        janus = self.janus
        assert isinstance(janus, NodeJanus)
        if janus.down:
            raise EngineError("connection refused", retryable=True, engine="janus")
        await super().connect()


def node_service(janus: NodeJanus, clock: Clock) -> JanusService:
    http = httpx.AsyncClient(transport=httpx.MockTransport(janus.admin_endpoint))
    return JanusService(
        JanusConfig(enabled=False),
        clock,
        credentials=CREDS,
        connect=lambda url: JanusClient(_RefusingTransport(janus), clock=clock, api_secret=CREDS.api_secret),
        admin=lambda url: JanusAdmin("http://janus/admin", CREDS.admin_secret, http=http),
        reconnect=Backoff(initial=0.1, maximum=0.5),
    )


class FakeNodes:
    """One fake Janus per node name, built on demand; the factory a JanusPool takes."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.janus: dict[str, NodeJanus] = {}
        self.built: list[NodeEndpoint] = []

    def __getitem__(self, name: str) -> NodeJanus:
        return self.janus.setdefault(name, NodeJanus())

    @property
    def factory(self) -> ServiceFactory:
        def build(endpoint: NodeEndpoint) -> JanusService:
            self.built.append(endpoint)
            return node_service(self[endpoint.name], self.clock)

        return build


__all__ = ["CREDS", "FakeJanus", "FakeNodes", "NodeJanus", "node_service"]
