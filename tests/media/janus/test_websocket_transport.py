"""The WebSocket transport against a tiny local server speaking ``janus-protocol``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from parley.errors import EngineError
from parley.media.janus.client import JanusClient, Liveness, TransportClosed, WebSocketTransport
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


async def test_a_janus_gone_silent_is_noticed_by_the_liveness_pings(clock: FakeClock) -> None:
    """A peer that took the connection and then stopped answering (hung, or its machine gone
    without closing it) never sends a close: only unanswered pings end the connection."""
    stop = asyncio.Event()

    async def hung(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        key = re.search(rb"sec-websocket-key: *(\S+)", request, re.IGNORECASE)
        assert key is not None
        accept = base64.b64encode(hashlib.sha1(key.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: janus-protocol\r\n\r\n")
        await writer.drain()
        await stop.wait()  # reads nothing, answers nothing, closes nothing
        writer.close()

    server = await asyncio.start_server(hung, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = WebSocketTransport(f"ws://127.0.0.1:{port}",
                                   liveness=Liveness(ping_interval=0.1, ping_timeout=0.2, close_timeout=0.1))
    client = JanusClient(transport, clock=clock)
    gone = asyncio.Event()
    client.on_disconnect(gone.set)
    try:
        await client.connect()
        async with asyncio.timeout(15):  # generous: with websockets' defaults it takes ~50 s
            await gone.wait()
    finally:
        stop.set()
        await client.close()
        server.close()
        await server.wait_closed()
