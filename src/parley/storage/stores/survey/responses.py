"""Submissions: responses, receipts and free text; finding what a key already stands for,
withdrawing, and reading responses and texts page by page.

Callers get values (`ResponseInfo`, `ReceiptInfo`, `TextInfo`), never rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.consultation_models import SurveyReceipt, SurveyResponse, SurveyText
from parley.storage.stores.survey.counts import Slice, slice_conditions
from parley.storage.stores.survey.cuboids import DIM_COLUMNS, FILTER_DIMS
from parley.storage.stores.survey.tables import RECEIPT_T, RESPONSE_T, TEXT_T, chunks


@dataclass(frozen=True)
class _Read:
    """A value read field by field from the row's columns of the same names."""

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class ResponseInfo(_Read):
    """One respondent's answers: demographics, and the coded answers in ``c1`` .. ``c8``."""

    id: int
    survey_id: int
    version_id: int
    created_at: datetime
    day: int
    week: int
    month: int
    language: str
    country: str
    region: str
    age_group: str
    gender: str
    education: str
    consent_quotes: bool
    channel: str
    key_hash: str
    fingerprint: str
    c1: int | None
    c2: int | None
    c3: int | None
    c4: int | None
    c5: int | None
    c6: int | None
    c7: int | None
    c8: int | None


@dataclass(frozen=True)
class ReceiptInfo(_Read):
    """A submission kept without its answers (declined, or withdrawn)."""

    id: int
    survey_id: int
    key_hash: str
    fingerprint: str
    status: str
    day: int
    created_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class TextInfo(_Read):
    """A consented free-text answer (open, or "other"), for theme coding."""

    id: int
    response_id: int
    question: str
    kind: str
    body: str
    language: str
    country: str
    quotable: bool
    created_at: datetime


@dataclass(frozen=True)
class Existing:
    """What a key hash already stands for: a counted response or a receipt."""

    kind: str  # "response" | "receipt"
    id: int
    fingerprint: str
    status: str  # "counted" | "declined" | "withdrawn"
    version_id: int | None


async def existing(s: AsyncSession, survey_id: int, key_hashes: Sequence[str]) -> dict[str, Existing]:
    found: dict[str, Existing] = {}
    for chunk in chunks(key_hashes, 2000):
        rq = select(SurveyResponse.key_hash, SurveyResponse.id, SurveyResponse.fingerprint,
                    SurveyResponse.version_id).where(
            SurveyResponse.survey_id == survey_id, SurveyResponse.key_hash.in_(chunk))
        for key, rid, fp, vid in (await s.execute(rq)).all():
            found[key] = Existing("response", int(rid), fp, "counted", vid)
        cq = select(SurveyReceipt.key_hash, SurveyReceipt.id, SurveyReceipt.fingerprint, SurveyReceipt.status).where(
            SurveyReceipt.survey_id == survey_id, SurveyReceipt.key_hash.in_(chunk))
        for key, rid, fp, status in (await s.execute(cq)).all():
            found.setdefault(key, Existing("receipt", int(rid), fp, status, None))
    return found


async def insert_responses(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert response rows; key hash -> new id."""
    if not rows:
        return {}
    stmt = RESPONSE_T.insert().returning(RESPONSE_T.c.key_hash, RESPONSE_T.c.id)
    result = await s.execute(stmt, list(rows))
    return {key: int(rid) for key, rid in result.all()}


async def insert_receipts(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    if not rows:
        return {}
    stmt = RECEIPT_T.insert().returning(RECEIPT_T.c.key_hash, RECEIPT_T.c.id)
    result = await s.execute(stmt, list(rows))
    return {key: int(rid) for key, rid in result.all()}


async def insert_texts(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await s.execute(TEXT_T.insert(), list(rows))


async def response_by_id(s: AsyncSession, response_id: int, *, lock: bool = False) -> ResponseInfo | None:
    """A response; ``lock`` holds its row until the transaction ends (withdrawal, so a
    concurrent re-coding of its texts waits: see `recounting_themes`)."""
    row = await s.get(SurveyResponse, response_id, with_for_update=lock)
    return None if row is None else ResponseInfo.of(row)


async def receipt_by_id(s: AsyncSession, receipt_id: int) -> ReceiptInfo | None:
    row = await s.get(SurveyReceipt, receipt_id)
    return None if row is None else ReceiptInfo.of(row)


async def withdraw_receipt(s: AsyncSession, receipt_id: int, now: datetime) -> None:
    await s.execute(update(SurveyReceipt).where(SurveyReceipt.id == receipt_id).values(
        status="withdrawn", withdrawn_at=now))


async def delete_response(s: AsyncSession, response_id: int) -> None:
    await s.execute(delete(SurveyText).where(SurveyText.response_id == response_id))
    await s.execute(delete(SurveyResponse).where(SurveyResponse.id == response_id))


async def add_receipt(s: AsyncSession, **values: Any) -> int:
    """Insert now; the new receipt's id."""
    receipt = SurveyReceipt(**values)
    s.add(receipt)
    await s.flush()
    return receipt.id


async def responses_page(s: AsyncSession, survey_id: int, sl: Slice, after_id: int, limit: int
                         ) -> list[ResponseInfo]:
    r = RESPONSE_T.c
    cols: dict[str, ColumnElement[Any]] = {d: r[DIM_COLUMNS[d]] for d in ("day", *FILTER_DIMS)}
    q = (
        select(SurveyResponse)
        .where(r.survey_id == survey_id, r.id > after_id, *slice_conditions(cols, sl))
        .order_by(r.id)
        .limit(limit)
    )
    return [ResponseInfo.of(row) for row in (await s.execute(q)).scalars()]


async def texts_for(s: AsyncSession, response_ids: Sequence[int], *, quotable_only: bool) -> list[TextInfo]:
    if not response_ids:
        return []
    q = select(SurveyText).where(SurveyText.response_id.in_(list(response_ids)))
    if quotable_only:
        q = q.where(SurveyText.quotable.is_(True))
    return [TextInfo.of(row) for row in (await s.execute(q.order_by(SurveyText.id))).scalars()]


async def texts_page(s: AsyncSession, survey_id: int, after_id: int, limit: int, *,
                     since: datetime | None = None, quotable_only: bool = False) -> list[TextInfo]:
    q = select(SurveyText).where(SurveyText.survey_id == survey_id, SurveyText.id > after_id)
    if since is not None:
        q = q.where(SurveyText.created_at >= since)
    if quotable_only:
        q = q.where(SurveyText.quotable.is_(True))
    return [TextInfo.of(row) for row in (await s.execute(q.order_by(SurveyText.id).limit(limit))).scalars()]
