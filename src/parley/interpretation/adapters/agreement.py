"""Local agreement: the words two successive passes agree on become stable, never retracted.

Passes are compared on normalised words (case and punctuation do not count), aligned on the
words already stable; when a pass lost them, by time instead, so the caption goes on.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from parley.interpretation.adapters.utterance import Utterance
from parley.interpretation.asr.base import Hypothesis
from parley.interpretation.frames import Word


def normalize_word(text: str) -> str:
    """What two passes must agree on: case and punctuation do not count."""
    return "".join(ch for ch in text.casefold() if not unicodedata.category(ch).startswith(("P", "Z")))


def common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def tail_after(committed: list[str], hyp: list[str], max_skip: int = 3) -> int | None:
    """Index in ``hyp`` where the words after the committed prefix begin; None if lost.

    The pass is aligned on the committed words; when the last of them came out differently
    this time ("Stages" committed, now "États-Unis"), as many words of ``hyp`` stand for them
    (up to ``max_skip``), so new words keep appearing after a committed mistake instead of
    freezing the caption until the final.
    """
    if hyp[: len(committed)] == committed:
        return len(committed)
    if not committed:
        return 0
    matcher = difflib.SequenceMatcher(a=committed, b=hyp, autojunk=False)
    last = len(committed) - 1
    for block in reversed(matcher.get_matching_blocks()):
        if not block.size:
            continue
        if block.a <= last < block.a + block.size:
            return block.b + (last - block.a) + 1
        unmatched = last - (block.a + block.size - 1)  # committed words after the last agreement
        if unmatched <= max_skip:
            return min(len(hyp), block.b + block.size + unmatched)
        return None
    return None


def tail_index(utt: Utterance, hyp: Hypothesis) -> tuple[int, bool]:
    """Where the pass's words after the stable ones begin, and whether the stable words
    were found in it (see `index_after`)."""
    return index_after(utt.committed, hyp.words)


def index_after(known: Sequence[Word], words: Sequence[Word]) -> tuple[int, bool]:
    """Where ``words`` go on after the ``known`` words they begin by hearing again, and whether
    those were found in them. When none is (an early pass heard "Vamos" and later ones "O Sky
    Folding não é ..."), by time: the words after the known ones' end, so the caption goes on
    instead of freezing on a stable mistake until the final."""
    index = tail_after([normalize_word(w.text) for w in known], [normalize_word(w.text) for w in words])
    if index is not None:
        return index, True
    end = known[-1].end
    return next((i for i, w in enumerate(words) if (w.start + w.end) / 2 >= end), len(words)), False


def agree(utt: Utterance, hyp: Hypothesis) -> None:
    """Local agreement: commit the words this pass and the previous one agree on."""
    start, _ = tail_index(utt, hyp)
    tail_words = list(hyp.words[start:])
    tail = [normalize_word(w.text) for w in tail_words]
    if utt.prev_tail is not None:
        n = common_prefix(utt.prev_tail, tail)
        # never commit the pass's last word: it may be cut off mid-word by the buffer end
        n = min(n, max(0, len(tail) - 1))
        utt.committed.extend(tail_words[:n])
        tail = tail[n:]
    utt.prev_tail = tail


def shift(w: Word, offset: float) -> Word:
    """The word ``offset`` seconds later (word times move between utterance and media time)."""
    return Word(w.text, w.start + offset, w.end + offset, w.probability)
