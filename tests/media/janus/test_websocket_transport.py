"""The WebSocket transport against a tiny local server speaking ``janus-protocol``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from parley.errors import EngineError
from parley.media.janus.client import JanusClient, TransportClosed, WebSocketTransport
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit


async def janus_like(ws: ServerConnection) -> None:
    """Answers ``info``; sends a non-JSON frame and a JSON array first, which must be skipped."""
    async for raw in ws:
        message = json.loads(raw)
        await ws.send("not json")
        await ws.send("[1, 2]")
        if message["janus"] == "info":
            await ws.send(json.dumps({"janus": "server_info", "transaction": message["transaction"],
                                      "subprotocol": ws.subprotocol}))
        else:
            await ws.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with serve(janus_like, "127.0.0.1", 0, subprotocols=[Subprotocol("janus-protocol")]) as srv:
        yield srv


def url(server: Server) -> str:
    host, port = next(iter(server.sockets)).getsockname()[:2]
    return f"ws://{host}:{port}"


async def test_negotiates_janus_protocol_and_skips_bad_frames(server: Server, clock: FakeClock) -> None:
    async with JanusClient(WebSocketTransport(url(server)), clock=clock) as client:
        info = await client.info()
    assert info["subprotocol"] == "janus-protocol"


async def test_server_closing_ends_the_client(server: Server, clock: FakeClock) -> None:
    client = JanusClient(WebSocketTransport(url(server)), clock=clock)
    await client.connect()
    with pytest.raises(EngineError) as caught:
        await client.create_session()
    await client.wait_closed()
    await client.close()
    assert caught.value.retryable


async def test_unreachable_janus_is_a_retryable_engine_error() -> None:
    transport = WebSocketTransport("ws://127.0.0.1:9", open_timeout=2)
    with pytest.raises(EngineError) as caught:
        await transport.connect()
    assert caught.value.retryable
    with pytest.raises(TransportClosed):
        await transport.receive()
