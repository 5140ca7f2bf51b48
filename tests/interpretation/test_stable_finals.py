"""Stable finals: at a clause boundary the line ends with its stable words as they stand (no
pass of its own, no pause needed), and the utterance goes on as a new line whose passes hear a
few of those words again and keep only what follows them.

The recogniser is `ToneWordsAsr`, which hears its audio (a word is a tone), so a seam in the
wrong place shows as a word lost or heard twice. Fake clock; every pass finishes before more
audio comes. No timing is asserted: the order of events says what came first.
"""

from __future__ import annotations

import numpy as np
import pytest

from parley.interpretation.adapters import StreamAdapter, StreamingOptions
from parley.interpretation.asr.base import DecodeMode
from parley.interpretation.frames import SpeechEnd, SpeechStart, Transcript
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.vad import EnergyVad
from tests.fakes.clock import FakeClock
from tests.fakes.engines import ToneWordsAsr, silence
from tests.interpretation.test_clause_finals import VOCABULARY, harness, words_of
from tests.interpretation.test_stability import Harness

pytestmark = pytest.mark.unit


async def test_a_clause_is_final_as_its_stable_words_without_a_pause_or_a_pass(
        scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock, stable_finals=True)
    said = "one two three four, five six seven eight."
    await h.feed(np.concatenate([asr.speak(said), silence(1.0)]))
    events = await h.finish()

    finals = h.transcripts(final=True)
    assert [f.text for f in finals] == ["one two three four,", "five six seven eight."]
    assert words_of(finals) == said.split(), "no word lost or heard twice"
    first_final = events.index(finals[0])
    assert not any(isinstance(e, Transcript) and "eight." in e.text for e in events[:first_final]), \
        "the clause was final before the sentence's last word was even shown"
    # one final pass, for the last line: the clause's words were not decoded again
    assert [c.mode for c in asr.calls].count(DecodeMode.FINAL) == 1
    for utterance_id in {f.utterance_id for f in finals}:
        line = [e for e in events if isinstance(e, Transcript) and e.utterance_id == utterance_id]
        assert line[-1].is_final and sum(e.is_final for e in line) == 1, "a final is its line's last word"
    assert finals[1].start == pytest.approx(finals[0].end, abs=1e-6), "the two lines touch"
    starts = [e.utterance_id for e in events if isinstance(e, SpeechStart)]
    ends = [e.utterance_id for e in events if isinstance(e, SpeechEnd)]
    assert starts == ends == [f.utterance_id for f in finals]


async def test_the_new_line_shows_only_its_own_words_stable_ones_still_stable(
        scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    h = harness(asr, clock, stable_finals=True)
    await h.feed(np.concatenate([asr.speak("one two three four, five six seven eight."), silence(1.0)]))
    await h.finish()
    second = h.transcripts(final=True)[1].utterance_id
    partials = [t for t in h.transcripts(final=False) if t.utterance_id == second]
    assert partials and all(t.words[0].text == "five" for t in partials if t.words)
    counts = [t.stable_count for t in partials]
    assert counts == sorted(counts)


async def test_long_clauses_without_punctuation_end_between_any_two_stable_words(
        scheduler: InferenceScheduler, clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    said = "one two three five six seven nine ten two three five six seven eight."
    h = harness(asr, clock, stable_finals=True, clause_pause_min_s=1.0)
    await h.feed(np.concatenate([asr.speak(said), silence(1.0)]))
    await h.finish()
    finals = h.transcripts(final=True)
    assert len(finals) >= 3
    assert words_of(finals) == said.split(), "the last line's final pass skips what earlier lines made final"
    # that pass heard a few of those words again, not the whole utterance
    final_pass = [c.seconds for c in asr.calls if c.mode is DecodeMode.FINAL]
    assert len(final_pass) == 1 and final_pass[0] < len(said.split()) * 0.4


async def test_stable_finals_across_sentences_and_the_long_utterance_cut(scheduler: InferenceScheduler,
                                                                        clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    first = "one two three four, five six seven eight."
    second = "nine ten one four, three five six seven nine ten one two three five six seven eight."
    h = harness(asr, clock, stable_finals=True, clause_pause_min_s=2.0, max_utterance_s=5.0)
    await h.feed(np.concatenate([asr.speak(first), silence(1.2), asr.speak(second), silence(1.2)]))
    events = await h.finish()
    finals = h.transcripts(final=True)
    assert words_of(finals) == (first + " " + second).split()
    ids = [f.utterance_id for f in finals]
    assert len(ids) == len(set(ids)), "one final per line"
    shown = {e.utterance_id for e in events if isinstance(e, Transcript)}
    assert shown == set(ids), "every line ends final"


async def test_by_default_a_long_sentence_is_final_in_pieces_every_word_once(scheduler: InferenceScheduler,
                                                                            clock: FakeClock) -> None:
    asr = ToneWordsAsr(scheduler=scheduler, clock=clock, vocabulary=VOCABULARY)
    said = "one two three five six seven nine ten two three five six seven eight."
    h = Harness(StreamAdapter(asr, vad=EnergyVad(), stream_id="spk", clock=clock, language="en",
                              options=StreamingOptions()), clock)
    await h.feed(np.concatenate([asr.speak(said), silence(1.0)]))
    events = await h.finish()
    finals = h.transcripts(final=True)
    assert len(finals) >= 2, "stable words two seconds into a line are final before the sentence ends"
    assert words_of(finals) == said.split()
    for utterance_id in {f.utterance_id for f in finals}:
        line = [e for e in events if isinstance(e, Transcript) and e.utterance_id == utterance_id]
        assert line[-1].is_final and sum(e.is_final for e in line) == 1
