"""A media node dies mid-meeting, as the people in it live it (shared by the failover test and
bench/node_failover.py).

    web:   one Parley process (no Janus of its own; its pool reaches media-a and media-b),
           served by Uvicorn on 127.0.0.1 in the caller's namespace
    bots:  two aiortc participants that go through Parley as browsers do: /me/connect, Janus
           through the /ws/janus?dialogue= proxy, and /ws/meetings/<id> open
    kill:  SIGKILL of the meeting's node (its `parley media-node` agent and its Janus), or
           SIGSTOP (``freeze``: a hung node, its connections open and silent)
    then:  the pool reports it lost after media.lost_seconds, the meeting moves, the sockets
           say ``media_restarted``, and each bot does what meeting.js does on it: drop its
           Janus connection, /me/connect again, a new Janus session through the proxy,
           publish, subscribe to the other

`Failover.run` returns what happened and when (seconds from the kill); it asserts nothing
about time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from parley.clock import SystemClock
from parley.config import Config
from parley.server import Server
from parley.storage.models import Role, User
from parley.storage.stores import meetings as meeting_store
from parley.web.app import create_app
from parley.web.auth import SESSION_COOKIE
from tests.media.meetings.bots import Bot, Recorder, best_correlation, make_speech_wav, read_wav, wait_for_audio
from tests.media.meetings.room import Room, api, ok
from tests.media.nodes.cluster import NODE_SECRET_KEY, NodeProcess, end_frozen, eventually, kill_node
from tests.meetings.scenario import build_setup

# Speech through Opus and back, compared at 8 kHz: the same words score 0.5-0.9, other audio < 0.2.
SAME_AUDIO = 0.45
# Audio "flows again" once this much arrived in each direction after the reconnect.
FLOWING_SECONDS = 0.5
# What is cross-correlated, before the kill and after the reconnect.
HEARD_SECONDS = 4.0
# A bound for waits that only a broken recovery exceeds (never a measure).
GIVE_UP_SECONDS = 90.0


def voices(folder: Path) -> tuple[Path, Path]:
    """What the two bots say (different words and voices: the directions cannot be confused)."""
    return (make_speech_wav(folder / "amina.wav"),
            make_speech_wav(folder / "bruno.wav", "Bonjour a tous, nous parlons de l'eau et des ecoles.", voice="fr"))


def web_config(data_dir: Path, db_url: str, *, lost_seconds: int = 3) -> Config:
    """A web process with no Janus of its own, reaching the nodes registered in ``db_url``."""
    return Config.load(env={}, overrides={
        "server": {"data_dir": str(data_dir), "secret_key": NODE_SECRET_KEY},
        "database": {"url": db_url},
        "analysis": {"enabled": False},
        "janus": {"enabled": False},
        "interpretation": {"enabled": False},
        # The machine's real CPU load is reported: a high limit keeps a busy machine's nodes eligible.
        "media": {"heartbeat_seconds": 1, "stale_seconds": 5, "lost_seconds": lost_seconds,
                  "max_cpu_percent": 100_000},
    })


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(config: Config) -> AsyncIterator[tuple[Server, str]]:
    """The web process started and served by Uvicorn on 127.0.0.1: (server, base URL)."""
    server = Server(config, clock=SystemClock(), schema="create")
    await server.start()
    try:
        port = _free_port()
        uv = uvicorn.Server(uvicorn.Config(create_app(server), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws="auto"))
        task = asyncio.create_task(uv.serve(), name="failover-uvicorn")
        async with asyncio.timeout(30):
            while not uv.started:  # noqa: ASYNC110 - uvicorn offers no started event
                await asyncio.sleep(0.01)
        try:
            yield server, f"http://127.0.0.1:{port}"
        finally:
            uv.should_exit = True
            await asyncio.wait_for(task, 10)
    finally:
        await server.stop()


def user_factory(server: Server) -> Callable[..., Awaitable[User]]:
    """`make_user` for `build_setup` (people created directly, without passwords)."""
    counter = itertools.count(1)

    async def make(role: Role | str = Role.ORGANISER, *, email: str | None = None, name: str | None = None,
                   password: str | None = None) -> User:
        n, r = next(counter), Role(role)
        return await server.accounts.create_user(email=email or f"{r.value}{n}@example.org",
                                                 display_name=name or f"{r.value.title()} {n}", role=r,
                                                 password=password)

    return make


@dataclass
class Participant:
    """One person with a browser's connections: an API client, the meeting socket, Janus (a Bot)."""

    name: str
    says: Path
    client: httpx.AsyncClient
    cookie: dict[str, str]
    base_url: str
    dialogue_id: int
    bot: Bot | None = None
    socket: ClientConnection | None = None
    restarted: asyncio.Event = field(default_factory=asyncio.Event)
    restarted_at: float | None = None
    _listener: asyncio.Task[None] | None = None
    _hanging_up: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def ws_base(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    async def open_socket(self) -> None:
        """/ws/meetings/<id>, read until closed; ``restarted`` is set by a ``media_restarted`` frame."""
        self.socket = await connect(f"{self.ws_base}/ws/meetings/{self.dialogue_id}", additional_headers=self.cookie)
        self._listener = asyncio.create_task(self._listen(), name=f"meeting-socket:{self.name}")

    async def _listen(self) -> None:
        assert self.socket is not None
        async for raw in self.socket:
            if json.loads(raw).get("type") == "media_restarted" and not self.restarted.is_set():
                self.restarted_at = asyncio.get_running_loop().time()
                self.restarted.set()

    async def connect_media(self) -> Bot:
        """What the page's connect() does: credentials from /me/connect, a Janus session through
        Parley's proxy, join the room and publish."""
        info = await ok(await self.client.post(api(self.dialogue_id, "/me/connect")))
        bot = Bot(f"{self.ws_base}/ws/janus?dialogue={self.dialogue_id}", info, name=self.name, headers=self.cookie)
        self.bot = bot
        await bot.join()
        await bot.publish(self.says)
        return bot

    async def reconnect_when_told(self) -> Bot:
        """On ``media_restarted``: hang up and connect again. Like the page, the old connection
        is dropped without waiting on it (a hung node would never answer its goodbye)."""
        await self.restarted.wait()
        if self.bot is not None:
            self._hanging_up.append(asyncio.create_task(self.bot.close(), name=f"hang-up:{self.name}"))
        return await self.connect_media()

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        await asyncio.gather(*self._hanging_up, return_exceptions=True)
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener


@dataclass(frozen=True)
class Outcome:
    lost_node: str
    new_node: str
    # Seconds from the kill.
    told: float  # the later of the two bots got ``media_restarted``
    audio: float  # FLOWING_SECONDS of audio arrived both ways again
    # Cross-correlation of what each heard with what the other says (before, after the kill).
    before: tuple[float, float]
    after: tuple[float, float]


async def heard(a: Participant, b: Participant) -> tuple[Recorder, Recorder]:
    """Each subscribes to the other's feed: (what b hears of a, what a hears of b)."""
    assert a.bot is not None and b.bot is not None
    return await b.bot.subscribe(a.bot.info["feed_id"]), await a.bot.subscribe(b.bot.info["feed_id"])


def correlations(a: Participant, b: Participant, of_a: Recorder, of_b: Recorder) -> tuple[float, float]:
    return (best_correlation(read_wav(a.says), of_a.audio(HEARD_SECONDS)),
            best_correlation(read_wav(b.says), of_b.audio(HEARD_SECONDS)))


async def ready(server: Server) -> bool:
    """Both nodes registered and heartbeating, and this process's pool connected to both."""
    views = await server.media_nodes.nodes(None)
    pool = server.janus_pool
    return (sorted(v.name for v in views if v.availability == "ok") == ["media-a", "media-b"]
            and len(pool.node_ids) == 2 and all(pool.service_for(n).ready for n in pool.node_ids))


class Failover:
    """The scenario on a started web process and two started nodes."""

    def __init__(self, server: Server, base_url: str, nodes: list[NodeProcess], says: tuple[Path, Path]) -> None:
        self.server = server
        self.base_url = base_url
        self.nodes = {n.name: n for n in nodes}
        self.says = says
        self._clients: list[httpx.AsyncClient] = []

    async def _as(self, user: User) -> tuple[httpx.AsyncClient, dict[str, str]]:
        login = await self.server.accounts.start_session(user)
        client = httpx.AsyncClient(base_url=self.base_url, timeout=60,
                                   headers={"X-CSRF-Token": login.csrf_token})
        client.cookies.set(SESSION_COOKIE, login.token)
        self._clients.append(client)
        return client, {"Cookie": f"{SESSION_COOKIE}={login.token}"}

    async def _as_user(self, user: User) -> httpx.AsyncClient:
        return (await self._as(user))[0]

    async def run(self, *, freeze: bool = False) -> Outcome:
        """``freeze``: the node hangs (SIGSTOP) instead of dying (see `kill_node`)."""
        server = self.server
        await eventually(lambda: ready(server), "both media nodes registered and connected", GIVE_UP_SECONDS)
        setup = await build_setup(server, user_factory(server), live=True)
        room = await Room.start(server, setup, self._as_user)
        people: list[Participant] = []
        try:
            for user, name, says in ((setup.people.amina, "Amina Diallo", self.says[0]),
                                     (setup.people.bruno, "Bruno Silva", self.says[1])):
                client, cookie = await self._as(user)
                await ok(await client.post(api(room.id, "/join"), json={"mode": "audio", "consent": False}))
                await room.admit(name)
                p = Participant(name, says, client, cookie, self.base_url, room.id)
                people.append(p)
                await p.open_socket()
                await p.connect_media()
                await ok(await client.post(api(room.id, "/me/status"), json={"presence": "online"}))
            amina, bruno = people
            return await self._kill_and_recover(room, amina, bruno, freeze=freeze)
        finally:
            for node in self.nodes.values():
                await end_frozen(node)  # what a hung node still holds open (the proxy's upstreams) drops
            for p in people:
                await p.close()
            for client in self._clients:
                await client.aclose()

    async def _kill_and_recover(self, room: Room, amina: Participant, bruno: Participant, *,
                                freeze: bool) -> Outcome:
        server = self.server
        of_amina, of_bruno = await heard(amina, bruno)
        for recorder in (of_amina, of_bruno):
            await wait_for_audio(recorder, HEARD_SECONDS)
        before = correlations(amina, bruno, of_amina, of_bruno)

        async with server.db.session() as s:
            meeting = await meeting_store.meeting_for(s, room.id)
        assert meeting is not None
        names = {v.id: v.name for v in await server.media_nodes.nodes(None)}
        old = await server.media_nodes.node_of(meeting.id)
        assert old is not None
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        await kill_node(self.nodes[names[old]], freeze=freeze)

        async with asyncio.timeout(GIVE_UP_SECONDS):
            await asyncio.gather(amina.reconnect_when_told(), bruno.reconnect_when_told())
            told = max(p.restarted_at or killed_at for p in (amina, bruno)) - killed_at
            of_amina, of_bruno = await heard(amina, bruno)
            for recorder in (of_amina, of_bruno):
                await wait_for_audio(recorder, FLOWING_SECONDS)
            audio = loop.time() - killed_at
            for recorder in (of_amina, of_bruno):
                await wait_for_audio(recorder, HEARD_SECONDS + FLOWING_SECONDS)
        new = await server.media_nodes.node_of(meeting.id)
        return Outcome(lost_node=names[old], new_node=names.get(new, str(new)) if new is not None else "none",
                       told=told, audio=audio, before=before, after=correlations(amina, bruno, of_amina, of_bruno))


def describe(outcome: Outcome) -> str:
    return (f"meeting moved {outcome.lost_node} -> {outcome.new_node}; from the kill: told after "
            f"{outcome.told:.1f} s, audio both ways again after {outcome.audio:.1f} s; correlation before "
            f"{outcome.before[0]:.2f}/{outcome.before[1]:.2f}, after {outcome.after[0]:.2f}/{outcome.after[1]:.2f}")


def as_json(outcome: Outcome) -> dict[str, Any]:
    return {"lost_node": outcome.lost_node, "new_node": outcome.new_node, "told_s": round(outcome.told, 3),
            "audio_s": round(outcome.audio, 3), "correlation_before": [round(c, 3) for c in outcome.before],
            "correlation_after": [round(c, 3) for c in outcome.after]}
