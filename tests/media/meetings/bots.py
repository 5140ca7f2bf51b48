"""aiortc participants for media tests and the capacity benchmark, plus audio helpers.

A `Bot` is what a browser does, in Python: it joins the meeting's VideoRoom with the token
and feed id Parley gave it, publishes a wav file (looped) and subscribes to other feeds,
keeping the decoded audio so a test can cross-correlate it with the source.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parley.media.janus.client import JanusClient, JanusEvent, JanusHandle

VIDEOROOM = "janus.plugin.videoroom"
RATE = 48_000
SPEECH = "The future we want is one where every voice is heard, and we listen to each other."


def make_speech_wav(path: Path, text: str = SPEECH, *, voice: str = "en") -> Path:
    """Speech as 48 kHz mono 16-bit PCM (what Chromium's fake microphone reads)."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(path)], check=True,
                   capture_output=True)
    raw.unlink()
    return path


def read_wav(path: Path) -> np.ndarray[Any, np.dtype[np.float32]]:
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        channels = w.getnchannels()
    data = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data.astype(np.float32)


def downsample(x: np.ndarray[Any, Any], factor: int = 6) -> np.ndarray[Any, np.dtype[np.float32]]:
    """48 kHz -> 8 kHz by block averaging (a crude low-pass, enough for speech correlation)."""
    n = len(x) // factor * factor
    out: np.ndarray[Any, np.dtype[np.float32]] = np.asarray(x[:n].reshape(-1, factor).mean(axis=1), dtype=np.float32)
    return out


def _window_correlation(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
    """Peak normalised cross-correlation of ``x`` against every window of ``y`` (FFT)."""
    x = x - x.mean()
    n = len(x)
    if n == 0 or len(y) < n or not np.any(y):
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(x) + len(y))))
    corr = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)[: len(y) - n + 1]
    energy = np.cumsum(np.concatenate([[0.0], y**2]))
    sums = np.cumsum(np.concatenate([[0.0], y]))
    window_energy = energy[n:] - energy[:-n] - (sums[n:] - sums[:-n]) ** 2 / n
    denom = np.sqrt(np.maximum(window_energy, 1e-12) * float(np.dot(x, x)))
    return float(np.max(corr / denom))


def best_correlation(source: np.ndarray[Any, Any], received: np.ndarray[Any, Any], *, chunk: float = 1.5) -> float:
    """How well pieces of ``source`` (looped by the sender) are found in ``received``.

    Both at 48 kHz, compared at 8 kHz: the best normalised cross-correlation of three
    ``chunk``-second pieces of speech against any window of what arrived. The same speech
    through Opus scores 0.5-0.9; other speech or silence stays below 0.3.
    """
    x = downsample(np.asarray(source, dtype=np.float64))
    y = downsample(np.asarray(received, dtype=np.float64))
    n = int(chunk * RATE / 6)
    loud = np.flatnonzero(np.abs(x) > 0.05 * np.max(np.abs(x))) if len(x) else np.zeros(0, dtype=int)
    if len(loud) == 0:
        return 0.0
    start, end = int(loud[0]), int(loud[-1])
    offsets = np.linspace(start, max(start, end - n), 3).astype(int)
    return max(_window_correlation(x[o:o + n], y) for o in offsets)


def rms(x: np.ndarray[Any, Any]) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


@dataclass
class Recorder:
    """Decoded audio of one remote track, as mono float32 at 48 kHz."""

    chunks: list[np.ndarray[Any, np.dtype[np.float32]]] = field(default_factory=list)
    frames: int = 0
    grew: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, chunk: np.ndarray[Any, np.dtype[np.float32]]) -> None:
        self.chunks.append(chunk)
        self.frames += 1
        self.grew.set()

    def audio(self, last_seconds: float | None = None) -> np.ndarray[Any, np.dtype[np.float32]]:
        data = np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)
        if last_seconds is not None:
            data = data[-int(last_seconds * RATE):]
        return data

    def clear(self) -> None:
        self.chunks.clear()


async def wait_event(handle: JanusHandle, *kinds: str) -> JanusEvent:
    """The next event of one of these kinds (bound it with asyncio.timeout)."""
    while True:
        event = await handle.next_event()
        if event.janus in kinds or event.data.get("videoroom") in kinds:
            return event


class Bot:
    """One participant on Janus, driven by the credentials from /api/v1/meetings/<id>/me/connect."""

    def __init__(self, ws_url: str, info: dict[str, Any], *, name: str = "bot",
                 headers: dict[str, str] | None = None, ice_servers: Sequence[dict[str, Any]] = ()) -> None:
        self.ws_url = ws_url
        self.info = info
        self.name = name
        # As a browser gets them from /me/connect (STUN, TURN with credentials); none on loopback.
        self.ice_servers = list(ice_servers)
        # headers: a session cookie when ws_url is Parley's /ws/janus proxy (as a browser goes)
        self.client = JanusClient.over_websocket(ws_url, token=info["token"], headers=headers)
        self.publisher: JanusHandle | None = None
        self.pcs: list[Any] = []
        self.recorders: dict[int, Recorder] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._players: list[Any] = []

    async def join(self) -> dict[str, Any]:
        """Join the room as a publisher (not yet sending); returns Janus's `joined` event data."""
        await self.client.connect()
        session = await self.client.create_session()
        self.publisher = await session.attach(VIDEOROOM)
        reply = await self.publisher.send({"request": "join", "ptype": "publisher", "room": self.info["room_id"],
                                           "id": self.info["feed_id"], "display": self.name,
                                           "token": self.info["token"], "pin": self.info["pin"]})
        return reply.data

    async def publish(self, wav: Path) -> None:
        """Send ``wav`` (looped) as Opus until `close`."""
        import aiortc
        from aiortc.contrib.media import MediaPlayer

        assert self.publisher is not None
        pc = aiortc.RTCPeerConnection(self._rtc_config())
        self.pcs.append(pc)
        player = MediaPlayer(str(wav), loop=True)
        self._players.append(player)
        assert player.audio is not None
        pc.addTrack(player.audio)
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.publisher.send({"request": "publish", "audio": True, "video": False},
                                           jsep={"type": "offer", "sdp": pc.localDescription.sdp})
        assert answer.jsep is not None, answer.data
        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=answer.jsep["sdp"], type="answer"))
        async with asyncio.timeout(15):
            await wait_event(self.publisher, "webrtcup")

    async def subscribe(self, feed: int) -> Recorder:
        """Receive ``feed``'s audio; the returned recorder fills as frames arrive."""
        import aiortc

        session = next(iter(self.client.sessions.values()))
        handle = await session.attach(VIDEOROOM)
        reply = await handle.send({"request": "join", "ptype": "subscriber", "room": self.info["room_id"],
                                   "streams": [{"feed": feed}], "token": self.info["token"], "pin": self.info["pin"]})
        assert reply.jsep is not None, reply.data
        pc = aiortc.RTCPeerConnection(self._rtc_config())
        self.pcs.append(pc)
        recorder = self.recorders[feed] = Recorder()

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                self._tasks.append(asyncio.create_task(self._drain(track, recorder), name=f"bot-recv:{feed}"))

        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=reply.jsep["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await handle.send({"request": "start"}, jsep={"type": "answer", "sdp": pc.localDescription.sdp})
        return recorder

    def _rtc_config(self) -> Any:
        import aiortc

        servers = [aiortc.RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
                   for s in self.ice_servers]
        return aiortc.RTCConfiguration(iceServers=servers)

    @staticmethod
    async def _drain(track: Any, recorder: Recorder) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            samples = frame.to_ndarray().astype(np.float32) / 32768
            channels = len(frame.layout.channels)
            mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples.reshape(-1)
            recorder.add(mono)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for pc in self.pcs:
            with contextlib.suppress(Exception):
                await pc.close()
        for player in self._players:
            with contextlib.suppress(Exception):
                if player.audio is not None:
                    player.audio.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.close(), 5)


async def wait_for_audio(recorder: Recorder, seconds: float) -> None:
    """Until ``seconds`` of audio arrived (at most 90 s: an error, not a measurement)."""
    async with asyncio.timeout(90):
        while sum(len(c) for c in recorder.chunks) < seconds * RATE:
            recorder.grew.clear()
            await recorder.grew.wait()


async def hear_each_other(a: Bot, a_says: Path, b: Bot, b_says: Path, seconds: float = 6) -> tuple[Recorder, Recorder]:
    """Both join and publish, each subscribes to the other; once ``seconds`` of audio came each
    way: (what ``b`` heard from ``a``, what ``a`` heard from ``b``)."""
    await a.join()
    await a.publish(a_says)
    await b.join()
    await b.publish(b_says)
    heard_by_b = await b.subscribe(a.info["feed_id"])
    heard_by_a = await a.subscribe(b.info["feed_id"])
    await wait_for_audio(heard_by_b, seconds)
    await wait_for_audio(heard_by_a, seconds)
    return heard_by_b, heard_by_a


def feeds_of(publishers: Sequence[dict[str, Any]]) -> list[int]:
    return [int(p["id"]) for p in publishers]
