"""One clip through a meeting's pipeline, as RTP at real-time pace or as fast as passes keep up."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.clock import Clock
from parley.interpretation.adapters import StreamAdapter, StreamingOptions
from parley.interpretation.asr.base import AsrStream
from parley.interpretation.audio import OPUS_RATE, OpusEncoder
from parley.interpretation.benchmark.baseline import GrowingBufferStream
from parley.interpretation.benchmark.options import UN
from parley.interpretation.frames import PipelineEvent, Samples, Transcript
from parley.interpretation.pipeline import Interpreter, InterpreterEngines
from parley.interpretation.rtp import (
    RtpAudioSource,
    RtpDepacketizer,
    RtpOpusSender,
    RtpPacket,
    RtpPacketizer,
    RtpReceiver,
)

TRAILING_SILENCE_S = 1.0


@dataclass
class Run:
    transcripts: list[tuple[float, Transcript]] = field(default_factory=list)
    events: list[tuple[float, PipelineEvent]] = field(default_factory=list)
    t0: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # this process's CPU time during the run (all its threads)
    stages: dict[str, Any] = field(default_factory=dict)


def opus_packets(audio48: Samples, ssrc: int) -> list[RtpPacket]:
    enc = OpusEncoder()
    pk = RtpPacketizer(ssrc=ssrc)
    return [pk.packetize(p, 960) for p in enc.encode(audio48) + enc.flush()]


async def run_clip(audio48: Samples, *, engines: InterpreterEngines, clock: Clock, language: str | None,
                   targets: Collection[str], realtime: bool, speaker: str,
                   streaming: StreamingOptions | None = None, baseline_interval_s: float | None = None) -> Run:
    """Stream one clip (48 kHz mono) through a meeting's `Interpreter`; with
    ``baseline_interval_s`` the recogniser is the growing-buffer baseline instead."""
    run = Run()
    asr = engines.asr
    if asr is None:
        raise RuntimeError("no speech recognition engine")
    stream: AsrStream
    if baseline_interval_s is not None:
        stream = GrowingBufferStream(asr, stream_id=speaker, clock=clock, language=language,
                                     interval=baseline_interval_s)
    else:
        options = streaming or StreamingOptions()
        if not realtime:  # audio comes in bursts: never end an utterance by the wall clock
            options = dataclasses.replace(options, idle_endpoint_s=None)
        stream = StreamAdapter(asr, vad=engines.vad_factory(), stream_id=speaker, clock=clock, language=language,
                               candidates=set(UN) if language is None else None, options=options)

    def observe(event: object) -> None:
        if isinstance(event, Transcript):
            run.transcripts.append((clock.monotonic(), event))

    stream.add_observer(observe)
    interpreter = Interpreter(engines, clock=clock, targets=set(targets) | ({language} if language else set()),
                              on_event=lambda e: run.events.append((clock.monotonic(), e)))
    padded = np.concatenate([audio48, np.zeros(int(TRAILING_SILENCE_S * OPUS_RATE), np.float32)])
    started, cpu_started = time.monotonic(), time.process_time()
    if realtime:
        receiver = RtpReceiver(clock=clock)
        host, port = await receiver.start()
        ssrc = 1000
        source = RtpAudioSource(receiver.subscribe(ssrc), clock=clock)
        await interpreter.add_speaker(speaker, language=language, source=source, asr_stream=stream)
        sender = RtpOpusSender(host, port, clock=clock, ssrc=ssrc)
        await sender.start()
        run.t0 = clock.monotonic()
        await sender.send(padded, OPUS_RATE)
        await sender.stop()
        await asyncio.sleep(0.1)  # the last datagrams
        receiver.unsubscribe(ssrc)
        await interpreter.remove_speaker(speaker, drain=True)
        await receiver.stop()
    else:
        pipeline = await interpreter.add_speaker(speaker, language=language, asr_stream=stream)
        depack = RtpDepacketizer()
        run.t0 = clock.monotonic()
        settle: Callable[[], Any] | None = getattr(stream, "settle", None)
        for i, packet in enumerate(opus_packets(padded, 1000)):
            for chunk in depack.push(packet, clock.monotonic()):
                pipeline.push_audio(chunk)
            if settle is not None and i % 50 == 49:
                await settle()
        for chunk in depack.flush(clock.monotonic()):
            pipeline.push_audio(chunk)
        await interpreter.remove_speaker(speaker, drain=True)
    run.stages = interpreter.metrics.snapshot()["stages"]
    await interpreter.stop()
    run.wall_s = time.monotonic() - started
    run.cpu_s = time.process_time() - cpu_started
    return run
