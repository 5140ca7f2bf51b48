"""The knobs of streaming recognition over a batch engine, each with the measure that set it."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.interpretation.vad import SegmenterOptions


@dataclass(frozen=True)
class StreamingOptions:
    partials: bool = True
    # a partial pass over every half second of new audio: a word is first shown ~0.25 s
    # (half a step) plus one pass (~0.25 s for base on one thread) after it is spoken
    partial_interval_s: float = 0.5
    # when passes get slow (long utterances, other speakers queued before this one, a busy
    # machine), wait for at least this many times the last pass's duration (queueing
    # included) of new audio instead: the step grows with the load, finals are not starved
    partial_backoff: float = 1.0
    # the first pass once the utterance (0.25 s of pre-roll included) is this long
    min_partial_audio_s: float = 0.6
    # a partial pass of a long utterance starts this many stable words before the last one
    # (from their estimated times, less `partial_overlap_s`) instead of at the utterance's
    # start: the decoder, most of a pass, no longer re-reads what is already stable, and the
    # overlap realigns the new words on the stable ones. None: every pass hears it all
    partial_overlap_words: int | None = 3
    partial_overlap_s: float = 0.5
    # ... once the skipped audio would be at least this long
    partial_skip_min_s: float = 2.0
    # the final pass also hears up to this much audio from before the utterance (the end of
    # the previous one) and keeps only the words whose middle lies in the utterance: audio,
    # never earlier text, as context. Off: on ../shared/eval 2 s gave 20.4 % WER against
    # 19.6 % without (better for es/fr, worse for de/en) and cost ~60 % more final time
    final_context_s: float = 0.0
    # a pause (the segmenter's ``min_silence_s``) ends the utterance only when the words so
    # far end a sentence; after a comma, or a clause without punctuation, the utterance waits
    # up to this much silence in all for the speaker to go on: the final then hears the
    # whole sentence (a final per clause lost the context Whisper needs: "Oravec 2002" said
    # after a pause came out "Ahora ve 2.000.2.") and costs one pass instead of several.
    # None: every pause ends the utterance
    sentence_pause_s: float | None = 1.0
    # ... but only while the utterance is shorter than this: a long clause has context
    # enough, and holding it back only delays the final of words partials got wrong
    open_sentence_max_s: float = 3.0
    # clause finals: once the stable words (two passes agree) run past a clause boundary, the
    # words up to it become a final of their own and the words after it go on as a new line,
    # shown at once: a word waits for its clause, not for the end of the sentence or a 15 s
    # cut. A boundary is after a word ending in punctuation once the clause is `clause_min_s`
    # long, or after any word once it is `clause_pause_min_s` long (None: never without
    # punctuation). With `stable_finals` (the default) the final is the stable words as they
    # stand; without, a pause the VAD heard (a frame under `clause_quiet`) is needed too and the
    # final is one careful pass over the clause's audio, and there cutting after any word (3 s)
    # cost 1.3 points of WER, the clause's pass lacking what came after (bench/README.md,
    # session 5). Off: finals only at endpoints
    clause_finals: bool = True
    clause_min_s: float = 1.5
    # 2 s with stable finals: on ../shared/eval (19 clips, session 9) the final p50 fell from
    # 6.63 to 4.10 s (p90 10.65 -> 6.83 s, a loaded box) at 18.5 % WER against 18.8 %; 1.5 s
    # came sooner still (3.87 s) but at 21.0 %
    clause_pause_min_s: float | None = 2.0
    clause_quiet: float = 0.35
    # the final of a line that a clause final began also hears this much audio before it (the
    # end of the clause before; its words are dropped): what the speaker was saying, as audio
    clause_context_s: float = 1.0
    # ... and the final of the clause hears up to this much of what was said after its end
    # (already heard: no wait), keeping only its own words, so the cut does not read as the
    # end of a sentence to Whisper
    clause_right_context_s: float = 1.0
    # a clause this long (from the line's start) ends at its latest stable word even where the
    # VAD heard no pause (cut at the quietest frame between the two words; the contexts on
    # both sides put a word the cut falls in on one line). None: only at pauses
    clause_force_s: float | None = None
    # stable finals: at a clause boundary (as above, but no pause needed) the line ends with its
    # stable words as they stand, with no pass of its own, so nothing is decoded twice; the
    # utterance goes on as a new line whose passes (the endpoint's final too) hear a few of
    # those words again and keep only what follows them (aligned on them). Off: the clause's
    # final is a pass over its audio, cut at the pause (session 5's clause finals)
    stable_finals: bool = True
    max_utterance_s: float = 15.0
    min_utterance_s: float = 0.3
    idle_endpoint_s: float | None = 1.0  # None: never (audio pushed in bursts, e.g. offline benchmarks)
    detect_min_audio_s: float = 1.5
    detect_confidence: float = 0.7
    # a detected language (one not given) is not kept forever: each new line is checked once it
    # has `detect_min_audio_s` of audio, beside its partial passes (nothing waits for it), and a
    # confident other language takes over for that line and the ones after (a speaker moving
    # between languages). Lines a clause final began are not checked again
    recheck_language: bool = True
    segmenter: SegmenterOptions = field(default_factory=SegmenterOptions)
