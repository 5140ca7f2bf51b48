"""Finding themes the seed list does not cover.

Answers no theme fits are clustered on their (centred, unit) embeddings with spherical
k-means: k-means++ starts from a fixed random seed, several restarts, and the number of
clusters chosen by the mean silhouette (cosine distance). Only numpy is needed; a
consultation's uncovered answers number in the hundreds or thousands, which this handles in
well under a second.

A cluster is described by its most central answers and by keywords that are frequent in it
and rare elsewhere (a class-based TF-IDF). Words are split on letters; Chinese, Japanese and
Korean runs, written without spaces, are split into character pairs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.embeddings import FloatArray, normalise


@dataclass(frozen=True)
class Cluster:
    members: tuple[int, ...]  # row indices into the clustered input, most central first
    cohesion: float  # mean cosine of members to the centroid
    centroid: FloatArray


@dataclass(frozen=True)
class Clustering:
    clusters: tuple[Cluster, ...]
    k: int
    silhouette: float
    assignment: npt.NDArray[np.int64]  # cluster per input row (-1: cluster dropped as too small)


def _kmeans_pp(x: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    centres = [x[int(rng.integers(len(x)))]]
    nearest = x @ centres[0]  # each row's similarity to its closest centre so far
    for _ in range(1, k):
        dist = np.clip(1.0 - nearest, 0.0, None)
        total = float(dist.sum())
        pick = int(rng.integers(len(x))) if total <= 0 else int(rng.choice(len(x), p=dist / total))
        centres.append(x[pick])
        nearest = np.maximum(nearest, x @ x[pick])
    return np.stack(centres)


def spherical_kmeans(
    x: FloatArray, k: int, *, seed: int = 0, restarts: int = 4, iterations: int = 50
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Cluster unit rows by cosine; returns (assignment, unit centroids) of the best restart."""
    if not 1 <= k <= len(x):
        raise ValueError(f"k={k} needs 1 <= k <= {len(x)} rows")
    if restarts < 1:
        raise ValueError("restarts must be at least 1")
    rng = np.random.default_rng(seed)
    best: tuple[float, npt.NDArray[np.int64], FloatArray] = (-np.inf, np.zeros(0, np.int64), x[:0])
    for _ in range(restarts):
        centres = _kmeans_pp(x, k, rng)
        assign = np.full(len(x), -1, dtype=np.int64)
        for _ in range(iterations):
            new = np.argmax(x @ centres.T, axis=1).astype(np.int64)
            moved = int(np.count_nonzero(new != assign))
            assign = new
            if moved <= len(x) // 1000:  # converged, or a few rows trading places for good
                break
            onehot = np.zeros((len(x), k), dtype=np.float32)
            onehot[np.arange(len(x)), assign] = 1.0
            sums = onehot.T @ x
            for c in np.flatnonzero(onehot.sum(axis=0) == 0):
                # an emptied cluster restarts on the row worst served by its centre
                sums[c] = x[int(np.argmin(np.max(x @ centres.T, axis=1)))]
            centres = normalise(sums)
        inertia = float(np.sum(np.max(x @ centres.T, axis=1)))
        if inertia > best[0]:
            best = (inertia, assign.copy(), centres.copy())
    return best[1], best[2]


def silhouette(x: FloatArray, assignment: npt.NDArray[np.int64], *, sample: int = 1500, seed: int = 0) -> float:
    """Mean silhouette with cosine distance (over at most ``sample`` rows); 0 below two clusters."""
    if len(np.unique(assignment)) < 2:
        return 0.0
    if len(x) > sample:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), size=sample, replace=False))
        x, assignment = x[keep], assignment[keep]
    return _silhouette_of(np.clip(1.0 - x @ x.T, 0.0, 2.0), assignment)


def cluster(
    x: FloatArray, *, max_k: int = 8, min_size: int = 3, seed: int = 0, min_silhouette: float = 0.02
) -> Clustering:
    """Choose k in 2..max_k by silhouette and keep clusters of at least ``min_size`` rows."""
    n = len(x)
    empty = Clustering(clusters=(), k=0, silhouette=0.0, assignment=np.full(n, -1, dtype=np.int64))
    top_k = min(max_k, n // max(min_size, 1))
    if top_k < 2:
        return empty
    candidates = []
    for k in range(2, top_k + 1):
        assign, _ = spherical_kmeans(x, k, seed=seed)
        candidates.append((silhouette(x, assign), -k, assign))
    score, minus_k, assign = max(candidates, key=lambda c: (round(c[0], 9), c[1]))  # ties: fewer clusters
    k = -minus_k
    if score < min_silhouette:
        return empty
    clusters = []
    for c in range(k):
        rows = np.flatnonzero(assign == c)
        if len(rows) < min_size:
            continue
        centroid = normalise(x[rows].sum(axis=0))
        closeness = x[rows] @ centroid
        order = rows[np.argsort(-closeness, kind="stable")]
        clusters.append(Cluster(members=tuple(int(r) for r in order), cohesion=round(float(closeness.mean()), 4),
                                centroid=centroid))
    clusters.sort(key=lambda cl: -len(cl.members))
    final = np.full(n, -1, dtype=np.int64)
    for number, cl in enumerate(clusters):
        final[list(cl.members)] = number
    return Clustering(clusters=tuple(clusters), k=k, silhouette=round(score, 4), assignment=final)


# --- keywords -------------------------------------------------------------------------------

_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W\d_]+")

STOPWORDS: frozenset[str] = frozenset(" ".join((
    # English
    "the and for are but not you all any can had her was one our out has have him his how its may ",
    "new now see who did get got let say she too use that with this from they will would there their ",
    "what when which were been being into than then them these those also just more most much many ",
    "some such only very should could must need needs want make made like about over other should ",
    "because people think does doing your yours while where here every each want we our ours it ",
    # German
    "der die das und ist sind ein eine einer eines einem einen nicht mit für auf den dem des von ",
    "zu im in es sich auch als wie wird werden wurde soll sollen sollte sollten muss müssen kann ",
    "können mehr noch nur oder aber bei bis durch nach über unter vor zum zur aus alle allen ",
    "diese dieser dieses damit dass wenn man wir ich sie ihr uns ja nein sehr schon sein haben hat ",
    # French
    "les des une est pas pour que qui dans sur par avec plus son ses aux ces nous vous ils elles ",
    "leur leurs être avoir fait faire sont doit doivent tout tous toutes mais comme ",
    # Spanish
    "los las una por con para del que como más pero sus sin sobre este esta estos estas todo todos ",
    "debe deben hay ser son muy también ",
    # Russian
    "это как что для все они она его нас нам вас при или так уже чтобы быть нужно надо ",
    # Arabic
    "في من على إلى عن مع هذا هذه التي الذي أن إن كان يجب",
)).split())
_CJK_STOP: frozenset[str] = frozenset(" ".join((
    "我覺 覺得 我們 我認 認為 應該 一個 可以 沒有 這個 他們 你們 的人 如果 因為 所以 但是 就是 不是",
    "我们 认为 应该 这个 没有 因为",
)).split())


def terms(text: str) -> set[str]:
    """Distinct index terms of ``text``: lower-cased words of 3+ letters, CJK character pairs."""
    found: set[str] = set()
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            continue
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    rest = _CJK_RUN.sub(" ", text).lower()
    found.update(w for w in _WORD.findall(rest) if len(w) >= 3 or (len(w) >= 2 and not w.isascii()))
    return {t for t in found if t not in STOPWORDS and t not in _CJK_STOP}


def document_terms(texts: Sequence[str]) -> Counter[str]:
    """In how many of ``texts`` each term occurs."""
    return Counter(t for text in texts for t in terms(text))


def keywords(cluster_texts: Sequence[str], background: Sequence[str], *, top: int = 5, min_count: int = 2,
             background_terms: Counter[str] | None = None) -> list[str]:
    """Terms over-represented in ``cluster_texts`` relative to ``background`` (which contains
    them); pass ``background_terms`` (document frequencies of the background) when describing
    many clusters of one background."""
    inside = Counter(t for text in cluster_texts for t in terms(text))
    overall = background_terms if background_terms is not None else document_terms(background)
    n_in, n_all = max(len(cluster_texts), 1), max(len(background), 1)
    scored = []
    for term, count in inside.items():
        if count < min(min_count, len(cluster_texts)):
            continue
        p_in = count / n_in
        p_all = (overall.get(term, 0) + 1) / (n_all + 1)
        scored.append((p_in * math.log(p_in / p_all + 1e-9), count, term))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    return [term for score, _, term in scored[:top] if score > 0]


# --- granularities ----------------------------------------------------------------------------

# Candidate numbers of clusters per granularity; each level keeps the k with the best
# silhouette among its candidates (never fewer than the level's smallest k because the whole
# corpus shares one topic: an analyst who asks for fine groups gets fine groups).
LEVELS: dict[str, tuple[int, ...]] = {
    "coarse": (3, 4, 5, 6),
    "medium": (8, 10, 12, 14),
    "fine": (18, 22, 26, 30),
}


def min_size_for(n: int, floor: int = 3) -> int:
    """Smallest group shown: 0.5 % of the answers, at least ``floor``; smaller ones are
    reported as not grouped rather than shown as themes of two answers."""
    return max(floor, round(n * 0.005))


def granular(x: FloatArray, level: str, *, min_size: int | None = None, seed: int = 0,
             sample: int = 1500) -> Clustering:
    """Cluster unit rows at one of ``LEVELS``; clusters under ``min_size`` are dropped
    (their rows get -1 in ``assignment``). Unlike `cluster`, never returns nothing because the
    groups overlap: the silhouette is reported for the analyst to judge."""
    if level not in LEVELS:
        raise ValueError(f"unknown granularity {level!r}")
    n = len(x)
    size = min_size_for(n) if min_size is None else min_size
    empty = Clustering(clusters=(), k=0, silhouette=0.0, assignment=np.full(n, -1, dtype=np.int64))
    ks = [k for k in LEVELS[level] if k * size <= n]
    if not ks:
        ks = [n // size] if n // size >= 2 else []
    if not ks:
        return empty
    keep = np.arange(n)
    if n > sample:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
    dist = np.clip(1.0 - x[keep] @ x[keep].T, 0.0, 2.0)
    tried = []
    for k in ks:
        assign, _ = spherical_kmeans(x, k, seed=seed, restarts=3)
        tried.append((round(_silhouette_of(dist, assign[keep]), 9), -k, assign))
    score, minus_k, assign = max(tried, key=lambda t: (t[0], t[1]))  # ties: fewer clusters
    return _groups(x, assign, -minus_k, size, score)


def _silhouette_of(dist: npt.NDArray[np.float32], assignment: npt.NDArray[np.int64]) -> float:
    labels = np.unique(assignment)
    if len(labels) < 2:
        return 0.0
    member = assignment[:, None] == labels[None, :]
    sizes = member.sum(axis=0).astype(np.float64)
    sums = dist @ member
    own = np.argmax(member, axis=1)
    n_own = sizes[own]
    a = np.where(n_own > 1, sums[np.arange(len(dist)), own] / np.maximum(n_own - 1, 1), 0.0)
    b = np.where(member, np.inf, sums / np.maximum(sizes[None, :], 1)).min(axis=1)
    denom = np.maximum(a, b)
    scores = np.where((n_own > 1) & np.isfinite(b) & (denom > 0), (b - a) / np.where(denom > 0, denom, 1), 0.0)
    return float(scores.mean())


def _groups(x: FloatArray, assign: npt.NDArray[np.int64], k: int, min_size: int, score: float) -> Clustering:
    clusters = []
    for c in range(k):
        rows = np.flatnonzero(assign == c)
        if len(rows) < min_size:
            continue
        centroid = normalise(x[rows].sum(axis=0))
        closeness = x[rows] @ centroid
        order = rows[np.argsort(-closeness, kind="stable")]
        clusters.append(Cluster(members=tuple(int(r) for r in order), cohesion=round(float(closeness.mean()), 4),
                                centroid=centroid))
    clusters.sort(key=lambda cl: (-len(cl.members), cl.members[0]))
    final = np.full(len(x), -1, dtype=np.int64)
    for number, cl in enumerate(clusters):
        final[list(cl.members)] = number
    return Clustering(clusters=tuple(clusters), k=k, silhouette=round(score, 4), assignment=final)


def central_by_language(members: Sequence[int], languages: Sequence[str], per_language: int
                        ) -> dict[str, tuple[int, ...]]:
    """The most central ``per_language`` members in each language present, languages by how
    many members they have (``members`` is most central first)."""
    counts = Counter(languages[m] for m in members)
    out: dict[str, list[int]] = {lang: [] for lang, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
    for m in members:
        chosen = out[languages[m]]
        if len(chosen) < per_language:
            chosen.append(m)
    return {lang: tuple(rows) for lang, rows in out.items()}


def keywords_by_language(members: Sequence[int], texts: Sequence[str], languages: Sequence[str], *,
                         top: int = 5, background_terms: dict[str, Counter[str]] | None = None
                         ) -> dict[str, list[str]]:
    """Keywords per language, each from the cluster's answers in that language against every
    answer in that language: words an analyst reading that language recognises, never a
    translation. Languages with fewer than two members in the cluster get none.
    ``background_terms`` (per language, filled as needed) saves recounting for each cluster."""
    inside: dict[str, list[str]] = {}
    for m in members:
        inside.setdefault(languages[m], []).append(texts[m])
    everyone: dict[str, list[str]] = {}
    for text, lang in zip(texts, languages, strict=True):
        if lang in inside:
            everyone.setdefault(lang, []).append(text)
    cached = background_terms if background_terms is not None else {}
    out = {}
    for lang, group in inside.items():
        if len(group) < 2:
            continue
        if lang not in cached:
            cached[lang] = document_terms(everyone[lang])
        words = keywords(group, everyone[lang], top=top, background_terms=cached[lang])
        if words:
            out[lang] = words
    return out
