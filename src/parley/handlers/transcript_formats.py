"""A dialogue's transcript as a file: WebVTT, SRT, JSON and plain text.

Pure functions over a `Document` (no database, no clock), so every byte is unit tested.
Cue times are offsets from the meeting's start, so a recording and its subtitles line up.

When the document is in a chosen language, each line carries a `Translation`: the stored
caption, a machine translation made after the meeting, the original when the speaker used
that language already, or the original marked as untranslated when nothing covered the pair
(a translation is never made up). Subtitle files (VTT, SRT) show that rendition; the
plain-text and JSON files show the original with the rendition under it.

Escaping: WebVTT text escapes ``&``, ``<`` and ``>`` (which also makes ``-->`` harmless);
SRT has no escapes, so ``-->`` in text becomes ``→``. Whitespace runs (newlines included)
collapse to one space, since a blank line would end a cue.
"""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

UNTRANSLATED = "not translated"


class Format(enum.StrEnum):
    VTT = "vtt"
    SRT = "srt"
    JSON = "json"
    TXT = "txt"


MEDIA_TYPES: dict[Format, str] = {
    Format.VTT: "text/vtt; charset=utf-8",
    Format.SRT: "application/x-subrip; charset=utf-8",
    Format.JSON: "application/json; charset=utf-8",
    Format.TXT: "text/plain; charset=utf-8",
}


class TranslationStatus(enum.StrEnum):
    ORIGINAL = "original"  # the speaker used the chosen language: the text is the original
    CAPTION = "caption"  # the translation listeners saw as captions, stored with the line
    MACHINE = "machine"  # translated by machine after the meeting (once, kept with the line)
    UNTRANSLATED = "untranslated"  # no engine covers the pair (or failed): the original, marked
    PENDING = "pending"  # being translated in the background: shown as not translated (yet)


@dataclass(frozen=True)
class Translation:
    language: str
    text: str
    status: TranslationStatus
    engine: str | None = None

    @property
    def translated(self) -> bool:
        return self.status in (TranslationStatus.CAPTION, TranslationStatus.MACHINE)


@dataclass(frozen=True)
class Line:
    id: int
    speaker: str
    language: str
    started_at: datetime
    ended_at: datetime
    text: str
    # The stored caption translations, language -> text.
    translations: Mapping[str, str] = field(default_factory=dict)
    # The rendition in the document's language; None when no language was chosen.
    translation: Translation | None = None


@dataclass(frozen=True)
class Document:
    dialogue_id: int
    title: str
    # When the meeting started: cue times count from here.
    started_at: datetime
    lines: Sequence[Line]
    # The chosen language, or None for the originals only.
    language: str | None = None
    languages: Sequence[str] = ()


# --- times ---------------------------------------------------------------------------------------


def milliseconds(offset: timedelta) -> int:
    """Whole milliseconds, rounded half up; negative offsets count as zero."""
    micro = (offset.days * 86_400 + offset.seconds) * 1_000_000 + offset.microseconds
    return max(0, (micro + 500) // 1000)


def timestamp(ms: int, separator: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or ``HH:MM:SS,mmm`` (SRT); hours grow past two digits."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def clock_time(ms: int) -> str:
    """``HH:MM:SS`` (truncated), as the plain-text transcript shows it."""
    return timestamp(ms)[:-4]


def span(line: Line, origin: datetime) -> tuple[int, int]:
    """The line's start and end in milliseconds from ``origin``; the end is after the start."""
    start = milliseconds(line.started_at - origin)
    end = milliseconds(line.ended_at - origin)
    return start, max(end, start + 1)


# --- text ------------------------------------------------------------------------------------------


def one_line(text: str) -> str:
    return " ".join(text.split())


def vtt_escape(text: str) -> str:
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def srt_escape(text: str) -> str:
    return one_line(text).replace("-->", "→")


def _shown(line: Line, label: str) -> str:
    """What a subtitle cue shows: the rendition in the chosen language, else the original."""
    if line.translation is None:
        return one_line(line.text)
    if not line.translation.translated and line.translation.status != TranslationStatus.ORIGINAL:
        return f"{one_line(line.text)} [{line.language}: {label}]"
    return one_line(line.translation.text)


# --- formats ---------------------------------------------------------------------------------------


def to_vtt(doc: Document, *, untranslated: str = UNTRANSLATED) -> str:
    """WebVTT: numbered cues with ``<v Speaker>`` voice spans."""
    cues = []
    for n, line in enumerate(doc.lines, 1):
        start, end = span(line, doc.started_at)
        speaker = vtt_escape(line.speaker)
        text = vtt_escape(_shown(line, untranslated))
        cues.append(f"{n}\n{timestamp(start)} --> {timestamp(end)}\n" + (f"<v {speaker}>{text}" if speaker else text))
    return "\n\n".join(["WEBVTT", *cues]) + "\n"


def to_srt(doc: Document, *, untranslated: str = UNTRANSLATED) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm`` times, the speaker before the text."""
    cues = []
    for n, line in enumerate(doc.lines, 1):
        start, end = span(line, doc.started_at)
        speaker = srt_escape(line.speaker)
        text = srt_escape(_shown(line, untranslated))
        cues.append(f"{n}\n{timestamp(start, ',')} --> {timestamp(end, ',')}\n"
                    + (f"{speaker}: {text}" if speaker else text))
    return "\n\n".join(cues) + "\n" if cues else ""


def to_txt(doc: Document, *, untranslated: str = UNTRANSLATED) -> str:
    """``[HH:MM:SS] Speaker: text``, the chosen language's rendition indented under it."""
    out = [one_line(doc.title), doc.started_at.strftime("%Y-%m-%d %H:%M UTC"), ""]
    for line in doc.lines:
        start, _ = span(line, doc.started_at)
        speaker = one_line(line.speaker)
        text = one_line(line.text)
        out.append(f"[{clock_time(start)}] {speaker}: {text}" if speaker else f"[{clock_time(start)}] {text}")
        t = line.translation
        if t is None or t.status == TranslationStatus.ORIGINAL:
            continue
        if not t.translated:
            out.append(f"    [{t.language}] ({untranslated})")
        else:
            out.append(f"    [{t.language}] {one_line(t.text)}")
    return "\n".join(out) + "\n"


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def to_json(doc: Document, *, untranslated: str = UNTRANSLATED) -> str:
    """Every line with its times (ISO and seconds from the start), original, stored
    translations and, when a language was chosen, its rendition with how it was made."""
    del untranslated  # JSON says so with "status"
    segments = []
    for line in doc.lines:
        start, end = span(line, doc.started_at)
        t = line.translation
        segments.append({
            "id": line.id,
            "speaker": line.speaker,
            "language": line.language,
            "start": _iso(line.started_at),
            "end": _iso(line.ended_at),
            "start_offset": start / 1000,
            "end_offset": end / 1000,
            "text": line.text,
            "translations": dict(sorted(line.translations.items())),
            "translation": None if t is None else {
                "language": t.language, "text": t.text, "status": t.status.value, "engine": t.engine,
            },
        })
    body = {
        "dialogue": {"id": doc.dialogue_id, "title": doc.title, "started_at": _iso(doc.started_at),
                     "languages": list(doc.languages)},
        "language": doc.language,
        "segments": segments,
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


RENDERERS: dict[Format, Callable[..., str]] = {
    Format.VTT: to_vtt,
    Format.SRT: to_srt,
    Format.JSON: to_json,
    Format.TXT: to_txt,
}


def render(doc: Document, fmt: Format, *, untranslated: str = UNTRANSLATED) -> str:
    return RENDERERS[fmt](doc, untranslated=untranslated)


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:48].rstrip("-")


def filename(doc: Document, fmt: Format, *, mine: bool = False) -> str:
    """An ASCII name (safe in Content-Disposition): ``transcript-12-the-future-we-want-fr.vtt``."""
    parts = ["transcript", str(doc.dialogue_id), _slug(doc.title), "mine" if mine else "",
             re.sub(r"[^A-Za-z0-9-]", "", doc.language or "")]
    return "-".join(p for p in parts if p) + f".{fmt.value}"


def content_disposition(name: str) -> str:
    return f'attachment; filename="{name}"'

