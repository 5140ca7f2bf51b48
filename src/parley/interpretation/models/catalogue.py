"""Open models Parley knows how to install, with their licence and what they cost and replace.

Each entry names a hub repository (or none: carried in with ``parley models import``), the
files to take, where they go under the models folder and how the engines find them there, so
an installed model is picked up without code changes. Repository names are those published on
the Hugging Face hub; they were not fetched from this machine (no network), so `install`
reports a missing one plainly. Costs are rough guides for a 2-core CPU / one GPU.

Licences: Whisper weights MIT; OPUS-MT CC-BY-4.0 (conversions relabelled Apache-2.0);
M2M-100 MIT; NLLB-200 **CC-BY-NC-4.0: non-commercial use only**; Firefox Translations
(Bergamot) models MPL-2.0; Piper voices: each voice's own (see its MODEL_CARD), several are
CC-BY or non-commercial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.interpretation.models.errors import ModelInstallError

WHISPER_LANGUAGES = ("99 languages",)


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # whisper | ct2-mt | bergamot | piper
    dest: str  # folder under the models folder
    repo: str | None  # None: only `parley models import`
    licence: str
    languages: tuple[str, ...]
    size_mb: int
    cost: str
    replaces: str
    files: tuple[str, ...] = ()  # glob patterns; empty: every file but README/.gitattributes
    revision: str = "main"
    mt: dict[str, Any] = field(default_factory=dict)  # parley-mt.json for ct2-mt models


def _opus(src: str, tgt: str, target_token: str | None = None) -> Entry:
    mt: dict[str, Any] = {"type": "marian", "pairs": [[src, tgt]], "tokenizer": "sentencepiece",
                          "source_spm": "source.spm", "target_spm": "target.spm"}
    if target_token:
        mt["target_tokens"] = {tgt: target_token}
    return Entry(name=f"opus-mt-{src}-{tgt}", kind="ct2-mt", dest=f"mt/opus-mt-{src}-{tgt}",
                 repo=f"gaudi/opus-mt-{src}-{tgt}-ctranslate2", licence="CC-BY-4.0 (OPUS-MT, University of Helsinki)",
                 languages=(src, tgt), size_mb=300, cost="CPU ~50-150 ms/sentence on 1 thread; GPU not needed",
                 replaces=f"{src}->{tgt} through a pivot or 'no translation engine'",
                 files=("model.bin", "config.json", "*vocabulary.json", "source.spm", "target.spm"), mt=mt)


_UN = ["en", "fr", "es", "ar", "ru", "zh", "de", "pt"]

_PIPER = {  # language -> hub path prefix in rhasspy/piper-voices
    "en": "en/en_GB/alan/medium/en_GB-alan-medium", "fr": "fr/fr_FR/siwis/medium/fr_FR-siwis-medium",
    "es": "es/es_ES/davefx/medium/es_ES-davefx-medium", "ar": "ar/ar_JO/kareem/medium/ar_JO-kareem-medium",
    "ru": "ru/ru_RU/irina/medium/ru_RU-irina-medium", "zh": "zh/zh_CN/huayan/medium/zh_CN-huayan-medium",
}

_BERGAMOT_PAIRS = [(a, b) for x in ("pt", "fr", "es", "de", "ru", "zh", "ar") for a, b in (("en", x), (x, "en"))]

CATALOGUE: tuple[Entry, ...] = (
    Entry("whisper-small", "whisper", "whisper/small", "Systran/faster-whisper-small", "MIT", WHISPER_LANGUAGES,
          484, "CPU ~3x base (RTF ~0.3 on 2 threads); GPU RTF < 0.05",
          "Whisper base (packaged): fewer errors in es/fr/ru/zh",
          files=("model.bin", "config.json", "tokenizer.json", "vocabulary.*")),
    Entry("whisper-medium", "whisper", "whisper/medium", "Systran/faster-whisper-medium", "MIT", WHISPER_LANGUAGES,
          1530, "CPU too slow for live use on 2 cores; GPU RTF < 0.05", "Whisper base/small",
          files=("model.bin", "config.json", "tokenizer.json", "vocabulary.*")),
    Entry("whisper-large-v3-turbo", "whisper", "whisper/large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
          "MIT", WHISPER_LANGUAGES, 1620, "GPU recommended (RTF < 0.05); CPU not live on 2 cores",
          "every smaller Whisper", files=("model.bin", "config.json", "tokenizer.json", "vocabulary.*",
                                          "preprocessor_config.json")),
    *[_opus(a, b) for a, b in (("en", "fr"), ("fr", "en"), ("en", "es"), ("es", "en"), ("en", "de"), ("de", "en"),
                               ("en", "ru"), ("ru", "en"), ("ar", "en"), ("zh", "en"))],
    _opus("en", "ar", ">>ara<<"), _opus("en", "zh", ">>cmn_Hans<<"),
    Entry("m2m100-418m", "ct2-mt", "mt/m2m100-418m", "michaelfeil/ct2fast-m2m100_418M", "MIT",
          tuple(_UN), 970, "CPU ~0.3-0.6 s/sentence on 1 thread; GPU ~20 ms",
          "every pair among the listed languages (direct, no pivot)",
          files=("model.bin", "config.json", "shared_vocabulary.*", "sentencepiece.bpe.model"),
          mt={"type": "m2m100", "languages": _UN, "tokenizer": "sentencepiece",
              "source_spm": "sentencepiece.bpe.model"}),
    Entry("nllb-200-distilled-600m", "ct2-mt", "mt/nllb-200-distilled-600m",
          "JustFrederik/nllb-200-distilled-600M-ct2-int8", "CC-BY-NC-4.0 (non-commercial use only)",
          tuple(_UN), 620, "CPU ~0.3-0.5 s/sentence on 1 thread (int8); GPU ~20 ms",
          "every pair among the listed languages (direct, no pivot)",
          files=("model.bin", "config.json", "shared_vocabulary.*", "sentencepiece.bpe.model"),
          mt={"type": "nllb", "languages": _UN, "tokenizer": "sentencepiece",
              "source_spm": "sentencepiece.bpe.model"}),
    *[Entry(f"bergamot-{a}{b}", "bergamot", f"bergamot/{a}{b}", None,
            "MPL-2.0 (Mozilla Firefox Translations)", (a, b), 20, "CPU ~15-60 ms/sentence on 1 core; no GPU",
            f"{a}->{b} through Apertium or a pivot")
      for a, b in _BERGAMOT_PAIRS],
    *[Entry(f"piper-{lang}", "piper", f"piper/{path.rsplit('/', 1)[1]}", "rhasspy/piper-voices",
            "voice-specific (see its MODEL_CARD); Piper: MIT / GPL-3.0 (piper-tts 1.3+)", (lang,), 63,
            "CPU RTF ~0.05-0.2 on 1 thread", f"espeak-ng for {lang}",
            files=(f"{path}.onnx", f"{path}.onnx.json", f"{path.rsplit('/', 1)[0]}/MODEL_CARD"))
      for lang, path in _PIPER.items()],
)


def covering(source: str, target: str) -> list[Entry]:
    """Translation models that translate ``source`` to ``target`` directly, those an operator
    can install from the hub first, then smallest first."""
    found = []
    for entry in CATALOGUE:
        if entry.kind == "ct2-mt":
            pairs = entry.mt.get("pairs")
            covers = [source, target] in pairs if pairs else source in entry.languages and target in entry.languages
        elif entry.kind == "bergamot":
            covers = entry.languages == (source, target)
        else:
            covers = False
        if covers and source != target:
            found.append(entry)
    return sorted(found, key=lambda e: (e.repo is None, e.size_mb))


def find(name: str) -> Entry:
    for entry in CATALOGUE:
        if entry.name == name:
            return entry
    raise ModelInstallError(f"{name!r} is not in the catalogue (parley models catalogue lists it)")
