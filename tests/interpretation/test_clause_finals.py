"""Clause finals: the stable words up to a clause boundary where the speaker paused become a
final of their own, and the words after it go on as a new line.

The recogniser is `ToneWordsAsr`, which hears its audio (a word is a tone), so a cut in the
wrong place shows as a word lost or heard twice. Fake clock; every pass finishes before more
audio comes (``settle``). No timing is asserted: the order of events says what came first.
"""

from __future__ import annotations

import numpy as np
import pytest

from parley.interpretation.adapters import StreamAdapter, StreamingOptions, clause_boundary, ends_clause
from parley.interpretation.asr.base import DecodeMode
from parley.interpretation.frames import Caption, PipelineEvent, SpeechEnd, SpeechStart, Transcript, Word
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import PipelineOptions, SpeakerPipeline
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.vad import EnergyVad
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt, ToneWordsAsr, silence
from tests.interpretation.feeding import push
from tests.interpretation.test_stability import Harness

pytestmark = pytest.mark.unit

VOCABULARY = ["one", "two", "three", "four,", "five", "six", "seven", "eight.", "nine", "ten"]


def harness(asr: ToneWordsAsr, clock: FakeClock, **kw: object) -> Harness:
    """A stream with clause finals cut at pauses, each a pass of its own (not stable finals,
    the default, unless ``stable_finals`` is given): only after punctuation unless told."""
    options = {"stable_finals": False, "clause_pause_min_s": None, **kw}
    stream = StreamAdapter(asr, vad=EnergyVad(), stream_id="spk", clock=clock, language="en",
                           options=StreamingOptions(**options))  # type: ignore[arg-type]
    return Harness(stream, clock)


def words_of(transcripts: list[Transcript]) -> list[str]:
    return [w.text for t in transcripts for w in t.words]


def test_clause_boundaries_are_punctuation_or_length_and_need_a_word_after() -> None:
    assert ends_clause("however,") and ends_clause("dit :") and ends_clause("好，") and ends_clause("end.”")
    assert not ends_clause("however") and not ends_clause("")
    stable = [Word("so,", 0.0, 0.5), Word("well,", 0.6, 1.6), Word("we", 1.7, 2.0), Word("went", 2.1, 3.2),
              Word("home", 3.3, 3.6)]
    # "so," is too short a clause; "went" ends 3.2 s of speech (long enough without punctuation);
    # "home" has no stable word after it, unless the pass heard one
    assert clause_boundary(stable, min_s=1.5, pause_min_s=3.0) == [3, 1]
    assert clause_boundary(stable, min_s=1.5, pause_min_s=3.0, more=True) == [4, 3, 1]
    assert clause_boundary(stable[:2], min_s=1.5, pause_min_s=3.0) == []


async def test_a_clause_after_a_pause_is_final_before_the_sentence_ends(scheduler: InferenceScheduler,
                                                                       clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock)
    # a 0.2 s pause after the comma: too short to end the utterance, long enough to cut in
    await h.feed(np.concatenate([asr.speak("one two three four,"), silence(0.2),
                                 asr.speak("five six seven eight."), silence(1.0)]))
    events = await h.finish()

    finals = h.transcripts(final=True)
    assert [f.text for f in finals] == ["one two three four,", "five six seven eight."]
    said = ["one", "two", "three", "four,", "five", "six", "seven", "eight."]
    assert words_of(finals) == said, "no word lost or heard twice"
    first_final = events.index(finals[0])
    assert not any(isinstance(e, Transcript) and "eight." in e.text for e in events[:first_final]), \
        "the first clause was final before the sentence's last word was even shown"
    # a line's final is its last word: never revised
    for utterance_id in {f.utterance_id for f in finals}:
        line = [e for e in events if isinstance(e, Transcript) and e.utterance_id == utterance_id]
        assert line[-1].is_final and sum(e.is_final for e in line) == 1
    # the clause's final pass heard a little of what followed (context), not the whole sentence,
    # and the next line's heard the end of the clause before it: each kept only its own words
    finals_heard = [c.seconds for c in asr.calls if c.mode is DecodeMode.FINAL]
    assert len(finals_heard) == 2 and finals_heard[0] < 3.0
    # the two lines touch: the second starts where the first ends
    assert finals[1].start == pytest.approx(finals[0].end, abs=1e-6)


async def test_the_words_after_the_clause_stay_shown_on_the_new_line(scheduler: InferenceScheduler,
                                                                     clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock)
    await h.feed(np.concatenate([asr.speak("one two three four,"), silence(0.2),
                                 asr.speak("five six seven eight."), silence(1.0)]))
    events = await h.finish()
    second = h.transcripts(final=True)[1].utterance_id
    starts = [i for i, e in enumerate(events) if isinstance(e, SpeechStart) and e.utterance_id == second]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert starts and len(ends) == 2
    # the new line begins with a partial showing what the pass heard after the cut
    after = events[starts[0] + 1]
    assert isinstance(after, Transcript) and after.utterance_id == second and not after.is_final
    assert after.words and after.words[0].text == "five"
    # words stable on the old line stay stable on the new one: no partial of the new line
    # shows fewer stable words than the one before it
    counts = [e.stable_count for e in events if isinstance(e, Transcript) and e.utterance_id == second
              and not e.is_final]
    assert counts == sorted(counts)


async def test_no_clause_final_without_a_pause(scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock)
    await h.feed(np.concatenate([asr.speak("one two three four, five six seven eight."), silence(1.0)]))
    await h.finish()
    assert [f.text for f in h.transcripts(final=True)] == ["one two three four, five six seven eight."]


async def test_clause_finals_off_keep_one_final_per_sentence(scheduler: InferenceScheduler,
                                                             clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock, clause_finals=False)
    await h.feed(np.concatenate([asr.speak("one two three four,"), silence(0.2),
                                 asr.speak("five six seven eight."), silence(1.0)]))
    await h.finish()
    assert [f.text for f in h.transcripts(final=True)] == ["one two three four, five six seven eight."]


async def test_a_long_clause_without_punctuation_ends_at_a_pause_and_a_short_one_does_not(
        scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock, clause_pause_min_s=2.0)
    # a pause after 1.2 s (short clause: no cut), another after 2.8 s (long: cut)
    await h.feed(np.concatenate([asr.speak("one two three"), silence(0.2), asr.speak("five six seven nine"),
                                 silence(0.2), asr.speak("ten eight."), silence(1.0)]))
    await h.finish()
    finals = h.transcripts(final=True)
    assert [f.text for f in finals] == ["one two three five six seven nine", "ten eight."]


async def test_clause_finals_are_translated_and_every_line_ends_final(scheduler: InferenceScheduler,
                                                                      clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    events: list[PipelineEvent] = []
    stream = StreamAdapter(asr, vad=EnergyVad(), stream_id="amina", clock=clock, language="en",
                           options=StreamingOptions(stable_finals=False, clause_pause_min_s=None))
    pipeline = SpeakerPipeline("amina", stream, translator=Translator([FakeMt(clock=clock, pairs=[("en", "fr")])]),
                               targets={"en", "fr"}, clock=clock, on_event=events.append, options=PipelineOptions())
    await pipeline.start()
    await push(pipeline, clock, np.concatenate([asr.speak("one two three four,"), silence(0.2),
                                                asr.speak("five six seven eight."), silence(1.0)]), settle=stream)
    await pipeline.finish()
    captions = [e for e in events if isinstance(e, Caption)]
    for role in ("original", "translation"):
        lines: dict[str, list[Caption]] = {}
        for c in captions:
            if c.role == role:
                lines.setdefault(c.utterance_id, []).append(c)
        assert len(lines) == 2, role
        assert all(line[-1].is_final and sum(c.is_final for c in line) == 1 for line in lines.values()), role
    translated = [c.text for c in captions if c.role == "translation" and c.is_final]
    assert translated == ["[fr] one two three four,", "[fr] five six seven eight."]
    assert not any(c.forced for c in captions)


async def test_a_long_clause_with_no_pause_is_cut_between_two_words_when_forced(scheduler: InferenceScheduler,
                                                                               clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    said = "one two three five six seven nine ten eight."
    h = harness(asr, clock, clause_force_s=2.0)
    await h.feed(np.concatenate([asr.speak(said), silence(1.0)]))
    await h.finish()
    finals = h.transcripts(final=True)
    assert len(finals) >= 2
    assert words_of(finals) == said.split(), "the contexts put each word on one line, once"
    unforced = harness(ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY), clock)
    await unforced.feed(np.concatenate([asr.speak(said), silence(1.0)]))
    await unforced.finish()
    assert [f.text for f in unforced.transcripts(final=True)] == [said]
