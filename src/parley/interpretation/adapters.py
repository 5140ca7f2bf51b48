"""Streaming recognition from a batch engine: VAD endpointing + local agreement.

    audio -> VAD (Segmenter) -> utterance buffer
      while speech goes on: every ``partial_interval_s`` of new audio (one pass at a time, and
        less often when passes get slow)
        quick pass over the utterance (in a long one, from a few stable words back) -> words
        two successive passes agree on are committed (the stable prefix, never retracted
        until the final); the words after it are shown too, unstable (the first caption of a
        word is what latency is about)
        once the stable words run past a clause boundary where the speaker paused (punctuation,
        or a long clause): the line ends there (clause final) and its words after the boundary
        go on as a new line, still shown, still stable
      at the endpoint (a pause after a sentence end, a longer pause inside one, flush, idle
        audio, max length, or a clause final): one beam-search pass over the utterance (for a
        clause, with a second of audio either side as context) -> final (replaces the
        partials; may revise them; never revised itself)

Earlier text is never fed back as a prompt (it makes Whisper repeat itself); each pass sees
only audio. The language is detected per stream when not given, from the first utterance
with enough audio, and kept once the engine is confident; each later line is checked again
beside its passes, so a speaker who moves to another language is followed.

Every utterance that showed a partial ends in a final: when the final pass fails, the last
partial's words become the final; when the utterance proves too short to be speech, an empty
final takes its partials back. Utterance ids are unique per stream instance, so a speaker
added again (rejoined, moved to another worker) never reuses the id of an earlier line.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import difflib
import logging
import secrets
import unicodedata
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.asr.base import AsrEngine, AsrStream, DecodeMode, Hypothesis
from parley.interpretation.frames import (
    EngineHealth,
    HealthStatus,
    Samples,
    SpeechEnd,
    SpeechStart,
    Transcript,
    Word,
)
from parley.interpretation.scheduler import Superseded
from parley.interpretation.vad import Segmenter, SegmenterOptions, Vad

log = logging.getLogger(__name__)


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
    # words up to it become a final of their own (one careful pass over their audio) and the
    # words after it go on as a new line, shown at once: a word waits for its clause, not for
    # the end of the sentence or a 15 s cut. A boundary is a pause the VAD heard (a frame under
    # `clause_quiet`) between two stable words, after a word ending in punctuation once the
    # clause is `clause_min_s` long, or after any word once it is `clause_pause_min_s` long
    # (None: never without punctuation; on ../shared/eval 3 s cost 1.3 points of WER, the
    # clause's final lacking what came after: bench/README.md). Off: finals only at endpoints
    clause_finals: bool = True
    clause_min_s: float = 1.5
    clause_pause_min_s: float | None = None
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


def normalize_word(text: str) -> str:
    """What two passes must agree on: case and punctuation do not count."""
    return "".join(ch for ch in text.casefold() if not unicodedata.category(ch).startswith(("P", "Z")))


SENTENCE_END = frozenset(".?!…。？！؟")
CLAUSE_END = SENTENCE_END | frozenset(",;:，、；：،؛")


def ends_sentence(text: str) -> bool:
    """Whether recognised text ends a sentence (Whisper punctuates what it hears)."""
    text = text.rstrip().rstrip("\"'”’»)]")
    return bool(text) and text[-1] in SENTENCE_END


def ends_clause(text: str) -> bool:
    """Whether a recognised word ends a clause (a comma, a colon, a sentence end ...)."""
    text = text.rstrip().rstrip("\"'”’»)]")
    return bool(text) and text[-1] in CLAUSE_END


def clause_boundary(stable: list[Word], *, min_s: float, pause_min_s: float | None,
                    more: bool = False) -> list[int]:
    """Indices ``i`` of stable words after which a clause may end, latest first: the clause up
    to it is long enough (after punctuation ``min_s``, after any word ``pause_min_s``, None:
    never without punctuation; word times from the line's start) and a word follows (stable,
    or with ``more`` one the pass heard after the stable ones). Whether the speaker paused
    there is for the caller to hear."""
    last = len(stable) - 1 if more else len(stable) - 2
    return [i for i in range(last, -1, -1)
            if (pause_min_s is not None and stable[i].end >= pause_min_s)
            or (stable[i].end >= min_s and ends_clause(stable[i].text))]


def common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def tail_after(committed: list[str], hyp: list[str], max_skip: int = 3) -> int | None:
    """Index in ``hyp`` where the words after the committed prefix begin; None if lost.

    The pass is aligned on the committed words; when the last of them came out differently
    this time ("Stages" committed, now "États-Unis"), as many words of ``hyp`` stand for them
    (up to ``max_skip``), so new words keep appearing after a committed mistake instead of
    freezing the caption until the final.
    """
    if hyp[: len(committed)] == committed:
        return len(committed)
    if not committed:
        return 0
    matcher = difflib.SequenceMatcher(a=committed, b=hyp, autojunk=False)
    last = len(committed) - 1
    for block in reversed(matcher.get_matching_blocks()):
        if not block.size:
            continue
        if block.a <= last < block.a + block.size:
            return block.b + (last - block.a) + 1
        unmatched = last - (block.a + block.size - 1)  # committed words after the last agreement
        if unmatched <= max_skip:
            return min(len(hyp), block.b + block.size + unmatched)
        return None
    return None


class _Buffer:
    """Growable sample buffer; slices stay valid after later appends (never overwritten)."""

    def __init__(self, start_index: int = 0) -> None:
        self.start = start_index
        self._data = np.zeros(16_000, np.float32)
        self._len = 0

    @property
    def end(self) -> int:
        return self.start + self._len

    def append(self, samples: Samples) -> None:
        need = self._len + len(samples)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), np.float32)
            grown[: self._len] = self._data[: self._len]
            self._data = grown
        self._data[self._len : need] = samples
        self._len = need

    def view(self, start: int, end: int) -> Samples:
        a = max(start, self.start) - self.start
        b = min(end, self.end) - self.start
        return self._data[a:b]

    def keep_from(self, index: int) -> None:
        index = min(max(index, self.start), self.end)
        kept = self._data[index - self.start : self._len].copy()
        self._data = np.zeros(max(16_000, 2 * len(kept)), np.float32)
        self._data[: len(kept)] = kept
        self._len = len(kept)
        self.start = index


@dataclass(eq=False)
class _Utterance:
    id: str
    start: int  # sample index (stream samples), pre-roll included
    voiced_from: int = 0  # where the VAD heard speech begin
    end: int | None = None
    voiced_until: int | None = None
    language: str | None = None
    language_probability: float = 1.0
    committed: list[Word] = field(default_factory=list)
    prev_tail: list[str] | None = None
    last_partial_end: int = 0
    revision: int = 0
    final_requested: bool = False
    last_text: str = ""  # the newest partial, to tell whether a pause ends a sentence
    realign: bool = False  # the last pass lost the stable words: the next one hears it all
    shown: tuple[Word, ...] | None = None  # the newest partial's words (media time), once one was emitted
    paused_at: tuple[int, int] | None = None  # (end, voiced until) of a pause not yet an endpoint
    context_s: float = 0.0  # audio before the line its final hears too
    language_checked: bool = False  # its language was detected or checked on its own audio
    right_context: int = 0  # samples after the line's end its final hears too


class StreamAdapter(AsrStream):
    def __init__(self, engine: AsrEngine, *, vad: Vad, stream_id: str, clock: Clock,
                 language: str | None = None, candidates: Collection[str] | None = None,
                 options: StreamingOptions | None = None) -> None:
        super().__init__(stream_id=stream_id, sample_rate=engine.capabilities.sample_rate, clock=clock)
        self.engine = engine
        self.vad = vad
        self.options = options or StreamingOptions()
        self.language = language
        self.language_confident = language is not None
        self._language_given = language is not None
        self.candidates = frozenset(candidates or ())
        self._rate = engine.capabilities.sample_rate
        self._frame = vad.frame_samples
        self._segmenter = Segmenter(self.options.segmenter, frame_s=self._frame / self._rate)
        self._buf = _Buffer()
        self._total = 0  # samples pushed so far
        self._anchors: list[tuple[int, float]] = []  # (sample index, media time) at discontinuities
        self._arrivals: deque[tuple[int, float]] = deque()  # (end sample index, captured_at)
        self._last_audio_at = clock.monotonic()
        self._utt: _Utterance | None = None
        self._counter = 0
        self._instance = secrets.token_hex(3)  # utterance ids never repeat those of an earlier stream
        self._partial_task: asyncio.Task[None] | None = None
        self._recheck: asyncio.Task[None] | None = None
        self._finals: asyncio.Queue[tuple[_Utterance, Samples, float, int] | None] = asyncio.Queue()
        self._detect_lock = asyncio.Lock()
        self._health = HealthStatus.OK
        self._finals_pending = 0
        self._last_end = 0
        self._partial_cost = 0.0  # seconds the last partial pass took
        self._vad_probs: deque[float] = deque(maxlen=int(self.options.max_utterance_s * self._rate / self._frame) + 1)

    # --- time bookkeeping -------------------------------------------------------------

    def media_time(self, index: int) -> float:
        if not self._anchors:
            return index / self._rate
        i = bisect.bisect_right(self._anchors, (index, float("inf"))) - 1
        base_index, base_time = self._anchors[max(i, 0)]
        return base_time + (index - base_index) / self._rate

    def arrival_time(self, index: int) -> float:
        for end, at in self._arrivals:
            if end >= index:
                return at
        return self._arrivals[-1][1] if self._arrivals else self.clock.monotonic()

    # --- ingest -------------------------------------------------------------------------

    async def _run(self) -> None:
        finals = self._tasks.spawn("finals", self._finals_loop())
        watchdog = self._tasks.spawn("idle", self._idle_watchdog())
        try:
            while True:
                item = await self._next_input()
                try:
                    if item == "end":
                        self._endpoint(self._total)
                        break
                    if item == "flush":
                        self._endpoint(self._total)
                        continue
                    assert not isinstance(item, str)
                    self._ingest(item.samples, item.start, item.captured_at)
                finally:
                    self._unprocessed -= 1
            if self._partial_task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._partial_task
            self._finals.put_nowait(None)
            await finals
        finally:
            watchdog.cancel()

    def _ingest(self, samples: Samples, start: float, captured_at: float) -> None:
        self._last_audio_at = self.clock.monotonic()
        expected = self.media_time(self._total)
        if not self._anchors or abs(start - expected) > 0.05:
            if self._anchors and (self._segmenter.in_speech or self._utt is not None):
                self._endpoint(self._total)  # a jump in media time cannot sit inside one utterance
            self._anchors.append((self._total, start))
        self._buf.append(samples)
        self._total += len(samples)
        self._arrivals.append((self._total, captured_at))
        probs = self.vad.probabilities(samples)
        self._vad_probs.extend(probs)
        for boundary in self._segmenter.push(probs):
            at = boundary.frame * self._frame
            if boundary.kind == "start":
                if self._utt is not None and self._utt.paused_at is not None:
                    self._utt.paused_at = None  # the sentence goes on
                else:
                    self._begin(max(self._buf.start, at - int(self.options.segmenter.pad_s * self._rate), 0),
                                voiced=at)
            else:
                self._pause(min(self._total, at + int(self.options.segmenter.pad_s * self._rate)), voiced_until=at)
        utt = self._utt
        if utt is not None and utt.paused_at is not None and self.options.sentence_pause_s is not None \
                and (self._total - utt.paused_at[1]) / self._rate >= self.options.sentence_pause_s:
            self._endpoint(self._total, from_vad=True)
            utt = None
        if utt is not None and self._segmenter.in_speech:
            if (self._total - utt.start) / self._rate >= self.options.max_utterance_s:
                self._split(utt)
            else:
                self._maybe_partial(utt)
        elif utt is not None and utt.paused_at is not None and utt.last_partial_end < utt.paused_at[0]:
            # the words just before the pause: shown now, not when the speaker goes on
            self._maybe_partial(utt, upto=utt.paused_at[0])
        elif utt is None:
            # outside speech keep only what a future utterance's pre-roll needs
            keep = int((self.options.segmenter.pad_s + self.options.final_context_s) * self._rate) + self._frame
            if self._buf.end - self._buf.start > 4 * keep:
                self._buf.keep_from(self._buf.end - keep)
                while self._arrivals and self._arrivals[0][0] < self._buf.start:
                    self._arrivals.popleft()

    def _begin(self, start: int, *, voiced: int | None = None) -> None:
        start = max(start, self._last_end)  # pre-roll must not reach into the previous utterance
        self._counter += 1
        self._utt = _Utterance(id=f"{self.stream_id}-{self._instance}-{self._counter}", start=start,
                               last_partial_end=start,
                               voiced_from=start if voiced is None else voiced)
        self._emit(SpeechStart(self.stream_id, self._utt.id, self.media_time(start)))

    def _pause(self, end: int, *, voiced_until: int) -> None:
        """The VAD heard the speaker stop: an endpoint, unless the words so far leave the
        sentence open (then `sentence_pause_s` of silence, or the speaker going on, decides)."""
        utt = self._utt
        if utt is not None and self.options.sentence_pause_s is not None and utt.last_text \
                and (end - utt.start) / self._rate < self.options.open_sentence_max_s \
                and not ends_sentence(utt.last_text):
            utt.paused_at = (end, voiced_until)
            return
        self._endpoint(end, from_vad=True, voiced_until=voiced_until)

    def _endpoint(self, end: int, *, from_vad: bool = False, voiced_until: int | None = None) -> None:
        utt = self._utt
        if not from_vad:
            self._segmenter.force_end()
        if utt is None:
            return
        self._utt = None
        if utt.paused_at is not None:  # it ended at that pause
            end, voiced_until = utt.paused_at
        self._finish(utt, end, voiced_until)

    def _finish(self, utt: _Utterance, end: int, voiced_until: int | None = None) -> None:
        utt.end = max(end, utt.start)
        self._last_end = utt.end
        utt.voiced_until = utt.end if voiced_until is None else voiced_until
        utt.final_requested = True
        self._emit(SpeechEnd(self.stream_id, utt.id, self.media_time(utt.end)))
        if self._partial_task is not None and not self._partial_task.done():
            self._partial_task.cancel()  # its result would only precede the final
        context = min(utt.start - self._buf.start,
                      int(max(self.options.final_context_s, utt.context_s) * self._rate))
        audio = self._buf.view(utt.start - max(context, 0), min(utt.end + utt.right_context, self._buf.end))
        self._finals_pending += 1
        self._finals.put_nowait((utt, audio, self.arrival_time(utt.end), max(context, 0)))

    def _split(self, utt: _Utterance) -> None:
        """The speaker has not paused for ``max_utterance_s``: cut where it hurts least, in the
        quietest frame near the end of the stable words (partial word times are estimates),
        else in the quietest of the last 3 s."""
        cut = None
        if utt.committed:
            end = utt.start + int(utt.committed[-1].end * self._rate)
            if end - utt.start > self._total - end:
                half = int(0.4 * self._rate)
                cut = self._quietest(end - half, end + half)
                if cut is None:
                    cut = end
        if cut is None:
            cut = self._quietest(self._total - 3 * self._rate, self._total)
        if cut is None:
            cut = self._total
        cut = min(max(cut, utt.start + self._frame), self._total)
        self._utt = None
        self._finish(utt, cut)
        self._begin(cut)

    def _quietest(self, lo: int, hi: int) -> int | None:
        """Start (sample index) of the frame least likely to be speech in [lo, hi), among the
        frames whose probabilities are still kept; None if there are none."""
        seen = self._segmenter.frames_seen
        first = seen - len(self._vad_probs)
        a, b = max(first, lo // self._frame), min(seen, -(-hi // self._frame))
        if a >= b:
            return None
        probs = list(self._vad_probs)[a - first:b - first]
        return (a + int(np.argmin(probs))) * self._frame

    def _probability(self, index: int) -> float:
        """The VAD's speech probability of the frame starting at sample ``index`` (kept frames only)."""
        first = self._segmenter.frames_seen - len(self._vad_probs)
        at = index // self._frame - first
        return self._vad_probs[at] if 0 <= at < len(self._vad_probs) else 1.0

    # --- partial passes -----------------------------------------------------------------

    def _maybe_partial(self, utt: _Utterance, *, upto: int | None = None) -> None:
        """A partial pass if one is due; ``upto``: one over the audio until then, due now."""
        if not self.options.partials or utt.final_requested:
            return
        if self._partial_task is not None and not self._partial_task.done():
            return
        end = self._total if upto is None else upto
        length = (end - utt.start) / self._rate
        if length < self.options.min_partial_audio_s:
            return
        interval = max(self.options.partial_interval_s, self.options.partial_backoff * self._partial_cost)
        if upto is None and (end - utt.last_partial_end) / self._rate < interval \
                and utt.last_partial_end != utt.start:
            return
        utt.last_partial_end = end
        begin = self._partial_start(utt, end)
        audio = self._buf.view(begin, end)
        self._partial_task = self._tasks.spawn(f"partial-{utt.id}",
                                               self._partial(utt, audio, self.arrival_time(end), begin))

    def _partial_start(self, utt: _Utterance, end: int) -> int:
        """Where a partial pass's audio ending at ``end`` begins: a few stable words before the
        last one, once that skips enough to matter; else the utterance's start (also when the
        estimated word times would leave less than a second to hear)."""
        overlap = self.options.partial_overlap_words
        if overlap is None or utt.realign or len(utt.committed) <= overlap:
            return utt.start
        at = utt.committed[-overlap - 1].start - self.options.partial_overlap_s
        begin = utt.start + int(at * self._rate)
        if at < self.options.partial_skip_min_s or end - begin < self._rate:
            return utt.start
        return begin

    async def _partial(self, utt: _Utterance, audio: Samples, audio_end_at: float, begin: int) -> None:
        if self.options.recheck_language and not self._language_given and not utt.language_checked \
                and utt.language is not None and begin == utt.start \
                and len(audio) / self._rate >= self.options.detect_min_audio_s:
            utt.language_checked = True
            self._recheck = self._tasks.spawn(f"language-{utt.id}", self._recheck_language(utt, audio))
        try:
            language = await self._language_for(utt, audio, final=False)
            if language is None and not self.engine.capabilities.language_detection:
                return
            t0 = self.clock.monotonic()
            hyp = await self.engine.recognize(audio, stream_id=self.stream_id, language=language,
                                              mode=DecodeMode.PARTIAL)
            self._partial_cost = self.clock.monotonic() - t0
        except Superseded:
            return
        except EngineError as exc:
            self._report(exc)
            return
        self._report(None)
        if utt.final_requested:
            return
        skipped = (begin - utt.start) / self._rate
        if skipped:  # word times relative to the utterance, like the stable words'
            hyp = Hypothesis(tuple(self._shift(w, skipped) for w in hyp.words), hyp.language,
                             hyp.language_probability)
        self._agree(utt, hyp)
        utt.revision += 1
        offset = self.media_time(utt.start)
        index, aligned = self._tail_index(utt, hyp)
        utt.realign = not aligned and bool(skipped)
        tail = list(hyp.words[index:])
        if self.options.clause_finals and utt is self._utt:
            split = self._clause_final(utt, tail)
            if split is not None:  # the rest of the pass is the new line's first partial
                utt, tail = split
                utt.revision += 1
                offset = self.media_time(utt.start)
                audio = self._buf.view(utt.start, utt.last_partial_end)
        utt.last_text = " ".join(w.text for w in (*utt.committed, *tail))
        words = tuple(self._shift(w, offset) for w in utt.committed) + tuple(self._shift(w, offset) for w in tail)
        utt.shown = words
        self._emit(Transcript(
            stream_id=self.stream_id, utterance_id=utt.id, language=utt.language or hyp.language,
            words=words, is_final=False, stable_count=len(utt.committed),
            start=offset, end=offset + len(audio) / self._rate, audio_end_at=audio_end_at,
            emitted_at=self.clock.monotonic(), language_probability=utt.language_probability,
            revision=utt.revision,
        ))

    def _clause_final(self, utt: _Utterance, tail: list[Word]) -> tuple[_Utterance, list[Word]] | None:
        """End the line at the latest clause boundary among its stable words where the speaker
        paused (see `StreamingOptions.clause_finals`): its final is requested for the audio up
        to the quietest frame of that pause, and the words after it go on as a new line, stable
        ones still stable. Returns the new line and its unstable words, or None (no boundary)."""
        o = self.options
        following = [*utt.committed, *tail[:1]]
        pause_min = o.clause_pause_min_s if o.clause_force_s is None else \
            min(o.clause_force_s, o.clause_pause_min_s or o.clause_force_s)
        for i in clause_boundary(utt.committed, min_s=o.clause_min_s, pause_min_s=pause_min, more=bool(tail)):
            left, right = following[i], following[i + 1]
            lo = utt.start + int(max(left.end - 0.1, left.start) * self._rate)
            hi = utt.start + int(max(right.start + 0.1, left.end) * self._rate)
            cut = self._quietest(lo, hi)
            if cut is not None and utt.start < cut < self._total and (
                    self._probability(cut) < o.clause_quiet
                    or (o.clause_force_s is not None and left.end >= o.clause_force_s)):
                break
        else:
            return None
        carried = utt.committed[i + 1:]
        utt.committed = utt.committed[:i + 1]
        offset = self.media_time(utt.start)
        utt.shown = tuple(self._shift(w, offset) for w in utt.committed)  # what stands if its final fails
        utt.right_context = int(o.clause_right_context_s * self._rate)
        running, self._partial_task = self._partial_task, None  # this very pass: not to be cancelled
        self._utt = None
        self._finish(utt, cut)
        self._begin(cut)
        self._partial_task = running
        new = self._utt
        assert new is not None
        moved = (cut - utt.start) / self._rate
        new.committed = [self._shift(w, -moved) for w in carried]
        new.prev_tail, new.realign = utt.prev_tail, utt.realign
        new.language, new.language_probability = utt.language, utt.language_probability
        new.last_partial_end, new.paused_at = max(utt.last_partial_end, cut), utt.paused_at
        new.context_s = o.clause_context_s
        new.language_checked = utt.language_checked
        return new, [self._shift(w, -moved) for w in tail]

    def _tail_index(self, utt: _Utterance, hyp: Hypothesis) -> tuple[int, bool]:
        """Where the pass's words after the stable ones begin, and whether the stable words
        were found in it. When none is (an early pass heard "Vamos" and later ones "O Sky
        Folding não é ..."), by time: the words after the stable ones' end, so the caption
        goes on instead of freezing on a stable mistake until the final."""
        index = tail_after([normalize_word(w.text) for w in utt.committed], [normalize_word(w.text) for w in hyp.words])
        if index is not None:
            return index, True
        end = utt.committed[-1].end
        return next((i for i, w in enumerate(hyp.words) if (w.start + w.end) / 2 >= end), len(hyp.words)), False

    def _agree(self, utt: _Utterance, hyp: Hypothesis) -> None:
        """Local agreement: commit the words this pass and the previous one agree on."""
        start, _ = self._tail_index(utt, hyp)
        tail_words = list(hyp.words[start:])
        tail = [normalize_word(w.text) for w in tail_words]
        if utt.prev_tail is not None:
            n = common_prefix(utt.prev_tail, tail)
            # never commit the pass's last word: it may be cut off mid-word by the buffer end
            n = min(n, max(0, len(tail) - 1))
            utt.committed.extend(tail_words[:n])
            tail = tail[n:]
        utt.prev_tail = tail

    @staticmethod
    def _shift(w: Word, offset: float) -> Word:
        return Word(w.text, w.start + offset, w.end + offset, w.probability)

    # --- finals ---------------------------------------------------------------------------

    async def _finals_loop(self) -> None:
        while True:
            item = await self._finals.get()
            if item is None:
                return
            try:
                await self._final(*item)
            except Exception:  # a bug must not end this stream's finals: this line ends with its partial
                log.exception("stream %s: the final of %s failed", self.stream_id, item[0].id)
                utt, _, audio_end_at, _ = item
                if utt.shown is not None:
                    duration = ((utt.end or utt.start) - utt.start) / self._rate
                    self._emit_final(utt, utt.shown, utt.language or "", duration, audio_end_at)
            finally:
                self._finals_pending -= 1

    async def _final(self, utt: _Utterance, audio: Samples, audio_end_at: float, context: int = 0) -> None:
        voiced = ((utt.voiced_until or 0) - utt.voiced_from) / self._rate
        duration = ((utt.end or utt.start) - utt.start) / self._rate
        if voiced < self.options.min_utterance_s:
            # a click or a cough: not worth a pass (and Whisper invents words for it); partials
            # shown for it are taken back
            if utt.shown is not None:
                self._emit_final(utt, (), utt.language or "", duration, audio_end_at)
            return
        try:
            language = await self._language_for(utt, audio[context:], final=True)
            hyp = await self.engine.recognize(audio, stream_id=self.stream_id, language=language,
                                              mode=DecodeMode.FINAL)
        except (Superseded, EngineError) as exc:
            if isinstance(exc, EngineError):
                self._report(exc)
            if utt.shown is not None:  # the words the listeners saw are the best left
                log.info("stream %s: final pass of %s failed; its last partial stands", self.stream_id, utt.id)
                self._emit_final(utt, utt.shown, utt.language or "", duration, audio_end_at)
            return
        self._report(None)
        offset = self.media_time(utt.start)
        # heard only as context: the words before belong to the line before, those after to the next
        lead = context / self._rate
        words = tuple(self._shift(w, offset - lead) for w in hyp.words
                      if lead <= (w.start + w.end) / 2 < lead + duration)
        self._emit_final(utt, words, utt.language or hyp.language, duration, audio_end_at)

    def _emit_final(self, utt: _Utterance, words: tuple[Word, ...], language: str, duration: float,
                    audio_end_at: float) -> None:
        offset = self.media_time(utt.start)
        utt.revision += 1
        self._emit(Transcript(
            stream_id=self.stream_id, utterance_id=utt.id, language=language or self.language or "",
            words=words, is_final=True, stable_count=len(words), start=offset,
            end=offset + duration, audio_end_at=audio_end_at,
            emitted_at=self.clock.monotonic(), language_probability=utt.language_probability,
            revision=utt.revision,
        ))

    async def settle(self) -> None:
        """Wait until all audio pushed so far is processed: partial and final passes included.

        For tests and as-fast-as-possible benchmarks (a machine that keeps up, whatever its speed).
        """
        while True:
            await asyncio.sleep(0)
            busy = [t for t in (self._partial_task, self._recheck) if t is not None and not t.done()]
            if busy:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait(busy)
                continue
            if self._input.empty() and not self._finals_pending and self._unprocessed == 0:
                return
            await asyncio.sleep(0.001)

    async def _language_for(self, utt: _Utterance, audio: Samples, *, final: bool) -> str | None:
        if utt.language is not None:
            return utt.language
        if self.language is not None and self.language_confident:
            utt.language = self.language
            return utt.language
        if not self.engine.capabilities.language_detection:
            if len(self.candidates) == 1:
                utt.language = next(iter(self.candidates))
            return utt.language
        if not final and len(audio) / self._rate < self.options.detect_min_audio_s:
            raise Superseded()  # not enough audio to tell yet; wait for a longer partial
        async with self._detect_lock:
            if utt.language is not None:
                return utt.language
            guess = await self.engine.detect_language(audio, stream_id=self.stream_id,
                                                      candidates=self.candidates or None)
            utt.language, utt.language_probability = guess.language, guess.probability
            utt.language_checked = True
            if guess.probability >= self.options.detect_confidence:
                self.language, self.language_confident = guess.language, True
            log.info("stream %s: detected language %s (p=%.2f)", self.stream_id, guess.language, guess.probability)
            return utt.language

    async def _recheck_language(self, utt: _Utterance, audio: Samples) -> None:
        """Detect the language of a line again (see `StreamingOptions.recheck_language`)."""
        try:
            guess = await self.engine.detect_language(audio, stream_id=self.stream_id,
                                                      candidates=self.candidates or None)
        except (Superseded, EngineError):
            return
        if guess.language == utt.language or guess.probability < self.options.detect_confidence:
            return
        log.info("stream %s: the speaker moved to %s (p=%.2f)", self.stream_id, guess.language, guess.probability)
        utt.language, utt.language_probability = guess.language, guess.probability
        utt.prev_tail = None  # agreement starts again in the new language
        self.language = guess.language
        if self._utt is not None and self._utt is not utt and not self._utt.language_checked:
            self._utt.language = guess.language  # a line begun meanwhile follows

    # --- health and idle ----------------------------------------------------------------

    def _report(self, exc: EngineError | None) -> None:
        if exc is None:
            status, message = HealthStatus.OK, "recognising"
        elif isinstance(exc, ModelMissing):
            status, message = HealthStatus.MISSING, str(exc)
        else:
            status, message = HealthStatus.FAILING, str(exc)
        if status is self._health:
            return
        self._health = status
        self._emit(EngineHealth(stage="asr", engine=self.engine.name, status=status, message=message,
                                retryable=bool(exc and exc.retryable), speaker_id=self.stream_id))

    async def _idle_watchdog(self) -> None:
        """Audio stopped arriving mid-utterance (muted, DTX, network): end it by the clock."""
        idle = self.options.idle_endpoint_s
        if idle is None:
            return
        while True:
            await self.clock.sleep(idle / 2)
            if self._utt is not None and self.clock.monotonic() - self._last_audio_at >= idle:
                self.flush()
