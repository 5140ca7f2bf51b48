"""Neural MT with CTranslate2: OPUS-MT (Marian) and NLLB conversions an operator installs.

Each model is a folder under ``<models_dir>/mt/`` holding a CTranslate2 conversion
(``model.bin``, vocabularies) plus a ``parley-mt.json`` that says how to use it::

    {"type": "marian", "pairs": [["en", "fr"]],
     "tokenizer": "sentencepiece", "source_spm": "source.spm", "target_spm": "target.spm",
     "target_tokens": {"fr": ">>fra<<"}}            # only for multi-target OPUS-MT models
    {"type": "nllb", "languages": ["en", "fr", "ar", "ru", "zh", "es"],
     "tokenizer": "sentencepiece", "source_spm": "sentencepiece.bpe.model"}
    {"type": "m2m100", ...}                         # as nllb, with __en__-style language tokens

A folder named ``opus-mt-<src>-<tgt>`` with ``source.spm``/``target.spm`` needs no JSON.
``"tokenizer": "whitespace"`` (no SentencePiece) exists for tiny test models. Nothing is
downloaded: a pair is covered only if its model is on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.clock import Clock
from parley.errors import ModelMissing
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.mt.base import MtCapabilities, MtEngine, Pair
from parley.interpretation.scheduler import InferenceScheduler

log = logging.getLogger(__name__)

METADATA = "parley-mt.json"
MULTILINGUAL = ("nllb", "m2m100")  # one model, every pair: source and target named by language tokens
FLORES = {"en": "eng_Latn", "fr": "fra_Latn", "es": "spa_Latn", "ar": "arb_Arab", "ru": "rus_Cyrl",
          "zh": "zho_Hans", "de": "deu_Latn", "pt": "por_Latn", "it": "ita_Latn", "ja": "jpn_Jpan",
          "ko": "kor_Hang", "tr": "tur_Latn", "uk": "ukr_Cyrl", "hi": "hin_Deva", "sw": "swh_Latn"}


@dataclass
class _Model:
    path: Path
    kind: str
    pairs: frozenset[Pair]
    tokenizer: str
    source_spm: Path | None = None
    target_spm: Path | None = None
    target_tokens: dict[str, str] = field(default_factory=dict)
    language_tokens: dict[str, str] = field(default_factory=dict)
    translator: Any = None
    sp_source: Any = None
    sp_target: Any = None


def read_model_folder(path: Path) -> _Model | None:
    """How to use the model in ``path``; None if it is not an MT model folder."""
    if not (path / "model.bin").is_file():
        return None
    meta_file = path / METADATA
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    else:
        m = re.fullmatch(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})", path.name)
        if not m or not (path / "source.spm").is_file():
            return None
        meta = {"type": "marian", "pairs": [[m.group(1), m.group(2)]], "tokenizer": "sentencepiece"}
    kind = str(meta.get("type", "marian"))
    tokenizer = str(meta.get("tokenizer", "sentencepiece"))
    language_tokens: dict[str, str] = {}
    if kind in MULTILINGUAL:
        langs = [str(x) for x in meta.get("languages", [])]
        default = FLORES if kind == "nllb" else {lang: f"__{lang}__" for lang in langs}  # m2m100: __fr__
        given = meta.get("language_tokens", {})
        language_tokens = {lang: str(given.get(lang, default.get(lang, ""))) for lang in langs}
        language_tokens = {k: v for k, v in language_tokens.items() if v}
        pairs = frozenset((a, b) for a in language_tokens for b in language_tokens if a != b)
    else:
        pairs = frozenset((str(a), str(b)) for a, b in meta.get("pairs", []))
    source_spm = path / str(meta.get("source_spm", "source.spm"))
    target_spm = path / str(meta.get("target_spm", meta.get("source_spm", "target.spm")))
    return _Model(path=path, kind=kind, pairs=pairs, tokenizer=tokenizer,
                  source_spm=source_spm if tokenizer == "sentencepiece" else None,
                  target_spm=target_spm if tokenizer == "sentencepiece" else None,
                  target_tokens={str(k): str(v) for k, v in meta.get("target_tokens", {}).items()},
                  language_tokens=language_tokens)


class CTranslate2Engine(MtEngine):
    name = "ctranslate2"

    def __init__(self, models_dir: Path, *, scheduler: InferenceScheduler, clock: Clock, threads: int = 1,
                 compute_type: str = "default", beam_size: int = 2, max_decoding_length: int = 256,
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.models_dir = models_dir
        self.scheduler = scheduler
        self.threads = threads
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.max_decoding_length = max_decoding_length
        self.models: list[_Model] = []
        self._by_pair: dict[Pair, _Model] = {}
        self.capabilities = MtCapabilities(pairs=frozenset(), max_batch=32, kind="neural")

    async def _start(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        root = self.models_dir / "mt"
        found = [m for p in sorted(root.iterdir()) if p.is_dir() and (m := read_model_folder(p))] \
            if root.is_dir() else []
        if not found:
            raise ModelMissing(f"no CTranslate2 translation models in {root}", engine=self.name)
        try:
            import ctranslate2
        except ImportError as exc:
            raise ModelMissing("ctranslate2 is not installed: pip install 'parley[interpretation]'",
                               engine=self.name) from exc
        for model in found:
            try:
                if model.tokenizer == "sentencepiece":
                    import sentencepiece

                    model.sp_source = sentencepiece.SentencePieceProcessor(model_file=str(model.source_spm))
                    model.sp_target = sentencepiece.SentencePieceProcessor(model_file=str(model.target_spm))
                model.translator = ctranslate2.Translator(str(model.path), device="cpu",
                                                          compute_type=self.compute_type, inter_threads=1,
                                                          intra_threads=self.threads)
            except (ImportError, RuntimeError, ValueError, OSError) as exc:
                log.warning("MT model %s does not load (%s); skipped", model.path.name, exc.__class__.__name__)
                continue
            self.models.append(model)
            for pair in model.pairs:
                self._by_pair.setdefault(pair, model)
        if not self.models:
            raise ModelMissing(f"no CTranslate2 translation model in {root} loads", engine=self.name)
        self.capabilities = MtCapabilities(pairs=frozenset(self._by_pair), max_batch=32, kind="neural")

    async def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        model = self._by_pair[(source, target)]
        return await self.scheduler.run(f"mt:{source}-{target}",
                                        lambda: self._translate_sync(model, texts, source, target),
                                        kind="mt", urgent=True)

    def _translate_sync(self, model: _Model, texts: list[str], source: str, target: str) -> list[str]:
        batch = [self._encode(model, t, source, target) for t in texts]
        prefix: list[list[str]] | None = None
        if model.kind in MULTILINGUAL:
            prefix = [[model.language_tokens[target]]] * len(texts)
        results = model.translator.translate_batch(batch, target_prefix=prefix, beam_size=self.beam_size,
                                                   max_decoding_length=self.max_decoding_length)
        out = []
        for r in results:
            tokens = [t for t in r.hypotheses[0] if t not in ("</s>", "<s>", "<pad>")]
            if prefix is not None and tokens and tokens[0] == model.language_tokens[target]:
                tokens = tokens[1:]
            out.append(self._decode(model, tokens))
        return out

    @staticmethod
    def _encode(model: _Model, text: str, source: str, target: str) -> list[str]:
        tokens: list[str] = (list(model.sp_source.encode(text, out_type=str)) if model.sp_source is not None
                             else text.split())
        if model.kind in MULTILINGUAL:
            return [model.language_tokens[source], *tokens, "</s>"]
        if target in model.target_tokens:
            tokens = [model.target_tokens[target], *tokens]
        return [*tokens, "</s>"]

    @staticmethod
    def _decode(model: _Model, tokens: list[str]) -> str:
        if model.sp_target is not None:
            return str(model.sp_target.decode(tokens))
        return " ".join(tokens)
