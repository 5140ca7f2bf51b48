"""Coding answers in any language into one shared set of themes.

How an answer is coded:

1. It is embedded once (multilingual, so "réchauffement climatique", "Klimawandel" and
   "气候变化" land close together) and centred on the mean of the seed examples, which
   removes what all statements share and spreads the themes apart.
2. Each theme has a prototype: the mean of its (centred) example embeddings, written in seven
   languages in ``seeds.py``. The answer's similarity to every prototype, minus its mean
   similarity to all of them, is the theme's score.
3. Analysts' corrections are labelled examples. The answer's nearest corrected examples
   vote, weighted by similarity, and move each theme's score up or down; an answer (nearly)
   identical to a corrected one simply takes the analyst's themes.
4. Themes scoring at least ``threshold`` and within ``margin`` of the best are assigned (at
   most ``max_themes``), best first; none means "other".

``calibrate()`` re-fits threshold and margin on the corrections, scoring each against the
others. ``discover()`` clusters the answers (at a granularity the analyst picks) and
describes each cluster by its most central answers and keywords in every language present;
``preview()`` says what adopting one would change, with the theme's own threshold calibrated
on the cluster (see ``adoption.py``); ``adopt()`` turns one into a theme.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.adoption import MEMBER_QUANTILE, AdoptionPreview, calibrated_threshold
from parley.consultation.analysis.alignment import LanguageAlignment
from parley.consultation.analysis.confidence import ConfidenceCurve
from parley.consultation.analysis.discovery import (
    LEVELS,
    Cluster,
    central_by_language,
    cluster,
    document_terms,
    granular,
    keywords,
    keywords_by_language,
)
from parley.consultation.analysis.embeddings import Embedder, FloatArray, normalise
from parley.consultation.analysis.language import LanguageGuess, LanguageIdentifier
from parley.consultation.analysis.neighbours import neighbour_vote
from parley.consultation.analysis.seeds import SEED_THEMES
from parley.consultation.analysis.sentiment import (
    Sentiment,
    SentimentClassifier,
    SentimentResult,
    parse_sentiment,
)
from parley.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

Origin = Literal["seed", "discovered", "analyst"]
THEME_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    examples: tuple[str, ...]  # texts whose embeddings make the prototype
    names: Mapping[str, str] = field(default_factory=dict)  # language code -> name
    origin: Origin = "seed"
    # Its own cut, calibrated on the cluster it was adopted from (None: the coder's cut).
    threshold: float | None = None

    def __post_init__(self) -> None:
        if not THEME_ID.match(self.id):
            raise InvalidInput(f"theme id {self.id!r} must be 1-64 of a-z, 0-9, '_' and '-'", fields={"id": "invalid"})
        if not self.name.strip():
            raise InvalidInput("a theme needs a name", fields={"name": "empty"})
        if not any(e.strip() for e in self.examples):
            raise InvalidInput(f"theme {self.id!r} needs at least one example", fields={"examples": "empty"})


def seed_themes() -> list[Theme]:
    """The twelve seed themes, each with its names and examples in nine languages."""
    themes = []
    for theme_id, by_language in SEED_THEMES.items():
        names = {lang: texts[0] for lang, texts in by_language.items()}
        examples = tuple(text for texts in by_language.values() for text in texts)
        themes.append(Theme(id=theme_id, name=names["en"], names=names, examples=examples))
    return themes


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    score: float


@dataclass(frozen=True)
class Coding:
    """One answer's coding. ``themes`` is empty when nothing fits ("other")."""

    themes: tuple[str, ...]
    scores: tuple[ThemeScore, ...]  # every theme, best first
    language: LanguageGuess
    sentiment: SentimentResult
    source: Literal["model", "correction"] = "model"
    # The chance the first theme is right, where a curve is fitted for the model (see
    # `ConfidenceCurve`); else the best score. An analyst's own coding: 1.
    confidence: float = 0.0

    @property
    def other(self) -> bool:
        return not self.themes

    @property
    def best(self) -> ThemeScore | None:
        return self.scores[0] if self.scores else None


@dataclass(frozen=True)
class Correction:
    """An analyst's coding of one answer: the complete set of its themes (empty: "other").

    ``considered`` lists the themes that existed when the analyst decided, so the correction
    counts as evidence against those it left out, but says nothing about themes added later.
    """

    text: str
    themes: tuple[str, ...]
    considered: tuple[str, ...]
    sentiment: Sentiment | None = None
    language: str | None = None
    analyst: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Correction:
        try:
            sentiment = data.get("sentiment")
            return cls(
                text=str(data["text"]),
                themes=tuple(str(t) for t in data["themes"]),
                considered=tuple(str(t) for t in data.get("considered", data["themes"])),
                sentiment=parse_sentiment(str(sentiment)) if sentiment is not None else None,
                language=data.get("language"),
                analyst=data.get("analyst"),
                id=str(data.get("id") or uuid.uuid4().hex),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"not a correction: missing or wrong field ({exc})") from exc


@dataclass(frozen=True)
class CoderOptions:
    """Defaults for embedders without a fitted alignment were chosen on half of the labelled
    Pol.is sample; with one, `ThemeCoder` starts from the cut fitted with it (bench/data/README.md)."""

    threshold: float = 0.1  # minimum relative score for a theme
    # Per theme, where calibration found one that fits better than ``threshold``.
    thresholds: Mapping[str, float] = field(default_factory=dict)
    margin: float = 0.04  # a further theme must score within this of the best one
    # Without an alignment for the embedder: how much of each language's score offset to take
    # out (0: none). The offset is how much
    # higher or lower a language's seed examples score against the other languages' examples:
    # the same answer in Portuguese scored ~0.06 below its English original, which made
    # "other" depend on the language written in. See `_language_offsets`.
    language_offset: float = 0.5
    # Centre each text on its language's mean and scale its scores, where an alignment is
    # fitted for the embedder (see `LanguageAlignment`); its fitted cut is then the default.
    align_languages: bool = True
    max_themes: int = 3
    neighbours: int = 10  # corrected examples consulted per answer
    neighbour_weight: float = 0.2  # how far their vote moves a score
    temperature: float = 0.05  # how strongly the closest of them dominate the vote
    reuse_similarity: float = 0.97  # this close to a corrected answer: take the analyst's themes
    coverage: float = 0.2  # discovery clusters answers whose best score is below this (coded or not)
    cache_size: int = 20_000  # embeddings kept per text, so re-coding after a correction is cheap

    def __post_init__(self) -> None:
        if self.max_themes < 1 or self.neighbours < 1 or self.temperature <= 0 or self.margin < 0:
            raise ValueError(f"invalid coder options: {self}")

    def threshold_for(self, theme: str) -> float:
        return self.thresholds.get(theme, self.threshold)


@dataclass(frozen=True)
class Calibration:
    threshold: float
    margin: float
    micro_f1: float  # on the corrections, each scored without its own fold
    examples: int
    thresholds: Mapping[str, float] = field(default_factory=dict)  # themes whose own cut differs


@dataclass(frozen=True)
class DiscoveredTheme:
    id: str  # a free id suggestion, e.g. "discovered-1"
    name: str  # from the keywords; analysts are expected to rename it
    keywords: tuple[str, ...]
    examples: tuple[str, ...]  # the most central answers, most central first
    members: tuple[int, ...]  # indices into the texts given to discover(), most central first
    cohesion: float
    languages: Mapping[str, int]
    # The most central members in each language present (indices), most members first.
    examples_by_language: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # Keywords drawn from the members in each language (not translated).
    keywords_by_language: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The themes its members are coded with now ("" for none), most common first.
    current: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Discovery:
    """Clusters at one granularity, with what was clustered and what no cluster holds."""

    granularity: str
    clusters: tuple[DiscoveredTheme, ...]
    clustered: tuple[int, ...]  # indices of the texts that were clustered
    not_grouped: tuple[int, ...]  # of those, the ones in no cluster shown (too small a group)
    silhouette: float  # how well separated the clusters are (-1..1; near 0: they overlap)


def _check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise InvalidInput(f"{what} must be a list of strings, not one string", fields={what: "not_a_list"})
    items = list(texts)
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise InvalidInput(f"{what}[{i}] is not a string", fields={f"{what}[{i}]": "not_a_string"})
        if not text.strip():
            raise InvalidInput(f"{what}[{i}] is empty", fields={f"{what}[{i}]": "empty"})
    return items


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Snapshot(NamedTuple):
    theme_ids: list[str]
    prototypes: FloatArray
    evidence: tuple[FloatArray, npt.NDArray[np.float32], npt.NDArray[np.float32]] | None
    corrections: list[Correction]
    options: CoderOptions
    reference: npt.NDArray[np.bool_]  # the themes a score is relative to (see `_reference`)


class ThemeCoder:
    """Codes answers into themes with sentiment and language; learns from analysts' corrections.

    Methods block (embedding takes tens of milliseconds per answer on a CPU core); from async
    code use the ``a``-prefixed versions, which run them in a worker thread. One instance is
    safe to share between threads.
    """

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
    ) -> None:
        self.embedder = embedder
        # What is packaged only fits the model it was fitted with (looked up by name).
        self.alignment = LanguageAlignment.packaged(embedder.info.name) if alignment == "packaged" else alignment
        self.confidence = ConfidenceCurve.packaged(embedder.info.name) if confidence == "packaged" else confidence
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
        """The defaults, with the cut fitted together with the alignment where there is one."""
        cut = self.alignment.cut if self.alignment is not None else None
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
        scores, nearest, nearest_index = _score(queries, snap.prototypes, snap.evidence, snap.options,
                                                reference=snap.reference)
        return self._shifted(scores, languages, snap.options), nearest, nearest_index

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

    def calibrate(self, *, folds: int = 5, min_examples: int = 20, min_theme_examples: int = 15,
                  max_shift: float = 0.1) -> Calibration:
        """Fit threshold and margin to the corrections, then a threshold per theme that has at
        least ``min_theme_examples`` (within ``max_shift`` of the global one), and use them.

        Each correction is scored by the seed prototypes and the corrections outside its fold,
        so the fit reflects how well coding generalises to answers nobody has corrected yet.
        """
        self.prepare()
        with self._lock:
            theme_ids = list(self._themes)
            prototypes = np.stack([self._prototypes[t] for t in theme_ids])
            evidence = self._evidence_matrix(theme_ids)
            corrections = [c for c, _ in self._corrections.values()]  # the evidence's row order
            options = self._options
            reference = _reference(list(self._themes.values()))
        if evidence is None or len(evidence[0]) < min_examples:
            raise InvalidInput(f"calibration needs at least {min_examples} corrections",
                               code="too_few_corrections")
        vectors, labels, known = evidence
        n = len(vectors)
        fold = np.arange(n) % folds
        scores = np.zeros((n, len(theme_ids)), dtype=np.float32)
        for f in range(folds):
            held = fold == f
            rest = (vectors[~held], labels[~held], known[~held])
            scores[held] = _score(vectors[held], prototypes, rest, options, reference=reference)[0]
        scores = self._shifted(scores, [c.language or "" for c in corrections], options)
        truth = (labels > 0) & (known > 0)
        mask = known > 0
        grid = np.arange(-0.05, 0.4001, 0.005)
        n_themes = len(theme_ids)

        def f1_of(thresholds: npt.NDArray[np.float32], margin: float) -> float:
            return _micro_f1(_predict(scores, thresholds, margin, options.max_themes, independent=~reference) & mask,
                             truth)

        best = (-1.0, options.threshold, options.margin)
        for margin in (0.02, 0.05, 0.08, 0.1, 0.15, 1.0):
            for threshold in grid:
                f1 = f1_of(np.full(n_themes, threshold, np.float32), margin)
                if f1 > best[0] + 1e-9:
                    best = (f1, float(threshold), margin)
        f1, threshold, margin = best
        # Then each theme with enough examples gets its own threshold (one pass, each theme
        # against the others' current ones), kept only where it helps: prototypes sit at
        # different distances, so one global cut over-assigns some themes and misses others.
        per_theme = np.full(n_themes, threshold, np.float32)
        for j in range(n_themes):
            if int(truth[:, j].sum()) < min_theme_examples:
                continue
            for candidate in grid[np.abs(grid - threshold) <= max_shift + 1e-9]:
                trial = per_theme.copy()
                trial[j] = candidate
                trial_f1 = f1_of(trial, margin)
                if trial_f1 > f1 + 1e-3:
                    f1, per_theme = trial_f1, trial
        thresholds = {t: round(float(per_theme[j]), 4) for j, t in enumerate(theme_ids)
                      if abs(float(per_theme[j]) - threshold) > 1e-9}
        with self._lock:
            self._options = dataclasses.replace(self._options, threshold=round(threshold, 4), margin=margin,
                                                thresholds=thresholds)
        log.info("calibrated on %d corrections: threshold %.3f margin %.2f, %d per-theme thresholds", n,
                 threshold, margin, len(thresholds))
        return Calibration(threshold=round(threshold, 4), margin=margin, micro_f1=round(f1, 4), examples=n,
                           thresholds=thresholds)

    # --- discovery ---------------------------------------------------------------------------

    def discover(
        self,
        texts: Sequence[str],
        *,
        codings: Sequence[Coding] | None = None,
        max_k: int = 8,
        min_size: int = 3,
        seed: int = 0,
        examples: int = 3,
        coverage: float | None = None,
    ) -> list[DiscoveredTheme]:
        """Cluster the texts the themes cover poorly, choosing the number of clusters (2 to
        ``max_k``) by silhouette; largest first. `explore` lets the analyst pick the granularity.

        Poorly covered: coded "other", or best score below ``coverage`` (default
        ``options.coverage``), since a weak match is often a theme the list lacks pulled
        towards the nearest one. Pass ``codings`` from ``code(texts)`` to skip re-coding.
        Returns an empty list when too few texts qualify or they show no cluster structure.
        """
        items, raw, coded = self._discovery_input(texts, codings)
        if not items:
            return []
        limit = self._options.coverage if coverage is None else coverage
        pool = [i for i, c in enumerate(coded) if c.other or c.best is None or c.best.score < limit]
        if len(pool) < 2 * min_size:
            return []
        result = cluster(self._cluster_space(raw, coded, pool, corpus_centred=False), max_k=max_k,
                         min_size=min_size, seed=seed)
        found = self._describe(items, coded, pool, result.clusters, examples=examples)
        log.info("discovery: %d uncovered of %d, %d clusters", len(pool), len(items), len(found))
        return found

    def explore(
        self,
        texts: Sequence[str],
        *,
        granularity: str = "medium",
        scope: Literal["all", "uncovered"] = "all",
        codings: Sequence[Coding] | None = None,
        min_size: int | None = None,
        seed: int = 0,
        examples: int = 3,
        per_language: int = 2,
        coverage: float | None = None,
    ) -> Discovery:
        """Cluster the texts (all of them, or those the themes cover poorly) at a granularity
        of ``discovery.LEVELS``: coarse, medium or fine. Every cluster the level finds is kept
        unless smaller than ``min_size`` (default: 0.5 % of the texts, at least 3); those
        texts are reported as not grouped, never pushed into a neighbouring cluster."""
        if granularity not in LEVELS:
            raise InvalidInput(f"granularity must be one of {', '.join(LEVELS)}", fields={"granularity": "invalid"})
        items, raw, coded = self._discovery_input(texts, codings)
        if scope == "uncovered":
            limit = self._options.coverage if coverage is None else coverage
            pool = [i for i, c in enumerate(coded) if c.other or c.best is None or c.best.score < limit]
        else:
            pool = list(range(len(items)))
        if len(pool) < 6:
            return Discovery(granularity=granularity, clusters=(), clustered=tuple(pool), not_grouped=tuple(pool),
                             silhouette=0.0)
        result = granular(self._cluster_space(raw, coded, pool, corpus_centred=True), granularity,
                          min_size=min_size, seed=seed)
        found = self._describe(items, coded, pool, result.clusters, examples=examples,
                               per_language_examples=per_language)
        grouped = {m for d in found for m in d.members}
        log.info("discovery (%s, %s): %d texts, %d clusters, %d not grouped", granularity, scope, len(pool),
                 len(found), len(pool) - len(grouped))
        return Discovery(granularity=granularity, clusters=tuple(found), clustered=tuple(pool),
                         not_grouped=tuple(i for i in pool if i not in grouped), silhouette=result.silhouette)

    async def aexplore(self, texts: Sequence[str], **kwargs: Any) -> Discovery:
        return await asyncio.to_thread(self.explore, list(texts), **kwargs)

    def _discovery_input(self, texts: Sequence[str], codings: Sequence[Coding] | None
                         ) -> tuple[list[str], FloatArray, list[Coding]]:
        items = _check_texts(texts)
        if codings is not None and len(codings) != len(items):
            raise InvalidInput("codings must match texts one to one", fields={"codings": "length"})
        if not items:
            return [], np.zeros((0, self.embedder.dim), np.float32), []
        self.prepare()
        raw = self._embed(items)
        coded = list(codings) if codings is not None else self._code_vectors(items, raw)
        return items, raw, coded

    def _cluster_space(self, raw: FloatArray, coded: Sequence[Coding], pool: Sequence[int], *,
                       corpus_centred: bool) -> FloatArray:
        """Language-centred vectors of ``pool``; optionally centred on their own mean too, so
        a corpus that shares one topic spreads out by what its answers say about it."""
        x = self._language_centred(raw[list(pool)], [coded[i].language.code for i in pool])
        if corpus_centred:
            x = normalise(x - x.mean(axis=0))
        return x

    def _describe(self, items: list[str], coded: Sequence[Coding], pool: Sequence[int],
                  groups: Sequence[Cluster], *, examples: int, per_language_examples: int = 2) -> list[DiscoveredTheme]:
        with self._lock:
            taken = set(self._themes)
        languages = [c.language.code for c in coded]
        background = [items[i] for i in pool]
        overall = document_terms(background)
        per_language: dict[str, Counter[str]] = {}
        found = []
        number = 0
        for group in groups:
            members = tuple(pool[i] for i in group.members)
            words = tuple(keywords([items[i] for i in members], background, background_terms=overall))
            number += 1
            while f"discovered-{number}" in taken:
                number += 1
            central = tuple(items[i] for i in members[:examples])
            name = " / ".join(words[:3]) if words else central[0][:60]
            found.append(DiscoveredTheme(
                id=f"discovered-{number}", name=name, keywords=words, examples=central, members=members,
                cohesion=group.cohesion,
                languages=dict(Counter(languages[i] for i in members).most_common()),
                examples_by_language=central_by_language(members, languages, per_language_examples),
                keywords_by_language={lang: tuple(w) for lang, w in
                                      keywords_by_language(members, items, languages,
                                                           background_terms=per_language).items()},
                current=dict(Counter(t for i in members for t in (coded[i].themes or ("",))).most_common()),
            ))
        return found

    def preview(self, theme: Theme, texts: Sequence[str], *, members: Sequence[int] = (),
                quantile: float = MEMBER_QUANTILE) -> AdoptionPreview:
        """Every text's themes without and with ``theme``, which is not added.

        Unless ``theme.threshold`` is set, its threshold is calibrated on ``members`` (the
        indices of the cluster it came from; see ``adoption.calibrated_threshold``).
        """
        items = _check_texts(texts)
        self.prepare()
        with self._lock:
            if theme.id in self._themes:
                raise Conflict(f"theme {theme.id!r} already exists", code="theme_exists")
        if any(not 0 <= m < len(items) for m in members):
            raise InvalidInput("members must index the texts", fields={"members": "out_of_range"})
        raw = self._embed(items)
        examples = [e for e in theme.examples if e.strip()]
        # as add_theme builds it: the examples with their language taken out
        candidate = self._prototype(self._aligned(self._embed(examples),
                                                  [self.languages.identify(e).code for e in examples]))
        snap = self._snapshot()
        languages = [self.languages.identify(text).code for text in items]
        scores, nearest, nearest_index = self._scores(raw, languages, snap)
        before = tuple(self._choose(r, scores, nearest, nearest_index, snap)[0] for r in range(len(items)))
        evidence = snap.evidence
        if evidence is not None:  # corrections say nothing about a theme that did not exist
            vectors, labels, known = evidence
            zero = np.zeros((len(labels), 1), np.float32)
            evidence = (vectors, np.hstack([labels, zero]), np.hstack([known, zero]))
        trial = snap._replace(theme_ids=[*snap.theme_ids, theme.id],
                              prototypes=np.vstack([snap.prototypes, candidate[None, :]]), evidence=evidence,
                              reference=np.append(snap.reference, False))
        scores, nearest, nearest_index = self._scores(raw, languages, trial)
        threshold = theme.threshold
        if threshold is None:
            threshold = calibrated_threshold(scores[list(members), -1], floor=snap.options.threshold,
                                             quantile=quantile)
        trial = trial._replace(options=dataclasses.replace(
            trial.options, thresholds={**trial.options.thresholds, theme.id: threshold}))
        after = tuple(self._choose(r, scores, nearest, nearest_index, trial)[0] for r in range(len(items)))
        return AdoptionPreview(theme=theme.id, threshold=threshold, before=before, after=after,
                               members=tuple(members))

    async def apreview(self, theme: Theme, texts: Sequence[str], **kwargs: Any) -> AdoptionPreview:
        return await asyncio.to_thread(self.preview, theme, list(texts), **kwargs)

    def adopt(
        self, discovered: DiscoveredTheme, *, theme_id: str | None = None, name: str | None = None,
        names: Mapping[str, str] | None = None, threshold: float | None = None,
    ) -> Theme:
        """Make a discovered cluster a theme, with its central answers as examples and, where
        given (from `preview`), its own threshold."""
        theme = Theme(
            id=theme_id or discovered.id, name=name or discovered.name, examples=discovered.examples,
            names=dict(names or {}), origin="discovered", threshold=threshold,
        )
        self.add_theme(theme)
        return theme


# --- scoring (pure functions over centred unit vectors) ------------------------------------


def _language_offsets(vectors: FloatArray, languages: Sequence[str], owners: Sequence[str]) -> dict[str, float]:
    """Per language, how much higher its seed examples score for their own theme than the
    average language does, against prototypes built from the *other* languages' examples.

    The seed examples say the same things in every language, so a language whose examples
    score low against the others (the small multilingual model places Portuguese and Chinese
    further from the rest) will score low on every answer too, and cross fewer thresholds.
    Only languages with examples for most themes get an offset; the others get none.
    """
    theme_ids = list(dict.fromkeys(owners))
    owner_index = np.array([theme_ids.index(o) for o in owners])
    own: dict[str, float] = {}
    for lang in sorted(set(languages)):
        mine = np.array([code == lang for code in languages])
        if len({o for o, m in zip(owners, mine, strict=True) if m}) * 4 < len(theme_ids) * 3:
            continue
        prototypes = []
        for j in range(len(theme_ids)):
            rows = (owner_index == j) & ~mine
            if not rows.any():
                break
            prototypes.append(vectors[rows].mean(axis=0))
        else:
            sims = vectors[mine] @ normalise(np.stack(prototypes)).T
            relative = sims - sims.mean(axis=1, keepdims=True)
            own[lang] = float(relative[np.arange(len(relative)), owner_index[mine]].mean())
    if len(own) < 2:
        return {}
    mean = sum(own.values()) / len(own)
    return {lang: round(value - mean, 4) for lang, value in own.items()}


def _language_centres(vectors: FloatArray, languages: list[str], themes: list[Theme]) -> dict[str, FloatArray]:
    """Mean example embedding per language, for languages whose examples cover most themes."""
    owners = [theme.id for theme in themes for e in theme.examples if e.strip()]
    centres = {}
    for lang in set(languages):
        rows = [i for i, code in enumerate(languages) if code == lang]
        if len({owners[i] for i in rows}) * 4 >= len(themes) * 3:  # topic-balanced enough
            centres[lang] = vectors[rows].mean(axis=0).astype(np.float32)
    return centres


def _reference(themes: Sequence[Theme]) -> npt.NDArray[np.bool_]:
    """The themes scores are relative to: those without their own threshold. A theme adopted
    with its own (calibrated) threshold is left out, so adopting it moves no other theme's
    score: from a corpus that shares one topic its prototype is close to every answer, and
    in the mean it pushed other themes' scores down, and answers out of them."""
    mask = np.array([t.threshold is None for t in themes], dtype=np.bool_)
    return mask if mask.any() else np.ones(len(themes), dtype=np.bool_)


def _score(
    queries: FloatArray,
    prototypes: FloatArray,
    evidence: tuple[FloatArray, npt.NDArray[np.float32], npt.NDArray[np.float32]] | None,
    options: CoderOptions,
    *,
    reference: npt.NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """Relative theme scores (similarity minus the mean similarity to the ``reference``
    themes, default all), plus similarity and index of the nearest correction (-1: none)."""
    sims = queries @ prototypes.T
    base = sims if reference is None or not reference.any() else sims[:, reference]
    scores = sims - base.mean(axis=1, keepdims=True)
    n = len(queries)
    if evidence is None or len(evidence[0]) == 0:
        return scores.astype(np.float32), np.full(n, -1.0, np.float32), np.full(n, -1, np.int64)
    vectors, labels, known = evidence
    k, temp = options.neighbours, options.temperature
    positive = neighbour_vote(queries, vectors, labels * known, k=k, temperature=temp)
    weight = neighbour_vote(queries, vectors, known, k=k, temperature=temp)
    # share of the neighbours (that knew the theme) who chose it; 0.5 where none knew it
    share = np.where(weight.labels > 1e-6, positive.labels / np.maximum(weight.labels, 1e-6), 0.5)
    closeness = np.clip(positive.nearest, 0.0, 1.0)[:, None]
    scores = scores + options.neighbour_weight * (share - 0.5) * closeness
    return scores.astype(np.float32), positive.nearest, positive.nearest_index


def _assign(scores: npt.NDArray[np.float32], theme_ids: list[str], options: CoderOptions, *,
            independent: npt.NDArray[np.bool_] | None = None) -> tuple[str, ...]:
    """Themes over their own threshold, best first, within ``margin`` of the best one that
    passed; none ("other") only when no theme reaches its threshold.

    ``independent`` themes (adopted with their own calibrated threshold, on their own scale)
    are given whenever they pass it, alongside the others, and take no part in the margin:
    a discovered sub-theme ("energy") is added to an answer's "climate", not swapped for it."""
    order = np.argsort(-scores, kind="stable")
    passed = [j for j in order if float(scores[j]) >= options.threshold_for(theme_ids[j])]
    if not passed:
        return ()
    alone = independent if independent is not None else np.zeros(len(theme_ids), dtype=np.bool_)
    ranked = [j for j in passed if not alone[j]]
    top = float(scores[ranked[0]]) if ranked else 0.0
    chosen = [j for j in passed if alone[j] or float(scores[j]) >= top - options.margin]
    return tuple(theme_ids[j] for j in chosen[: options.max_themes])


def _predict(scores: npt.NDArray[np.float32], thresholds: npt.NDArray[np.float32], margin: float,
             max_themes: int, *, independent: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.bool_]:
    """`_assign` for all rows at once: per-theme thresholds, margin below the best passing
    theme (independent themes aside), at most ``max_themes``."""
    alone = independent if independent is not None else np.zeros(scores.shape[1], dtype=np.bool_)
    passed = scores >= thresholds[None, :]
    top = np.where(passed & ~alone[None, :], scores, -np.inf).max(axis=1, keepdims=True)
    keep = passed & ((scores >= top - margin) | alone[None, :])
    masked = np.where(keep, scores, -np.inf)
    rank = np.argsort(np.argsort(-masked, axis=1, kind="stable"), axis=1, kind="stable")
    out: npt.NDArray[np.bool_] = keep & (rank < max_themes)
    return out


def _micro_f1(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_]) -> float:
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
