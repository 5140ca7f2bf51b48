"""A JSON shape is read off a view: renamed, nested, rounded and time fields are declared on the
shape, and what only the route knows is given to `ViewOut.of` by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import pytest
from pydantic import AliasPath, Field

from parley.web.schemas import IsoTime, OffsetTime, ViewOut, rounded

pytestmark = pytest.mark.unit

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class _Link:
    url: str


@dataclass(frozen=True)
class _View:
    user_id: int
    share: float
    consent_quotes: bool
    consent_transcript: bool
    at: datetime
    stopped_at: datetime
    link: _Link


class _ConsentOut(ViewOut):
    quotes: bool = Field(validation_alias="consent_quotes")
    transcript: bool = Field(validation_alias="consent_transcript")


class _Out(ViewOut):
    whole = ("consent",)

    id: int = Field(validation_alias="user_id")
    share: Annotated[float, rounded(2)]
    consent: _ConsentOut
    at: IsoTime
    stopped_at: OffsetTime
    url: str = Field(validation_alias=AliasPath("link", "url"))
    filters: dict[str, str] = Field(default_factory=dict)


def test_a_shape_is_read_off_a_view_and_what_the_route_adds() -> None:
    view = _View(7, 0.4567, True, False, AT, AT, _Link("/x"))
    out = _Out.of(view, filters={"country": "SN"})
    assert out.model_dump() == {
        "id": 7, "share": 0.46, "consent": {"quotes": True, "transcript": False}, "at": "2026-03-01T09:30:00Z",
        "stopped_at": "2026-03-01T09:30:00+00:00", "url": "/x", "filters": {"country": "SN"},
    }
    assert _Out.of(view).filters == {}


def test_the_document_shows_the_plain_types() -> None:
    props = _Out.model_json_schema(mode="serialization")["properties"]
    assert props["share"] == {"title": "Share", "type": "number"}
    assert props["at"] == {"title": "At", "type": "string"}
    assert props["id"] == {"title": "Id", "type": "integer"}
