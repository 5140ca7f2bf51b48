"""Live interpretation wired into a meeting: Janus forwards a speaker's audio to a worker
connected over the real worker socket, captions reach each listener's meeting socket in their
language, final lines land in the transcript, a listener's voice channel becomes a Janus
remote publisher, and everything added to Janus is removed again.

The worker runs scripted engines (tests/fakes/engines.py) on the system clock; the test plays
Janus by sending Opus RTP to where the forwarder points.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import connect

from parley.clock import SystemClock
from parley.config import Config, InterpretationConfig
from parley.handlers.interpretation_workers import LocalWorker, WorkerProcesses
from parley.interpretation.adapters import StreamingOptions
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import InterpreterEngines, PipelineOptions
from parley.interpretation.rtp import RtpOpusSender
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.tts.base import Voices
from parley.interpretation.vad import EnergyVad
from parley.interpretation.worker import InterpretationWorker, Send
from parley.interpretation.worker_link import LinkOptions, WorkerLink
from parley.server import Server
from parley.storage.analysis_models import TranscriptSegment
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt, FakeTts, ScriptedAsr, silence, tone
from tests.meetings import test_api, test_socket
from tests.meetings.fakes import MeetingJanus
from tests.meetings.test_api import Meeting, api, eventually, ok

pytestmark = pytest.mark.integration

meeting = test_api.meeting  # shared fixtures: a started meeting, sockets for its people
open_socket = test_socket.open_socket
MODELS = Path(__file__).resolve().parents[2] / "data" / "models"
PIPELINE = PipelineOptions(streaming=StreamingOptions(partials=False, idle_endpoint_s=0.4))


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, interpretation=InterpretationConfig(enabled=True, workers=0))


@pytest.fixture
async def engines() -> AsyncIterator[InterpreterEngines]:
    clock = SystemClock()
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="bonjour à tous", language="fr")
    translator = Translator([FakeMt(clock=clock, pairs=[("fr", "en"), ("en", "fr")])])
    voices = Voices([FakeTts(clock=clock, languages=["en", "fr"])])
    await translator.start()
    await voices.start()
    yield InterpreterEngines(asr=asr, translator=translator, voices=voices, vad_factory=EnergyVad)
    await scheduler.stop()


@pytest.fixture
async def socket_worker(server: Server, live_url: str, engines: InterpreterEngines) -> AsyncIterator[WorkerLink]:
    """A worker connected the way `parley worker` connects: over /ws/interpretation/worker."""
    clock = SystemClock()

    async def factory(send: Send) -> InterpretationWorker:
        return InterpretationWorker(engines, clock=clock, send=send, name="test-worker", options=PIPELINE)

    link = WorkerLink(LinkOptions(url=live_url.replace("http://", "ws://") + "/ws/interpretation/worker",
                                  secret=server.worker_secret, name="test-worker"), factory, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(link.run(stop), name="test-worker-link")
    async with asyncio.timeout(10):
        await link.connected.wait()
        while not server.interpretation.workers:  # noqa: ASYNC110 - the hub registers it after hello
            await asyncio.sleep(0.01)
    yield link
    stop.set()
    await asyncio.wait_for(task, 10)


async def publish(server: Server, janus: MeetingJanus, info: dict[str, Any]) -> None:
    """What Janus tells the monitor when a participant's audio is on: they published."""
    assert server.janus is not None
    janus.join(info["room_id"], info["token"], info["feed_id"], pin=info["pin"])
    monitor = server.janus.monitor_handle(info["room_id"])
    assert monitor is not None
    janus.push_event(monitor.session.id, monitor.id, {"videoroom": "event", "room": info["room_id"], "publishers": [
        {"id": info["feed_id"], "display": "x", "streams": [{"type": "audio", "mid": "0"}]}]})


def forwarder(janus: MeetingJanus, info: dict[str, Any]) -> dict[str, Any] | None:
    room = janus.videoroom.rooms.get(info["room_id"])
    if room is None:
        return None
    found = list(room.forwarders.get(info["feed_id"], {}).values())
    return found[0] if found else None


async def speak(target: dict[str, Any], seconds: float = 0.8) -> None:
    """Janus's side of the forward: Opus RTP of someone speaking, then a pause."""
    sender = RtpOpusSender(target["host"], target["port"], clock=SystemClock(), ssrc=target["ssrc"])
    await sender.start()
    try:
        await sender.send(np.concatenate([tone(seconds), silence(0.7)]), 16_000)
    finally:
        await sender.stop()


async def test_a_speaker_is_captioned_and_translated_for_each_listener(
    meeting: Meeting, server: Server, janus: MeetingJanus, socket_worker: WorkerLink,
    open_socket: Callable[..., Any],
) -> None:
    for who, name in (("amina", "Amina Diallo"), ("bruno", "Bruno Silva")):
        await meeting.join(who, language="fr" if who == "amina" else "en")
        await meeting.admit(name)
    await meeting.join("ines", language="fr")  # the dialogue's French interpreter: a channel, not a speaker
    choice = await ok(await meeting.c["bruno"].put(api(meeting.id, "/me/interpretation"),
                                                  json={"caption_language": "en"}))
    assert choice["caption_language"] == "en" and choice["languages"] == ["en", "fr"]
    assert {c["id"] for c in choice["channels"]} >= {"voice:en", "voice:fr", "interpreter:fr"}
    amina = await meeting.connect("amina")
    people = meeting.setup.people
    path = f"/ws/meetings/{meeting.id}"
    async with open_socket(people.bruno, path) as bruno_socket, open_socket(people.amina, path) as amina_socket:
        await bruno_socket.ws.send('{"type":"captions","language":"en"}')
        await amina_socket.ws.send('{"type":"captions","language":"fr"}')
        await publish(server, janus, amina)

        async def forwarded() -> bool:
            return forwarder(janus, amina) is not None

        await eventually(forwarded, "janus forwards amina's audio to the worker")
        target = forwarder(janus, amina)
        assert target is not None and target["host"] == "127.0.0.1" and target["ssrc"]
        await speak(target)

        original = await bruno_socket.expect("caption", lambda f: f["caption"]["role"] == "original"
                                             and f["caption"]["is_final"])
        translated = await bruno_socket.expect("caption", lambda f: f["caption"]["role"] == "translation"
                                               and f["caption"]["is_final"])
        assert (original["caption"]["text"], original["caption"]["language"]) == ("bonjour à tous", "fr")
        assert original["caption"]["speaker_name"] == "Amina Diallo"
        assert (translated["caption"]["text"], translated["caption"]["language"]) == ("[en] bonjour à tous", "en")
        mine = await amina_socket.expect("caption", lambda f: f["caption"]["is_final"])
        assert mine["caption"]["role"] == "original"  # amina reads French: no English line for her

    async def kept() -> bool:
        async with server.db.session() as s:
            rows = (await s.execute(TranscriptSegment.__table__.select())).all()
        return bool(rows) and bool(rows[0].translations.get("en"))

    await eventually(kept, "the final line and its translation are in the transcript")
    async with server.db.session() as s:
        [row] = (await s.execute(TranscriptSegment.__table__.select())).all()
    assert (row.text, row.language, row.speaker_name, row.translations) == (
        "bonjour à tous", "fr", "Amina Diallo", {"en": "[en] bonjour à tous"})

    view = await ok(await meeting.host.get(api(meeting.id, "/interpretation")))
    assert view["worker"] == "test-worker" and view["speakers"] == 1
    english = next(s for s in view["languages_status"] if s["language"] == "en")
    assert english["captions"] == 1 and english["median_lag_s"] is not None and english["listeners"] >= 1

    await ok(await meeting.host.post(api(meeting.id, "/end")))
    assert janus.videoroom.rooms == {}

    async def closed() -> bool:
        return socket_worker.worker is not None and not socket_worker.worker._meetings

    await eventually(closed, "the worker closed the meeting")


async def test_a_voice_channel_is_a_remote_publisher_removed_at_the_end(
    meeting: Meeting, server: Server, janus: MeetingJanus, socket_worker: WorkerLink,
) -> None:
    await meeting.join("bruno", language="en")
    await meeting.admit("Bruno Silva")
    view = await ok(await meeting.c["bruno"].put(api(meeting.id, "/me/interpretation"),
                                                json={"listen_channel": "voice:en"}))
    [room] = janus.videoroom.rooms.values()
    voices = [p for p in room.participants.values() if str(p.get("display", "")).startswith("parley:voice:")]
    assert [v["display"] for v in voices] == ["parley:voice:en"]
    assert next(c for c in view["channels"] if c["id"] == "voice:en")["feed_id"] == voices[0]["id"]

    async def speaking_on_worker() -> bool:
        worker = socket_worker.worker
        return worker is not None and any("en" in m.senders for m in worker._meetings.values())

    await eventually(speaking_on_worker, "the worker speaks English into the remote publisher")
    bad = await meeting.c["bruno"].put(api(meeting.id, "/me/interpretation"), json={"listen_channel": "voice:de"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "listen_channel")

    await server.interpretation.stop()  # a server going down removes what it added to Janus
    assert not [p for p in room.participants.values() if str(p.get("display", "")).startswith("parley:voice:")]


async def test_without_a_worker_the_meeting_says_so(meeting: Meeting, server: Server) -> None:
    await meeting.join("amina", language="fr")
    await meeting.admit("Amina Diallo")
    view = await ok(await meeting.c["amina"].get(api(meeting.id, "/interpretation")))
    assert view["workers"] == 0
    assert view["health"][0]["status"] == "missing" and "worker" in view["health"][0]["message"]


async def test_a_wrong_worker_secret_is_refused(server: Server, live_url: str) -> None:
    url = live_url.replace("http://", "ws://") + "/ws/interpretation/worker"
    with pytest.raises(Exception) as refused:
        async with connect(url, additional_headers={"Authorization": "Bearer nope"}) as ws:
            await ws.recv()
    assert "1008" in str(refused.value) or "403" in str(refused.value)


async def test_an_in_process_worker_serves_the_meeting_too(
    meeting: Meeting, server: Server, janus: MeetingJanus, engines: InterpreterEngines,
) -> None:
    async def load() -> tuple[InterpreterEngines, Callable[[], Awaitable[None]]]:
        async def close() -> None:
            return None

        return engines, close

    local = LocalWorker(server.interpretation, load, clock=SystemClock(), pipeline=PIPELINE)
    local.start()
    try:
        await asyncio.wait_for(local.ready.wait(), 10)
        await meeting.join("amina", language="fr")
        await meeting.admit("Amina Diallo")
        amina = await meeting.connect("amina")
        await publish(server, janus, amina)

        async def forwarded() -> bool:
            return forwarder(janus, amina) is not None

        await eventually(forwarded, "forwarded to the in-process worker")
        sub = await server.bus.subscribe([f"meeting:{meeting.id}"])
        target = forwarder(janus, amina)
        assert target is not None
        await speak(target)
        async with asyncio.timeout(10):
            async for _topic, event in sub:
                if event.get("type") == "caption" and event["caption"]["is_final"]:
                    assert event["caption"]["text"] == "bonjour à tous"
                    break
        await sub.close()

        # Amina drops: her forwarder goes, and the worker stops interpreting her.
        assert server.janus is not None
        monitor = server.janus.monitor_handle(amina["room_id"])
        assert monitor is not None
        janus.push_event(monitor.session.id, monitor.id, {"videoroom": "event", "room": amina["room_id"],
                                                          "leaving": amina["feed_id"]})

        async def dropped() -> bool:
            return forwarder(janus, amina) is None

        await eventually(dropped, "forwarder removed when the speaker leaves")
    finally:
        await local.stop()


async def test_an_interpreter_is_a_channel_not_a_speaker(
    meeting: Meeting, server: Server, janus: MeetingJanus, socket_worker: WorkerLink,
) -> None:
    await meeting.join("bruno", language="en")
    await meeting.admit("Bruno Silva")
    await meeting.join("ines", language="fr")  # staff: straight in
    ines = await meeting.connect("ines")
    await ok(await meeting.c["ines"].post(api(meeting.id, "/me/status"), json={"presence": "online"}))
    await publish(server, janus, ines)

    mine = await ok(await meeting.c["ines"].get(api(meeting.id, "/interpretation")))
    assert mine["interpreting"] == "fr"
    view = await ok(await meeting.c["bruno"].put(api(meeting.id, "/me/interpretation"),
                                                json={"listen_channel": "interpreter:fr"}))
    channel = next(c for c in view["channels"] if c["id"] == "interpreter:fr")
    assert (channel["feed_id"], channel["name"], view["listen_channel"]) == (ines["feed_id"], "Ines Interpreter",
                                                                             "interpreter:fr")
    await server.interpretation.reconcile()
    assert forwarder(janus, ines) is None  # her voice is for listeners, not for recognition


async def test_a_failed_forward_is_retried(
    meeting: Meeting, server: Server, janus: MeetingJanus, socket_worker: WorkerLink, clock: FakeClock,
) -> None:
    await meeting.join("amina", language="fr")
    await meeting.admit("Amina Diallo")
    amina = await meeting.connect("amina")
    # Janus announces her before she is really in the room: the first forward fails ...
    assert server.janus is not None
    monitor = server.janus.monitor_handle(amina["room_id"])
    assert monitor is not None
    janus.push_event(monitor.session.id, monitor.id, {"videoroom": "event", "room": amina["room_id"], "publishers": [
        {"id": amina["feed_id"], "display": "x", "streams": [{"type": "audio", "mid": "0"}]}]})

    async def tried() -> bool:
        session = server.interpretation._sessions.get(meeting.id)
        return session is not None and bool(session.speakers) and not session.lock.locked()

    await eventually(tried, "the first forward was tried")
    assert forwarder(janus, amina) is None
    # ... and the periodic reconcile makes it once she is.
    janus.join(amina["room_id"], amina["token"], amina["feed_id"], pin=amina["pin"])
    await server.interpretation.reconcile()
    assert forwarder(janus, amina) is not None


async def test_a_glossary_edited_during_the_meeting_reaches_the_worker(
    meeting: Meeting, server: Server, janus: MeetingJanus, socket_worker: WorkerLink,
) -> None:
    await meeting.join("bruno", language="en")
    await meeting.admit("Bruno Silva")
    await ok(await meeting.c["bruno"].put(api(meeting.id, "/me/interpretation"), json={"caption_language": "fr"}))
    worker = socket_worker.worker
    assert worker is not None

    async def open_on_worker() -> bool:
        return meeting.id in worker._meetings

    await eventually(open_on_worker, "the meeting is open on the worker")
    await ok(await meeting.host.post(f"/api/v1/dialogues/{meeting.id}/glossary", json={
        "term": "Belt and Road", "language": "en", "translations": {"fr": "la Ceinture et la Route"}}), 201)

    async def applied() -> bool:
        m = worker._meetings.get(meeting.id)
        if m is None:
            return False
        _, fixed = m.interpreter.engines.translator.glossary.protect("the Belt and Road plan", "en", "fr")
        return list(fixed.values()) == ["la Ceinture et la Route"] and "Belt and Road" in m.hotwords

    await eventually(applied, "the worker translates the term the fixed way and listens for it")


@pytest.mark.slow
async def test_worker_processes_connect_and_are_restarted(server: Server, live_url: str, tmp_path: Path) -> None:
    """What `parley serve` does by default: `parley worker` processes that connect back."""
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path / "worker"),
           "PARLEY_INTERPRETATION_MODELS_DIR": str(MODELS)}
    procs = WorkerProcesses(1, url=live_url.replace("http://", "ws://") + "/ws/interpretation/worker",
                            secret=server.worker_secret, clock=SystemClock(), env=env)
    hub = server.interpretation
    procs.start()
    try:
        async with asyncio.timeout(60):
            while not hub.workers:  # noqa: ASYNC110 - a process starting up, nothing to await
                await asyncio.sleep(0.1)
        [peer] = hub.workers
        # Whisper base (joined from its packages by `parley models prepare`, or on first start);
        # no neural MT is installed.
        assert peer.name == "worker-1" and peer.hello.asr is True and "en" in peer.hello.languages
        assert any(h["stage"] == "mt" and h["status"] == "missing" for h in peer.hello.health)
        [proc] = procs._procs.values()
        proc.kill()
        async with asyncio.timeout(60):
            while procs.restarts < 1 or not hub.workers or hub.workers[0] is peer:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        restarts = procs.restarts
    finally:
        await procs.stop()
    assert all(p.returncode is not None for p in procs._procs.values())
    assert procs.restarts == restarts  # stopping is not a crash: no restart, no warning
