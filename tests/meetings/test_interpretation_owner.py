"""One interpretation owner per meeting across web processes (issue 11), and finals relayed to it
acknowledged end to end.

Two hubs on one database and bus stand for two web processes, both with owner leases (as with
PostgreSQL or Redis): ``server.interpretation`` (A, whose Janus monitor hears the meeting's
room) and a second `Interpretation` (B, which reaches the same Janus but does not hear the room
unless a test says so). Scripted workers connect to one or the other; the fake clock counts
the lease bounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from parley.bus.base import Bus
from parley.config import Config
from parley.handlers.interpretation import Interpretation
from parley.handlers.interpretation import owners as owners_module
from parley.handlers.interpretation import relay as relay_module
from parley.handlers.interpretation.relay import hub_topic
from parley.handlers.leases import Leases
from parley.interpretation.protocol import Acked, AddVoice, Event, Hello, OpenMeeting, WorkerMessage, parse_command
from parley.interpretation.unacked import UnackedFinals
from parley.media.janus.service import JanusService, MediaEvent
from parley.server import Server
from tests.conftest import running_server
from tests.fakes.clock import FakeClock
from tests.meetings import test_api, test_interpretation
from tests.meetings.fakes import MeetingJanus, fake_service
from tests.meetings.test_api import Meeting, eventually
from tests.meetings.test_interpretation_lines import (
    ScriptedWorker,
    amina_speaking,
    caption,
    finals_on_the_bus,
    transcript,
)
from tests.meetings.test_worker_failover import speakers_on, tick

pytestmark = pytest.mark.integration

meeting = test_api.meeting
config = test_interpretation.config

TTL = owners_module.OWNER_TIMES.ttl_s
RENEW = owners_module.OWNER_TIMES.renew_s


@pytest.fixture
async def server(config: Config, clock: FakeClock, janus: MeetingJanus) -> AsyncIterator[Server]:
    """A web process whose jobs and interpretation take leases, as beside other processes."""
    parts = {"janus": fake_service(janus, clock), "interpretation_workers": None}
    async with running_server(config, clock, lambda srv: {**parts, "leases": Leases(srv.db, clock)}) as srv:
        yield srv


class Room:
    """B's way to the meeting's Janus; it hears the room's events only once ``hearing``."""

    def __init__(self, server: Server) -> None:
        self.rooms = server.meetings.rooms
        self.callbacks: list[Callable[[MediaEvent], Awaitable[None]]] = []

    async def live_room(self, room_id: int) -> JanusService | None:
        return await self.rooms.live_room(room_id)

    def on_room_events(self, callback: Callable[[MediaEvent], Awaitable[None]]) -> None:
        self.callbacks.append(callback)

    async def heard(self, event: MediaEvent) -> None:
        for callback in self.callbacks:
            await callback(event)


@pytest.fixture
def room(server: Server) -> Room:
    return Room(server)


@pytest.fixture
async def other_process(server: Server, clock: FakeClock, room: Room) -> AsyncIterator[Interpretation]:
    hub = Interpretation(server.db, clock, server.bus, room, leases=Leases(server.db, clock),
                         access=server.meetings.access)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


class Dropping:
    """Drops the next bus message a test names (the bus delivers at most once)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.publish = bus.publish
        self.rules: list[Callable[[str, dict[str, Any]], bool]] = []
        self.dropped: list[dict[str, Any]] = []
        bus.publish = self._publish  # type: ignore[method-assign]

    def next(self, rule: Callable[[str, dict[str, Any]], bool]) -> None:
        self.rules.append(rule)

    async def _publish(self, topic: str, event: dict[str, Any]) -> None:
        for rule in list(self.rules):
            if rule(topic, event):
                self.rules.remove(rule)
                self.dropped.append(event)
                return
        await self.publish(topic, event)


async def until(clock: FakeClock, done: Callable[[], bool], *, within: float) -> float:
    """Move the clock a quarter second at a time, giving the hubs' database work real time
    to finish in between, until ``done``; the clock's time then (fails past ``within``)."""
    start = clock.monotonic()
    while not done():
        assert clock.monotonic() - start <= within, f"not done within {within:.0f} s"
        clock.advance(0.25)
        await asyncio.sleep(0.02)
    return clock.monotonic()


async def kill(hub: Interpretation) -> None:
    """A web process killed: nothing of it runs or answers any more, nothing is released."""
    await hub._tasks.stop()


async def test_a_listener_on_another_process_is_served_by_the_owner_without_a_second_session(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    a, b = server.interpretation, other_process
    worker = ScriptedWorker(a, "worker-a")
    speaker, amina = await amina_speaking(meeting, server, janus, worker)
    assert a.sessions() == [meeting.id] and a.owners.owns(meeting.id)

    # Chen follows the meeting through B and listens to the English voice: B tells A, which
    # adds the voice to the room and asks its worker to speak into it.
    await meeting.join("chen", language="fr")
    await meeting.admit("Chen Wei")
    chen = meeting.setup.people.chen
    view = await b.choose(chen, meeting.id, caption_language="en", listen_channel="voice:en")

    async def voice_added() -> bool:
        return any(isinstance(c, AddVoice) and c.language == "en" for c in worker.commands)

    await eventually(voice_added, "the owner added the voice Chen chose")
    voices = [p for p in janus.videoroom.rooms[amina["room_id"]].participants.values()
              if p.get("display") == "parley:voice:en"]
    assert len(voices) == 1
    assert b.sessions() == [] and not b.owners.owns(meeting.id)
    assert sum(isinstance(c, OpenMeeting) and c.meeting == meeting.id for c in worker.commands) == 1
    assert view["caption_language"] == "en"
    # The host's view through B is the owner's: its worker, its languages.
    host_view = await b.view(meeting.setup.people.facilitator, meeting.id)
    assert host_view["worker"] == "worker-a" and {"en", "fr"} <= {s["language"] for s in
                                                                  host_view["languages_status"]}

    # Each line reaches the bus (every process's sockets read it) once, from the owner.
    close, finals = await finals_on_the_bus(server, meeting.id)
    try:
        await worker.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
        await worker.caption(meeting.id, speaker, "u1", "First point.", final=True, revision=2,
                             role="translation", language="en")

        async def shown() -> bool:
            return len(finals) == 2

        await eventually(shown, "both lines are on the bus")
        await tick(clock, 2 * RENEW)  # leases renewed, nothing moves
        assert len(finals) == 2 and b.sessions() == [] and a.owners.owns(meeting.id)
        assert await transcript(server) == ["Premier point."]
    finally:
        await close()


async def test_a_dead_owner_s_meeting_is_taken_over_within_the_lease_and_re_attached(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
    room: Room,
) -> None:
    a, b = server.interpretation, other_process
    first = ScriptedWorker(a, "worker-a")
    speaker, amina = await amina_speaking(meeting, server, janus, first)
    await first.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
    await eventually(lambda: _has(server, ["Premier point."]), "the first line is kept")
    second = ScriptedWorker(b, "worker-b")
    await second.connect()
    janus_room = janus.videoroom.rooms[amina["room_id"]]
    [old_forward] = list(janus_room.forwarders[amina["feed_id"]])

    await kill(a)  # A dies holding the meeting; its worker's socket went with it
    assert first.peer is not None
    died_at = clock.monotonic()
    # Whoever watches the room next hears who publishes in it (here: B).
    await room.heard(MediaEvent(amina["room_id"], "published", amina["feed_id"], ("0",)))
    assert b.sessions() == []  # A's lease still runs

    took = await until(clock, lambda: bool(b.sessions()), within=TTL + RENEW + 1) - died_at
    assert TTL - RENEW <= took <= TTL + RENEW + 1

    async def moved() -> bool:
        return speakers_on(second) == [speaker]

    await eventually(moved, "B forwards Amina to its worker")
    assert b.sessions() == [meeting.id] and b.owners.owns(meeting.id)
    assert any(isinstance(c, OpenMeeting) and c.meeting == meeting.id for c in second.commands)

    async def forwarded_once() -> bool:  # A's forwarder is gone from Janus; B's is the only one
        forwards = janus_room.forwarders.get(amina["feed_id"], {})
        return old_forward not in forwards and len(forwards) == 1

    await eventually(forwarded_once, "B forwards Amina, and A's forwarder is gone")

    await second.caption(meeting.id, speaker, "v1", "Deuxième point.", final=True, revision=2)
    await eventually(lambda: _has(server, ["Premier point.", "Deuxième point."]), "lines before and after are kept")


async def test_a_relayed_final_that_the_bus_dropped_is_sent_again_and_kept_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    a, b = server.interpretation, other_process
    there = ScriptedWorker(b, "worker-b")  # the worker's socket reaches B; A owns the meeting
    speaker, _ = await amina_speaking(meeting, server, janus, there)
    assert a.sessions() == [meeting.id] and b.sessions() == []
    bus = Dropping(server.bus)
    close, finals = await finals_on_the_bus(server, meeting.id)
    try:
        # The final on its way from B to A is lost.
        bus.next(lambda topic, event: topic == hub_topic(a.relay.process) and "ack" in event)
        await there.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
        assert bus.dropped and len(b.relay.unacked) == 1
        await tick(clock, relay_module.ACK_WAIT_S + 1.5)
        await eventually(lambda: _has(server, ["Premier point."]), "the final was sent again and kept")

        async def acknowledged() -> bool:
            return not b.relay.unacked

        await eventually(acknowledged, "A acknowledged it")

        # The acknowledgement is lost: B sends the line again, A keeps and shows it once.
        bus.next(lambda topic, event: topic == hub_topic(b.relay.process) and "acked" in event)
        await there.caption(meeting.id, speaker, "u2", "Deuxième point.", final=True, revision=2)
        await eventually(lambda: _has(server, ["Premier point.", "Deuxième point."]), "the second line is kept")
        assert len(b.relay.unacked) == 1
        await tick(clock, relay_module.ACK_WAIT_S + 1.5)
        await eventually(acknowledged, "the line sent again was acknowledged")
        assert await _has(server, ["Premier point.", "Deuxième point."])
        assert [f["text"] for f in finals] == ["Premier point.", "Deuxième point."]
    finally:
        await close()


async def test_a_final_whose_owner_died_before_acknowledging_goes_to_the_next_owner_and_is_kept_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
    room: Room,
) -> None:
    a, b = server.interpretation, other_process
    there = ScriptedWorker(b, "worker-b")
    speaker, amina = await amina_speaking(meeting, server, janus, there)
    bus = Dropping(server.bus)
    # A writes the first line, then dies before its acknowledgement leaves; the second line
    # reaches nobody.
    bus.next(lambda topic, event: topic == hub_topic(b.relay.process) and "acked" in event)
    await there.caption(meeting.id, speaker, "u1", "Premier point.", final=True, revision=2)
    await eventually(lambda: _has(server, ["Premier point."]), "A kept the first line")
    await kill(a)
    await there.caption(meeting.id, speaker, "u2", "Deuxième point.", final=True, revision=2)
    assert len(b.relay.unacked) == 2
    await room.heard(MediaEvent(amina["room_id"], "published", amina["feed_id"], ("0",)))

    died_at = clock.monotonic()
    await until(clock, lambda: not b.relay.unacked, within=TTL + RENEW + relay_module.ACK_WAIT_S + 2)
    assert b.sessions() == [meeting.id] and clock.monotonic() - died_at >= TTL - RENEW
    await eventually(lambda: _has(server, ["Premier point.", "Deuxième point."]), "both lines are kept, once")


class AckingWorker(ScriptedWorker):
    """A scripted worker that numbers its finals and keeps them until acknowledged (as
    `WorkerLink` does); ``deaf`` drops the acknowledgements (its socket is going), ``cut``
    loses the frames it sends (in flight on a socket whose web process dies)."""

    def __init__(self, hub: Interpretation, name: str, clock: FakeClock) -> None:
        super().__init__(hub, name)
        self.unacked = UnackedFinals(clock, name=name)
        self.deaf = False
        self.cut = False

    async def connect(self) -> Any:
        self.peer = await self.hub.connect_worker(Hello(self.name, asr=True, languages=("en", "fr"), acks=True),
                                                  self._send)
        for final in self.unacked.pending():
            await self.frame(final)
        return self.peer

    async def reconnect(self, hub: Interpretation) -> None:
        self.hub, self.cut, self.deaf = hub, False, False
        await self.connect()

    async def _send(self, frame: str) -> None:
        _, command = parse_command(frame)
        if isinstance(command, Acked):
            if not self.deaf:
                self.unacked.acked(command.seqs)
            return
        await super()._send(frame)

    async def frame(self, message: WorkerMessage) -> None:
        if self.cut:
            return
        await super().frame(message)  # type: ignore[arg-type]

    async def final(self, meeting_id: int, speaker: str, utterance: str, text: str) -> None:
        await self.frame(self.unacked.keep(Event(meeting_id, caption(speaker, utterance, text, final=True,
                                                                     revision=2))))


async def test_finals_a_worker_s_socket_took_with_it_are_sent_again_after_it_reconnects_and_kept_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    a, b = server.interpretation, other_process
    there = AckingWorker(b, "worker-b", clock)  # its socket reaches B; A owns the meeting
    speaker, _ = await amina_speaking(meeting, server, janus, there)
    assert a.sessions() == [meeting.id]
    close, finals = await finals_on_the_bus(server, meeting.id)
    try:
        # Relayed by B, written by A, acknowledged back to the worker: forgotten.
        await there.final(meeting.id, speaker, "u1", "Premier point.")
        await eventually(lambda: _acked(there), "the worker got u1's acknowledgement")
        # u2 is written but its acknowledgement dies with the socket; u3 never leaves it.
        there.deaf = True
        await there.final(meeting.id, speaker, "u2", "Deuxième point.")
        await eventually(lambda: _has(server, ["Premier point.", "Deuxième point."]), "A kept u2")
        there.cut = True
        await there.final(meeting.id, speaker, "u3", "Troisième point.")
        assert len(there.unacked) == 2 and there.peer is not None
        await b.disconnect_worker(there.peer)  # the socket dropped

        await there.reconnect(b)  # the same web process: u2 and u3 again, not u1
        await eventually(lambda: _acked(there), "both were acknowledged after the reconnect")
        assert await _has(server, ["Premier point.", "Deuxième point.", "Troisième point."])
        assert sorted(f["text"] for f in finals) == ["Deuxième point.", "Premier point.", "Troisième point."]
    finally:
        await close()


async def test_a_worker_that_moves_to_the_owner_s_process_sends_it_the_finals_it_still_keeps(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock, other_process: Interpretation,
) -> None:
    a, b = server.interpretation, other_process
    there = AckingWorker(b, "worker-b", clock)
    speaker, _ = await amina_speaking(meeting, server, janus, there)
    await there.final(meeting.id, speaker, "u1", "Premier point.")
    await eventually(lambda: _acked(there), "u1 acknowledged")
    there.cut = True  # B dies with u2 in flight on the worker's socket
    await there.final(meeting.id, speaker, "u2", "Deuxième point.")
    await kill(b)
    await there.reconnect(a)  # the worker's next --server: the owner's own process
    await eventually(lambda: _acked(there), "A acknowledged u2 itself")
    assert await _has(server, ["Premier point.", "Deuxième point."])


async def _acked(worker: AckingWorker) -> bool:
    return len(worker.unacked) == 0


async def test_one_process_alone_writes_no_lease_and_owns_every_meeting(server: Server, clock: FakeClock) -> None:
    """The embedded default (SQLite, nothing shared): no lease row, nothing on the bus."""
    from parley.storage.stores import leases as lease_store
    from parley.tasks import TaskOwner

    owners = owners_module.Owners(server.db, clock, server.bus, TaskOwner("test"),
                                  leases=Leases(server.db, clock, local=True))
    assert await owners.claim(7) == 1 and owners.owns(7) and await owners.owner(8) == owners.holder
    assert await owners.renew() == [] and await owners.orphans() == []
    assert not await owners.tell(7, {"op": "refresh"})
    async with server.db.session() as s:
        assert not [lease for lease in await lease_store.all_leases(s) if lease.name.startswith(owners_module.PREFIX)]


async def _has(server: Server, lines: list[str]) -> bool:
    return sorted(await transcript(server)) == sorted(lines)

