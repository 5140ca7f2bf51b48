"""A web process killed mid-meeting (issue 11): its clients reconnect to another one within
seconds, the meeting carries on, speech flows again, and the jobs it ran once move.

Real servers in the test's namespace: two `parley media-node` processes, Redis, and two web
processes sharing one database and bus: web-1 served in this test's process (it also builds
the scenario), web-2 a `parley serve` process that starts first, so that it holds the jobs
that run once. Amina and Bruno (aiortc bots) talk to web-2 only: their meeting sockets, their
API calls, and Janus through its /ws/janus proxy. There is no load balancer: when web-2 gets
SIGKILL, each bot does what the page does when its sockets drop, against web-1's address (what
a balancer does once its health check removes web-2): the meeting socket reopens, and Janus is
reached again (/me/connect, a new session, publish, subscribe). Seconds are printed, never
asserted beyond a bound that only a recovery that did not happen exceeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parley.config import Config
from parley.server import Server
from parley.storage.stores import leases as lease_store
from tests.media.meetings.bots import wait_for_audio
from tests.media.meetings.room import Room, api, ok
from tests.media.nodes.cluster import (
    NodeProcess,
    ServiceProcess,
    eventually,
    start_redis,
    start_web,
    stop_service,
)
from tests.media.nodes.failover import (
    FLOWING_SECONDS,
    HEARD_SECONDS,
    SAME_AUDIO,
    Failover,
    Participant,
    correlations,
    heard,
    ready,
    serving,
    user_factory,
    voices,
    web_config,
)
from tests.meetings.scenario import build_setup

pytestmark = [pytest.mark.media, pytest.mark.slow]

GENEROUS = 60.0
# Jobs every web process runs under a lease (the rest depend on configuration).
ONCE = ("accounts.session-sweep", "meetings.ticker")


@pytest.fixture
def says(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None or shutil.which("redis-server") is None:
        pytest.skip("espeak-ng, sox and redis-server are needed")
    return voices(tmp_path)


@pytest.fixture
async def redis(netns: object, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    service = await start_redis(tmp_path)
    try:
        yield service
    finally:
        await stop_service(service)


@pytest.fixture
async def web2(two_nodes: tuple[str, list[NodeProcess]], redis: ServiceProcess,
               tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    db_url, _ = two_nodes
    service = await start_web(tmp_path, "web-2", db_url, redis.url)
    try:
        yield service
    finally:
        await stop_service(service)


async def holders(server: Server) -> dict[str, str]:
    async with server.db.session() as s:
        return {lease.name: lease.holder for lease in await lease_store.all_leases(s)}


async def answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{url}/api/v1/health")).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture
async def web1(two_nodes: tuple[str, list[NodeProcess]], redis: ServiceProcess, web2: ServiceProcess,
               tmp_path: Path) -> AsyncIterator[tuple[Server, str]]:
    db_url, _ = two_nodes
    await eventually(lambda: answers(web2.url), "web-2 answers", GENEROUS)
    base = web_config(tmp_path / "web-1", db_url)
    config: Config = dataclasses.replace(base, bus=dataclasses.replace(base.bus, redis_url=redis.url))
    async with serving(config) as (server, url):
        yield server, url


async def test_a_killed_web_process_s_people_carry_on_through_another(
        web1: tuple[Server, str], web2: ServiceProcess, says: tuple[Path, Path]) -> None:
    server, url1 = web1
    loop = asyncio.get_running_loop()
    await eventually(lambda: ready(server), "both media nodes registered and connected", GENEROUS)

    async def web2_holds_the_jobs() -> bool:
        held = await holders(server)
        return all(name in held and held[name] != server.leases.holder for name in ONCE)

    await eventually(web2_holds_the_jobs, "web-2 (started first) runs the jobs that run once", GENEROUS)
    setup = await build_setup(server, user_factory(server), live=True)
    on1 = Failover(server, url1, [], says)  # the facilitator stays on web-1
    on2 = Failover(server, web2.url, [], says)  # Amina and Bruno talk to web-2
    room = await Room.start(server, setup, on1._as_user)
    people: list[Participant] = []
    moved: list[Participant] = []
    try:
        for user, name, said in ((setup.people.amina, "Amina Diallo", says[0]),
                                 (setup.people.bruno, "Bruno Silva", says[1])):
            client, cookie = await on2._as(user)
            await ok(await client.post(api(room.id, "/join"), json={"mode": "audio", "consent": False}))
            await room.admit(name)
            p = Participant(name, said, client, cookie, web2.url, room.id)
            people.append(p)
            await p.open_socket()
            await p.connect_media()
            await ok(await client.post(api(room.id, "/me/status"), json={"presence": "online"}))
        amina, bruno = people
        of_amina, of_bruno = await heard(amina, bruno)
        for recorder in (of_amina, of_bruno):
            await wait_for_audio(recorder, HEARD_SECONDS)
        before = correlations(amina, bruno, of_amina, of_bruno)
        version = (await ok(await room.host.get(api(room.id))))["version"]
        web2_held = sorted(name for name, holder in (await holders(server)).items() if holder != server.leases.holder)
        assert set(ONCE) <= set(web2_held), web2_held

        killed_at = loop.time()
        web2.process.kill()  # kill -9: its sockets to the bots and to Janus drop
        await web2.process.wait()

        # Each bot, like the page: its sockets dropped, so it reconnects, to the address that answers.
        async with asyncio.timeout(GENEROUS):
            for p in people:
                again = Participant(p.name, p.says, p.client, p.cookie, url1, room.id)
                again.client.base_url = httpx.URL(url1)
                await again.open_socket()
                moved.append(again)
            socket_s = loop.time() - killed_at
            for again, old in zip(moved, people, strict=True):
                if old.bot is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(old.bot.close(), 5)
                    old.bot = None
                await again.connect_media()
                await ok(await again.client.post(api(room.id, "/me/status"), json={"presence": "online"}))
            amina2, bruno2 = moved
            of_amina, of_bruno = await heard(amina2, bruno2)
            for recorder in (of_amina, of_bruno):
                await wait_for_audio(recorder, FLOWING_SECONDS)
            audio_s = loop.time() - killed_at
            for recorder in (of_amina, of_bruno):
                await wait_for_audio(recorder, HEARD_SECONDS + FLOWING_SECONDS)
        after = correlations(amina2, bruno2, of_amina, of_bruno)

        # The meeting carried on: the same meeting, both still admitted, state moving on.
        state = await ok(await room.host.get(api(room.id)))
        admitted = {p["display_name"] for p in state["participants"] if p["status"] == "admitted"}
        assert state["status"] == "open" and {"Amina Diallo", "Bruno Silva"} <= admitted, state
        assert state["version"] >= version

        async def jobs_moved() -> bool:
            held = await holders(server)
            return all(held.get(name) == server.leases.holder for name in web2_held)

        await eventually(jobs_moved, "every job web-2 ran moved to web-1", GENEROUS)
        jobs_s = loop.time() - killed_at
        print(f"web-2 killed: sockets on web-1 after {socket_s:.2f} s, audio both ways again after {audio_s:.1f} s, "
              f"its {len(web2_held)} jobs ({', '.join(web2_held)}) on web-1 after {jobs_s:.1f} s; correlation before "
              f"{before[0]:.2f}/{before[1]:.2f}, after {after[0]:.2f}/{after[1]:.2f}")
        assert min(before) > SAME_AUDIO and min(after) > SAME_AUDIO, (before, after)
    finally:
        for p in moved + people:
            with contextlib.suppress(Exception):
                await p.close()
        for client in on1._clients + on2._clients:
            await client.aclose()
