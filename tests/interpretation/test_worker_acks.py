"""A worker keeps each final caption line until Parley acknowledges it, and sends the ones it
still keeps again after it reconnects (the same web process or the next one): a final in flight
on a socket whose web process dies is not lost. Bounded by count and age, logged without text."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from parley.interpretation.protocol import (
    Acked,
    Event,
    Hello,
    command_to_json,
    parse_command,
    parse_worker_message,
    worker_message_to_json,
)
from parley.interpretation.unacked import RESEND_S, UnackedFinals
from parley.interpretation.worker_link import LinkOptions, WorkerLink
from tests.fakes.clock import FakeClock
from tests.interpretation.test_worker_link import engines, running_link  # noqa: F401 - engines: the fixture

pytestmark = pytest.mark.unit

SECRET_TEXT = "Le budget participatif de mon quartier"


def caption(utterance: str, *, final: bool = True, text: str = SECRET_TEXT) -> dict[str, Any]:
    return {"kind": "caption", "speaker_id": "p1", "utterance_id": utterance, "revision": 2, "role": "original",
            "language": "fr", "source_language": "fr", "text": text, "stable_text": "", "is_final": final,
            "start": 0.0, "end": 2.0, "emitted_at": 0.0, "latency": 0.5, "engine": "asr"}


class WebProcess:
    """One web process's worker socket: records the hello and the events, acknowledges the
    finals it is told to; `die` drops the connections as a killed process's kernel does."""

    def __init__(self) -> None:
        self.hellos: list[Hello] = []
        self.events: list[Event] = []
        self.acking = True
        self.connections: list[ServerConnection] = []
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        hello = parse_worker_message(str(await ws.recv()))
        assert isinstance(hello, Hello)
        self.hellos.append(hello)
        async for frame in ws:
            message = parse_worker_message(str(frame))
            if isinstance(message, Event):
                self.events.append(message)
                if self.acking and message.seq is not None:
                    await ws.send(command_to_json(0, Acked((message.seq,))))

    async def die(self) -> None:
        for ws in self.connections:
            ws.transport.abort()

    def utterances(self) -> list[str]:
        return [e.event["utterance_id"] for e in self.events]


async def until(done: Any, what: str) -> None:
    async with asyncio.timeout(10):
        while not done():  # noqa: ASYNC110 - the fake web process and the link record it
            await asyncio.sleep(0.01)
    assert done(), what


@pytest.fixture
async def web() -> AsyncIterator[tuple[WebProcess, WebProcess]]:
    first, second = WebProcess(), WebProcess()
    async with serve(first.handler, "127.0.0.1", 0) as s1, serve(second.handler, "127.0.0.1", 0) as s2:
        for process, srv in ((first, s1), (second, s2)):
            host, port = next(iter(srv.sockets)).getsockname()[:2]
            process.url = f"ws://{host}:{port}/ws/interpretation/worker"
        yield first, second


async def test_a_final_in_flight_when_the_web_process_dies_is_sent_again_to_the_next_and_acked_ones_are_not(
    web: tuple[WebProcess, WebProcess], engines: Any,  # noqa: F811
) -> None:
    first, second = web
    async with running_link(engines, first.url, second.url) as link:
        await until(lambda: link.connected.is_set(), "connected to the first")
        assert first.hellos[0].acks
        await link.send(Event(1, caption("u1")))  # acknowledged: forgotten
        await until(lambda: len(link.unacked) == 0 and first.utterances() == ["u1"], "u1 acknowledged")
        first.acking = False
        await link.send(Event(1, caption("u2", final=False)))  # a partial is never kept
        await link.send(Event(1, caption("u2")))  # reaches the process, which dies before it acks
        await until(lambda: first.utterances() == ["u1", "u2", "u2"], "u2 reached the first process")
        assert len(link.unacked) == 1
        await first.die()
        await until(lambda: second.hellos and len(link.unacked) == 0, "u2 sent again to the second")
        assert second.utterances() == ["u2"]  # not u1 (acknowledged), not the partial
        [again] = second.events
        assert again.event["is_final"] and again.seq == first.events[2].seq


async def test_a_final_sent_while_disconnected_goes_once_connected() -> None:
    """The lines a worker's meetings close with after its socket dropped have no connection:
    kept, and sent with the next hello."""
    clock = FakeClock()
    link = WorkerLink(LinkOptions(url="ws://127.0.0.1:9/", secret="s"), None, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await link.send(Event(3, caption("u9")))
    assert [e.event["utterance_id"] for e in link.unacked.pending()] == ["u9"]


def test_kept_finals_are_bounded_by_count_and_age_and_the_log_has_no_text(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    kept = UnackedFinals(clock, name="worker-7", max_kept=3, max_age_s=60.0)
    caplog.set_level(logging.WARNING)
    seqs = [kept.keep(Event(1, caption(f"u{i}"))).seq for i in range(4)]
    assert seqs == [1, 2, 3, 4] and [e.seq for e in kept.pending()] == [2, 3, 4]  # the oldest given up
    kept.acked([3])
    clock.advance(30)
    kept.keep(Event(1, caption("u5")))
    clock.advance(31)
    assert [e.event["utterance_id"] for e in kept.pending()] == ["u5"]  # u1.. older than 60 s given up
    assert len(caplog.records) == 2 and kept.given_up == 3
    for i in range(250):  # a Parley that never acknowledges: not a warning per line
        kept.keep(Event(1, caption(f"v{i}")))
    assert len(caplog.records) == 4 and len(kept) == 3  # given up: the 101st and the 201st
    assert all(SECRET_TEXT not in r.getMessage() and "u1" not in r.getMessage() for r in caplog.records)


def test_the_protocol_stays_compatible_with_workers_and_servers_without_acks() -> None:
    old_hello = json.dumps({"op": "hello", "worker": "old", "version": 1})
    hello = parse_worker_message(old_hello)
    assert isinstance(hello, Hello) and not hello.acks
    plain = worker_message_to_json(Event(1, caption("u1")))
    assert '"seq"' not in plain  # what an older worker sends, and an older server reads
    numbered = parse_worker_message(worker_message_to_json(Event(1, caption("u1"), seq=7)))
    assert isinstance(numbered, Event) and numbered.seq == 7
    assert parse_command(command_to_json(0, Acked((7, 8)))) == (0, Acked((7, 8)))


def test_a_final_not_acknowledged_is_due_again_after_a_few_seconds_then_less_often() -> None:
    clock = FakeClock()
    kept = UnackedFinals(clock, name="worker-7", resend_s=5.0, max_resend_s=20.0, max_age_s=300.0)
    first = kept.keep(Event(1, caption("u1")))
    due_at = []
    for _ in range(80):  # a second at a time, as the link looks
        clock.advance(1.0)
        if kept.due():
            due_at.append(clock.monotonic() - 1000.0)
    assert due_at == [5.0, 15.0, 35.0, 55.0, 75.0]  # 5, then 10, 20, 20 (the bound)
    kept.acked([first.seq or 0])
    clock.advance(60)
    assert kept.due() == [] and kept.pending() == []


def test_finals_sent_again_after_a_reconnect_wait_a_full_interval_before_the_next_time() -> None:
    clock = FakeClock()
    kept = UnackedFinals(clock, resend_s=5.0)
    kept.keep(Event(1, caption("u1")))
    clock.advance(4.0)
    assert len(kept.pending()) == 1  # sent with the hello
    clock.advance(4.0)
    assert kept.due() == []
    clock.advance(1.0)
    assert [e.event["utterance_id"] for e in kept.due()] == ["u1"]


async def run_clock(clock: FakeClock, done: Any, what: str, *, within: float) -> float:
    """Advance the fake clock a second at a time (real time in between for the sockets) until
    ``done``; the seconds it took."""
    start = clock.monotonic()
    async with asyncio.timeout(20):
        while not done():
            assert clock.monotonic() - start <= within, what
            clock.advance(1.0)
            for _ in range(20):
                await asyncio.sleep(0.005)
                if done():
                    break
    return clock.monotonic() - start


async def test_a_final_whose_acknowledgement_does_not_come_goes_again_on_the_same_connection(
    web: tuple[WebProcess, WebProcess], engines: Any,  # noqa: F811
) -> None:
    first, _ = web
    clock = FakeClock()
    async with running_link(engines, first.url, clock=clock) as link:
        await until(lambda: link.connected.is_set(), "connected")
        await link.send(Event(1, caption("u1")))  # acknowledged: this Parley acknowledges
        await until(lambda: len(link.unacked) == 0 and link.acking, "u1 acknowledged")
        first.acking = False  # the owner died after the line reached the web process
        await link.send(Event(1, caption("u2")))
        await until(lambda: first.utterances() == ["u1", "u2"], "u2 reached the web process")
        took = await run_clock(clock, lambda: first.utterances() == ["u1", "u2", "u2"], "u2 sent again",
                               within=RESEND_S + 2)
        assert RESEND_S - 1 <= took <= RESEND_S + 1
        assert first.events[2].seq == first.events[1].seq  # the same line, numbered the same
        first.acking = True  # a new owner took the meeting: it acknowledges the next copy
        await run_clock(clock, lambda: len(link.unacked) == 0, "u2 acknowledged", within=2 * RESEND_S + 2)
        sent = len(first.events)
        for _ in range(6):  # three minutes on
            clock.advance(30.0)
            await asyncio.sleep(0.05)
        assert len(first.events) == sent  # nothing more once acknowledged
        assert len(first.hellos) == 1  # all on one connection


async def test_a_parley_that_never_acknowledges_gets_each_final_once(
    web: tuple[WebProcess, WebProcess], engines: Any,  # noqa: F811
) -> None:
    first, _ = web
    first.acking = False
    clock = FakeClock()
    async with running_link(engines, first.url, clock=clock) as link:
        await until(lambda: link.connected.is_set(), "connected")
        await link.send(Event(1, caption("u1")))
        await until(lambda: first.utterances() == ["u1"], "u1 reached the web process")
        for _ in range(4 * int(RESEND_S)):
            clock.advance(1.0)
            await asyncio.sleep(0.01)
        assert first.utterances() == ["u1"] and len(link.unacked) == 1
