"""Discovery and adoption: the coder's clusters of answers, and making one a theme."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parley.consultation.analysis.adoption import MEMBER_QUANTILE, AdoptionPreview, calibrated_threshold
from parley.consultation.analysis.coder_base import CoderBase
from parley.consultation.analysis.coding import Coding, _check_texts
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
from parley.consultation.analysis.embeddings import FloatArray, normalise
from parley.consultation.analysis.themes import Theme
from parley.errors import Conflict, InvalidInput

log = logging.getLogger(__name__)


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


class CoderDiscovery(CoderBase):
    """``discover()`` clusters the answers the themes cover poorly, ``explore()`` all of them
    at a granularity the analyst picks; ``preview()`` and ``adopt()`` turn a cluster into a theme."""

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
