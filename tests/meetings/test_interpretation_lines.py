"""No lost words on Parley's side: every caption line a listener saw as partial ends final,
and its original in the transcript, whatever happens to the worker or the speaker: the
worker disconnects, the speaker leaves (their last finals still count), the meeting ends,
nothing comes for a while. And a worker's name is its identity: a second one is refused
while the first answers.

A scripted worker peer speaks the worker protocol to the hub directly, so each case says
exactly which events came, and when.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from parley.errors import Conflict
from parley.handlers import interpretation as hub_module
from parley.handlers.interpretation import Interpretation, WorkerPeer
from parley.handlers.interpretation import pool as pool_module
from parley.interpretation.protocol import (
    CLOSE_DUPLICATE_WORKER,
    AddSpeaker,
    CloseMeeting,
    Event,
    Hello,
    Ping,
    Reply,
    parse_command,
    worker_message_to_json,
)
from parley.server import Server
from parley.storage.analysis_models import TranscriptSegment
from tests.fakes.clock import FakeClock
from tests.meetings import test_api, test_interpretation
from tests.meetings.fakes import MeetingJanus
from tests.meetings.test_api import Meeting, eventually
from tests.meetings.test_interpretation import publish

pytestmark = pytest.mark.integration

meeting = test_api.meeting
config = test_interpretation.config
socket_worker = test_interpretation.socket_worker
engines = test_interpretation.engines

SAID = "bonjour à tous et bienvenue"


class ScriptedWorker:
    """A worker that answers every command at once (or never, once ``silent``), and sends the
    caption events a test scripts; ``on_close`` runs before it answers a meeting's close."""

    def __init__(self, hub: Interpretation, name: str = "scripted") -> None:
        self.hub = hub
        self.name = name
        self.peer: WorkerPeer | None = None
        self.commands: list[Any] = []
        self.silent = False
        self.on_close: list[dict[str, Any]] = []

    async def connect(self) -> WorkerPeer:
        self.peer = await self.hub.connect_worker(Hello(self.name, asr=True, languages=("en", "fr")), self._send)
        return self.peer

    async def _send(self, frame: str) -> None:
        command_id, command = parse_command(frame)
        self.commands.append(command)
        if self.silent:
            return
        result: dict[str, Any] = {}
        if isinstance(command, AddSpeaker):
            result = {"host": "127.0.0.1", "port": 40000, "ssrc": 4242}
        if isinstance(command, CloseMeeting):
            for event in self.on_close:
                await self.frame(Event(command.meeting, event))
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(self.frame(Reply(command_id, True, result))))

    async def frame(self, message: Event | Reply) -> None:
        assert self.peer is not None
        await self.hub.worker_frame(self.peer, worker_message_to_json(message))

    async def caption(self, meeting_id: int, speaker: str, utterance: str, text: str, *, final: bool,
                      revision: int, role: str = "original", language: str = "fr") -> None:
        await self.frame(Event(meeting_id, caption(speaker, utterance, text, final=final, revision=revision,
                                                   role=role, language=language)))


def caption(speaker: str, utterance: str, text: str, *, final: bool, revision: int, role: str = "original",
            language: str = "fr") -> dict[str, Any]:
    return {"kind": "caption", "speaker_id": speaker, "utterance_id": utterance, "revision": revision, "role": role,
            "language": language, "source_language": "fr", "text": text, "stable_text": "", "is_final": final,
            "start": 0.0, "end": 2.0, "emitted_at": 0.0, "latency": 0.5, "engine": "asr"}


async def amina_speaking(meeting: Meeting, server: Server, janus: MeetingJanus,
                         worker: ScriptedWorker) -> tuple[str, dict[str, Any]]:
    """Amina is in the meeting, published, and forwarded to ``worker``: her speaker id."""
    await worker.connect()
    await meeting.join("amina", language="fr")
    await meeting.admit("Amina Diallo")
    amina = await meeting.connect("amina")
    await publish(server, janus, amina)

    async def forwarded() -> bool:
        return any(isinstance(c, AddSpeaker) for c in worker.commands)

    await eventually(forwarded, "amina is forwarded to the worker")
    [speaker] = [c.speaker for c in worker.commands if isinstance(c, AddSpeaker)]
    return speaker, amina


async def finals_on_the_bus(server: Server, meeting_id: int) -> tuple[Any, list[dict[str, Any]]]:
    sub = await server.bus.subscribe([f"meeting:{meeting_id}"])
    seen: list[dict[str, Any]] = []

    async def collect() -> None:
        async for _topic, event in sub:
            if event.get("type") == "caption" and event["caption"]["is_final"]:
                seen.append(event["caption"])

    task = asyncio.create_task(collect())

    async def close() -> None:
        task.cancel()
        await sub.close()

    return close, seen


async def transcript(server: Server) -> list[str]:
    async with server.db.session() as s:
        return [row.text for row in (await s.execute(TranscriptSegment.__table__.select())).all()]


async def test_a_disconnected_workers_open_lines_end_final_and_in_the_transcript(
    meeting: Meeting, server: Server, janus: MeetingJanus,
) -> None:
    hub = server.interpretation
    worker = ScriptedWorker(hub)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    close, finals = await finals_on_the_bus(server, meeting.id)
    try:
        await worker.caption(meeting.id, speaker, "u1", SAID, final=False, revision=1)
        await worker.caption(meeting.id, speaker, "u1", f"[en] {SAID}", final=False, revision=1, role="translation",
                             language="en")
        assert worker.peer is not None
        await hub.disconnect_worker(worker.peer)  # the worker crashed mid-sentence

        async def closed() -> bool:
            return len(finals) == 2

        await eventually(closed, "both lines are closed")
        assert {(c["role"], c["text"], c["forced"]) for c in finals} == {
            ("original", SAID, True), ("translation", f"[en] {SAID}", True)}
        assert all(c["revision"] == 2 for c in finals)  # newer than the partial: pages take it
        assert await transcript(server) == [SAID]
    finally:
        await close()


async def test_finals_of_a_speaker_who_left_are_kept_and_the_rest_closed_after_the_drain(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,
) -> None:
    hub = server.interpretation
    worker = ScriptedWorker(hub)
    speaker, amina = await amina_speaking(meeting, server, janus, worker)
    await worker.caption(meeting.id, speaker, "u1", "premier", final=False, revision=1)
    await worker.caption(meeting.id, speaker, "u2", "deuxième", final=False, revision=1)
    await hub.speaker_left(meeting.id, amina["feed_id"])
    # the worker drains her: the first line's final comes after she left ...
    await worker.caption(meeting.id, speaker, "u1", "Premier.", final=True, revision=2)

    async def kept() -> bool:
        return await transcript(server) == ["Premier."]

    await eventually(kept, "a final after the speaker left is kept")
    # ... the second never does: closed once the drain had time
    clock.advance(hub_module.LEAVE_GRACE_S + 1)

    session = hub._sessions[meeting.id]

    async def closed() -> bool:
        # the transcript is written before the speaker is forgotten: wait for both
        done = sorted(await transcript(server)) == ["Premier.", "deuxième"]
        return done and not session.open and not session.departed

    await eventually(closed, "the second line is closed with what was shown, and she is forgotten")


async def test_the_meetings_end_keeps_the_finals_the_worker_sends_while_closing(
    meeting: Meeting, server: Server, janus: MeetingJanus,
) -> None:
    hub = server.interpretation
    worker = ScriptedWorker(hub)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    await worker.caption(meeting.id, speaker, "u1", "au revoir", final=False, revision=1)
    await worker.caption(meeting.id, speaker, "u2", "merci", final=False, revision=1)
    # closing the meeting, the worker closes its open lines (see `SpeakerPipeline.stop`), but not u2
    worker.on_close = [{**caption(speaker, "u1", "Au revoir.", final=True, revision=2), "forced": True}]
    await test_api.ok(await meeting.host.post(test_api.api(meeting.id, "/end")))

    async def kept() -> bool:
        return sorted(await transcript(server)) == ["Au revoir.", "merci"]

    await eventually(kept, "both lines are in the transcript")


async def test_a_line_nobody_finishes_is_closed_after_the_time_bound_and_a_late_final_replaces_it(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,
) -> None:
    hub = server.interpretation
    worker = ScriptedWorker(hub)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    await worker.caption(meeting.id, speaker, "u1", "vingt-cinq", final=False, revision=1)
    clock.advance(hub_module.FINAL_TIMEOUT_S - 1)
    await hub._close_stale_lines()
    assert await transcript(server) == []  # not yet
    clock.advance(2)
    await hub._close_stale_lines()
    assert await transcript(server) == ["vingt-cinq"]
    await worker.caption(meeting.id, speaker, "u1", "Vingt-cinq, trente.", final=True, revision=3)

    async def replaced() -> bool:
        return await transcript(server) == ["Vingt-cinq, trente."]

    await eventually(replaced, "the late final replaces the forced one")


async def test_a_second_worker_of_the_same_name_is_refused_while_the_first_answers(
    server: Server, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = server.interpretation
    first = ScriptedWorker(hub, "worker-1")
    await first.connect()
    with pytest.raises(Conflict) as refused:
        await ScriptedWorker(hub, "worker-1").connect()  # an orphan of a crashed server, say
    assert refused.value.code == "duplicate_worker"
    assert isinstance(first.commands[-1], Ping) and hub.workers == [first.peer]
    assert (await ScriptedWorker(hub, "worker-2").connect()).name == "worker-2"

    # the first one's connection dies unnoticed: it no longer answers, and the newcomer gets in
    monkeypatch.setattr(pool_module, "PROBE_S", 0.05)
    first.silent = True
    again = ScriptedWorker(hub, "worker-1")
    peer = await again.connect()
    assert first.peer is not None and first.peer.closed
    assert [w.name for w in hub.workers] == ["worker-2", "worker-1"] and peer in hub.workers
    await hub.disconnect_worker(first.peer)  # its socket finally ends: nothing changes
    assert peer in hub.workers and not peer.closed


async def test_the_worker_socket_closes_a_duplicate_with_its_own_code(
    server: Server, live_url: str, socket_worker: Any,
) -> None:
    url = live_url.replace("http://", "ws://") + "/ws/interpretation/worker"
    async with connect(url, additional_headers={"Authorization": f"Bearer {server.worker_secret}"}) as ws:
        await ws.send(worker_message_to_json(Hello("test-worker", asr=True)))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_DUPLICATE_WORKER
    assert [w.name for w in server.interpretation.workers] == ["test-worker"]
