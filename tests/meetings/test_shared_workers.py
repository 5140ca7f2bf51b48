"""Workers shared by web processes (issue 11): a meeting interpreted by one process is placed on
a worker connected to another one, its commands and the worker's captions carried over the bus;
when that worker leaves, or the process it is connected to dies, the meeting moves.

Two hubs on one database and bus stand for two web processes: ``server.interpretation`` (A,
which sees the meeting's Janus events) and a second `Interpretation` (B, no media of its own),
with scripted workers connected to one or the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.handlers.interpretation import Interpretation
from parley.handlers.interpretation import pool as pool_module
from parley.interpretation.protocol import OpenMeeting
from parley.server import Server
from tests.fakes.clock import FakeClock
from tests.meetings import test_api, test_interpretation
from tests.meetings.fakes import MeetingJanus
from tests.meetings.test_api import Meeting, eventually
from tests.meetings.test_interpretation_lines import ScriptedWorker, amina_speaking, transcript
from tests.meetings.test_worker_failover import speakers_on, tick

pytestmark = pytest.mark.integration

meeting = test_api.meeting
config = test_interpretation.config


@pytest.fixture
async def other_process(server: Server, clock: FakeClock) -> AsyncIterator[Interpretation]:
    hub = Interpretation(server.db, clock, server.bus, None)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def test_a_worker_connected_to_another_process_interprets_the_meeting(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    there = ScriptedWorker(other_process, "worker-b")
    speaker, _ = await amina_speaking(meeting, server, janus, there)  # A's session, B's worker
    assert [w.name for w in server.interpretation.workers] == ["worker-b"]
    assert server.interpretation.workers[0].relay == other_process.relay.process
    assert any(isinstance(c, OpenMeeting) and c.meeting == meeting.id for c in there.commands)

    await there.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)

    async def kept() -> bool:
        return await transcript(server) == ["Premier point."]

    await eventually(kept, "the remote worker's final line is in A's transcript")
    assert not other_process.sessions()  # B carried it, A interprets

    # The worker leaves B: A hears it at once and moves the speaker to a worker of its own.
    here = ScriptedWorker(server.interpretation, "worker-a")
    await here.connect()
    assert there.peer is not None
    await other_process.disconnect_worker(there.peer)

    async def moved() -> bool:
        return speakers_on(here) == [speaker]

    await eventually(moved, "the speaker moved to A's own worker")


async def test_a_dead_process_s_workers_lose_their_meetings_within_5_s(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    there = ScriptedWorker(other_process, "worker-b")
    speaker, _ = await amina_speaking(meeting, server, janus, there)
    here = ScriptedWorker(server.interpretation, "worker-a")
    await here.connect()
    # Pings through B are answered: nothing moves.
    await tick(clock, 2 * (pool_module.HEARTBEAT_S + pool_module.SILENT_S))
    assert speakers_on(here) == []

    await other_process._tasks.stop()  # B dies: nothing it carried comes back, nor any "gone"
    died_at = clock.monotonic()
    peer = next(w for w in server.interpretation.workers if w.name == "worker-b")
    while not peer.closed:
        assert clock.monotonic() - died_at < 5.0, "A kept a worker whose process died"
        await tick(clock, 0.1)

    async def moved() -> bool:
        return speakers_on(here) == [speaker]

    await eventually(moved, "the speaker moved to A's own worker")
    await here.caption(meeting.id, speaker, "v1", "Deuxième point.", final=True, revision=2)

    async def kept() -> bool:
        return await transcript(server) == ["Deuxième point."]

    await eventually(kept, "A's worker's line is kept")


async def test_a_meeting_opened_by_the_worker_s_own_process_keeps_its_events_there(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    """A interpreted the meeting through B; then B opens it itself (A died, B took over): the
    worker's events for it now stay in B."""
    there = ScriptedWorker(other_process, "worker-b")
    speaker, _ = await amina_speaking(meeting, server, janus, there)
    a_session = server.interpretation._sessions[meeting.id]
    await there.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
    await eventually(lambda: _counted(a_session.captions, 1), "A got the line through B")

    b_session = await other_process._session(meeting.id)
    assert b_session is not None and b_session.worker is there.peer
    await there.caption(meeting.id, speaker, "u2", "Deuxième point.", final=True, revision=2)
    await eventually(lambda: _counted(b_session.captions, 1), "B got the line of the meeting it opened")
    assert a_session.captions == {"fr": 1}


async def _counted(captions: dict[str, int], n: int) -> bool:
    return sum(captions.values()) == n
