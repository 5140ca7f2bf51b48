"""A deterministic embedder with a tiny cross-lingual vocabulary, for tests.

Words are mapped to concepts through stems in several languages ("clim", "klima", "климат",
"مناخ", "气候" all mean climate), each concept is a fixed random unit vector, and a text is the
normalised sum of its concepts (weight 1) and its other words (weight 0.3, one random vector
per word). So texts about the same concept are close whatever their language, texts sharing
other words are a little close, and everything is reproducible without a model.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from parley.consultation.analysis.embeddings import Embedder, EmbedderInfo, FloatArray, Kind

CONCEPTS: dict[str, tuple[str, ...]] = {
    "climate": ("clim", "klima", "климат", "مناخ", "气候", "氣候", "warming", "réchauff", "calentamiento"),
    "emissions": ("emission", "emisi", "ausstoß", "выброс", "انبعاث", "排放", "co2", "carbon"),
    "nature": ("forest", "forêt", "bosque", "wald", "лес", "غاب", "森林", "biodivers", "artenvielfalt", "pollut"),
    "energy": ("renewable", "renouvel", "renovable", "erneuerbar", "возобновля", "متجدد", "可再生", "solar", "wind"),
    "health": ("health", "santé", "salud", "gesund", "здоров", "صحة", "صحي", "健康", "医疗", "醫療", "hospital",
               "hôpital", "krankenh", "больниц", "مستشف", "pandemi", "medic"),
    "war": ("guerre", "guerra", "krieg", "войн", "حرب", "战争", "戰爭", "weapon", "military", "militair", "peace",
            "paix", "frieden", "armed"),
    "school": ("school", "école", "escuela", "schul", "школ", "مدرس", "学校", "educat", "éducation", "educación",
               "bildung", "образован", "تعليم", "教育", "teacher", "enseignant", "lehrkr"),
    "poverty": ("poverty", "pauvreté", "pobreza", "armut", "бедност", "فقر", "贫困", "poor", "pauvre", "arm "),
    "jobs": ("job", "emploi", "empleo", "arbeitspl", "работ", "وظائف", "就业", "wage", "salaire", "salario", "lohn",
             "econom", "économ", "wirtschaft", "экономи", "اقتصاد", "经济", "tax"),
    "tech": ("internet", "digital", "numérique", "интернет", "رقمي", "数字", "人工智能", "artificial", "technolog"),
    "rights": ("rights", "droits", "derechos", "rechte", "прав", "حقوق", "人权", "人權", "discrimin", "racis",
               "freedom", "liberté", "libertad"),
    "corruption": ("corrupt", "korrup", "коррупц", "فساد", "腐败", "腐敗", "democra", "démocrat", "elect", "wahl"),
    "migration": ("migra", "refug", "réfugi", "flücht", "geflücht", "беженц", "мигра", "لاجئ", "هجرة", "移民",
                  "难民", "難民", "immigr"),
    "food": ("hunger", "faim", "hambre", "голод", "جوع", "饥饿", "food", "aliment", "nahrung", "farmer", "agricult"),
    "water": ("water", "eau ", "agua", "wasser", "питьев", "مياه", "饮用水", "sanitation"),
    "gender": ("women", "femmes", "mujeres", "frauen", "женщин", "نساء", "مرأة", "妇女", "女性", "gender", "genre",
               "género", "gleichstell"),
    "good": ("great", "good", "love", "support", "excellent", "hope", "thank", "soutien", "estupend", "toll",
             "großartig", "отличн", "رائع", "好主意", "支持", "wonderful", "happy"),
    "bad": ("terrible", "angry", "awful", "broken", "unfair", "fail", "worried", "afraid", "colère", "injuste",
            "schrecklich", "wütend", "ужасн", "злит", "سيئ", "غاضب", "糟糕", "生气", "hate", "disaster"),
}

_TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def _unit(name: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return v / np.linalg.norm(v)


class FakeEmbedder(Embedder):
    info = EmbedderInfo(name="fake-concepts", dim=384, multilingual=True, max_tokens=10_000)

    def __init__(self, *, batch_size: int = 8, word_weight: float = 0.3) -> None:
        super().__init__(batch_size=batch_size)
        self.word_weight = word_weight
        self.batches: list[int] = []  # size of every batch embedded, to check batching and caching
        self.kinds: list[Kind] = []

    @property
    def texts_embedded(self) -> int:
        return sum(self.batches)

    def concepts(self, text: str) -> list[str]:
        low = f" {text.lower()} "
        return [name for name, stems in CONCEPTS.items() if any(stem in low for stem in stems)]

    def vector(self, text: str) -> np.ndarray:
        dim = self.info.dim
        v = np.zeros(dim)
        found = self.concepts(text)
        for concept in found:
            v += _unit(f"concept:{concept}", dim)
        words = {w.lower() for w in _TOKEN.findall(text) if len(w) >= 3 and not _CJK.search(w)}
        for run in _CJK_RUN.findall(text):  # Chinese has no spaces: character pairs stand in for words
            words.update(run[i : i + 2] for i in range(len(run) - 1))
        for word in sorted(words):
            v += self.word_weight * _unit(f"word:{word}", dim)
        if not np.any(v):
            v = _unit("empty", dim)
        return v

    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:
        self.batches.append(len(texts))
        self.kinds.append(kind)
        return np.stack([self.vector(t) for t in texts]).astype(np.float32)
