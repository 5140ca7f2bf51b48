"""Words from Whisper's output: segment texts split into words (per character in unspaced
scripts) with times spread over the audio they came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parley.interpretation.frames import UNSPACED_LANGUAGES, Word


@dataclass(frozen=True)
class Piece:
    """A piece of decoded text as Whisper splits it (a word with its leading space, a
    punctuation mark, or for unspaced scripts a few characters)."""

    text: str
    start: float
    end: float
    probability: float = 1.0


def words_from_pieces(pieces: Iterable[Piece], language: str) -> list[Word]:
    """Join Whisper's pieces into words: a piece without a leading space belongs to the word
    before it (" l" + "'accident", "world" + ","), except in unspaced scripts. Words with no
    letter or digit ("...", what Whisper writes for noise) are dropped."""
    words: list[Word] = []
    for piece in pieces:
        text = piece.text
        if not text.strip():
            continue
        if words and not text[0].isspace() and language not in UNSPACED_LANGUAGES:
            prev = words[-1]
            words[-1] = Word(prev.text + text.strip(), prev.start, piece.end, min(prev.probability, piece.probability))
            continue
        words.append(Word(text.strip(), piece.start, piece.end, piece.probability))
    return [w for w in words if any(ch.isalnum() for ch in w.text)]


def spread(texts: list[str], start: float, end: float) -> list[Piece]:
    """Pieces timed by their share of the characters between ``start`` and ``end`` (for
    passes decoded without timestamps: good enough for partial captions)."""
    total = sum(len(t.strip()) or 1 for t in texts)
    pieces: list[Piece] = []
    at = start
    for text in texts:
        length = (end - start) * (len(text.strip()) or 1) / total
        pieces.append(Piece(text, at, at + length))
        at += length
    return pieces
