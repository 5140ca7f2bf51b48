"""The worker keeps each speaker's recognition hints (the meeting glossary's terms) in step
with the meeting: set when the speaker is added, replaced when the glossary changes,
dropped with the speaker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import InterpreterEngines
from parley.interpretation.protocol import AddSpeaker, DropSpeaker, OpenMeeting, WorkerMessage
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.vad import EnergyVad
from parley.interpretation.worker import InterpretationWorker
from tests.fakes.clock import FakeClock
from tests.fakes.engines import ScriptedAsr

pytestmark = pytest.mark.unit


@pytest.fixture
async def worker(clock: FakeClock) -> AsyncIterator[InterpretationWorker]:
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="x")
    engines = InterpreterEngines(asr=asr, translator=Translator([]), voices=None, vad_factory=EnergyVad)
    sent: list[WorkerMessage] = []

    async def send(message: WorkerMessage) -> None:
        sent.append(message)

    w = InterpretationWorker(engines, clock=clock, send=send, name="w")
    await w.start()
    yield w
    await w.stop()
    await scheduler.stop()


async def test_hotwords_follow_the_meeting_glossary(worker: InterpretationWorker) -> None:
    asr = worker.engines.asr
    assert asr is not None
    assert (await worker.handle(1, OpenMeeting(5, ("en",), (), "UN75, Belt and Road"))).ok
    reply = await worker.handle(2, AddSpeaker(5, "p9", "en"))
    assert reply.ok and reply.result["port"] > 0 and asr.hotwords == {"p9": "UN75, Belt and Road"}

    assert (await worker.handle(3, OpenMeeting(5, ("en",), (), "Agenda 2030"))).ok  # glossary edited
    assert asr.hotwords == {"p9": "Agenda 2030"}

    assert (await worker.handle(4, DropSpeaker(5, "p9"))).ok
    assert asr.hotwords == {}


async def test_commands_for_an_unknown_meeting_fail_clearly(worker: InterpretationWorker) -> None:
    reply = await worker.handle(1, AddSpeaker(99, "p1", None))
    assert not reply.ok and "meeting 99 is not open" in reply.error
