"""The multilingual part of bench/themes.py: the same sentences in nine languages.

Labels (bench/data/flores_labelled.jsonl: FLORES-200 devtest line numbers, themes and
sentiment written by us from the English line) apply to the line in every language, since
FLORES is n-way parallel (human translations). For each language this measures theme
micro-F1 against the labels, agreement with the English line's coding (same theme set),
the "other" rate beside the English one, and sentiment accuracy against the majority label.
The coders compared: the shipped ThemeCoder (as configured by the caller) and a baseline of
nearest labelled examples (the 251 labelled Pol.is statements, en/de/zh, as a k-NN vote).

Embeddings are cached in ``bench/results/embeddings-<model>.npz`` (the machine is shared:
a re-run embeds nothing new).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FLORES_LABELS = HERE / "data" / "flores_labelled.jsonl"
FLORES_LANGS = {"en": "eng_Latn", "de": "deu_Latn", "fr": "fra_Latn", "es": "spa_Latn", "pt": "por_Latn",
                "ru": "rus_Cyrl", "ar": "arb_Arab", "zh": "zho_Hans", "zh-Hant": "zho_Hant"}


def cached_embedder(inner: Any, path: Path) -> Any:
    """An Embedder that remembers every vector in ``path`` (npz) across runs."""
    from parley.consultation.analysis.embeddings import Embedder

    class Cached(Embedder):
        info = inner.info

        def __init__(self) -> None:
            super().__init__(batch_size=inner.batch_size)
            self.vectors: dict[str, np.ndarray] = {}
            self.new = 0
            if path.exists():
                data = np.load(path)
                self.vectors = dict(zip(json.loads(str(data["keys"])), data["vectors"], strict=True))

        def _embed_batch(self, texts: list[str], kind: Any) -> Any:
            keys = [hashlib.sha1(f"{kind}\0{t}".encode()).hexdigest() for t in texts]
            missing = [t for t, k in zip(texts, keys, strict=True) if k not in self.vectors]
            if missing:
                fresh = inner.embed(missing, kind=kind)
                for t, v in zip(missing, fresh, strict=True):
                    self.vectors[hashlib.sha1(f"{kind}\0{t}".encode()).hexdigest()] = v
                self.new += len(missing)
            return np.stack([self.vectors[k] for k in keys])

        def save(self) -> None:
            if self.new:
                path.parent.mkdir(parents=True, exist_ok=True)
                keys = list(self.vectors)
                np.savez(path, keys=json.dumps(keys), vectors=np.stack([self.vectors[k] for k in keys]))

    return Cached()


def load_flores(eval_dir: Path) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    rows = [json.loads(line) for line in FLORES_LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    folder = eval_dir / "mt" / "flores200_devtest"
    texts: dict[str, list[str]] = {}
    for lang, code in FLORES_LANGS.items():
        path = folder / f"{code}.devtest"
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        texts[lang] = [" ".join(lines[r["line"] - 1].split()) for r in rows]
    return rows, texts


class NearestExamples:
    """Baseline: the k nearest labelled examples vote, weighted by similarity; a theme is
    assigned when its share of the vote reaches ``share``; none: "other"."""

    def __init__(self, embedder: Any, texts: Sequence[str], themes: Sequence[Sequence[str]],
                 sentiments: Sequence[str], k: int = 10, share: float = 0.35) -> None:
        self.embedder, self.k, self.share = embedder, k, share
        self.vectors = embedder.embed(list(texts))
        self.themes, self.sentiments = [list(t) for t in themes], list(sentiments)

    def code(self, texts: Sequence[str]) -> tuple[list[list[str]], list[str]]:
        sims = self.embedder.embed(list(texts)) @ self.vectors.T
        out_t, out_s = [], []
        for row in sims:
            idx = np.argsort(-row)[: self.k]
            w = np.exp((row[idx] - row[idx].max()) / 0.05)
            votes: Counter[str] = Counter()
            sent: Counter[str] = Counter()
            for i, wi in zip(idx, w, strict=True):
                for t in self.themes[i]:
                    votes[t] += float(wi)
                sent[self.sentiments[i]] += float(wi)
            total = float(w.sum())
            out_t.append([t for t, v in votes.most_common(3) if v / total >= self.share])
            out_s.append(sent.most_common(1)[0][0])
        return out_t, out_s


def evaluate(code: Callable[[Sequence[str]], tuple[list[list[str]], list[str]]], rows: list[dict[str, Any]],
             texts: dict[str, list[str]], theme_metrics: Callable[..., dict[str, Any]],
             theme_ids: Sequence[str]) -> dict[str, Any]:
    """Per language: micro-F1, agreement with English, "other" rates, sentiment vs majority."""
    gold = [r["themes"] for r in rows]
    gold_sent = [r["sentiment"] for r in rows]
    coded = {lang: code(items) for lang, items in texts.items()}
    en_themes = coded["en"][0]
    majority_label, majority_n = Counter(gold_sent).most_common(1)[0]
    out: dict[str, Any] = {}
    for lang, (themes, sentiments) in coded.items():
        m = theme_metrics(gold, themes, theme_ids)
        out[lang] = {
            "micro_f1": m["micro_f1"], "micro_precision": m["micro_precision"], "micro_recall": m["micro_recall"],
            "same_set_as_en": sum(set(a) == set(b) for a, b in zip(themes, en_themes, strict=True)) / len(rows),
            "other_rate": sum(not t for t in themes) / len(rows),
            "other_rate_en": sum(not t for t in en_themes) / len(rows),
            "sentiment_accuracy": sum(a == b for a, b in zip(sentiments, gold_sent, strict=True)) / len(rows),
            "sentiment_same_as_en": sum(a == b for a, b in zip(sentiments, coded["en"][1], strict=True)) / len(rows),
            "majority_baseline": majority_n / len(rows), "majority_label": majority_label,
            "per_theme": m["per_theme"],
        }
    return out


def calibration(confidences: Sequence[float], correct: Sequence[bool], bins: int = 5) -> dict[str, Any]:
    """How often the best-scoring theme is right, per band of its score (equal-count bands)."""
    order = np.argsort(np.asarray(confidences))
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"from": float(confidences[part[0]]), "to": float(confidences[part[-1]]),
                        "n": len(part), "precision": float(np.mean([correct[i] for i in part]))})
    return {"bands": out}


def print_table(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}: FLORES devtest, {len(result)} languages (labels from the English line)")
    print(f"{'lang':<9}{'micro F1':>9}{'same as en':>11}{'other':>7}{'other en':>9}{'sent acc':>9}"
          f"{'majority':>9}{'sent = en':>10}")
    for lang, m in result.items():
        print(f"{lang:<9}{m['micro_f1']:>9.3f}{m['same_set_as_en']:>11.3f}{m['other_rate']:>7.2f}"
              f"{m['other_rate_en']:>9.2f}{m['sentiment_accuracy']:>9.3f}{m['majority_baseline']:>9.3f}"
              f"{m['sentiment_same_as_en']:>10.3f}")
