"""The socket endpoint base (`parley.web.socket`), through Starlette's in-process TestClient:
bad frames are answered and the socket stays open, ping is answered once in the base, hooks
close with the table's codes, and background loops are cancelled and awaited when it ends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any, Literal

import pytest
from pydantic import Field
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from parley.interpretation.protocol import CLOSE_DUPLICATE_WORKER
from parley.signalling.session import CLOSE_LAGGING
from parley.web.auth import SESSION_COOKIE
from parley.web.socket import (
    CloseCode,
    CloseSocket,
    FrameError,
    InFrame,
    Ping,
    SocketEndpoint,
    parse_frame,
)

pytestmark = pytest.mark.unit

WAIT_S = 10.0


class EchoIn(InFrame):
    type: Literal["echo"]
    text: str = Field(max_length=10)


class Echo(SocketEndpoint):
    name = "echo"
    frame_max = 100
    frames = {"echo": EchoIn}

    async def on_frame(self, frame: InFrame) -> None:
        assert isinstance(frame, EchoIn)
        await self.send({"type": "echoed", "text": frame.text})


class Seen:
    """What the server side did, seen from the test's thread."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.disconnected = threading.Event()
        self.user: Any = "unset"


SEEN = Seen()


class Watcher(Echo):
    """A background loop that waits forever unless told to end the socket."""

    name = "watcher"
    subprotocols = ("parley-test",)

    async def on_connect(self) -> None:
        SEEN.user = await self.user()
        self.stop = asyncio.Event()
        self.how = ""

    async def on_frame(self, frame: InFrame) -> None:
        assert isinstance(frame, EchoIn)
        self.how = frame.text
        self.stop.set()

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        return {"watch": self._watch()}

    async def _watch(self) -> None:
        SEEN.started.set()
        try:
            await self.stop.wait()
        except asyncio.CancelledError:
            SEEN.cancelled.set()
            raise
        if self.how == "forbid":
            raise CloseSocket(CloseCode.FORBIDDEN, frame={"type": "removed"})
        raise RuntimeError("the watcher broke")

    async def on_disconnect(self) -> None:
        SEEN.disconnected.set()


class Refusing(SocketEndpoint):
    async def on_connect(self) -> None:
        raise CloseSocket(CloseCode.UNAUTHENTICATED, frame={"type": "error", "code": "login_required",
                                                            "message": "Log in first."})


class Gatekeeper(SocketEndpoint):
    async def before_accept(self) -> None:
        raise CloseSocket(CloseCode.POLICY)


class ClosesTwice(SocketEndpoint):
    async def on_connect(self) -> None:
        await self.websocket.close(CloseCode.DUPLICATE)
        raise CloseSocket(CloseCode.DUPLICATE)


class Accounts:
    async def resolve_session(self, token: str) -> Any:
        return SimpleNamespace(user=SimpleNamespace(id=7)) if token == "good" else None

    async def resolve_api_token(self, token: str) -> Any:
        return SimpleNamespace(id=8) if token == "api" else None


def route(path: str, endpoint: type[SocketEndpoint]) -> WebSocketRoute:
    async def serve(websocket: WebSocket) -> None:
        await endpoint(websocket).serve()

    return WebSocketRoute(path, serve)


@pytest.fixture
def client() -> TestClient:
    global SEEN
    SEEN = Seen()
    app = Starlette(routes=[route("/echo", Echo), route("/watch", Watcher), route("/refuse", Refusing),
                            route("/gate", Gatekeeper), route("/twice", ClosesTwice)])
    app.state.server = SimpleNamespace(accounts=Accounts())
    return TestClient(app)


# --- frames -----------------------------------------------------------------------------------


def test_ping_is_answered_by_the_base(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}


def test_a_typed_frame_reaches_the_endpoint(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_json({"type": "echo", "text": "hi"})
        assert ws.receive_json() == {"type": "echoed", "text": "hi"}


@pytest.mark.parametrize(("sent", "code"), [
    ("not json", "bad_frame"),
    ("[1, 2]", "bad_frame"),
    ('"ping"', "bad_frame"),
    ('{"kind": "ping"}', "unknown_type"),
    ('{"type": 5}', "unknown_type"),
    ('{"type": "pong"}', "unknown_type"),
    ('{"type": "echo"}', "bad_frame"),
    ('{"type": "echo", "text": "far too long to echo"}', "bad_frame"),
])
def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(client: TestClient, sent: str,
                                                                     code: str) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_text(sent)
        error = ws.receive_json()
        assert (error["type"], error["code"]) == ("error", code) and error["message"]
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}


def test_no_substring_sniffing(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_json({"type": "echo", "text": '"ping"'})
        assert ws.receive_json() == {"type": "echoed", "text": '"ping"'}


def test_an_oversized_frame_is_refused_before_parsing(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_text('{"type":"ping","pad":"' + "x" * 200 + '"}')
        assert ws.receive_json()["code"] == "frame_too_large"
        ws.send_bytes(b'{"type":"ping"}')
        assert ws.receive_json()["code"] == "bad_frame"


def test_parse_frame_names_the_field_at_fault() -> None:
    with pytest.raises(FrameError) as bad:
        parse_frame('{"type": "echo", "text": 3}', {"echo": EchoIn})
    assert bad.value.code == "bad_frame" and "text" in bad.value.message
    assert parse_frame('{"type": "ping", "extra": 1}', {"ping": Ping}) == Ping()


# --- who, and close codes ---------------------------------------------------------------------


def test_the_close_code_table() -> None:
    assert [int(c) for c in (CloseCode.NORMAL, CloseCode.POLICY, CloseCode.UNAVAILABLE,
                             CloseCode.UNAUTHENTICATED, CloseCode.FORBIDDEN, CloseCode.DUPLICATE)] == [
        1000, 1008, 1013, 4401, 4403, 4409]
    assert CloseCode.DUPLICATE == CLOSE_DUPLICATE_WORKER and CloseCode.LAGGING == CLOSE_LAGGING


def test_a_cross_site_origin_is_refused_before_accept(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, \
            client.websocket_connect("/echo", headers={"origin": "https://evil.example"}):
        pass
    assert closed.value.code == CloseCode.POLICY
    with client.websocket_connect("/echo", headers={"origin": "http://testserver"}) as ws:
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}


def test_before_accept_refuses_the_handshake(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/gate"):
        pass
    assert closed.value.code == CloseCode.POLICY


def test_a_refusal_after_accept_sends_its_frame_then_its_code(client: TestClient) -> None:
    with client.websocket_connect("/refuse") as ws:
        assert ws.receive_json()["code"] == "login_required"
        assert ws.receive() == {"type": "websocket.close", "code": 4401, "reason": ""}


def test_closing_twice_does_not_raise(client: TestClient) -> None:
    with client.websocket_connect("/twice") as ws:
        assert ws.receive()["code"] == 4409


def test_the_user_comes_from_the_session_cookie_or_an_api_token(client: TestClient) -> None:
    with client.websocket_connect("/watch", headers={"cookie": f"{SESSION_COOKIE}=good"}):
        pass  # leaving waits for the server side to finish
    assert SEEN.user.id == 7
    with client.websocket_connect("/watch", headers={"authorization": "Bearer api"}):
        pass
    assert SEEN.user.id == 8
    with client.websocket_connect("/watch", headers={"cookie": f"{SESSION_COOKIE}=bad"}):
        pass
    assert SEEN.user is None


def test_the_offered_subprotocol_is_accepted(client: TestClient) -> None:
    with client.websocket_connect("/watch", subprotocols=["other", "parley-test"]) as ws:
        assert ws.accepted_subprotocol == "parley-test"
    with client.websocket_connect("/watch", subprotocols=["other"]) as ws:
        assert ws.accepted_subprotocol is None


# --- background loops -------------------------------------------------------------------------


def test_a_background_loop_is_cancelled_when_the_peer_goes(client: TestClient) -> None:
    with client.websocket_connect("/watch"):
        assert SEEN.started.wait(WAIT_S)
    assert SEEN.cancelled.wait(WAIT_S)
    assert SEEN.disconnected.wait(WAIT_S)


def test_a_background_loop_ends_the_socket_with_its_code(client: TestClient) -> None:
    with client.websocket_connect("/watch") as ws:
        ws.send_json({"type": "echo", "text": "forbid"})
        assert ws.receive_json() == {"type": "removed"}
        assert ws.receive()["code"] == CloseCode.FORBIDDEN
    assert SEEN.disconnected.wait(WAIT_S)


def test_a_failing_background_loop_closes_with_internal_error(client: TestClient,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with client.websocket_connect("/watch") as ws:
        ws.send_json({"type": "echo", "text": "break"})
        assert ws.receive()["code"] == CloseCode.INTERNAL
    assert SEEN.disconnected.wait(WAIT_S)
    assert "watcher:watch failed" in caplog.text
