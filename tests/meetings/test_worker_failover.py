"""A worker lost mid-meeting (issue 11): its speakers move to another worker within 5 s, and
no caption line that was final before the loss is missing from the transcript.

A worker process that dies closes its socket at once; one that hangs (or whose machine drops
off the network) leaves it open and silent, and only the hub's pings find out. Both are
played here with scripted workers and the fake clock, so "within 5 s" is counted in the
clock's seconds, not measured.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from parley.handlers.interpretation import pool as pool_module
from parley.interpretation.protocol import AddSpeaker, Hello, OpenMeeting, Ping, worker_message_to_json
from parley.server import Server
from tests.fakes.clock import FakeClock
from tests.meetings import test_api, test_interpretation
from tests.meetings.fakes import MeetingJanus
from tests.meetings.test_api import Meeting, eventually
from tests.meetings.test_interpretation_lines import ScriptedWorker, amina_speaking, transcript

pytestmark = pytest.mark.integration

meeting = test_api.meeting
config = test_interpretation.config

# The bound: a lost worker's speakers are on another one within this many seconds.
MOVED_WITHIN_S = 5.0


def speakers_on(worker: ScriptedWorker) -> list[str]:
    return [c.speaker for c in worker.commands if isinstance(c, AddSpeaker)]


async def tick(clock: FakeClock, seconds: float) -> None:
    """Move the fake clock a tenth of a second at a time, letting the hub's tasks run (and
    giving a real bus, Redis, a few milliseconds of real time for each step's messages)."""
    for _ in range(round(seconds * 10)):
        clock.advance(0.1)
        for _ in range(5):
            await asyncio.sleep(0)
        await asyncio.sleep(0.003)


async def speaking_on_first_of_two(meeting: Meeting, server: Server, janus: MeetingJanus) -> tuple[
        ScriptedWorker, ScriptedWorker, str]:
    """Amina speaks, forwarded to worker-1; worker-2 is connected and idle."""
    first, second = ScriptedWorker(server.interpretation, "worker-1"), ScriptedWorker(server.interpretation, "worker-2")
    speaker, _ = await amina_speaking(meeting, server, janus, first)
    await second.connect()
    assert speakers_on(second) == []
    return first, second, speaker


async def test_a_hung_worker_s_speakers_move_within_5_s_and_its_lines_stay_in_the_transcript(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,
) -> None:
    hub = server.interpretation
    first, second, speaker = await speaking_on_first_of_two(meeting, server, janus)
    hung_up: list[str] = []
    assert first.peer is not None

    async def hangup() -> None:
        hung_up.append(first.name)

    first.peer.hangup = hangup
    # Before it hangs: one line final, the next one shown as partial.
    await first.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
    await first.caption(meeting.id, speaker, "u2", "deuxième", final=False, revision=1)
    await eventually(lambda: _has(server, ["Premier point."]), "the final line is in the transcript")

    # Healthy workers answer the pings: nothing moves however long the meeting goes on.
    await tick(clock, 3 * (pool_module.HEARTBEAT_S + pool_module.SILENT_S))
    assert not first.peer.closed and speakers_on(second) == []
    assert any(isinstance(c, Ping) for c in second.commands)

    first.silent = True  # hung: its socket stays open, nothing comes back
    hung_at = clock.monotonic()
    while not first.peer.closed:
        assert clock.monotonic() - hung_at < MOVED_WITHIN_S, "the hung worker was not taken as gone"
        await tick(clock, 0.1)

    async def moved() -> bool:
        return speakers_on(second) == [speaker]

    await eventually(moved, "the hung worker's speaker moved")  # with no more clock time
    assert clock.monotonic() - hung_at <= pool_module.HEARTBEAT_S + pool_module.SILENT_S + 0.2
    assert any(isinstance(c, OpenMeeting) and c.meeting == meeting.id for c in second.commands)
    assert first.peer.closed and first.peer not in hub.workers and hung_up == ["worker-1"]
    session = hub._sessions[meeting.id]
    assert session.worker is second.peer and not session.open
    # What listeners saw of the line it never finished ends final, in the transcript too.
    await eventually(lambda: _has(server, ["Premier point.", "deuxième"]), "the open line is closed")

    # Captions go on from the second worker, and every earlier line is still there.
    await second.caption(meeting.id, speaker, "v1", "Troisième point.", final=True, revision=2)
    await eventually(lambda: _has(server, ["Premier point.", "deuxième", "Troisième point."]),
                     "the second worker's lines are kept")


async def test_a_dead_worker_s_speakers_move_at_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,
) -> None:
    hub = server.interpretation
    first, second, speaker = await speaking_on_first_of_two(meeting, server, janus)
    await first.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
    assert first.peer is not None
    await hub.disconnect_worker(first.peer)  # its process died: the socket closed

    async def moved() -> bool:
        return speakers_on(second) == [speaker]

    await eventually(moved, "the dead worker's speaker moved")  # without the clock moving at all
    await second.caption(meeting.id, speaker, "v1", "Deuxième point.", final=True, revision=2)
    await eventually(lambda: _has(server, ["Premier point.", "Deuxième point."]), "both lines are kept")


async def test_a_slow_worker_is_not_taken_for_a_hung_one(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,
) -> None:
    """Any frame counts as an answer: a worker busy sending captions keeps its speakers, even if
    a ping's own reply is late."""
    first, second, speaker = await speaking_on_first_of_two(meeting, server, janus)
    first.silent = True  # replies stop ...
    for n in range(int(3 * pool_module.SILENT_S)):
        await first.caption(meeting.id, speaker, f"u{n}", "un mot", final=False, revision=1)  # ... events do not
        await tick(clock, 1.0)
    assert first.peer is not None and not first.peer.closed and speakers_on(second) == []
    first.silent = False  # it answers the meeting's close at teardown


async def test_the_socket_of_a_silent_worker_is_closed_so_that_it_reconnects(
    server: Server, live_url: str, clock: FakeClock,
) -> None:
    url = live_url.replace("http://", "ws://") + "/ws/interpretation/worker"
    async with connect(url, additional_headers={"Authorization": f"Bearer {server.worker_secret}"}) as ws:
        await ws.send(worker_message_to_json(Hello("mute-worker", asr=True)))

        async def registered() -> bool:
            return [w.name for w in server.interpretation.workers] == ["mute-worker"]

        await eventually(registered, "the worker is registered")
        pings: list[Any] = []

        async def read() -> None:
            async for frame in ws:
                pings.append(frame)

        reader = asyncio.create_task(read())
        await tick(clock, pool_module.HEARTBEAT_S + pool_module.SILENT_S + 1)  # it never answers
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(20):
                await reader
    assert pings and all('"op":"ping"' in p for p in pings)
    assert ws.close_code == 1013 and server.interpretation.workers == []


async def _has(server: Server, lines: list[str]) -> bool:
    return sorted(await transcript(server)) == sorted(lines)

