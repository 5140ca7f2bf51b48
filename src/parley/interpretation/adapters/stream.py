"""The adapter itself: a batch `AsrEngine` heard as a stream (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Collection

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.adapters.agreement import agree, shift, tail_index
from parley.interpretation.adapters.buffer import SampleBuffer
from parley.interpretation.adapters.clauses import clause_boundary, ends_sentence
from parley.interpretation.adapters.finals import FinalPasses, FinalRequest
from parley.interpretation.adapters.health import HealthReporter
from parley.interpretation.adapters.language import LanguagePolicy
from parley.interpretation.adapters.options import StreamingOptions
from parley.interpretation.adapters.timeline import Timeline
from parley.interpretation.adapters.utterance import Utterance
from parley.interpretation.adapters.vad_history import VadHistory
from parley.interpretation.asr.base import AsrEngine, AsrStream, DecodeMode, Hypothesis
from parley.interpretation.frames import Samples, SpeechEnd, SpeechStart, Transcript, Word
from parley.interpretation.scheduler import Superseded
from parley.interpretation.vad import Segmenter, Vad

log = logging.getLogger(__name__)


class StreamAdapter(AsrStream):
    """A batch engine as a stream: VAD endpoints, partials by local agreement, clause finals."""

    def __init__(self, engine: AsrEngine, *, vad: Vad, stream_id: str, clock: Clock,
                 language: str | None = None, candidates: Collection[str] | None = None,
                 options: StreamingOptions | None = None) -> None:
        super().__init__(stream_id=stream_id, sample_rate=engine.capabilities.sample_rate, clock=clock)
        self.engine = engine
        self.vad = vad
        self.options = options or StreamingOptions()
        self._language = LanguagePolicy(engine, stream_id=stream_id, options=self.options,
                                        language=language, candidates=candidates)
        self._rate = engine.capabilities.sample_rate
        self._frame = vad.frame_samples
        self._segmenter = Segmenter(self.options.segmenter, frame_s=self._frame / self._rate)
        self._buf = SampleBuffer()
        self._total = 0  # samples pushed so far
        self._timeline = Timeline(self._rate, clock)
        self._last_audio_at = clock.monotonic()
        self._utt: Utterance | None = None
        self._counter = 0
        self._instance = secrets.token_hex(3)  # utterance ids never repeat those of an earlier stream
        self._partial_task: asyncio.Task[None] | None = None
        self._recheck: asyncio.Task[None] | None = None
        self._last_end = 0
        self._partial_cost = 0.0  # seconds the last partial pass took
        self._vad = VadHistory(self._segmenter, frame=self._frame,
                               maxlen=int(self.options.max_utterance_s * self._rate / self._frame) + 1)
        self._health = HealthReporter(engine, stream_id, self._emit)
        self._finals = FinalPasses(engine, stream_id=stream_id, clock=clock, options=self.options, rate=self._rate,
                                   language=self._language, health=self._health, media_time=self.media_time,
                                   emit=self._emit)

    @property
    def language(self) -> str | None:
        """The stream's language: given, or the last one detected."""
        return self._language.language

    @property
    def language_confident(self) -> bool:
        return self._language.confident

    @property
    def candidates(self) -> frozenset[str]:
        return self._language.candidates

    # --- time bookkeeping -------------------------------------------------------------

    def media_time(self, index: int) -> float:
        return self._timeline.media_time(index)

    def arrival_time(self, index: int) -> float:
        return self._timeline.arrival_time(index)

    # --- ingest -------------------------------------------------------------------------

    async def _run(self) -> None:
        finals = self._tasks.spawn("finals", self._finals.run())
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
            self._finals.close()
            await finals
        finally:
            watchdog.cancel()

    def _ingest(self, samples: Samples, start: float, captured_at: float) -> None:
        self._last_audio_at = self.clock.monotonic()
        expected = self.media_time(self._total)
        if not self._timeline.anchored or abs(start - expected) > 0.05:
            if self._timeline.anchored and (self._segmenter.in_speech or self._utt is not None):
                self._endpoint(self._total)  # a jump in media time cannot sit inside one utterance
            self._timeline.anchor(self._total, start)
        self._buf.append(samples)
        self._total += len(samples)
        self._timeline.arrived(self._total, captured_at)
        probs = self.vad.probabilities(samples)
        self._vad.extend(probs)
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
                self._timeline.forget_before(self._buf.start)

    def _begin(self, start: int, *, voiced: int | None = None) -> None:
        start = max(start, self._last_end)  # pre-roll must not reach into the previous utterance
        self._utt = Utterance(id=self._next_id(), start=start, last_partial_end=start, line_start=start,
                               voiced_from=start if voiced is None else voiced)
        self._emit(SpeechStart(self.stream_id, self._utt.id, self.media_time(start)))

    def _next_id(self) -> str:
        self._counter += 1
        return f"{self.stream_id}-{self._instance}-{self._counter}"

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

    def _finish(self, utt: Utterance, end: int, voiced_until: int | None = None) -> None:
        utt.end = max(end, utt.start)
        self._last_end = utt.end
        utt.voiced_until = utt.end if voiced_until is None else voiced_until
        utt.final_requested = True
        self._emit(SpeechEnd(self.stream_id, utt.id, self.media_time(utt.end)))
        if self._partial_task is not None and not self._partial_task.done():
            self._partial_task.cancel()  # its result would only precede the final
        known: tuple[Word, ...] = ()
        if utt.finalized:
            begin, known = self._after_finals(utt)
        else:
            context = min(utt.start - self._buf.start,
                          int(max(self.options.final_context_s, utt.context_s) * self._rate))
            begin = utt.start - max(context, 0)
        audio = self._buf.view(begin, min(utt.end + utt.right_context, self._buf.end))
        self._finals.request(FinalRequest(utt, audio, self.arrival_time(utt.end), begin, known))

    def _after_finals(self, utt: Utterance) -> tuple[int, tuple[Word, ...]]:
        """Where the final pass of a line that stable finals began starts hearing: a few of those
        words back (`partial_overlap_words`; None: the utterance's start), less
        `partial_overlap_s`; and those words, times relative to it, to align the pass on."""
        n = self.options.partial_overlap_words or utt.finalized
        known = utt.committed[max(0, utt.finalized - max(n, 1)):utt.finalized]
        at = max(0.0, known[0].start - self.options.partial_overlap_s) if n < utt.finalized else 0.0
        begin = max(utt.start + int(at * self._rate), self._buf.start)
        moved = (begin - utt.start) / self._rate
        return begin, tuple(shift(w, -moved) for w in known)

    def _split(self, utt: Utterance) -> None:
        """The speaker has not paused for ``max_utterance_s``: cut where it hurts least, in the
        quietest frame near the end of the stable words (partial word times are estimates),
        else in the quietest of the last 3 s."""
        cut = None
        if utt.committed:
            end = utt.start + int(utt.committed[-1].end * self._rate)
            if end - utt.start > self._total - end:
                half = int(0.4 * self._rate)
                cut = self._vad.quietest(end - half, end + half)
                if cut is None:
                    cut = end
        if cut is None:
            cut = self._vad.quietest(self._total - 3 * self._rate, self._total)
        if cut is None:
            cut = self._total
        cut = min(max(cut, utt.line_start + self._frame), self._total)  # never before the line began
        self._utt = None
        self._finish(utt, cut)
        self._begin(cut)

    # --- partial passes -----------------------------------------------------------------

    def _maybe_partial(self, utt: Utterance, *, upto: int | None = None) -> None:
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

    def _partial_start(self, utt: Utterance, end: int) -> int:
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

    async def _partial(self, utt: Utterance, audio: Samples, audio_end_at: float, begin: int) -> None:
        if self._language.should_recheck(utt, audio, whole=begin == utt.start):
            utt.language_checked = True
            self._recheck = self._tasks.spawn(f"language-{utt.id}",
                                              self._language.recheck(utt, audio, lambda: self._utt))
        try:
            language = await self._language.for_line(utt, audio, final=False)
            if language is None and not self.engine.capabilities.language_detection:
                return
            t0 = self.clock.monotonic()
            hyp = await self.engine.recognize(audio, stream_id=self.stream_id, language=language,
                                              mode=DecodeMode.PARTIAL)
            self._partial_cost = self.clock.monotonic() - t0
        except Superseded:
            return
        except EngineError as exc:
            self._health.report(exc)
            return
        self._health.report(None)
        if utt.final_requested:
            return
        skipped = (begin - utt.start) / self._rate
        if skipped:  # word times relative to the utterance, like the stable words'
            hyp = Hypothesis(tuple(shift(w, skipped) for w in hyp.words), hyp.language,
                             hyp.language_probability)
        agree(utt, hyp)
        utt.revision += 1
        offset = self.media_time(utt.start)
        index, aligned = tail_index(utt, hyp)
        utt.realign = not aligned and bool(skipped)
        tail = list(hyp.words[index:])
        if self.options.clause_finals and utt is self._utt:
            split = self._stable_final(utt, tail, audio_end_at) if self.options.stable_finals \
                else self._clause_final(utt, tail)
            if split is not None:  # the rest of the pass is the new line's first partial
                utt, tail = split
                utt.revision += 1
                offset = self.media_time(utt.start)
                audio = self._buf.view(utt.start, utt.last_partial_end)
        utt.last_text = " ".join(w.text for w in (*utt.committed, *tail))
        line = utt.committed[utt.finalized:]  # the stable words earlier lines did not make final
        words = tuple(shift(w, offset) for w in line) + tuple(shift(w, offset) for w in tail)
        utt.shown = words
        self._emit(Transcript(
            stream_id=self.stream_id, utterance_id=utt.id, language=utt.language or hyp.language,
            words=words, is_final=False, stable_count=len(line),
            start=self.media_time(utt.line_start), end=offset + len(audio) / self._rate, audio_end_at=audio_end_at,
            emitted_at=self.clock.monotonic(), language_probability=utt.language_probability,
            revision=utt.revision,
        ))

    def _clause_final(self, utt: Utterance, tail: list[Word]) -> tuple[Utterance, list[Word]] | None:
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
            cut = self._vad.quietest(lo, hi)
            if cut is not None and utt.start < cut < self._total and (
                    self._vad.probability(cut) < o.clause_quiet
                    or (o.clause_force_s is not None and left.end >= o.clause_force_s)):
                break
        else:
            return None
        carried = utt.committed[i + 1:]
        utt.committed = utt.committed[:i + 1]
        offset = self.media_time(utt.start)
        utt.shown = tuple(shift(w, offset) for w in utt.committed)  # what stands if its final fails
        utt.right_context = int(o.clause_right_context_s * self._rate)
        running, self._partial_task = self._partial_task, None  # this very pass: not to be cancelled
        self._utt = None
        self._finish(utt, cut)
        self._begin(cut)
        self._partial_task = running
        new = self._utt
        assert new is not None
        moved = (cut - utt.start) / self._rate
        new.committed = [shift(w, -moved) for w in carried]
        new.prev_tail, new.realign = utt.prev_tail, utt.realign
        new.language, new.language_probability = utt.language, utt.language_probability
        new.last_partial_end, new.paused_at = max(utt.last_partial_end, cut), utt.paused_at
        new.context_s = o.clause_context_s
        new.language_checked = utt.language_checked
        return new, [shift(w, -moved) for w in tail]

    def _stable_final(self, utt: Utterance, tail: list[Word],
                      audio_end_at: float) -> tuple[Utterance, list[Word]] | None:
        """End the line at the latest clause boundary among its stable words (no pause needed:
        see `StreamingOptions.stable_finals`) with those words as its final, queued in order
        with no pass of its own; the utterance goes on as a new line with the words after it.
        Returns the new line and its unstable words, or None (no boundary)."""
        o = self.options
        line = utt.committed[utt.finalized:]
        before = (utt.line_start - utt.start) / self._rate
        found = clause_boundary([shift(w, -before) for w in line], min_s=o.clause_min_s,
                                pause_min_s=o.clause_pause_min_s, more=bool(tail))
        if not found:
            return None
        i = found[0]
        left, right = [*line, *tail[:1]][i:i + 2]
        # where one line ends and the next begins: between the two words, by their estimated times
        cut = utt.start + int((left.end + max(right.start, left.end)) / 2 * self._rate)
        cut = min(max(cut, utt.line_start + 1), self._total)
        offset = self.media_time(utt.start)
        utt.end = utt.voiced_until = cut
        utt.final_requested = True
        self._emit(SpeechEnd(self.stream_id, utt.id, self.media_time(cut)))
        words = tuple(shift(w, offset) for w in line[:i + 1])
        self._finals.request(FinalRequest(utt, self._buf.view(cut, cut), audio_end_at, cut, words=words))
        new = dataclasses.replace(utt, id=self._next_id(), end=None, voiced_until=None, final_requested=False,
                                  committed=list(utt.committed), line_start=cut,
                                  finalized=utt.finalized + i + 1, shown=None, revision=0)
        self._utt = new
        self._emit(SpeechStart(self.stream_id, new.id, self.media_time(cut)))
        return new, tail

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
            if self._input.empty() and not self._finals.pending and self._unprocessed == 0:
                return
            await asyncio.sleep(0.001)

    # --- idle -------------------------------------------------------------------------

    async def _idle_watchdog(self) -> None:
        """Audio stopped arriving mid-utterance (muted, DTX, network): end it by the clock."""
        idle = self.options.idle_endpoint_s
        if idle is None:
            return
        while True:
            await self.clock.sleep(idle / 2)
            if self._utt is not None and self.clock.monotonic() - self._last_audio_at >= idle:
                self.flush()
