"""Where a line may end: sentence and clause punctuation, and clause boundaries among stable words.

Whisper punctuates what it hears; a pause after a sentence end is an endpoint, and a clause
final cuts the line at a boundary the stable words have run past (see `StreamingOptions`).
"""

from __future__ import annotations

from parley.interpretation.frames import Word

SENTENCE_END = frozenset(".?!…。？！؟")
CLAUSE_END = SENTENCE_END | frozenset(",;:，、；：،؛")


def ends_sentence(text: str) -> bool:
    """Whether recognised text ends a sentence (Whisper punctuates what it hears)."""
    text = text.rstrip().rstrip("\"'”’»)]")
    return bool(text) and text[-1] in SENTENCE_END


def ends_clause(text: str) -> bool:
    """Whether a recognised word ends a clause (a comma, a colon, a sentence end ...)."""
    text = text.rstrip().rstrip("\"'”’»)]")
    return bool(text) and text[-1] in CLAUSE_END


def clause_boundary(stable: list[Word], *, min_s: float, pause_min_s: float | None,
                    more: bool = False) -> list[int]:
    """Indices ``i`` of stable words after which a clause may end, latest first: the clause up
    to it is long enough (after punctuation ``min_s``, after any word ``pause_min_s``, None:
    never without punctuation; word times from the line's start) and a word follows (stable,
    or with ``more`` one the pass heard after the stable ones). Whether the speaker paused
    there is for the caller to hear."""
    last = len(stable) - 1 if more else len(stable) - 2
    return [i for i in range(last, -1, -1)
            if (pause_min_s is not None and stable[i].end >= pause_min_s)
            or (stable[i].end >= min_s and ends_clause(stable[i].text))]
