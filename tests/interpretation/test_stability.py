"""The streaming policy: VAD endpointing + local agreement over a scripted recogniser.

Time is a fake clock; audio is synthetic (tone = speech, zeros = silence) so the energy VAD
is deterministic. ``settle`` lets every pass finish before more audio comes, like a machine
that keeps up.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest

from parley.interpretation.adapters import (
    StreamAdapter,
    StreamingOptions,
    common_prefix,
    ends_sentence,
    normalize_word,
    tail_after,
)
from parley.interpretation.asr.base import DecodeMode
from parley.interpretation.frames import (
    AsrEvent,
    AudioChunk,
    EngineHealth,
    HealthStatus,
    SpeechEnd,
    SpeechStart,
    Transcript,
)
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.vad import EnergyVad
from tests.fakes.clock import FakeClock
from tests.fakes.engines import ScriptedAsr, silence, tone

pytestmark = pytest.mark.unit


class Harness:
    def __init__(self, stream: StreamAdapter, clock: FakeClock) -> None:
        self.stream = stream
        self.clock = clock
        self.events: list[AsrEvent] = []
        self.media = 0.0
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async for event in self.stream:
            self.events.append(event)

    async def feed(self, audio: np.ndarray, step: float = 0.1) -> None:
        n = int(step * 16_000)
        for i in range(0, len(audio), n):
            part = audio[i:i + n]
            self.stream.push_audio(AudioChunk(part, 16_000, self.media, self.clock.monotonic()))
            self.media += len(part) / 16_000
            self.clock.advance(len(part) / 16_000)
            await self.settle()

    async def settle(self) -> None:
        await self.stream.settle()
        for _ in range(5):  # let the collector take what was emitted
            await asyncio.sleep(0)

    async def finish(self) -> list[AsrEvent]:
        self.stream.end_input()
        await asyncio.wait_for(self._task, 10)
        return self.events

    def transcripts(self, final: bool | None = None) -> list[Transcript]:
        return [e for e in self.events if isinstance(e, Transcript) and (final is None or e.is_final == final)]


# these tests follow one line through its partials to its final: no stable finals cutting it
# after two seconds of stable words (test_stable_finals.py), clause finals only at pauses
ONE_LINE: dict[str, Any] = {"stable_finals": False, "clause_pause_min_s": None}


def make(asr: ScriptedAsr, clock: FakeClock, **kw: Any) -> Harness:
    language = kw.pop("language", "en")
    candidates = kw.pop("candidates", None)
    stream = StreamAdapter(asr, vad=EnergyVad(), stream_id="spk", clock=clock, language=language,
                           candidates=candidates, options=StreamingOptions(**{**ONE_LINE, **kw}))
    return Harness(stream, clock)


def test_helpers() -> None:
    assert normalize_word("Hello,") == normalize_word("hello") == "hello"
    assert common_prefix(["a", "b", "c"], ["a", "b", "x"]) == 2
    assert tail_after(["the", "cat"], ["the", "cat", "sat"]) == 2
    assert tail_after(["the", "cat"], ["a", "cat", "sat"]) == 2  # realigned on "cat"
    assert tail_after(["the", "cat"], ["dogs", "bark"]) is None
    # the last committed word came out differently: the same number of words stands for it
    assert tail_after(["des", "stages"], ["des", "étatsunis", "selon"]) == 2
    assert tail_after(["a", "b", "c", "d", "e"], ["a", "x", "y", "z", "w", "v"], max_skip=3) is None
    assert tail_after([], ["x"]) == 0


async def test_words_become_stable_when_two_passes_agree(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock,
                      partials=["the cat", "the cat sat on", "the cat sat on the mat", "the cat sat on the mat today"],
                      final="The cat sat on the mat today.")
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(5.0), silence(1.0)]))
    events = await h.finish()

    partials = h.transcripts(final=False)
    assert [p.stable_text for p in partials[:4]] == ["", "the cat", "the cat sat on", "the cat sat on the mat"]
    # the last word of a pass is never committed (the buffer may cut it), even when repeated
    assert all(p.stable_text == "the cat sat on the mat" for p in partials[3:])
    for p in partials:
        assert p.text.startswith(p.stable_text)
    counts = [p.stable_count for p in partials]
    assert counts == sorted(counts)

    [final] = h.transcripts(final=True)
    assert final.text == "The cat sat on the mat today." and final.stable_text == final.text
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SpeechStart" and kinds[-2:] == ["SpeechEnd", "Transcript"]
    assert len({e.utterance_id for e in events if not isinstance(e, EngineHealth)}) == 1
    # partial passes are greedy and bounded: each sees at least ``partial_interval_s`` more audio
    # (the last one: the pause, with no sentence end before it, gets a pass right away)
    *speaking, at_pause = [c.seconds for c in asr.calls if c.mode is DecodeMode.PARTIAL]
    step = StreamingOptions().partial_interval_s
    assert all(b - a >= step - 0.01 for a, b in zip(speaking, speaking[1:], strict=False))
    assert 5.0 <= at_pause <= 5.6 and at_pause > speaking[-1]
    assert [c.mode for c in asr.calls].count(DecodeMode.FINAL) == 1


async def test_nothing_is_committed_until_passes_agree(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["I scream", "ice cream is", "ice cream is cold"],
                      final="Ice cream is cold.")
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(3.2), silence(1.0)]))
    await h.finish()
    stable = [p.stable_text for p in h.transcripts(final=False)]
    assert stable[:3] == ["", "", "ice cream is"]


async def test_committed_words_are_not_retracted_by_a_later_pass(scheduler: InferenceScheduler,
                                                                   clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock,
                      partials=["the cat", "the cat sat", "a cat sat down", "a cat sat down here"],
                      final="A cat sat down here.")
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(4.2), silence(1.0)]))
    await h.finish()
    partials = h.transcripts(final=False)
    assert partials[1].stable_text == "the cat"
    assert partials[2].stable_text.startswith("the cat")
    assert partials[2].text == "the cat sat down"  # new words attach after the realigned "cat"
    # the final is a separate careful pass and may revise stable words
    assert h.transcripts(final=True)[0].text == "A cat sat down here."


async def test_a_committed_mistake_does_not_freeze_the_caption(scheduler: InferenceScheduler,
                                                                clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock,
                      partials=["we agree with stages", "we agree with stages now",
                                "we agree with states united", "we agree with states united according to the"],
                      final="We agree with the United States, according to the committee.")
    h = make(asr, clock, partial_interval_s=1.0)
    await h.feed(np.concatenate([tone(4.2), silence(1.0)]))
    await h.finish()
    partials = h.transcripts(final=False)
    assert partials[1].stable_text == "we agree with stages"  # two passes agreed, wrongly
    assert partials[3].text == "we agree with stages united according to the"
    assert partials[3].stable_text.startswith("we agree with stages")


async def test_a_stable_word_no_later_pass_has_does_not_freeze_the_caption(scheduler: InferenceScheduler,
                                                                           clock: FakeClock) -> None:
    """Seen on FLEURS Portuguese: two early passes agreed on "Vamos"; every later pass heard
    "O Sky Folding não é ..." and the caption stayed "Vamos" for seven seconds."""
    asr = ScriptedAsr(scheduler=scheduler, clock=clock,
                      partials=["vamos para o lado", "vamos ficar falando", "o sky folding não é um método",
                                "o sky folding não é um método de aprendizado",
                                "o sky folding não é um método de aprendizado mas uma ajuda"],
                      final="O scaffolding não é um método de aprendizado, mas uma ajuda.")
    h = make(asr, clock, partial_interval_s=1.0)
    await h.feed(np.concatenate([tone(5.5), silence(1.5)]))
    await h.finish()
    partials = h.transcripts(final=False)
    assert partials[1].stable_text == "vamos"
    last = partials[-1]
    assert last.text.startswith("vamos") and last.text.endswith("de aprendizado mas uma ajuda")
    assert "método" in last.stable_text  # the passes after the mistake agree and become stable


async def test_a_pause_ends_the_utterance_and_the_next_one_starts_fresh(scheduler: InferenceScheduler,
                                                                         clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        return "one two three." if mode is DecodeMode.FINAL else "one two."

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(2.0), silence(1.0), tone(2.0), silence(1.0)]))
    events = await h.finish()
    finals = h.transcripts(final=True)
    assert len(finals) == 2 and finals[0].utterance_id != finals[1].utterance_id
    assert finals[1].start > finals[0].end
    starts = [e for e in events if isinstance(e, SpeechStart)]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(starts) == len(ends) == 2
    # the endpoint keeps a little padding around the speech
    assert 1.9 < finals[0].end - finals[0].start < 2.8
    assert finals[0].words[0].start >= finals[0].start


async def test_a_pause_inside_a_sentence_does_not_end_the_utterance(scheduler: InferenceScheduler,
                                                                     clock: FakeClock) -> None:
    """After "However," (a comma) a 0.6 s pause is not an endpoint: one final hears it all."""
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        if mode is DecodeMode.FINAL:
            return "However, due to the slow channels."
        return "However," if seconds < 2.5 else "However, due to the"

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(1.5), silence(0.6), tone(2.0), silence(1.5)]))
    await h.finish()
    finals = h.transcripts(final=True)
    assert [f.text for f in finals] == ["However, due to the slow channels."]
    assert 3.8 < finals[0].end - finals[0].start < 4.8  # the pause inside, the trailing silence not
    assert len([c for c in asr.calls if c.mode is DecodeMode.FINAL]) == 1


async def test_a_long_pause_ends_an_open_sentence_where_the_speech_stopped(scheduler: InferenceScheduler,
                                                                          clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        return "and then" if mode is DecodeMode.FINAL else "and then"

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(1.5), silence(1.5), tone(1.5), silence(1.5)]))
    await h.finish()
    finals = h.transcripts(final=True)
    assert len(finals) == 2  # 1.5 s of silence is more than a pause inside a sentence
    assert finals[0].end - finals[0].start < 2.3  # cut at the pause, not when it was judged long
    assert finals[1].start > finals[0].end


async def test_a_long_clause_ends_at_a_pause_even_without_a_sentence_end(scheduler: InferenceScheduler,
                                                                         clock: FakeClock) -> None:
    """Past ``open_sentence_max_s`` the clause has context enough: its final is not held back."""
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        return "and then we went on and on"

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock)
    await h.feed(np.concatenate([tone(3.5), silence(0.6), tone(1.5), silence(1.5)]))
    await h.finish()
    assert len(h.transcripts(final=True)) == 2


def test_sentence_ends_are_recognised_in_several_scripts() -> None:
    assert ends_sentence("We want peace.") and ends_sentence("¿Qué futuro queremos?")
    assert ends_sentence("我们想要和平。") and ends_sentence("ماذا نريد؟") and ends_sentence('He said "no."')
    assert not ends_sentence("However,") and not ends_sentence("and then") and not ends_sentence("")


async def test_a_final_hears_the_audio_before_it_but_keeps_only_its_own_words(scheduler: InferenceScheduler,
                                                                             clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        # evenly timed over what it hears: "before" falls in the context, the rest after it
        return "before one two" if mode is DecodeMode.FINAL else ""

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock, partials=False, final_context_s=1.0)
    await h.feed(np.concatenate([tone(1.5), silence(1.5), tone(1.5), silence(1.0)]))
    await h.finish()
    first, second = h.transcripts(final=True)
    finals = [c.seconds for c in asr.calls if c.mode is DecodeMode.FINAL]
    assert finals[1] == pytest.approx(second.end - second.start + 1.0, abs=0.01)  # one second of context
    assert second.text == "one two"
    assert second.start <= second.words[0].start and second.words[-1].end <= second.end + 1e-6
    # the stream's first utterance has nothing before it: no context, every word is its own
    assert finals[0] == pytest.approx(first.end - first.start, abs=0.01) and first.text == "before one two"


async def test_audio_that_stops_mid_speech_is_finalised_by_the_clock(scheduler: InferenceScheduler,
                                                                       clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["hello"], final="hello there")
    h = make(asr, clock, idle_endpoint_s=1.0)
    await h.feed(tone(2.0))  # no trailing silence: the sender went quiet (muted, DTX)
    assert not h.transcripts(final=True)
    for _ in range(30):
        clock.advance(0.1)
        await h.settle()
    assert [t.text for t in h.transcripts(final=True)] == ["hello there"]
    await h.finish()


async def test_flush_ends_the_current_utterance(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="done")
    h = make(asr, clock, partials=False)
    await h.feed(tone(1.0))
    h.stream.flush()
    await h.settle()
    assert [t.text for t in h.transcripts(final=True)] == ["done"]
    assert not h.transcripts(final=False)
    await h.finish()


async def test_partials_of_a_long_utterance_skip_most_stable_words_and_stay_whole(
        scheduler: InferenceScheduler, clock: FakeClock) -> None:
    """Passes start a few stable words back, not at the utterance's start; the caption still
    reads every word once, in order."""
    h: Harness

    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        end = h.media  # the pass's audio ends where the feed is; two words a second from 0
        first, last = math.ceil(round((end - seconds) * 2, 6)), min(int(round(end * 2, 6)), 18)
        return " ".join(f"w{i}" for i in range(max(first, 0), last))

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock, partial_overlap_words=3, partial_overlap_s=0.5, partial_skip_min_s=2.0)
    await h.feed(np.concatenate([tone(9.0), silence(1.5)]))
    await h.finish()
    lengths = [c.seconds for c in asr.calls if c.mode is DecodeMode.PARTIAL]
    assert any(b < a - 1.0 for a, b in zip(lengths, lengths[1:], strict=False)), "later passes hear less"
    partials = h.transcripts(final=False)
    for t in partials:
        assert [w.text for w in t.words] == [f"w{i}" for i in range(len(t.words))]
    assert len(partials[-1].words) >= 16 and partials[-1].stable_count >= 12
    starts = [w.start for w in partials[-1].words]
    assert starts == sorted(starts) and starts[-1] > 7.0  # times stay the utterance's


async def test_every_partial_hears_the_whole_utterance_when_overlap_is_off(scheduler: InferenceScheduler,
                                                                          clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock,
                      script=lambda mode, seconds, n: " ".join(f"w{i}" for i in range(int(seconds * 2))))
    h = make(asr, clock, partial_overlap_words=None)
    await h.feed(np.concatenate([tone(6.0), silence(1.5)]))
    await h.finish()
    lengths = [c.seconds for c in asr.calls if c.mode is DecodeMode.PARTIAL]
    assert lengths == sorted(lengths)


async def test_long_speech_is_split_at_the_stable_prefix(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        words = [f"w{i}" for i in range(int(seconds * 2))]  # two words per second
        return " ".join(words)

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock, max_utterance_s=4.0)
    await h.feed(np.concatenate([tone(9.0), silence(1.0)]))
    await h.finish()
    finals = h.transcripts(final=True)
    assert len(finals) >= 3
    assert all(f.end - f.start <= 4.0 + 1e-6 for f in finals)
    # consecutive pieces touch: nothing is lost or heard twice at a cut
    for a, b in zip(finals, finals[1:], strict=False):
        assert b.start == pytest.approx(a.end, abs=1e-6)


async def test_language_is_detected_once_when_confident(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["hola"], final="hola amigos",
                      detected=[("es", 0.9), ("en", 0.05), ("pt", 0.05)])
    h = make(asr, clock, language=None, candidates={"en", "es"})
    await h.feed(np.concatenate([tone(2.0), silence(1.5), tone(2.0), silence(1.5)]))
    await h.finish()
    assert len(h.transcripts(final=True)) == 2
    # detected on the first line; the second is checked beside its passes and stays Spanish
    assert asr.detections == 2
    assert {t.language for t in h.transcripts()} == {"es"}
    assert all(c.language == "es" for c in asr.calls)


async def test_a_speaker_who_moves_to_another_language_gets_captions_in_it(scheduler: InferenceScheduler,
                                                                          clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["hola"], final="hola amigos",
                      detected=[("es", 0.9), ("en", 0.1)])
    h = make(asr, clock, language=None, candidates={"en", "es"})
    await h.feed(np.concatenate([tone(2.0), silence(1.5)]))
    asr.detected = [("en", 0.85), ("es", 0.15)]  # the speaker goes on in English
    await h.feed(np.concatenate([tone(2.5), silence(1.5)]))
    asr.detected = [("en", 0.55), ("es", 0.45)]  # unsure: the language stays what it was
    await h.feed(np.concatenate([tone(2.5), silence(1.5)]))
    await h.finish()
    assert [f.language for f in h.transcripts(final=True)] == ["es", "en", "en"]
    assert [c.language for c in asr.calls if c.mode is DecodeMode.FINAL] == ["es", "en", "en"]


async def test_a_language_the_meeting_gave_is_never_checked_again(scheduler: InferenceScheduler,
                                                                 clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["hola"], final="hola amigos",
                      detected=[("en", 0.99)])
    h = make(asr, clock, language="es")
    await h.feed(np.concatenate([tone(2.5), silence(1.0), tone(2.5), silence(1.0)]))
    await h.finish()
    assert asr.detections == 0 and {t.language for t in h.transcripts()} == {"es"}


async def test_an_unsure_detection_is_repeated_for_the_next_utterance(scheduler: InferenceScheduler,
                                                                       clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="x", detected=[("fr", 0.4), ("es", 0.35)])
    h = make(asr, clock, language=None, partials=False)
    await h.feed(np.concatenate([tone(2.0), silence(1.0), tone(2.0), silence(1.0)]))
    await h.finish()
    assert asr.detections == 2


async def test_failures_are_retried_then_reported_once_and_recovery_too(scheduler: InferenceScheduler,
                                                                         clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="fine")
    h = make(asr, clock, partials=False)
    asr.fail_next = 1  # one retryable failure: retried transparently
    await h.feed(np.concatenate([tone(1.0), silence(1.0)]))
    assert [t.text for t in h.transcripts(final=True)] == ["fine"]
    assert not [e for e in h.events if isinstance(e, EngineHealth)]

    asr.fail_next, asr.fail_retryable = 100, False
    await h.feed(np.concatenate([tone(1.0), silence(1.0), tone(1.0), silence(1.0)]))
    asr.fail_next = 0
    await h.feed(np.concatenate([tone(1.0), silence(1.0)]))
    await h.finish()
    health = [e for e in h.events if isinstance(e, EngineHealth)]
    assert [e.status for e in health] == [HealthStatus.FAILING, HealthStatus.OK]
    assert len(h.transcripts(final=True)) == 2


async def test_short_blips_are_not_sent_to_the_recogniser(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="x")
    h = make(asr, clock, min_utterance_s=0.3)
    await h.feed(np.concatenate([tone(0.05), silence(1.0)]), step=0.05)
    await h.finish()
    assert not asr.calls


async def test_word_times_are_media_times(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, final="a b c d")
    h = make(asr, clock, partials=False)
    await h.feed(np.concatenate([silence(3.0), tone(2.0), silence(1.0)]))
    await h.finish()
    [final] = h.transcripts(final=True)
    assert 2.6 <= final.start <= 3.0  # speech began at 3.0 s, minus the pre-roll
    assert final.words[0].start == pytest.approx(final.start)
    assert final.audio_end_at <= clock.monotonic()



async def test_partials_back_off_when_passes_are_slow(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        if mode is DecodeMode.PARTIAL:
            clock._mono += 2.5  # this pass "took" 2.5 s of wall time (no sleeper is due in it)
        return "w " * int(seconds)

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock, idle_endpoint_s=None)
    await h.feed(np.concatenate([tone(10.0), silence(1.0)]))
    await h.finish()
    *lengths, _at_pause = [c.seconds for c in asr.calls if c.mode is DecodeMode.PARTIAL]
    # after the first slow pass, each next one waits for >= 2.5 s of new audio, not 1 s
    assert all(b - a >= 2.49 for a, b in zip(lengths, lengths[1:], strict=False))
    assert 3 <= len(lengths) <= 4


async def test_long_speech_is_cut_in_a_short_dip_near_the_stable_words(scheduler: InferenceScheduler,
                                                                        clock: FakeClock) -> None:
    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        return " ".join(f"w{i}" for i in range(int(seconds * 2)))  # two words per second

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    h = make(asr, clock, max_utterance_s=4.0)
    # a 0.2 s dip, too short to end the utterance, near where the stable words end
    await h.feed(np.concatenate([tone(2.9), silence(0.2), tone(2.7), silence(1.0)]))
    await h.finish()
    first = h.transcripts(final=True)[0]
    assert 2.9 <= first.end <= 3.1, "the cut falls in the quiet dip, not mid-word"
