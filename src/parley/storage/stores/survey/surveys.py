"""Surveys, their versions and the codebook rows (`SurveyCode`) their answers are counted by.

Callers get values (`SurveyInfo`, `VersionInfo`), never rows: a change is a call here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.consultation_models import Survey, SurveyCode, SurveyVersion
from parley.storage.stores.survey.cuboids import ALL_BITS, ANSWERED, RESPONSES
from parley.storage.stores.survey.tables import CODE_T


@dataclass(frozen=True)
class SurveyInfo:
    id: int
    slug: str
    # The version new respondents get (None only while the first is being created).
    current_version_id: int | None
    codebook: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Survey) -> SurveyInfo:
        return cls(id=row.id, slug=row.slug, current_version_id=row.current_version_id, codebook=row.codebook,
                   created_at=row.created_at, updated_at=row.updated_at)


@dataclass(frozen=True)
class VersionInfo:
    """One saved wording of the survey."""

    id: int
    survey_id: int
    number: int
    definition: Mapping[str, Any]
    note: str
    created_at: datetime
    created_by_id: int | None

    @classmethod
    def of(cls, row: SurveyVersion) -> VersionInfo:
        return cls(id=row.id, survey_id=row.survey_id, number=row.number, definition=row.definition, note=row.note,
                   created_at=row.created_at, created_by_id=row.created_by_id)


async def survey_by_id(s: AsyncSession, survey_id: int) -> SurveyInfo | None:
    row = await s.get(Survey, survey_id)
    return None if row is None else SurveyInfo.of(row)


async def add_survey(s: AsyncSession, *, slug: str, codebook: Mapping[str, Any], now: datetime) -> int:
    """Insert now, so the new survey has its id (returned; a taken slug fails here); its
    current version is set once that exists (`set_current_version`)."""
    row = Survey(slug=slug, codebook=dict(codebook), created_at=now, updated_at=now)
    s.add(row)
    await s.flush()
    return row.id


async def add_version(
    s: AsyncSession,
    *,
    survey_id: int,
    number: int,
    definition: Mapping[str, Any],
    note: str,
    created_at: datetime,
    created_by_id: int | None = None,
) -> int:
    """Insert now, so the new version has its id (returned; a taken number fails here)."""
    row = SurveyVersion(survey_id=survey_id, number=number, definition=dict(definition), note=note,
                        created_at=created_at, created_by_id=created_by_id)
    s.add(row)
    await s.flush()
    return row.id


async def set_current_version(
    s: AsyncSession,
    survey_id: int,
    version_id: int,
    *,
    codebook: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """New respondents get ``version_id`` from now on; the codebook and update time change
    when given (None: unchanged)."""
    values: dict[str, Any] = {"current_version_id": version_id}
    if codebook is not None:
        values["codebook"] = dict(codebook)
    if now is not None:
        values["updated_at"] = now
    await s.execute(update(Survey).where(Survey.id == survey_id).values(**values))


async def survey_by_slug(s: AsyncSession, slug: str) -> SurveyInfo | None:
    row = (await s.execute(select(Survey).where(Survey.slug == slug))).scalar_one_or_none()
    return None if row is None else SurveyInfo.of(row)


async def survey_state(s: AsyncSession, slug: str) -> tuple[int, int | None] | None:
    """(survey id, current version id): the one cheap read every submission makes."""
    row = (await s.execute(select(Survey.id, Survey.current_version_id).where(Survey.slug == slug))).first()
    return None if row is None else (int(row[0]), row[1])


async def version_by_id(s: AsyncSession, version_id: int) -> VersionInfo | None:
    row = await s.get(SurveyVersion, version_id)
    return None if row is None else VersionInfo.of(row)


async def versions(s: AsyncSession, survey_id: int) -> list[VersionInfo]:
    q = select(SurveyVersion).where(SurveyVersion.survey_id == survey_id).order_by(SurveyVersion.number.desc())
    return [VersionInfo.of(v) for v in (await s.execute(q)).scalars()]


async def latest_version_number(s: AsyncSession, survey_id: int) -> int:
    q = select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey_id)
    return int((await s.execute(q)).scalar_one() or 0)


async def sync_codes(s: AsyncSession, survey_id: int, slots: Mapping[str, int],
                     bits: Mapping[str, Mapping[str, int]]) -> None:
    """Add code rows for slots and bits the codebook gained (rows are never removed)."""
    have = {(q, o) for q, o in (await s.execute(
        select(SurveyCode.question, SurveyCode.option).where(SurveyCode.survey_id == survey_id))).all()}
    rows: list[dict[str, Any]] = []

    def want(question: str, option: str, slot: int, mask: int) -> None:
        if (question, option) not in have:
            rows.append({"survey_id": survey_id, "question": question, "option": option, "slot": slot, "mask": mask})

    want(RESPONSES, ANSWERED, 0, 1)
    for question, slot in slots.items():
        want(question, ANSWERED, slot, ALL_BITS)
        for option, bit in bits.get(question, {}).items():
            want(question, option, slot, 1 << bit)
    if rows:
        await s.execute(CODE_T.insert(), rows)
