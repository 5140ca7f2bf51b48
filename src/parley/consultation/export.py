"""Exports of survey responses: CSV and Parquet, streamed page by page.

What an export holds: one row per counted response, with the survey version, the UTC date
(not the time), language, country, region, the four demographics and the answers by key.
What it never holds: idempotency keys or their hashes, withdrawal codes, IP addresses (never
stored), exact times, and free text the respondent did not agree to have quoted. Withdrawn
responses are gone from the tables, so an export made after a withdrawal cannot contain them.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from parley import spreadsheet
from parley.consultation.dashboard import Filters, plan
from parley.consultation.questionnaire import Codebook
from parley.consultation.survey import N_, Surveys, day_date
from parley.errors import EngineError, Forbidden
from parley.storage.stores import survey as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

EXPORTERS = frozenset({Role.ADMIN, Role.ORGANISER})
PAGE = 5000
BASE_COLUMNS = ("response_id", "survey_version", "date", "language", "country", "region", "age_group", "gender",
                "education")


@dataclass(frozen=True)
class Column:
    name: str
    question: str
    kind: str  # single | multi | scale | text | other


def check_exporter(user: Account) -> None:
    if user.role not in EXPORTERS:
        raise Forbidden(N_("Only organisers and admins can export responses."), code="role_required")


async def columns(surveys: Surveys) -> list[Column]:
    """Answer columns for every question ever asked, current order first."""
    seen: dict[str, Column] = {}
    others: dict[str, Column] = {}
    for _vid, _n, definition, _at, _note in await surveys.versions():
        for q in definition.questions:
            seen.setdefault(q.key, Column(q.key, q.key, q.kind))
            if q.allow_other:
                others.setdefault(q.key, Column(f"{q.key}_other", q.key, "other"))
    out: list[Column] = []
    for key, col in seen.items():
        out.append(col)
        if key in others:
            out.append(others[key])
    return out


async def _pages(surveys: Surveys, filters: Filters) -> AsyncIterator[list[dict[str, Any]]]:
    """Export rows as dicts, a page at a time, each page read in its own short transaction."""
    survey = await surveys.current()
    cols = await columns(surveys)
    codebook: Codebook = survey.codebook
    numbers = {vid: n for vid, n, _d, _at, _note in await surveys.versions()}
    p = plan(filters, None)
    if p.empty:
        return
    # One slice over the whole date range (exports read responses, not rollups).
    where = p.parts[0].slice.where
    sl = store.Slice(where, _day(filters.date_from), _day(filters.date_to))
    after = 0
    while True:
        async with surveys.db.session() as s:
            rows = await store.responses_page(s, survey.id, sl, after, PAGE)
            texts = await store.texts_for(s, [r.id for r in rows], quotable_only=True)
        if not rows:
            return
        by_response: dict[int, dict[str, str]] = {}
        for t in texts:
            name = t.question if t.kind == "answer" else f"{t.question}_other"
            by_response.setdefault(t.response_id, {})[name] = t.body
        page: list[dict[str, Any]] = []
        for r in rows:
            item: dict[str, Any] = {
                "response_id": r.id, "survey_version": numbers.get(r.version_id, 0), "date": day_date(r.day),
                "language": r.language, "country": r.country, "region": r.region, "age_group": r.age_group,
                "gender": r.gender, "education": r.education,
            }
            said = by_response.get(r.id, {})
            for col in cols:
                if col.kind in ("text", "other"):
                    item[col.name] = said.get(col.name)
                    continue
                slot = codebook.slots.get(col.question)
                picked = codebook.decode(col.question, getattr(r, f"c{slot}") if slot else None)
                item[col.name] = picked if col.kind == "multi" else (picked[0] if picked else None)
            page.append(item)
        yield page
        after = rows[-1].id


def _day(value: date | None) -> int | None:
    return None if value is None else (value - date(1970, 1, 1)).days


async def csv_chunks(surveys: Surveys, user: Account, filters: Filters) -> AsyncIterator[bytes]:
    """UTF-8 CSV (with BOM, so spreadsheet programs read every script); multiple choices are
    joined with ``;``."""
    check_exporter(user)
    names = [*BASE_COLUMNS, *[c.name for c in await columns(surveys)]]
    buf = io.StringIO()
    writer = spreadsheet.writer(buf)
    writer.writerow(names)
    yield ("\ufeff" + buf.getvalue()).encode()
    async for page in _pages(surveys, filters):
        buf = io.StringIO()
        writer = spreadsheet.writer(buf)
        for item in page:
            writer.writerow([_csv_value(item.get(n)) for n in names])
        yield buf.getvalue().encode()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


class _Sink(io.RawIOBase):
    """A write-only file that hands out what was written so far (Parquet streams this way)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._pos += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._pos

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineError("Parquet export needs pyarrow: install parley[analysis].", retryable=False,
                          engine="pyarrow") from exc
    return pa, pq


async def parquet_chunks(surveys: Surveys, user: Account, filters: Filters) -> AsyncIterator[bytes]:
    """Parquet with one row group per page; multiple choices are lists of option keys."""
    check_exporter(user)
    pa, pq = _pyarrow()
    cols = await columns(surveys)
    fields = [
        pa.field("response_id", pa.int64()), pa.field("survey_version", pa.int32()), pa.field("date", pa.date32()),
        *[pa.field(n, pa.string()) for n in BASE_COLUMNS[3:]],
    ]
    for col in cols:
        fields.append(pa.field(col.name, pa.list_(pa.string()) if col.kind == "multi" else pa.string()))
    schema = pa.schema(fields)
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")

    def write(page: Sequence[dict[str, Any]]) -> bytes:
        table = pa.Table.from_pylist(list(page), schema=schema)
        writer.write_table(table)
        return sink.drain()

    try:
        async for page in _pages(surveys, filters):
            data = await asyncio.to_thread(write, page)
            if data:
                yield data
    finally:
        writer.close()
    yield sink.drain()
