"""The theme coder's core: its state, coding answers, and learning from corrections.

See `coder` for how an answer is coded; calibration and discovery build on this class
(`coder_calibration`, `coder_discovery`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.alignment import LanguageAlignment
from parley.consultation.analysis.coding import (
    CoderOptions,
    Coding,
    Correction,
    ThemeScore,
    _check_texts,
    _text_key,
)
from parley.consultation.analysis.confidence import ConfidenceCurve
from parley.consultation.analysis.embeddings import Embedder, FloatArray, normalise
from parley.consultation.analysis.language import LanguageIdentifier
from parley.consultation.analysis.probe import ThemeProbe
from parley.consultation.analysis.scoring import (
    CorrectionVote,
    _assign,
    _language_centres,
    _language_offsets,
    _reference,
    _score,
)
from parley.consultation.analysis.sentiment import SentimentClassifier, parse_sentiment
from parley.consultation.analysis.themes import Theme, seed_themes
from parley.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)


class _Snapshot(NamedTuple):
    theme_ids: list[str]
    prototypes: FloatArray
    evidence: tuple[FloatArray, npt.NDArray[np.float32], npt.NDArray[np.float32]] | None
    corrections: list[Correction]
    options: CoderOptions
    reference: npt.NDArray[np.bool_]  # the themes a score is relative to (see `_reference`)


class CoderBase:
    """The coder's state (themes, prototypes, corrections, embedding cache), coding and
    corrections; `ThemeCoder` adds calibration and discovery on top."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        themes: Sequence[Theme] | None = None,
        options: CoderOptions | None = None,
        languages: LanguageIdentifier | None = None,
        sentiment: SentimentClassifier | None = None,
        alignment: LanguageAlignment | None | Literal["packaged"] = "packaged",
        confidence: ConfidenceCurve | None | Literal["packaged"] = "packaged",
        probe: ThemeProbe | None | Literal["packaged"] = "packaged",
    ) -> None:
        self.embedder = embedder
        # What is packaged only fits the model it was fitted with (looked up by name).
        self.alignment = LanguageAlignment.packaged(embedder.info.name) if alignment == "packaged" else alignment
        # The probe reads aligned vectors: without the alignment it has nothing to read.
        found = ThemeProbe.packaged(embedder.info.name) if probe == "packaged" else probe
        self.probe = found if self.alignment is not None and found is not None and found.dim == embedder.dim else None
        if confidence == "packaged":
            # a probe moves the scores, so its own curve reads them
            packaged = self.probe.curve if self.probe is not None and self.probe.curve is not None else None
            self.confidence = packaged or ConfidenceCurve.packaged(embedder.info.name)
        else:
            self.confidence = confidence
        self._options = options or self._fitted_options()
        self.languages = languages or LanguageIdentifier()
        self.sentiment = sentiment or SentimentClassifier(embedder)
        if self.sentiment.embedder is not embedder:
            raise ValueError("the sentiment classifier must use the same embedder as the theme coder")
        initial = list(themes) if themes is not None else seed_themes()
        if not initial:
            raise ValueError("a theme coder needs at least one theme")
        ids = [t.id for t in initial]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate theme ids: {sorted(i for i, n in Counter(ids).items() if n > 1)}")
        self._lock = threading.RLock()
        self._themes: dict[str, Theme] = {t.id: t for t in initial}
        self._centre: FloatArray | None = None
        self._language_centres: dict[str, FloatArray] = {}
        self._language_offsets: dict[str, float] = {}
        self._prototypes: dict[str, FloatArray] = {}
        self._corrections: dict[str, tuple[Correction, FloatArray]] = {}
        self._by_text: dict[str, str] = {}
        self._evidence: tuple[FloatArray, npt.NDArray[np.float32], npt.NDArray[np.float32], list[str]] | None = None
        self._cache: OrderedDict[str, FloatArray] = OrderedDict()

    def _fitted_options(self) -> CoderOptions:
        """The defaults, with the cut fitted together with the probe, else the alignment, where
        there is one."""
        cut = self.alignment.cut if self.alignment is not None else None
        if self.probe is not None and self.probe.cut is not None:
            cut = self.probe.cut
        if cut is None:
            return CoderOptions()
        return CoderOptions(threshold=cut.threshold, margin=cut.margin, thresholds=dict(cut.thresholds))

    # --- state -------------------------------------------------------------------------------

    @property
    def options(self) -> CoderOptions:
        return self._options

    @options.setter
    def options(self, options: CoderOptions) -> None:
        with self._lock:
            self._options = options

    @property
    def themes(self) -> tuple[Theme, ...]:
        with self._lock:
            return tuple(self._themes.values())

    @property
    def corrections(self) -> tuple[Correction, ...]:
        with self._lock:
            return tuple(c for c, _ in self._corrections.values())

    def prepare(self) -> None:
        """Embed the themes' examples and the sentiment anchors now rather than on first use."""
        with self._lock:
            ready = self._centre is not None
            themes = list(self._themes.values())
        if not ready:
            texts = [e for t in themes for e in t.examples if e.strip()]
            raw = self._embed(texts)
            languages = [self.languages.identify(t).code for t in texts]
            vectors = self._aligned(raw, languages)
            with self._lock:
                if self._centre is None:
                    self._centre = vectors.mean(axis=0).astype(np.float32)
                    # discovery clusters raw embeddings: its language centres are of raw ones
                    self._language_centres = _language_centres(raw, languages, themes)
                    start = 0
                    for theme in themes:
                        n = sum(1 for e in theme.examples if e.strip())
                        self._prototypes[theme.id] = self._prototype(vectors[start : start + n])
                        start += n
                    owners = [t.id for t in themes for e in t.examples if e.strip()]
                    self._language_offsets = _language_offsets(self._centred(vectors), languages, owners)
                    log.info("theme coder ready: %d themes, %d examples", len(themes), len(texts))
        self.sentiment.prepare()

    async def aprepare(self) -> None:
        await asyncio.to_thread(self.prepare)

    def _prototype(self, raw: FloatArray) -> FloatArray:
        return normalise(self._centred(raw).mean(axis=0))

    def _require_centre(self) -> FloatArray:
        if self._centre is None:
            raise RuntimeError("ThemeCoder.prepare() has not run")  # every public entry point runs it
        return self._centre

    def _embed(self, texts: list[str]) -> FloatArray:
        """Embed with a per-text cache (the cache is bounded by ``options.cache_size``)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = self.embedder.embed(missing) if missing else np.zeros((0, self.embedder.dim), np.float32)
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            found.update(zip(missing, fresh, strict=True))
            for text, vector in zip(missing, fresh, strict=True):
                self._cache[text] = vector
            for text in texts:
                if text in self._cache:
                    self._cache.move_to_end(text)
            while len(self._cache) > self._options.cache_size:
                self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, self.embedder.dim), np.float32)
        return np.stack([found[t] for t in texts])

    def _centred(self, raw: FloatArray) -> FloatArray:
        return normalise(raw - self._require_centre())

    def _aligned(self, raw: FloatArray, languages: Sequence[str]) -> FloatArray:
        """The vectors with their language taken out (unchanged without an alignment)."""
        if self.alignment is None or not self._options.align_languages:
            return raw
        return self.alignment.apply(raw, languages)

    def _shifted(self, scores: FloatArray, languages: Sequence[str], options: CoderOptions) -> FloatArray:
        """Scores made comparable across languages: scaled as the alignment says where there is
        one, else with each text's language offset taken out (``CoderOptions.language_offset``)."""
        if self.alignment is not None and options.align_languages:
            return self.alignment.scale(scores, languages)
        if not options.language_offset or not self._language_offsets:
            return scores
        offsets = np.array([self._language_offsets.get(lang, 0.0) for lang in languages], np.float32)
        out: FloatArray = (scores - options.language_offset * offsets[:, None]).astype(np.float32)
        return out

    def _probed(self, scores: FloatArray, queries: FloatArray, languages: Sequence[str], theme_ids: Sequence[str],
                options: CoderOptions, vote: CorrectionVote | None) -> FloatArray:
        """Scores moved by the probe where there is one (it reads aligned vectors, so not when
        alignment is switched off). Near analysts' corrections their vote stands in for the
        probe's guess, so a correction steers its neighbours against what the probe learnt."""
        if self.probe is None or self.alignment is None or not options.align_languages:
            return scores
        return self.probe.move(scores, queries, theme_ids, self.alignment.scale_factors(languages),
                               vote=vote.share if vote else None, trust=vote.trust if vote else None)

    def _language_centred(self, raw: FloatArray, languages: Sequence[str]) -> FloatArray:
        """Centre each text on its language's mean seed embedding, so clusters form by topic.

        Multilingual embeddings keep a trace of the language; the seed examples say the same
        things in every language, so the difference of their per-language means is that trace.
        """
        centre = self._require_centre()
        centres = np.stack([self._language_centres.get(lang, centre) for lang in languages])
        return normalise(raw - centres)

    # --- themes ------------------------------------------------------------------------------

    def add_theme(self, theme: Theme) -> None:
        """Add a theme (an analyst's, or a discovered one); later codings consider it."""
        self.prepare()
        with self._lock:
            if theme.id in self._themes:
                raise Conflict(f"theme {theme.id!r} already exists", code="theme_exists")
        examples = [e for e in theme.examples if e.strip()]
        vectors = self._aligned(self._embed(examples), [self.languages.identify(e).code for e in examples])
        with self._lock:
            if theme.id in self._themes:
                raise Conflict(f"theme {theme.id!r} already exists", code="theme_exists")
            self._themes[theme.id] = theme
            self._prototypes[theme.id] = self._prototype(vectors)
            self._evidence = None
        log.info("theme added: %s (%s, %d examples)", theme.id, theme.origin, len(theme.examples))

    # --- coding ------------------------------------------------------------------------------

    def code(self, texts: Sequence[str]) -> list[Coding]:
        """Code each text; the result list is in the same order. Blank texts are rejected."""
        items = _check_texts(texts)
        if not items:
            return []
        self.prepare()
        vectors = self._embed(items)
        return self._code_vectors(items, vectors)

    async def acode(self, texts: Sequence[str]) -> list[Coding]:
        return await asyncio.to_thread(self.code, _check_texts(texts))

    def _snapshot(self) -> _Snapshot:
        """What coding reads, taken under the lock; adopted themes' own thresholds apply
        unless calibration on corrections fitted one for them."""
        with self._lock:
            theme_ids = list(self._themes)
            own = {t.id: t.threshold for t in self._themes.values() if t.threshold is not None}
            options = self._options
            if own:
                options = dataclasses.replace(options, thresholds={**own, **options.thresholds})
            return _Snapshot(
                theme_ids=theme_ids, prototypes=np.stack([self._prototypes[t] for t in theme_ids]),
                evidence=self._evidence_matrix(theme_ids),
                corrections=[c for c, _ in self._corrections.values()], options=options,
                reference=_reference(list(self._themes.values())),
            )

    def _scores(self, raw: FloatArray, languages: Sequence[str], snap: _Snapshot
                ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
        queries = self._centred(self._aligned(raw, languages))
        scores, nearest, nearest_index, vote = _score(queries, snap.prototypes, snap.evidence, snap.options,
                                                      reference=snap.reference)
        scores = self._shifted(scores, languages, snap.options)
        return self._probed(scores, queries, languages, snap.theme_ids, snap.options, vote), nearest, nearest_index

    @staticmethod
    def _choose(row: int, scores: FloatArray, nearest: FloatArray, nearest_index: npt.NDArray[np.int64],
                snap: _Snapshot) -> tuple[tuple[str, ...], Literal["model", "correction"]]:
        if nearest[row] >= snap.options.reuse_similarity:
            reused = snap.corrections[int(nearest_index[row])]
            return tuple(t for t in reused.themes if t in snap.theme_ids), "correction"
        return _assign(scores[row], snap.theme_ids, snap.options, independent=~snap.reference), "model"

    def _code_vectors(self, texts: list[str], raw: FloatArray) -> list[Coding]:
        snap = self._snapshot()
        guesses = [self.languages.identify(text) for text in texts]
        scores, nearest, nearest_index = self._scores(raw, [g.code for g in guesses], snap)
        sentiments = self.sentiment.classify_vectors(raw)
        best = scores.max(axis=1) if scores.shape[1] else np.zeros(len(texts), np.float32)
        chances = self.confidence(best) if self.confidence is not None else best
        codings = []
        for row in range(len(texts)):
            order = np.argsort(-scores[row], kind="stable")
            ranked = tuple(ThemeScore(snap.theme_ids[j], round(float(scores[row, j]), 4)) for j in order)
            chosen, source = self._choose(row, scores, nearest, nearest_index, snap)
            confidence = 1.0 if source == "correction" else round(float(chances[row]), 4)
            codings.append(Coding(
                themes=chosen, scores=ranked, language=guesses[row],
                sentiment=sentiments[row], source=source, confidence=confidence,
            ))
        log.debug("coded %d texts", len(codings))
        return codings

    # --- corrections -------------------------------------------------------------------------

    def correct(
        self,
        text: str,
        themes: Iterable[str],
        *,
        sentiment: str | None = None,
        analyst: str | None = None,
        language: str | None = None,
        id: str | None = None,
    ) -> Correction:
        """Record an analyst's coding of ``text``; it steers every later coding at once.

        ``themes`` is the complete set (empty means "other"). A second correction of the
        same text replaces the first.
        """
        (clean,) = _check_texts([text], "text")
        chosen = tuple(dict.fromkeys(themes))
        with self._lock:
            unknown = [t for t in chosen if t not in self._themes]
            considered = tuple(self._themes)
        if unknown:
            raise InvalidInput(f"unknown themes: {', '.join(unknown)}", fields={"themes": "unknown"})
        correction = Correction(
            text=clean, themes=chosen, considered=considered,
            sentiment=parse_sentiment(sentiment) if sentiment is not None else None,
            language=language or self.languages.identify(clean).code, analyst=analyst,
            id=id or uuid.uuid4().hex,
        )
        self.add_corrections([correction])
        return correction

    async def acorrect(self, text: str, themes: Iterable[str], **kwargs: Any) -> Correction:
        return await asyncio.to_thread(self.correct, text, list(themes), **kwargs)

    def add_corrections(self, corrections: Iterable[Correction]) -> None:
        """Load stored corrections (e.g. at startup), embedding them in one batch."""
        items = list(corrections)
        if not items:
            return
        self.prepare()
        _check_texts([c.text for c in items], "corrections")
        with self._lock:
            for c in items:
                unknown = [t for t in c.themes if t not in self._themes]
                if unknown:
                    raise InvalidInput(f"correction {c.id} names unknown themes: {', '.join(unknown)}",
                                       fields={"themes": "unknown"})
        vectors = self._embed([c.text for c in items])
        with self._lock:
            for c, vector in zip(items, vectors, strict=True):
                previous = self._by_text.get(_text_key(c.text))
                if previous is not None and previous != c.id:
                    self._drop(previous)
                self._corrections[c.id] = (c, vector)
                self._by_text[_text_key(c.text)] = c.id
                if c.sentiment is not None:
                    self.sentiment.learn(c.id, vector, c.sentiment)
                else:
                    self.sentiment.forget(c.id)
            self._evidence = None
        log.info("corrections added: %d (total %d)", len(items), len(self._corrections))

    def remove_correction(self, correction_id: str) -> None:
        with self._lock:
            if correction_id not in self._corrections:
                raise NotFound(f"no correction {correction_id!r}", code="correction_not_found")
            self._drop(correction_id)
            self._evidence = None

    def _drop(self, correction_id: str) -> None:
        correction, _ = self._corrections.pop(correction_id)
        if self._by_text.get(_text_key(correction.text)) == correction_id:
            del self._by_text[_text_key(correction.text)]
        self.sentiment.forget(correction_id)

    def _evidence_matrix(
        self, theme_ids: list[str]
    ) -> tuple[FloatArray, npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
        """Corrections as (centred vectors, label matrix, considered mask), cached until changed."""
        if not self._corrections:
            return None
        if self._evidence is None or self._evidence[3] != theme_ids:
            entries = list(self._corrections.values())
            vectors = self._centred(self._aligned(np.stack([v for _, v in entries]),
                                                  [c.language or "" for c, _ in entries]))
            labels = np.array([[t in c.themes for t in theme_ids] for c, _ in entries], dtype=np.float32)
            known = np.array([[t in c.considered for t in theme_ids] for c, _ in entries], dtype=np.float32)
            self._evidence = (vectors, labels, known, list(theme_ids))
        return self._evidence[0], self._evidence[1], self._evidence[2]
