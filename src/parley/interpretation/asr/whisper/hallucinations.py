"""What Whisper writes that nobody said: words looping ("However, however, however, ...",
"hahahaha...") and subtitle credits written into silence or noise. Found here, dropped or
cut before a caption shows them.
"""

from __future__ import annotations

import logging
import re

from parley.interpretation.frames import Word

log = logging.getLogger(__name__)


def loop_span(words: list[Word], max_unit: int = 8) -> tuple[int, int] | None:
    """Where Whisper got stuck repeating itself: one or two words four times in a row, or a
    phrase of up to ``max_unit`` words three times. Returns the (start, end) slice of the
    repeats after the first occurrence, or None."""
    norm = ["".join(ch for ch in w.text.casefold() if ch.isalnum()) for w in words]
    for size in range(1, max_unit + 1):
        need = (4 if size <= 2 else 3) - 1  # repeats after the first occurrence
        matches = 0  # consecutive positions equal to the one ``size`` words before
        for i in range(size, len(norm)):
            matches = matches + 1 if norm[i] == norm[i - size] else 0
            if matches >= need * size:
                first_repeat = i - matches + 1
                end = i + 1
                while end < len(norm) and norm[end] == norm[end - size]:
                    end += 1
                return first_repeat, end
    return None


# What Whisper writes into silence and noise because its training subtitles ended that way:
# credits of subtitlers and channels, never something a speaker in a dialogue says.
_CREDITS = re.compile("|".join((
    r"amara\.org", r"субтитр\w* (сделал|подготовил|создал|by)", r"редактор субтитров", r"корректор\s+\w\.",
    r"untertitel(ung)? (der|des|von|im auftrag)", r"sous-titr\w* (réalisé|par|fait)",
    r"subt[ií]tulos? (realizad|por|hech)",
    r"legendas? (pela|por) comunidade", r"字幕(由|提供|志愿者|製作|制作)", r"明镜", r"点赞.*订阅|订阅.*点赞",
    r"thanks? (you )?(so much )?for watching", r"please subscribe", r"ترجمة نانسي", r"اشترك(وا)? في القناة",
)), re.IGNORECASE)


def subtitle_credit(text: str) -> bool:
    """Whether a decoded segment is one of Whisper's subtitle-credit hallucinations."""
    return _CREDITS.search(text) is not None


# Whisper looping inside one word ("25-30-30-30-30-30"): a unit of two to twelve characters
# repeated four more times or more, unless the unit is one character over and over ("1000000").
_WORD_LOOP = re.compile(r"(\S{2,12}?)\1{3,}")


def word_loop(text: str) -> str | None:
    """``text`` with a loop inside it cut to one occurrence of its unit; None if none."""

    def one(match: re.Match[str]) -> str:
        unit = match.group(1)
        return unit if len(set(unit)) > 1 else match.group(0)

    cut = _WORD_LOOP.sub(one, text)
    return cut if cut != text else None


def looping(words: list[Word]) -> bool:
    return loop_span(words) is not None or any(word_loop(w.text) is not None for w in words)


def without_loop(words: list[Word]) -> list[Word]:
    """``words`` with the repeats of a loop left out (Whisper's loops run on over audio that
    holds no such words; the first occurrence may be real)."""
    trimmed = [Word(cut, w.start, w.end, w.probability) if (cut := word_loop(w.text)) is not None else w
               for w in words]
    if trimmed != words:
        log.info("whisper output looped inside a word: repeats dropped")
    span = loop_span(trimmed)
    if span is None:
        return trimmed
    log.info("whisper output looped: %d repeated words dropped", span[1] - span[0])
    return trimmed[: span[0]] + trimmed[span[1]:]


def dropped_credit(text: str) -> bool:
    if subtitle_credit(text):
        log.info("whisper wrote a subtitle credit into silence or noise: dropped")  # not the text: personal data
        return True
    return False
