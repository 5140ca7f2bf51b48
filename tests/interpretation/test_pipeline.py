"""Per-speaker pipelines and the meeting-level interpreter, with fake engines; then the whole
path from Opus RTP on a loopback socket to captions."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from parley.clock import SystemClock
from parley.interpretation.adapters import StreamAdapter, StreamingOptions
from parley.interpretation.frames import Caption, EngineHealth, HealthStatus, PipelineEvent
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import Interpreter, InterpreterEngines, PipelineOptions, SpeakerPipeline
from parley.interpretation.rtp import RtpAudioSource, RtpOpusSender, RtpPacket, RtpReceiver
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.tts.base import Voices
from parley.interpretation.vad import EnergyVad
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt, FakeTts, RecordingSink, ScriptedAsr, silence, tone
from tests.interpretation.feeding import push

pytestmark = pytest.mark.unit


def captions(events: list[PipelineEvent], role: str, language: str) -> list[Caption]:
    return [e for e in events if isinstance(e, Caption) and e.role == role and e.language == language]


async def test_a_speaker_gets_captions_and_translations(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock,
                      partials=["good morning", "good morning to all", "good morning to all of you"],
                      final="Good morning to all of you.")
    mt = FakeMt(clock=clock, pairs=[("en", "es")])
    translator = Translator([mt])
    stream = StreamAdapter(asr, vad=EnergyVad(), stream_id="alice", clock=clock, language="en")
    events: list[PipelineEvent] = []
    pipeline = SpeakerPipeline("alice", stream, translator=translator, targets={"en", "es", "fr"}, clock=clock,
                               on_event=events.append)
    await pipeline.start()
    await push(pipeline, clock, np.concatenate([tone(4.0), silence(1.0), tone(1.5), silence(1.0)]), settle=stream)
    await pipeline.finish()

    original = captions(events, "original", "en")
    assert original[-1].is_final and original[-1].text == "Good morning to all of you."
    assert any(not c.is_final and c.stable_text == "good morning" for c in original)
    spanish = captions(events, "translation", "es")
    finals = [c for c in spanish if c.is_final]
    assert [c.text for c in finals] == ["[es] Good morning to all of you."] * 2
    assert any(not c.is_final and c.text == "[es] good morning" for c in spanish)  # stable prefix translated
    assert all(c.source_language == "en" and c.engine == "fake-mt" for c in spanish)
    # revisions grow per utterance and language, so a client can drop stale updates
    first_utt = [c.revision for c in spanish if c.utterance_id == finals[0].utterance_id]
    assert first_utt == sorted(first_utt) and len(set(first_utt)) == len(first_utt)
    # French has no engine: said once, never faked
    health = [e for e in events if isinstance(e, EngineHealth)]
    assert [(h.stage, h.status, h.target_language) for h in health] == [("mt", HealthStatus.MISSING, "fr")]
    assert not captions(events, "translation", "fr")
    snapshot = pipeline.metrics.snapshot()["stages"]
    assert {"asr.partial_latency", "asr.final_latency", "mt.translate", "mt.final_latency"} <= set(snapshot)


async def test_translation_failures_are_reported_and_recovery_too(scheduler: InferenceScheduler,
                                                                   clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="hello")
    mt = FakeMt(clock=clock, pairs=[("en", "es")])
    stream = StreamAdapter(asr, vad=EnergyVad(), stream_id="bob", clock=clock, language="en",
                           options=StreamingOptions(partials=False))
    events: list[PipelineEvent] = []
    pipeline = SpeakerPipeline("bob", stream, translator=Translator([mt]), targets={"es"}, clock=clock,
                               on_event=events.append)
    await pipeline.start()
    mt.fail_next = 1
    media = await push(pipeline, clock, np.concatenate([tone(1.0), silence(1.0)]), settle=stream)
    await push(pipeline, clock, np.concatenate([tone(1.0), silence(1.0)]), media, settle=stream)
    await pipeline.finish()
    health = [(e.status, e.speaker_id) for e in events if isinstance(e, EngineHealth)]
    assert health == [(HealthStatus.FAILING, "bob"), (HealthStatus.OK, "bob")]
    assert [c.text for c in captions(events, "translation", "es")] == ["[es] hello"]


async def test_interpreter_speaks_translations_and_reports_what_is_missing(scheduler: InferenceScheduler,
                                                                            clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="welcome everyone")
    translator = Translator([FakeMt(clock=clock, pairs=[("en", "es")])])
    voices = Voices([FakeTts(clock=clock, languages=["es"])])
    await voices.start()
    engines = InterpreterEngines(asr=asr, translator=translator, voices=voices, vad_factory=EnergyVad)
    interpreter = Interpreter(engines, clock=clock, targets={"en", "es", "zh"},
                              options=PipelineOptions(streaming=StreamingOptions(partials=False)))
    events = interpreter.events()
    got: list[PipelineEvent] = []

    async def collect() -> None:
        async for e in events:
            got.append(e)

    collector = asyncio.create_task(collect())
    await interpreter.start()
    sink = RecordingSink()
    assert await interpreter.add_voice("es", sink) is not None
    assert await interpreter.add_voice("zh", RecordingSink()) is None

    pipeline = await interpreter.add_speaker("carol", language="en")
    assert isinstance(pipeline.asr, StreamAdapter)
    await push(pipeline, clock, np.concatenate([tone(1.0), silence(1.0)]), settle=pipeline.asr)
    for _ in range(50):
        if sink.sent:
            break
        await asyncio.sleep(0.01)
    assert len(sink.sent) == 1 and sink.sent[0][1] == 16_000  # "[es] welcome everyone" was spoken

    missing = {(e.stage, e.source_language, e.target_language) for e in got if isinstance(e, EngineHealth)}
    assert ("mt", "en", "zh") in missing and ("tts", "", "zh") in missing
    assert any(isinstance(e, Caption) and e.language == "es" and e.is_final for e in got)
    await interpreter.remove_speaker("carol", drain=True)
    await interpreter.stop()
    await asyncio.wait_for(collector, 5)


async def test_interpreter_without_asr_says_so(clock: FakeClock) -> None:
    engines = InterpreterEngines(asr=None, translator=Translator([]), voices=None, vad_factory=EnergyVad)
    got: list[PipelineEvent] = []
    interpreter = Interpreter(engines, clock=clock, targets={"en"}, on_event=got.append)
    with pytest.raises(Exception, match="no speech recognition"):
        await interpreter.add_speaker("dave")
    assert [(e.stage, e.status) for e in got if isinstance(e, EngineHealth)] == [("asr", HealthStatus.MISSING)]
    await interpreter.stop()


async def test_a_meeting_hears_of_what_it_lacks_never_of_an_engine_another_covers(clock: FakeClock) -> None:
    """An empty CTranslate2 folder while Apertium translates the pair is the operator's
    business (the worker logs it): the meeting hears nothing of it, and never a server path."""
    loaded = [EngineHealth(stage="mt", engine="ctranslate2", status=HealthStatus.MISSING,
                           message="no CTranslate2 translation models in /srv/parley/models/ct2"),
              EngineHealth(stage="asr", engine="whisper", status=HealthStatus.MISSING,
                           message="no Whisper model in /srv/parley/models/whisper")]
    engines = InterpreterEngines(asr=None, translator=Translator([FakeMt(clock=clock, pairs=[("en", "fr")])]),
                                 voices=None, vad_factory=EnergyVad, health=loaded)
    interpreter = Interpreter(engines, clock=clock, targets={"en", "fr", "ar"})
    health = interpreter.health()
    assert [h.stage for h in health if h.stage != "mt"] == ["asr"]
    gaps = {(h.source_language, h.target_language) for h in health if h.stage == "mt"}
    assert ("en", "ar") in gaps and ("en", "fr") not in gaps  # what the meeting lacks, by language pair
    assert not any(h.engine == "ctranslate2" for h in health)
    assert not any("/srv" in h.message or "CTranslate2" in h.message for h in health)


async def test_rtp_to_captions_over_loopback() -> None:
    """Opus RTP on a real UDP socket -> jitter buffer -> decoder -> VAD -> (scripted) ASR -> captions."""
    clock = SystemClock()
    scheduler = InferenceScheduler(clock=clock)
    await scheduler.start()
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="over the wire")
    translator = Translator([FakeMt(clock=clock, pairs=[("en", "fr")])])
    engines = InterpreterEngines(asr=asr, translator=translator, voices=None, vad_factory=EnergyVad)
    got: list[PipelineEvent] = []
    interpreter = Interpreter(engines, clock=clock, targets={"en", "fr"}, on_event=got.append,
                              options=PipelineOptions(streaming=StreamingOptions(partials=False,
                                                                                 idle_endpoint_s=0.5)))
    receiver = RtpReceiver(clock=clock)
    host, port = await receiver.start()
    source = RtpAudioSource(receiver.subscribe(ssrc=1000), clock=clock)
    await interpreter.add_speaker("erin", language="en", source=source)
    sender = RtpOpusSender(host, port, clock=clock, ssrc=1000)
    await sender.start()
    await sender.send(np.concatenate([tone(0.8), silence(0.7)]), 16_000)
    for _ in range(300):
        if any(isinstance(e, Caption) and e.language == "fr" for e in got):
            break
        await asyncio.sleep(0.01)
    await sender.stop()
    receiver.unsubscribe(1000)
    await interpreter.stop()
    await receiver.stop()
    await scheduler.stop()
    original = [e for e in got if isinstance(e, Caption) and e.role == "original"]
    assert [c.text for c in original] == ["over the wire"]
    assert 0.5 < original[0].end - original[0].start < 1.6
    assert [e.text for e in got if isinstance(e, Caption) and e.language == "fr"] == ["[fr] over the wire"]


async def test_synthesized_voice_goes_out_as_opus_rtp() -> None:
    """Final translation -> TTS -> Opus -> paced RTP -> (a receiver standing in for Janus)."""
    clock = SystemClock()
    receiver = RtpReceiver(clock=clock)
    host, port = await receiver.start()
    packets = receiver.subscribe(ssrc=None)
    voices = Voices([FakeTts(clock=clock, languages=["es"])])
    await voices.start()
    engines = InterpreterEngines(asr=None, translator=Translator([]), voices=voices, vad_factory=EnergyVad)
    interpreter = Interpreter(engines, clock=clock, targets={"es"})
    sender = RtpOpusSender(host, port, clock=clock, ssrc=1010)
    await sender.start()
    channel = await interpreter.add_voice("es", sender)
    assert channel is not None
    channel.say("uno dos", audio_end_at=clock.monotonic())  # 0.2 s of tone from the fake engine
    received: list[RtpPacket] = []
    for _ in range(200):
        while not packets.empty():
            item = packets.get_nowait()
            assert item is not None
            received.append(item[0])
        if len(received) >= 10:
            break
        await asyncio.sleep(0.01)
    await interpreter.stop()
    await sender.stop()
    await receiver.stop()
    assert len(received) == 10 and channel.spoken == 1
    seqs = [p.sequence_number for p in received]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    assert received[0].marker and all(p.ssrc == 1010 for p in received)
    assert "tts.voice_latency" in interpreter.metrics.snapshot()["stages"]
