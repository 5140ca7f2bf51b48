"""One line being recognised: its audio span, stable words and language, as the adapter tracks it."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.interpretation.frames import Word


@dataclass(eq=False)
class Utterance:
    id: str
    start: int  # sample index (stream samples), pre-roll included
    voiced_from: int = 0  # where the VAD heard speech begin
    end: int | None = None
    voiced_until: int | None = None
    language: str | None = None
    language_probability: float = 1.0
    committed: list[Word] = field(default_factory=list)
    prev_tail: list[str] | None = None
    last_partial_end: int = 0
    revision: int = 0
    final_requested: bool = False
    last_text: str = ""  # the newest partial, to tell whether a pause ends a sentence
    realign: bool = False  # the last pass lost the stable words: the next one hears it all
    shown: tuple[Word, ...] | None = None  # the newest partial's words (media time), once one was emitted
    paused_at: tuple[int, int] | None = None  # (end, voiced until) of a pause not yet an endpoint
    context_s: float = 0.0  # audio before the line its final hears too
    language_checked: bool = False  # its language was detected or checked on its own audio
    right_context: int = 0  # samples after the line's end its final hears too
    # with stable finals, a line may begin inside the utterance's audio: where it begins, and
    # how many of `committed` (all stable words since `start`) earlier lines already made final
    line_start: int = 0
    finalized: int = 0
