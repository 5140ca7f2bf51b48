"""Streaming recognition from a batch engine: VAD endpointing + local agreement.

    audio -> VAD (Segmenter) -> utterance buffer
      while speech goes on: every ``partial_interval_s`` of new audio (one pass at a time, and
        less often when passes get slow)
        quick pass over the utterance (in a long one, from a few stable words back) -> words
        two successive passes agree on are committed (the stable prefix, never retracted
        until the final); the words after it are shown too, unstable (the first caption of a
        word is what latency is about)
        once the stable words run past a clause boundary (punctuation, or 2 s of line): the
        line ends there with those stable words as its final (stable final, no pass of its
        own) and the utterance goes on as a new line, its stable words after the boundary
        still shown, still stable; its passes hear a few of the final words again and keep
        what follows them. (Without stable finals: only where the speaker paused, and the
        clause gets a pass of its own, with a second of audio either side as context)
      at the endpoint (a pause after a sentence end, a longer pause inside one, flush, idle
        audio, max length): one beam-search pass over the line (after stable finals, from a
        few of their words back) -> final (replaces the partials; may revise them; never
        revised itself)

Earlier text is never fed back as a prompt (it makes Whisper repeat itself); each pass sees
only audio. The language is detected per stream when not given, from the first utterance
with enough audio, and kept once the engine is confident; each later line is checked again
beside its passes, so a speaker who moves to another language is followed.

Every utterance that showed a partial ends in a final: when the final pass fails, the last
partial's words become the final; when the utterance proves too short to be speech, an empty
final takes its partials back. Utterance ids are unique per stream instance, so a speaker
added again (rejoined, moved to another worker) never reuses the id of an earlier line.

    options.py      StreamingOptions, the knobs and the measures behind them
    stream.py       StreamAdapter: ingest, endpoints, partial passes, clause finals
    finals.py       FinalPasses: one final pass at a time, in order; health.py: the engine's health
    agreement.py    local agreement of passes (stable prefix, tail alignment)
    clauses.py      sentence and clause ends, clause boundaries among stable words
    language.py     LanguagePolicy: given, detected and kept, or checked again per line
    utterance.py    one line's state; buffer.py, timeline.py, vad_history.py: its audio,
                    media and arrival times, and the VAD's recent frames
"""

from parley.interpretation.adapters.agreement import common_prefix, normalize_word, tail_after
from parley.interpretation.adapters.clauses import CLAUSE_END, SENTENCE_END, clause_boundary, ends_clause, ends_sentence
from parley.interpretation.adapters.options import StreamingOptions
from parley.interpretation.adapters.stream import StreamAdapter

__all__ = [
    "CLAUSE_END",
    "SENTENCE_END",
    "StreamAdapter",
    "StreamingOptions",
    "clause_boundary",
    "common_prefix",
    "ends_clause",
    "ends_sentence",
    "normalize_word",
    "tail_after",
]
