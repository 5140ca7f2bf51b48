"""The transcript files, byte for byte: WebVTT, SRT, plain text and JSON, in the spoken
languages and in a chosen one (caption, original and untranslated lines), with escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from parley.handlers.transcript_formats import (
    Document,
    Format,
    Line,
    Translation,
    TranslationStatus,
    content_disposition,
    filename,
    milliseconds,
    render,
    timestamp,
    to_json,
    to_srt,
    to_txt,
    to_vtt,
)

pytestmark = pytest.mark.unit

START = datetime(2026, 6, 4, 14, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


ANNA = Line(id=1, speaker="Anna <Chair>", language="fr", started_at=at(3.0004), ended_at=at(5.5),
            text="Bonjour & bienvenue\n  à tous <3", translations={"en": "Hello & welcome to all <3"})
BEN = Line(id=2, speaker="Ben", language="en", started_at=at(3723.456), ended_at=at(3728),
           text="A --> B is the plan.")
# Spoken in the lobby, two seconds before the meeting started; no name was given.
EARLY = Line(id=3, speaker="", language="ru", started_at=at(-2), ended_at=at(1), text="Привет")


def doc(language: str | None = None) -> Document:
    lines = [ANNA, BEN, EARLY]
    if language == "en":
        lines = [
            Line(**{**vars(ANNA), "translation": Translation("en", "Hello & welcome to all <3",
                                                             TranslationStatus.CAPTION)}),
            Line(**{**vars(BEN), "translation": Translation("en", BEN.text, TranslationStatus.ORIGINAL)}),
            Line(**{**vars(EARLY), "translation": Translation("en", EARLY.text, TranslationStatus.UNTRANSLATED)}),
        ]
    return Document(dialogue_id=7, title="Assembly of the future", started_at=START, lines=lines,
                    language=language, languages=["en", "fr", "ru"])


def test_timestamps() -> None:
    assert timestamp(0) == "00:00:00.000"
    assert timestamp(3_723_456) == "01:02:03.456"
    assert timestamp(3_723_456, ",") == "01:02:03,456"
    assert timestamp(100 * 3_600_000 + 1) == "100:00:00.001"
    assert milliseconds(timedelta(microseconds=1500)) == 2  # rounds half up
    assert milliseconds(timedelta(seconds=-2)) == 0


def test_webvtt_in_the_spoken_languages() -> None:
    assert to_vtt(doc()) == (
        "WEBVTT\n"
        "\n"
        "1\n"
        "00:00:03.000 --> 00:00:05.500\n"
        "<v Anna &lt;Chair&gt;>Bonjour &amp; bienvenue à tous &lt;3\n"
        "\n"
        "2\n"
        "01:02:03.456 --> 01:02:08.000\n"
        "<v Ben>A --&gt; B is the plan.\n"
        "\n"
        "3\n"
        "00:00:00.000 --> 00:00:01.000\n"
        "Привет\n"
    )


def test_webvtt_in_a_chosen_language_marks_what_is_not_translated() -> None:
    assert to_vtt(doc("en"), untranslated="non traduit") == (
        "WEBVTT\n"
        "\n"
        "1\n"
        "00:00:03.000 --> 00:00:05.500\n"
        "<v Anna &lt;Chair&gt;>Hello &amp; welcome to all &lt;3\n"
        "\n"
        "2\n"
        "01:02:03.456 --> 01:02:08.000\n"
        "<v Ben>A --&gt; B is the plan.\n"
        "\n"
        "3\n"
        "00:00:00.000 --> 00:00:01.000\n"
        "Привет [ru: non traduit]\n"
    )


def test_srt() -> None:
    assert to_srt(doc()) == (
        "1\n"
        "00:00:03,000 --> 00:00:05,500\n"
        "Anna <Chair>: Bonjour & bienvenue à tous <3\n"
        "\n"
        "2\n"
        "01:02:03,456 --> 01:02:08,000\n"
        "Ben: A → B is the plan.\n"
        "\n"
        "3\n"
        "00:00:00,000 --> 00:00:01,000\n"
        "Привет\n"
    )
    assert to_srt(doc("en")).splitlines()[2] == "Anna <Chair>: Hello & welcome to all <3"
    assert to_srt(doc("en")).splitlines()[-1] == "Привет [ru: not translated]"


def test_plain_text_puts_the_translation_under_the_original() -> None:
    assert to_txt(doc()) == (
        "Assembly of the future\n"
        "2026-06-04 14:00 UTC\n"
        "\n"
        "[00:00:03] Anna <Chair>: Bonjour & bienvenue à tous <3\n"
        "[01:02:03] Ben: A --> B is the plan.\n"
        "[00:00:00] Привет\n"
    )
    assert to_txt(doc("en")) == (
        "Assembly of the future\n"
        "2026-06-04 14:00 UTC\n"
        "\n"
        "[00:00:03] Anna <Chair>: Bonjour & bienvenue à tous <3\n"
        "    [en] Hello & welcome to all <3\n"
        "[01:02:03] Ben: A --> B is the plan.\n"
        "[00:00:00] Привет\n"
        "    [en] (not translated)\n"
    )


def test_json() -> None:
    assert to_json(doc("en")) == """{
  "dialogue": {
    "id": 7,
    "title": "Assembly of the future",
    "started_at": "2026-06-04T14:00:00.000+00:00",
    "languages": [
      "en",
      "fr",
      "ru"
    ]
  },
  "language": "en",
  "segments": [
    {
      "id": 1,
      "speaker": "Anna <Chair>",
      "language": "fr",
      "start": "2026-06-04T14:00:03.000+00:00",
      "end": "2026-06-04T14:00:05.500+00:00",
      "start_offset": 3.0,
      "end_offset": 5.5,
      "text": "Bonjour & bienvenue\\n  à tous <3",
      "translations": {
        "en": "Hello & welcome to all <3"
      },
      "translation": {
        "language": "en",
        "text": "Hello & welcome to all <3",
        "status": "caption",
        "engine": null
      }
    },
    {
      "id": 2,
      "speaker": "Ben",
      "language": "en",
      "start": "2026-06-04T15:02:03.456+00:00",
      "end": "2026-06-04T15:02:08.000+00:00",
      "start_offset": 3723.456,
      "end_offset": 3728.0,
      "text": "A --> B is the plan.",
      "translations": {},
      "translation": {
        "language": "en",
        "text": "A --> B is the plan.",
        "status": "original",
        "engine": null
      }
    },
    {
      "id": 3,
      "speaker": "",
      "language": "ru",
      "start": "2026-06-04T13:59:58.000+00:00",
      "end": "2026-06-04T14:00:01.000+00:00",
      "start_offset": 0.0,
      "end_offset": 1.0,
      "text": "Привет",
      "translations": {},
      "translation": {
        "language": "en",
        "text": "Привет",
        "status": "untranslated",
        "engine": null
      }
    }
  ]
}
"""
    plain = json.loads(to_json(doc()))
    assert plain["language"] is None and all(s["translation"] is None for s in plain["segments"])


def test_an_empty_transcript_is_still_a_valid_file() -> None:
    empty = Document(dialogue_id=1, title="Quiet", started_at=START, lines=[])
    assert to_vtt(empty) == "WEBVTT\n"
    assert to_srt(empty) == ""
    assert to_txt(empty) == "Quiet\n2026-06-04 14:00 UTC\n\n"
    assert json.loads(to_json(empty))["segments"] == []


def test_a_cue_never_ends_before_it_starts() -> None:
    backwards = Line(id=9, speaker="X", language="en", started_at=at(10), ended_at=at(9), text="Hm.")
    vtt = to_vtt(Document(dialogue_id=1, title="t", started_at=START, lines=[backwards]))
    assert "00:00:10.000 --> 00:00:10.001" in vtt


@pytest.mark.parametrize("fmt", list(Format))
def test_text_cannot_break_the_cue_structure(fmt: Format) -> None:
    nasty = Line(id=1, speaker="Eve -->\n\nWEBVTT", language="en", started_at=at(1), ended_at=at(2),
                 text="line one\n\n2\n00:00:00.000 --> 00:00:09.000\n<b>bold</b> &amp;")
    out = render(Document(dialogue_id=1, title="t\n\nx", started_at=START, lines=[nasty]), fmt)
    if fmt == Format.JSON:
        assert json.loads(out)["segments"][0]["text"] == nasty.text
        return
    lines = out.splitlines()
    if fmt == Format.TXT:
        assert len(lines) == 4 and lines[3].startswith("[00:00:01] Eve --> WEBVTT: line one 2 00:00:00.000")
        return
    assert [ln for ln in lines if "-->" in ln] == [lines[3 if fmt == Format.VTT else 1]]  # only the timing
    assert len(lines) == (5 if fmt == Format.VTT else 3)
    if fmt == Format.VTT:
        assert "<b>" not in out and "&amp;amp;" in out


def test_file_names_are_ascii_and_say_what_they_hold() -> None:
    assert filename(doc(), Format.VTT) == "transcript-7-assembly-of-the-future.vtt"
    assert filename(doc("en"), Format.SRT, mine=True) == "transcript-7-assembly-of-the-future-mine-en.srt"
    arabic = Document(dialogue_id=8, title="حوار المستقبل", started_at=START, lines=[], language="ar")
    assert filename(arabic, Format.TXT) == "transcript-8-ar.txt"
    assert content_disposition("transcript-8-ar.txt") == 'attachment; filename="transcript-8-ar.txt"'
