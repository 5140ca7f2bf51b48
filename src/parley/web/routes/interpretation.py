"""Interpretation: a participant's choices, the facilitator's health view, and the workers' socket."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Coroutine
from enum import Enum
from typing import Any

from fastapi import APIRouter, Depends, Path, Request, WebSocket
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketDisconnect

from parley.errors import Conflict
from parley.handlers.accounts import Account
from parley.handlers.interpretation import Interpretation
from parley.interpretation.protocol import Hello, ProtocolError, parse_worker_message
from parley.server import Server
from parley.web.auth import require_user
from parley.web.routes.meetings import COMMON
from parley.web.socket import CloseCode, CloseSocket, FrameError, SocketEndpoint

log = logging.getLogger(__name__)
router = APIRouter()

TAGS: list[str | Enum] = ["interpretation"]
DialogueId = Path(ge=1, le=2**31 - 1, description="The dialogue whose meeting this is.")
HELLO_TIMEOUT_S = 30.0
WORKER_FRAME_MAX = 1 << 20


class ChannelOut(BaseModel):
    id: str = Field(description="`voice:xx` (synthesized) or `interpreter:xx` (a person).")
    kind: str
    language: str
    feed_id: int | None = Field(description="The VideoRoom feed carrying it, when it is on the air.")
    name: str | None = None


class HealthOut(BaseModel):
    stage: str
    engine: str
    status: str = Field(description="`ok`, `missing` or `failing`.")
    message: str
    source_language: str = ""
    target_language: str = ""
    speaker_id: str = ""
    at: str | None = None


class LanguageStatusOut(BaseModel):
    language: str
    captions: int = Field(description="Final lines shown in this language so far.")
    median_lag_s: float | None = Field(description="Median seconds from speech to its first caption.")
    listeners: int


class InterpretationOut(BaseModel):
    enabled: bool
    languages: list[str]
    caption_language: str
    listen_channel: str | None
    channels: list[ChannelOut]
    interpreting: str | None = Field(description="The language you interpret into, if you are an interpreter.")
    health: list[HealthOut]
    workers: int
    languages_status: list[LanguageStatusOut] | None = Field(default=None, description="Hosts only.")
    speakers: int | None = None
    worker: str | None = None


class ChoiceIn(BaseModel):
    caption_language: str | None = Field(default=None, max_length=16,
                                         description="One of the dialogue's languages; null = your own.")
    listen_channel: str | None = Field(default=None, max_length=32,
                                       description="null = the floor, `voice:xx` or `interpreter:xx`.")


def hub_of(request: Request) -> Interpretation:
    server: Server = request.app.state.server
    return server.interpretation


def out(view: dict[str, Any]) -> InterpretationOut:
    return InterpretationOut.model_validate(view)


@router.get("/api/v1/meetings/{dialogue_id}/interpretation", response_model=InterpretationOut, tags=TAGS,
            responses=COMMON)
async def get_interpretation(request: Request, dialogue_id: int = DialogueId,
                             user: Account = Depends(require_user)) -> InterpretationOut:
    """Caption languages, listening channels, your choices and engine health (with lag for hosts)."""
    return out(await hub_of(request).view(user, dialogue_id))


@router.put("/api/v1/meetings/{dialogue_id}/me/interpretation", response_model=InterpretationOut, tags=TAGS,
            responses=COMMON)
async def choose(body: ChoiceIn, request: Request, dialogue_id: int = DialogueId,
                 user: Account = Depends(require_user)) -> InterpretationOut:
    """Choose your caption language and what you listen to."""
    return out(await hub_of(request).choose(user, dialogue_id, caption_language=body.caption_language,
                                            listen_channel=body.listen_channel))


class WorkerSocket(SocketEndpoint):
    """Workers connect with ``Authorization: Bearer <worker secret>`` and say hello first; every
    later text frame goes to the hub as it is (the worker protocol parses its own frames). The
    hub hangs up on a worker that stopped answering (see `WorkerPool.watch`)."""

    name = "interpretation-worker"
    frame_max = WORKER_FRAME_MAX

    def __init__(self, websocket: WebSocket) -> None:
        super().__init__(websocket)
        self._hung_up = asyncio.Event()

    async def before_accept(self) -> None:
        sent = self.websocket.headers.get("authorization", "")
        expected = f"Bearer {self.server.worker_secret}"
        if not self.server.config.interpretation.enabled or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise CloseSocket(CloseCode.POLICY)

    async def on_connect(self) -> None:
        self.hub = self.server.interpretation
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                first = await self.receive_text()
            hello = parse_worker_message(first)
            if not isinstance(hello, Hello):
                raise ProtocolError("the first frame must be hello")
        except (TimeoutError, ProtocolError, FrameError, WebSocketDisconnect, KeyError) as exc:
            log.warning("a worker failed its hello: %s", exc.__class__.__name__)
            raise CloseSocket(CloseCode.POLICY) from None
        try:
            self.peer = await self.hub.connect_worker(hello, self.websocket.send_text, self._hangup)
        except Conflict:  # a worker of that name is connected and answering (the hub logged it)
            raise CloseSocket(CloseCode.DUPLICATE, reason="duplicate_worker") from None

    async def _hangup(self) -> None:
        self._hung_up.set()

    async def _until_hung_up(self) -> None:
        await self._hung_up.wait()
        raise CloseSocket(CloseCode.UNAVAILABLE, reason="worker_silent")

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        return {"hangup": self._until_hung_up()}

    async def on_receive(self, text: str) -> None:
        await self.hub.worker_frame(self.peer, text)

    async def on_bytes(self, data: bytes) -> None:
        """Workers speak text; anything else is dropped."""

    async def on_oversize(self, size: int) -> None:
        log.warning("a worker sent a frame of %d characters; dropped", size)

    async def on_disconnect(self) -> None:
        await self.hub.disconnect_worker(self.peer)


@router.websocket("/ws/interpretation/worker")
async def worker_socket(websocket: WebSocket) -> None:
    await WorkerSocket(websocket).serve()
