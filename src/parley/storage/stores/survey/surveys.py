"""Surveys, their versions and the codebook rows (`SurveyCode`) their answers are counted by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.consultation_models import Survey, SurveyCode, SurveyVersion
from parley.storage.stores.survey.cuboids import ALL_BITS, ANSWERED, RESPONSES
from parley.storage.stores.survey.tables import CODE_T


async def survey_by_id(s: AsyncSession, survey_id: int) -> Survey | None:
    return await s.get(Survey, survey_id)


async def add_survey(s: AsyncSession, survey: Survey) -> Survey:
    """Insert now, so the new survey has its id (and a taken slug fails here)."""
    s.add(survey)
    await s.flush()
    return survey


async def add_version(s: AsyncSession, version: SurveyVersion) -> SurveyVersion:
    """Insert now, so the new version has its id (and a taken number fails here)."""
    s.add(version)
    await s.flush()
    return version


async def survey_by_slug(s: AsyncSession, slug: str) -> Survey | None:
    return (await s.execute(select(Survey).where(Survey.slug == slug))).scalar_one_or_none()


async def survey_state(s: AsyncSession, slug: str) -> tuple[int, int | None] | None:
    """(survey id, current version id): the one cheap read every submission makes."""
    row = (await s.execute(select(Survey.id, Survey.current_version_id).where(Survey.slug == slug))).first()
    return None if row is None else (int(row[0]), row[1])


async def version_by_id(s: AsyncSession, version_id: int) -> SurveyVersion | None:
    return await s.get(SurveyVersion, version_id)


async def versions(s: AsyncSession, survey_id: int) -> Sequence[SurveyVersion]:
    q = select(SurveyVersion).where(SurveyVersion.survey_id == survey_id).order_by(SurveyVersion.number.desc())
    return (await s.execute(q)).scalars().all()


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
