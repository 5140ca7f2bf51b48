"""Interpretation of a meeting whose people talk to different web processes (issue 11), with
its worker connected to a third party of the meeting's life: the process that does not
interpret it. Then that process gets SIGKILL mid-speech.

Real servers in the test's namespace: two media nodes, Redis, web-1 (served in this test's
process; started first, so it watches the nodes' rooms and interprets their meetings), web-2 (a
`parley serve` process), and one `parley worker` (Whisper base) given web-2's address first and
web-1's next. Amina speaks through web-2; Bruno reads the captions on his meeting socket to
web-1. web-1 places the meeting on the worker through web-2 (commands and captions over Redis).
When web-2 is killed, the worker reconnects to web-1, Amina reconnects to web-1 as the page does,
and the captions go on. Chen follows the meeting through web-2 (his caption language chosen
there): web-1 stays the meeting's one owner and his socket on web-2 reads its captions.

Then the other way round: web-2 owns the meeting (Chen chose his captions there before anyone
spoke) and is killed; web-1 takes the meeting over and re-attaches it. Either way each final line
is in the transcript once. Seconds are printed, never asserted beyond a bound that only a
recovery that did not happen exceeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from parley.config import Config
from parley.handlers.interpretation.owners import lease_name
from parley.server import Server
from parley.storage.analysis_models import TranscriptSegment
from parley.storage.models import User
from tests.media.meetings.room import Room, api, ok
from tests.media.nodes import test_worker_failover
from tests.media.nodes.cluster import (
    NodeProcess,
    ServiceProcess,
    WorkerProcess,
    eventually,
    start_redis,
    start_web,
    start_worker,
    stop_service,
    stop_worker,
)
from tests.media.nodes.failover import Failover, Participant, ready, serving, user_factory, web_config
from tests.media.nodes.test_web_failover import answers, holders
from tests.media.nodes.test_worker_failover import GENEROUS, interpreting, kept
from tests.meetings.scenario import build_setup

pytestmark = [pytest.mark.media, pytest.mark.slow]

speech = test_worker_failover.speech


@pytest.fixture
async def redis(netns: object, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    service = await start_redis(tmp_path)
    try:
        yield service
    finally:
        await stop_service(service)


@pytest.fixture
async def web1(two_nodes: tuple[str, list[NodeProcess]], redis: ServiceProcess,
               tmp_path: Path) -> AsyncIterator[tuple[Server, str]]:
    db_url, _ = two_nodes
    base = interpreting(web_config(tmp_path / "web-1", db_url))
    config: Config = dataclasses.replace(base, bus=dataclasses.replace(base.bus, redis_url=redis.url))
    async with serving(config) as (server, url):
        yield server, url


@pytest.fixture
async def web2(two_nodes: tuple[str, list[NodeProcess]], redis: ServiceProcess, web1: tuple[Server, str],
               tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    server, _ = web1

    async def watches_both() -> bool:  # web-1 watches both nodes' rooms before web-2 starts
        held = await holders(server)
        return [n for n, h in held.items() if n.startswith("meetings.monitor:") and h == server.leases.holder] == [
            "meetings.monitor:1", "meetings.monitor:2"]

    await eventually(watches_both, "web-1 watches both nodes' rooms", GENEROUS)
    db_url, _ = two_nodes
    service = await start_web(tmp_path, "web-2", db_url, redis.url, interpretation=True)
    try:
        await eventually(lambda: answers(service.url), "web-2 answers", GENEROUS)
        yield service
    finally:
        await stop_service(service)


@pytest.fixture
async def worker(web1: tuple[Server, str], web2: ServiceProcess, tmp_path: Path) -> AsyncIterator[WorkerProcess]:
    _, url1 = web1
    started = await start_worker(tmp_path, web2.url, "worker-1", url1)
    try:
        yield started
    finally:
        await stop_worker(started)


class Reader:
    """Bruno's meeting socket on web-1: the captions it is sent, with when they came."""

    def __init__(self) -> None:
        self.captions: list[tuple[float, dict[str, Any]]] = []

    async def read(self, url: str, dialogue_id: int, cookie: dict[str, str]) -> None:
        async with connect(f"{url.replace('http://', 'ws://')}/ws/meetings/{dialogue_id}",
                           additional_headers=cookie) as ws:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "caption":
                    self.captions.append((asyncio.get_running_loop().time(), frame["caption"]))

    def finals(self, before: float | None = None) -> list[dict[str, Any]]:
        return [c for at, c in self.captions if c["is_final"] and c["role"] == "original"
                and (c["text"] or "").strip() and (before is None or at < before)]

    def after(self, at: float, utterances: set[str]) -> list[dict[str, Any]]:
        return [c for t, c in self.captions
                if t > at and c["role"] == "original" and c["utterance_id"] not in utterances]


@dataclasses.dataclass
class Scene:
    """A live meeting started on web-1 once web-1 knows worker-1 through web-2: clients on
    either process, and what the test opened (closed by `scene`)."""

    server: Server
    url1: str
    web2: ServiceProcess
    room: Room
    on1: Failover
    on2: Failover
    setup: Any
    tasks: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)
    people: list[Participant] = dataclasses.field(default_factory=list)

    def read(self, reader: Reader, url: str, cookie: dict[str, str], name: str) -> None:
        self.tasks.append(asyncio.create_task(reader.read(url, self.room.id, cookie), name=name))

    async def worker_on_web1(self) -> bool:
        s = self.server.interpretation._sessions.get(self.room.id)
        return s is not None and s.worker is not None and s.worker.relay is None and not s.worker.closed


@contextlib.asynccontextmanager
async def scene(web1: tuple[Server, str], web2: ServiceProcess, speech: Path) -> AsyncIterator[Scene]:
    server, url1 = web1
    hub = server.interpretation

    async def through_web2() -> bool:
        return await ready(server) and [(w.name, w.relay is not None) for w in hub.workers] == [("worker-1", True)]

    await eventually(through_web2, "web-1 knows worker-1, connected to web-2", GENEROUS)
    setup = await build_setup(server, user_factory(server), live=True)
    on1, on2 = Failover(server, url1, [], (speech, speech)), Failover(server, web2.url, [], (speech, speech))
    room = await Room.start(server, setup, on1._as_user)
    it = Scene(server, url1, web2, room, on1, on2, setup)
    try:
        yield it
    finally:
        for task in it.tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for p in it.people:
            with contextlib.suppress(Exception):
                await p.close()
        for c in on1._clients + on2._clients:
            await c.aclose()


async def test_a_worker_of_another_process_interprets_and_survives_that_process(
        web1: tuple[Server, str], web2: ServiceProcess, worker: WorkerProcess, speech: Path) -> None:
    server, url1 = web1
    hub = server.interpretation
    loop = asyncio.get_running_loop()
    async with scene(web1, web2, speech) as it:
        room, reader, chen_reads = it.room, Reader(), Reader()
        bruno = await listener(it.on1, room, it.setup.people.bruno, "Bruno Silva", None)
        it.read(reader, url1, bruno, "bruno-reads")

        client, cookie = await it.on2._as(it.setup.people.amina)
        await ok(await client.post(api(room.id, "/join"), json={"mode": "audio", "consent": True, "language": "en"}))
        await room.admit("Amina Diallo")
        amina = Participant("Amina Diallo", speech, client, cookie, web2.url, room.id)
        it.people.append(amina)
        await amina.open_socket()
        await amina.connect_media()

        await eventually(lambda: _true(len(reader.finals()) >= 1), "Bruno reads a first final line", GENEROUS)
        session = hub._sessions[room.id]
        assert session.worker is not None and session.worker.relay is not None  # through web-2

        # Chen reads the captions in French on web-2: web-1 stays the one owner.
        chen = await listener(it.on2, room, it.setup.people.chen, "Chen Wei", "fr")
        it.read(chen_reads, web2.url, chen, "chen-reads")
        await eventually(lambda: _true(len(chen_reads.finals()) >= 1), "Chen reads a final line on web-2", GENEROUS)
        assert (await holders(server))[lease_name(room.id)] == server.leases.holder

        killed_at = loop.time()
        finals_before = reader.finals()
        utterances_before = {c["utterance_id"] for _, c in reader.captions}
        web2.process.kill()  # kill -9, mid-speech: the worker's socket and Amina's drop
        await web2.process.wait()

        amina2 = Participant(amina.name, speech, client, cookie, url1, room.id)
        amina2.client.base_url = httpx.URL(url1)
        it.people.append(amina2)
        if amina.bot is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(amina.bot.close(), 5)
            amina.bot = None
        await amina2.open_socket()
        await amina2.connect_media()

        await eventually(it.worker_on_web1, "the worker reconnected to web-1 and has the meeting", GENEROUS)
        here_s = loop.time() - killed_at
        again_s = await finals_again(reader, killed_at, utterances_before)
        missing = await kept_before(server, room.id, finals_before)
        print(f"through web-2: {len(finals_before)} final lines read by Bruno on web-1; web-2 killed: worker on "
              f"web-1 with the meeting after {here_s:.1f} s, final lines again after {again_s:.1f} s; "
              f"{len(missing)} missing")
        assert not missing
        await once_each(server, room.id, reader)


async def test_the_owner_of_a_meeting_dies_and_another_process_takes_it_over(
        web1: tuple[Server, str], web2: ServiceProcess, worker: WorkerProcess, speech: Path) -> None:
    """web-2 owns the meeting (a listener chose there first) and has the worker; Amina speaks
    through web-1, which watches the room and tells web-2 she publishes. web-2 is killed: web-1
    takes the meeting over, the worker reconnects to it, the captions go on."""
    server, url1 = web1
    hub = server.interpretation
    loop = asyncio.get_running_loop()
    async with scene(web1, web2, speech) as it:
        room, reader, chen_reads = it.room, Reader(), Reader()
        chen = await listener(it.on2, room, it.setup.people.chen, "Chen Wei", "fr")  # web-2 owns it from here
        it.read(chen_reads, web2.url, chen, "chen-reads")
        bruno = await listener(it.on1, room, it.setup.people.bruno, "Bruno Silva", None)
        it.read(reader, url1, bruno, "bruno-reads")
        web2_holds = (await holders(server)).get(lease_name(room.id))
        assert web2_holds is not None and web2_holds != server.leases.holder

        client, cookie = await it.on1._as(it.setup.people.amina)
        await ok(await client.post(api(room.id, "/join"), json={"mode": "audio", "consent": True, "language": "en"}))
        await room.admit("Amina Diallo")
        amina = Participant("Amina Diallo", speech, client, cookie, url1, room.id)
        it.people.append(amina)
        await amina.open_socket()
        await amina.connect_media()

        await eventually(lambda: _true(len(reader.finals()) >= 2), "Bruno reads final lines on web-1", GENEROUS)
        assert hub.sessions() == [] and chen_reads.finals()  # web-2 interprets; Chen reads there too

        killed_at = loop.time()
        finals_before = reader.finals()
        utterances_before = {c["utterance_id"] for _, c in reader.captions}
        web2.process.kill()  # kill -9 of the owner, mid-speech (and of the worker's socket)
        await web2.process.wait()

        await eventually(lambda: _true(room.id in hub.sessions()), "web-1 took the meeting over", GENEROUS)
        took_s = loop.time() - killed_at
        await eventually(it.worker_on_web1, "the worker reconnected to web-1 and has the meeting", GENEROUS)
        here_s = loop.time() - killed_at
        again_s = await finals_again(reader, killed_at, utterances_before)
        assert (await holders(server))[lease_name(room.id)] == server.leases.holder
        missing = await kept_before(server, room.id, finals_before)
        print(f"owner web-2 killed: {len(finals_before)} final lines read before; web-1 owned the meeting after "
              f"{took_s:.1f} s, its worker after {here_s:.1f} s, final lines again after {again_s:.1f} s; "
              f"{len(missing)} missing")
        assert not missing
        await once_each(server, room.id, reader)


async def finals_again(reader: Reader, killed_at: float, utterances_before: set[str]) -> float:
    """Seconds from the kill until the reader has a new (not forced) final line."""
    await eventually(lambda: _true(any(c["is_final"] and not c["forced"]
                                       for c in reader.after(killed_at, utterances_before))),
                     "the reader gets final lines again", GENEROUS)
    return asyncio.get_running_loop().time() - killed_at


async def kept_before(server: Server, dialogue_id: int, finals: list[dict[str, Any]]) -> list[str]:
    """The final lines read before the kill that the transcript lacks."""
    transcript = await kept(server, dialogue_id)
    return [c["text"] for c in finals if c["text"].strip() not in transcript]


async def listener(on: Failover, room: Room, user: User, name: str, reading: str | None) -> dict[str, str]:
    """Someone who only listens, through ``on``'s web process, choosing a caption language
    there (``reading``); the cookie of their meeting socket."""
    client, cookie = await on._as(user)
    await ok(await client.post(api(room.id, "/join"), json={"mode": "listen", "consent": False}))
    await room.admit(name)
    if reading is not None:
        await ok(await client.put(api(room.id, "/me/interpretation"), json={"caption_language": reading}))
    return cookie


async def once_each(server: Server, dialogue_id: int, reader: Reader) -> None:
    """Every original final line read is in the transcript, each once (by its utterance id)."""
    async with server.db.session() as s:
        rows = (await s.execute(TranscriptSegment.__table__.select().where(
            TranscriptSegment.dialogue_id == dialogue_id))).all()
    ids = [row.utterance_id for row in rows]
    read = {c["utterance_id"] for c in reader.finals()}
    print(f"transcript: {len(ids)} rows, {len(set(ids))} lines; {len(read)} final lines read")
    assert len(ids) == len(set(ids)) and read <= set(ids)


async def _true(value: bool) -> bool:
    return value
