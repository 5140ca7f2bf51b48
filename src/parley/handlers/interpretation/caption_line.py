"""The one shape a caption has on its way to listeners.

A worker sends a `Caption` (`interpretation.frames`); the hub names its speaker and publishes
a `CaptionLine` on the meeting's bus topic; each meeting socket forwards it, unchanged, to the
pages that may see it (`visible_to`); `frontend/src/meeting/interpretation.js` reads these
fields and no others (tests/unit/test_caption_schema.py reads the page's code to check). A
field added here is one the page may use; one removed fails that test first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from parley.interpretation.frames import Caption


@dataclass(frozen=True)
class CaptionLine:
    speaker_id: str
    # Who spoke, as the meeting knows them ("" when they left before the line came).
    speaker_name: str
    utterance_id: str
    # Grows with every update of (utterance, language): a page drops older ones.
    revision: int
    role: Literal["original", "translation"]
    language: str
    source_language: str
    text: str
    stable_text: str
    is_final: bool
    # Seconds from the last audio it covers to its emission by the worker.
    latency: float
    # A final made from the newest partial because the real one could not come.
    forced: bool

    @classmethod
    def of(cls, caption: Caption, speaker_name: str) -> CaptionLine:
        return cls(
            speaker_id=caption.speaker_id, speaker_name=speaker_name, utterance_id=caption.utterance_id,
            revision=caption.revision, role=caption.role, language=caption.language,
            source_language=caption.source_language, text=caption.text, stable_text=caption.stable_text,
            is_final=caption.is_final, latency=caption.latency, forced=caption.forced,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaptionLine:
        """A line read back from the bus (another process may have published it)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def visible_to(self, reading: str | None) -> bool:
        """A page inside the meeting sees every original line, and the translations into the
        one language it reads."""
        return self.role == "original" or self.language == reading


FIELDS = tuple(f.name for f in dataclasses.fields(CaptionLine))
