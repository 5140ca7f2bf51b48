"""Every line shown as a partial caption ends in a final: when the final pass fails, when it
never comes (a time bound), when the pipeline stops with a line open, and when a final's
translation fails. Scripted engines, fake clock."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from parley.errors import EngineError
from parley.interpretation.adapters import StreamAdapter, StreamingOptions
from parley.interpretation.asr.base import DecodeMode, Hypothesis
from parley.interpretation.frames import Caption, PipelineEvent
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import PipelineOptions, SpeakerPipeline
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.vad import EnergyVad
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt, ScriptedAsr, silence, tone
from tests.interpretation.feeding import push

pytestmark = pytest.mark.unit

SAID = "bonjour à tous et bienvenue"


def pipeline_for(asr: ScriptedAsr, clock: FakeClock, events: list[PipelineEvent], *, mt: FakeMt | None = None,
                 options: PipelineOptions | None = None) -> tuple[SpeakerPipeline, StreamAdapter]:
    mt = mt or FakeMt(clock=clock, pairs=[("fr", "en")])
    options = options or PipelineOptions()
    stream = StreamAdapter(asr, vad=EnergyVad(), stream_id="amina", clock=clock, language="fr",
                           options=options.streaming)
    pipeline = SpeakerPipeline("amina", stream, translator=Translator([mt]), targets={"fr", "en"}, clock=clock,
                               on_event=events.append, options=options)
    return pipeline, stream


def lines(events: list[PipelineEvent], role: str = "original") -> dict[str, list[Caption]]:
    """Captions of each utterance, in order."""
    out: dict[str, list[Caption]] = {}
    for e in events:
        if isinstance(e, Caption) and e.role == role:
            out.setdefault(e.utterance_id, []).append(e)
    return out


async def until(predicate: object, clock: FakeClock | None = None, seconds: float = 5.0) -> None:
    """Let tasks (and threads) run until ``predicate()`` holds; the fake clock moves only if given."""
    assert callable(predicate)
    async with asyncio.timeout(seconds):
        while not predicate():
            if clock is not None:
                await clock.run_for(0.5, step=0.1)
            await asyncio.sleep(0.01)


async def test_a_failed_final_pass_leaves_the_last_partial_as_the_final(scheduler: InferenceScheduler,
                                                                       clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        if mode is DecodeMode.FINAL:
            raise EngineError("decoder crashed", retryable=False, engine="scripted-asr")
        return SAID

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script, language="fr")
    events: list[PipelineEvent] = []
    pipeline, stream = pipeline_for(asr, clock, events)
    await pipeline.start()
    await push(pipeline, clock, np.concatenate([tone(2.0), silence(1.5)]), settle=stream)
    await pipeline.finish()

    [line] = lines(events).values()
    assert not line[0].is_final and line[-1].is_final and line[-1].text == SAID
    assert [c.is_final for c in line].count(True) == 1
    assert any(c.is_final and c.text == f"[en] {SAID}" for c in lines(events, "translation")[line[-1].utterance_id])


async def test_a_final_that_never_comes_is_forced_after_the_time_bound(clock: FakeClock) -> None:
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    stuck = threading.Event()

    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        if mode is DecodeMode.FINAL:
            stuck.wait(10)  # a decode that runs away
            return "too late"
        return SAID

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script, language="fr")
    events: list[PipelineEvent] = []
    pipeline, stream = pipeline_for(asr, clock, events, options=PipelineOptions(final_timeout_s=20.0))
    try:
        await pipeline.start()
        media = await push(pipeline, clock, tone(2.0), settle=stream)
        await push(pipeline, clock, silence(1.5), media)  # the endpoint: a final pass that hangs
        [utterance] = lines(events)
        await clock.run_for(10.0, step=0.5)
        assert not any(c.is_final for c in lines(events)[utterance])  # not yet: the bound is 20 s

        await until(lambda: any(c.is_final for c in lines(events)[utterance]), clock)
        final = next(c for c in lines(events)[utterance] if c.is_final)
        assert final.text == SAID and final.forced and pipeline.forced == 1
        await until(lambda: any(c.is_final for c in lines(events, "translation").get(utterance, ())))
        [translated] = [c for c in lines(events, "translation")[utterance] if c.is_final]
        assert translated.text == f"[en] {SAID}" and not translated.forced  # a real translation of that line
    finally:
        stuck.set()
        await pipeline.stop()
        await scheduler.stop()


async def test_stopping_closes_every_open_line(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=[SAID], final="never", language="fr")
    events: list[PipelineEvent] = []
    pipeline, stream = pipeline_for(asr, clock, events)
    await pipeline.start()
    await push(pipeline, clock, tone(2.5), settle=stream)  # the speaker still speaking ...
    await until(lambda: bool(lines(events, "translation")))
    await pipeline.stop()  # ... when their worker stops (or the meeting closes)

    [(utterance, original)] = lines(events).items()
    assert original[-1].is_final and original[-1].forced and original[-1].text == SAID
    translation = lines(events, "translation")[utterance]
    assert translation[-1].is_final and translation[-1].forced  # shown, not kept as the line's translation
    assert translation[-1].revision > translation[-2].revision if len(translation) > 1 else True


async def test_a_final_whose_translation_fails_ends_that_translation_too(scheduler: InferenceScheduler,
                                                                        clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=[SAID], final=SAID, language="fr")
    mt = FakeMt(clock=clock, pairs=[("fr", "en")])
    events: list[PipelineEvent] = []
    pipeline, stream = pipeline_for(asr, clock, events, mt=mt)
    await pipeline.start()
    media = await push(pipeline, clock, tone(2.0), settle=stream)
    await until(lambda: bool(lines(events, "translation")))
    mt.fail_next = 1  # the final's translation
    await push(pipeline, clock, silence(1.5), media, settle=stream)
    await pipeline.finish()

    [(utterance, translation)] = lines(events, "translation").items()
    assert not translation[0].is_final and translation[0].text
    assert translation[-1].is_final and translation[-1].text == "" and not translation[-1].forced
    assert lines(events)[utterance][-1].is_final


async def test_a_click_after_a_partial_takes_the_partial_back(scheduler: InferenceScheduler,
                                                               clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["Merci."], final="Merci.", language="fr")
    events: list[PipelineEvent] = []
    options = PipelineOptions(streaming=StreamingOptions(min_utterance_s=5.0, min_partial_audio_s=0.3))
    pipeline, stream = pipeline_for(asr, clock, events, options=options)
    await pipeline.start()
    await push(pipeline, clock, np.concatenate([tone(1.0), silence(1.5)]), settle=stream)
    await pipeline.finish()
    [line] = lines(events).values()
    assert not line[0].is_final and line[-1].is_final and line[-1].text == ""
    assert not any(c.mode is DecodeMode.FINAL for c in asr.calls)  # no pass for it


async def test_a_speaker_added_again_never_reuses_an_utterance_id(scheduler: InferenceScheduler,
                                                                  clock: FakeClock) -> None:
    """Listeners' pages key lines by speaker and utterance: a reused id would land the new
    line on an old one (and be dropped there as an older revision)."""
    ids: list[str] = []
    for _ in range(2):  # the same speaker, rejoined (a new pipeline on the same worker, or another worker)
        asr = ScriptedAsr(scheduler=scheduler, clock=clock, final=SAID, language="fr")
        events: list[PipelineEvent] = []
        pipeline, stream = pipeline_for(asr, clock, events)
        await pipeline.start()
        await push(pipeline, clock, np.concatenate([tone(1.0), silence(1.5)]), settle=stream)
        await pipeline.finish()
        ids += list(lines(events))
    assert len(ids) == 2 and ids[0] != ids[1]


class _BrokenFinals(ScriptedAsr):
    """A bug past the engine's own error handling: the final pass raises what no retry knows."""

    async def recognize(self, audio: np.ndarray, *, stream_id: str, language: str | None,
                        mode: DecodeMode = DecodeMode.FINAL) -> Hypothesis:
        if mode is DecodeMode.FINAL:
            raise RuntimeError("bug")
        return await super().recognize(audio, stream_id=stream_id, language=language, mode=mode)


async def test_a_bug_in_one_final_does_not_end_the_streams_finals(scheduler: InferenceScheduler,
                                                                 clock: FakeClock) -> None:
    asr = _BrokenFinals(scheduler=scheduler, clock=clock, partials=[SAID], final=SAID, language="fr")
    events: list[PipelineEvent] = []
    pipeline, stream = pipeline_for(asr, clock, events)
    await pipeline.start()
    async with asyncio.timeout(20):  # a dead finals loop would leave the second final pending forever
        media = await push(pipeline, clock, np.concatenate([tone(2.0), silence(1.5)]), settle=stream)
        await push(pipeline, clock, np.concatenate([tone(2.0), silence(1.5)]), media, settle=stream)
    await pipeline.finish()
    shown = lines(events)
    assert len(shown) == 2 and all(line[-1].is_final and line[-1].text == SAID for line in shown.values())
    assert not any(c.forced for line in shown.values() for c in line)  # ended by the stream, not by stopping
