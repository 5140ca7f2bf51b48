"""A media node killed while its meeting is being recorded (issue 11): the meeting moves to the
other node, the recording goes on there, and once the facilitator stops it the converted files
hold each voice from before the kill and after the reconnect, on one time line.

Two real `parley media-node` processes (media-a on 127.0.0.2, media-b on 127.0.0.3), one web
process with no Janus of its own, two consenting aiortc bots speaking through Parley's
/ws/janus proxy. Both Janus processes write into the web process's recordings folder (this
machine's disk stands for the shared storage of docs/deploy.md). The meeting's node is killed
with SIGKILL while recording (or hangs, or only its Janus is killed and restarted by the node's
agent); the killed Janus leaves its .mjr files as they were, the meeting's room on the next
Janus writes new ones, and the converter joins them per person in time order.

The silence in the recording around the kill (the audio gap of the failover) is printed, never
asserted beyond a bound that only a broken recovery exceeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from parley.handlers.meetings.room import participant_of_feed
from parley.media.janus.recording import audio_segments
from parley.server import Server
from parley.storage.stores import meetings as meeting_store
from parley.web.auth import SESSION_COOKIE
from tests.media.meetings.bots import RATE, Recorder, best_correlation, read_wav, rms, wait_for_audio
from tests.media.meetings.room import Room, api, ok
from tests.media.nodes.cluster import NodeProcess, children, end_frozen, eventually, kill_node
from tests.media.nodes.failover import (
    FLOWING_SECONDS,
    GIVE_UP_SECONDS,
    SAME_AUDIO,
    Participant,
    heard,
    ready,
    serving,
    user_factory,
    voices,
    web_config,
)
from tests.meetings.scenario import build_setup

pytestmark = [pytest.mark.media, pytest.mark.slow]

# Recorded on the first node before the kill, and on the second after the reconnect.
BEFORE_SECONDS = 6.0
AFTER_SECONDS = 6.0
# Envelope of the decoded files: 50 ms windows, speech above this RMS (espeak speech is ~0.1;
# Opus silence decodes to 0).
WINDOW = 0.05
VOICED = 0.003


@pytest.fixture
def says(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to make test speech")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to mix the recording")
    return voices(tmp_path)


@pytest.fixture
async def web(two_nodes: tuple[str, list[NodeProcess]], tmp_path: Path) -> AsyncIterator[tuple[Server, str]]:
    db_url, _ = two_nodes
    async with serving(web_config(tmp_path / "web", db_url, lost_seconds=3)) as (server, url):
        yield server, url


def decode(av: Any, path: Path) -> np.ndarray[Any, np.dtype[np.float32]]:
    """An Ogg Opus file as mono float samples at `RATE` (from its first sample)."""
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)


def part(x: np.ndarray[Any, Any], start: float, end: float) -> np.ndarray[Any, Any]:
    return x[max(0, int(start * RATE)):max(0, int(end * RATE))]


def gap_around(x: np.ndarray[Any, Any], at: float) -> tuple[float, float]:
    """(end of the last voiced window before ``at``, start of the first one after it), seconds
    on the file's time line: the silence the failover left in the recording."""
    n = int(WINDOW * RATE)
    voiced = [i * WINDOW for i in range(len(x) // n) if rms(x[i * n:(i + 1) * n]) > VOICED]
    before = [t for t in voiced if t < at]
    after = [t for t in voiced if t >= at]
    assert before and after, f"no voice on one side of {at:.2f} s"
    return before[-1] + WINDOW, after[0]


async def finished(host: httpx.AsyncClient, dialogue_id: int) -> dict[str, Any]:
    """The meeting's one recording once converted (bounded: a stuck conversion fails)."""
    async with asyncio.timeout(GIVE_UP_SECONDS):
        while True:
            listed = await ok(await host.get(api(dialogue_id, "/recordings")))
            if listed["recordings"] and listed["recordings"][0]["status"] in ("ready", "failed"):
                [recording] = listed["recordings"]
                return dict(recording)
            await asyncio.sleep(0.3)


@pytest.mark.parametrize("how", ["killed", "hung", "janus-killed"])
async def test_a_recording_goes_on_after_its_node_is_lost(
        two_nodes: tuple[str, list[NodeProcess]], web: tuple[Server, str], says: tuple[Path, Path],
        how: str) -> None:
    """killed: SIGKILL of the node, agent and Janus (its Janus's files end where the kill cut
    them), the meeting moves; hung: SIGSTOP of both (its Janus holds them open, silent, until it
    is killed after the test), the meeting moves; janus-killed: SIGKILL of its Janus only, which
    the node's agent restarts, and the meeting's rooms are recreated on the same node."""
    av = pytest.importorskip("av")
    _, nodes = two_nodes
    by_name = {n.name: n for n in nodes}
    server, url = web
    await eventually(lambda: ready(server), "both media nodes registered and connected", GIVE_UP_SECONDS)
    setup = await build_setup(server, user_factory(server), live=True)
    clients: list[httpx.AsyncClient] = []

    async def as_user(user: Any) -> tuple[httpx.AsyncClient, dict[str, str]]:
        login = await server.accounts.start_session(user)
        client = httpx.AsyncClient(base_url=url, timeout=60, headers={"X-CSRF-Token": login.csrf_token})
        client.cookies.set(SESSION_COOKIE, login.token)
        clients.append(client)
        return client, {"Cookie": f"{SESSION_COOKIE}={login.token}"}

    async def client_of(user: Any) -> httpx.AsyncClient:
        return (await as_user(user))[0]

    room = await Room.start(server, setup, client_of)
    # Everyone present agrees in the meeting, the facilitator (listening) included.
    await ok(await room.host.post(api(room.id, "/join"), json={"mode": "listen", "consent": True}))
    people: list[Participant] = []
    try:
        for user, name, voice in ((setup.people.amina, "Amina Diallo", says[0]),
                                  (setup.people.bruno, "Bruno Silva", says[1])):
            client, cookie = await as_user(user)
            await ok(await client.post(api(room.id, "/join"), json={"mode": "audio", "consent": True}))
            await room.admit(name)
            p = Participant(name, voice, client, cookie, url, room.id)
            people.append(p)
            await p.open_socket()
            await p.connect_media()
            await ok(await client.post(api(room.id, "/me/status"), json={"presence": "online"}))
        amina, bruno = people
        recorders: tuple[Recorder, Recorder] = await heard(amina, bruno)
        for recorder in recorders:
            await wait_for_audio(recorder, FLOWING_SECONDS)

        started = await ok(await room.host.post(api(room.id, "/recording"), json={"on": True}))
        recording_id = started["recording"]["id"]
        assert started["recording"] == {"id": recording_id, "paused": False}
        await asyncio.sleep(BEFORE_SECONDS)

        async with server.db.session() as s:
            meeting = await meeting_store.meeting_for(s, room.id)
        assert meeting is not None
        names = {v.id: v.name for v in await server.media_nodes.nodes(None)}
        old = await server.media_nodes.node_of(meeting.id)
        assert old is not None
        loop = asyncio.get_running_loop()
        killed_at, killed_wall = loop.time(), time.time()
        if how == "janus-killed":
            os.kill(janus_of(by_name[names[old]]), signal.SIGKILL)
        else:
            await kill_node(by_name[names[old]], freeze=how == "hung")

        async with asyncio.timeout(GIVE_UP_SECONDS):
            await asyncio.gather(amina.reconnect_when_told(), bruno.reconnect_when_told())
            recorders = await heard(amina, bruno)
            for recorder in recorders:
                await wait_for_audio(recorder, FLOWING_SECONDS)
        flowing = loop.time() - killed_at
        new = await server.media_nodes.node_of(meeting.id)
        if how == "janus-killed":
            assert new == old, (names, old, new)  # recovered where it was
        else:
            assert new is not None and names.get(new) not in (None, names[old]), (names, old, new)
        # Still the same recording, live (nobody's reconnect paused it).
        state = await ok(await room.host.get(api(room.id)))
        assert state["recording"] == {"id": recording_id, "paused": False}, state["recording"]
        await asyncio.sleep(AFTER_SECONDS)
        # What each Janus wrote, read before the stop converts it: per person, the killed node's
        # files end at the kill, the new node's start after it.
        folder = server.config.data_path / "recordings" / str(room.id) / str(recording_id)
        written = await asyncio.to_thread(pieces, folder)
        ids = {p.name: (await room.participant(p.name))["id"] for p in people}
        stopped = await ok(await room.host.post(api(room.id, "/recording"), json={"on": False}))
        assert stopped["recording"] is None
    finally:
        for node in nodes:
            await end_frozen(node)  # what a hung node still holds open (the proxy's upstreams) drops
        for p in people:
            await p.close()

    recording = await finished(room.host, room.id)
    for client in clients:
        with contextlib.suppress(Exception):
            await client.aclose()
    assert recording["id"] == recording_id and recording["status"] == "ready", recording
    assert recording["error"] is None and recording["stopped_at"] is not None, recording
    assert [(f["kind"], f["file"], f["display_name"]) for f in recording["files"]] == [
        ("mix", "00-meeting.opus", ""), ("speaker", "01-amina-diallo.opus", "Amina Diallo"),
        ("speaker", "02-bruno-silva.opus", "Bruno Silva")], recording["files"]
    assert not list(folder.glob("*.mjr*")), sorted(p.name for p in folder.iterdir())

    started_at, stopped_at = (_utc(recording[k]) for k in ("started_at", "stopped_at"))
    kill = killed_wall - started_at.timestamp()  # on the recording's time line
    back = kill + flowing  # the bots heard each other again on the new node
    total = (stopped_at - started_at).total_seconds()
    mix, *speakers = recording["files"]
    decoded = {f["display_name"]: decode(av, folder / f["file"]) for f in recording["files"]}
    report = [f"recording {total:.1f} s, kill at {kill:.2f} s, audio both ways again {flowing:.1f} s after it"]
    joined: dict[str, tuple[float, float]] = {}  # per person: the killed node's end, the new node's start
    for name, pid in ids.items():
        spans = sorted((first - started_at.timestamp(), last - started_at.timestamp())
                       for first, last in written.get(pid, []))
        killed_node = [span for span in spans if span[0] < kill]
        new_node = [span for span in spans if span[0] >= kill]
        assert killed_node and new_node, (name, spans, kill)  # files of both rooms, the killed one's readable
        joined[name] = max(e for _, e in killed_node), min(b for b, _ in new_node)
        assert joined[name][0] <= kill + 0.1, (name, spans, kill)  # nothing after the kill
        report.append(f"{name}: .mjr of the killed Janus until {joined[name][0]:.2f} s, of the next one "
                      f"from {joined[name][1]:.2f} s ({len(spans)} file(s))")
    for entry, source in zip(speakers, says, strict=True):
        audio = decoded[entry["display_name"]]
        # One file from the recording start to its stop, across both nodes (Janus stops writing
        # once the stop is committed, so only a file that lost its place on the time line is short).
        assert entry["starts_at"] < kill and len(audio) / RATE == pytest.approx(total, abs=1.5), (entry, total)
        before, after = part(audio, 0, kill), part(audio, back, len(audio) / RATE)
        assert rms(before) > 0.01 and rms(after) > 0.01, entry
        assert best_correlation(read_wav(source), before) > SAME_AUDIO, entry
        assert best_correlation(read_wav(source), after) > SAME_AUDIO, entry
        last, first = gap_around(audio, kill)
        # Each node's audio where Janus's time stamps put it: the kill's silence kept, not closed up
        # (the margins: a pause in the speech, the first words of the reconnected bot's file).
        old_end, new_start = joined[entry["display_name"]]
        assert last <= old_end + 0.1 and new_start - 0.1 <= first <= new_start + 1.0, (last, first, old_end, new_start)
        assert first - last < GIVE_UP_SECONDS
        report.append(f"{entry['display_name']}: voice until {last:.2f} s, again from {first:.2f} s "
                      f"(gap {first - last:.2f} s; {kill - last:.2f} s lost before the kill)")
    # The whole meeting: both voices, before and after, each where its own file has it.
    audio = decoded[""]
    assert len(audio) / RATE == pytest.approx(mix["seconds"], abs=0.05)
    together = _summed([decoded[e["display_name"]] for e in speakers])
    for start, end in ((0, kill), (back, len(audio) / RATE)):
        a, b = part(audio, start, end), part(together, start, end)
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        assert rms(a) > 0.01, (start, end)
        assert float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))) > 0.8, (start, end)
    last, first = gap_around(audio, kill)
    report.append(f"mix: voice until {last:.2f} s, again from {first:.2f} s (gap {first - last:.2f} s)")
    print("; ".join(report))


def janus_of(node: NodeProcess) -> int:
    """The pid of the Janus that the node's agent supervises (Linux /proc)."""
    [pid] = [p for p in children(node.process.pid) if Path(f"/proc/{p}/comm").read_text().strip() == "janus"]
    return pid


def pieces(folder: Path) -> dict[int, list[tuple[float, float]]]:
    """Per participant id, the (first, last) packet times (epoch seconds) of each .mjr audio
    file in ``folder``, as the converter reads them (a killed writer's truncated tail ignored)."""
    out: dict[int, list[tuple[float, float]]] = {}
    for segment in audio_segments(folder):
        first = segment.first_us / 1e6
        span = ((segment.packets[-1].timestamp - segment.packets[0].timestamp) & 0xFFFFFFFF) / 48_000
        out.setdefault(participant_of_feed(segment.feed_id), []).append((first, first + span))
    return out


def _summed(tracks: list[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    """The speakers' files added sample for sample from their first sample (what the mix is)."""
    out = np.zeros(max(len(t) for t in tracks), np.float32)
    for t in tracks:
        out[:len(t)] += t
    return out


def _utc(value: str) -> datetime:
    """A timestamp of the API (naive ones, from SQLite, are UTC)."""
    t = datetime.fromisoformat(value)
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
