"""Feeding a speaker pipeline audio on the fake clock, as RTP would (100 ms at a time)."""

from __future__ import annotations

import asyncio

import numpy as np

from parley.interpretation.adapters import StreamAdapter
from parley.interpretation.frames import AudioChunk
from parley.interpretation.pipeline import SpeakerPipeline
from tests.fakes.clock import FakeClock


async def push(pipeline: SpeakerPipeline, clock: FakeClock, audio: np.ndarray, media: float = 0.0,
               settle: StreamAdapter | None = None) -> float:
    step = 1600
    for i in range(0, len(audio), step):
        part = audio[i:i + step]
        pipeline.push_audio(AudioChunk(part, 16_000, media, clock.monotonic()))
        media += len(part) / 16_000
        clock.advance(len(part) / 16_000)
        if settle is not None:
            await settle.settle()
        for _ in range(5):
            await asyncio.sleep(0)
    return media
