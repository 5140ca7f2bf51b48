"""One caption schema from the worker to the page: the worker's `Caption` survives its trip as
JSON, a malformed one is refused by field, and the meeting page reads only what `CaptionLine`
carries (the page's code is read here, so a renamed field fails this test before a browser)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parley.handlers.interpretation.caption_line import FIELDS, CaptionLine
from parley.interpretation.frames import Caption

pytestmark = pytest.mark.unit

PAGE = Path(__file__).resolve().parents[2] / "frontend" / "src" / "meeting" / "interpretation.js"


def caption(**changes: object) -> Caption:
    values: dict[str, object] = {
        "speaker_id": "p7", "utterance_id": "p7-3", "revision": 2, "role": "translation", "language": "fr",
        "source_language": "en", "text": "Bonjour à tous", "stable_text": "Bonjour", "is_final": False,
        "start": 1.5, "end": 3.25, "emitted_at": 12.0, "latency": 0.4, "engine": "apertium",
    }
    values.update(changes)
    return Caption(**values)  # type: ignore[arg-type]


def test_a_caption_survives_json_both_ways() -> None:
    sent = caption(forced=True)
    assert Caption.from_dict(sent.to_dict()) == sent
    line = CaptionLine.of(sent, "Amina")
    assert CaptionLine.from_dict(line.to_dict()) == line
    assert line.speaker_name == "Amina" and line.forced and line.text == "Bonjour à tous"


def test_whole_seconds_read_as_seconds_and_optional_fields_default() -> None:
    data = caption().to_dict()
    data["latency"] = 1
    del data["engine"], data["forced"], data["kind"]
    got = Caption.from_dict(data)
    assert got.latency == 1.0 and got.engine == "" and got.forced is False


@pytest.mark.parametrize("field, value", [
    ("revision", "2"), ("revision", True), ("is_final", "yes"), ("text", None), ("role", "summary"),
    ("latency", "fast"),
])
def test_a_malformed_caption_is_refused_by_field(field: str, value: object) -> None:
    data = caption().to_dict()
    data[field] = value
    with pytest.raises(ValueError, match=field):
        Caption.from_dict(data)


def test_a_missing_field_is_named() -> None:
    data = caption().to_dict()
    del data["utterance_id"]
    with pytest.raises(ValueError, match="utterance_id"):
        Caption.from_dict(data)


def test_pages_see_originals_and_their_own_language() -> None:
    original = CaptionLine.of(caption(role="original", language="en"), "")
    french = CaptionLine.of(caption(), "")
    assert original.visible_to("fr") and original.visible_to(None)
    assert french.visible_to("fr") and not french.visible_to("es")


def test_the_meeting_page_reads_only_fields_a_caption_line_carries() -> None:
    source = PAGE.read_text(encoding="utf-8")
    body = source[source.index("export function onCaption(c)"):]
    body = body[:body.index("\n}\n")]
    read = set(re.findall(r"\bc\.(\w+)", body))
    assert {"speaker_id", "utterance_id", "role", "revision", "text", "language", "is_final"} <= read
    assert read <= set(FIELDS), f"the page reads fields a caption does not carry: {sorted(read - set(FIELDS))}"
