"""Reading counts for the dashboard: from one cuboid, or straight from the responses for
slices no cuboid holds, and receipt counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.consultation_models import SurveyReceipt, SurveyRollup
from parley.storage.stores.survey.cuboids import ANSWERED, DIM_COLUMNS, FILTER_DIMS, NO_THEME, TIME_DIMS, cuboid_columns
from parley.storage.stores.survey.tables import CODING_T, RESPONSE_T, TEXT_T, THEME_T


@dataclass(frozen=True)
class Slice:
    """Which responses to count: dimension -> allowed values, and an inclusive day range."""

    where: Mapping[str, tuple[str, ...]]
    day_from: int | None = None
    day_to: int | None = None


def slice_conditions(columns: Mapping[str, ColumnElement[Any]], sl: Slice) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for dim, values in sl.where.items():
        col = columns[dim]
        conds.append(col == values[0] if len(values) == 1 else col.in_(values))
    # On a weekly or monthly cuboid the bounds are week or month starts.
    time = next((columns[t] for t in TIME_DIMS if t in columns), None)
    if sl.day_from is not None and time is not None:
        conds.append(time >= sl.day_from)
    if sl.day_to is not None and time is not None:
        conds.append(time <= sl.day_to)
    return conds


async def rollup_counts(
    s: AsyncSession, survey_id: int, cid: int, questions: Sequence[str], sl: Slice, group: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Rows of (question, option, *group values, n) from one cuboid."""
    t = SurveyRollup.__table__.c
    cols: dict[str, ColumnElement[Any]] = {dim: t[col] for dim, col in cuboid_columns(cid).items()}
    keys = [t.question, t.option, *[cols[g] for g in group]]
    q = (
        select(*keys, func.sum(t.n))
        .where(t.survey_id == survey_id, t.cuboid == cid, t.question.in_(list(questions)),
               *slice_conditions(cols, sl))
        .group_by(*keys)
    )
    return [tuple(row) for row in (await s.execute(q)).all()]


async def fact_counts(
    s: AsyncSession, survey_id: int, slot: int | None, sl: Slice, group: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Rows of (*group values, mask, n) straight from the responses (any combination of
    filters); ``slot=None`` counts responses (mask is then 1)."""
    r = RESPONSE_T.c
    cols: dict[str, ColumnElement[Any]] = {d: r[DIM_COLUMNS[d]] for d in ("day", *FILTER_DIMS, "language")}
    keys: list[ColumnElement[Any]] = [cols[g] for g in group]
    conds = [r.survey_id == survey_id, *slice_conditions(cols, sl)]
    if slot is None:
        q = select(*keys, func.count()).where(*conds)
        if keys:
            q = q.group_by(*keys)
        return [(*row[:-1], 1, row[-1]) for row in (await s.execute(q)).all()]
    mask = r[f"c{slot}"]
    keys.append(mask)
    q = select(*keys, func.count()).where(*conds, mask.is_not(None)).group_by(*keys)
    return [tuple(row) for row in (await s.execute(q)).all()]


async def fact_theme_counts(s: AsyncSession, survey_id: int, sl: Slice, group: Sequence[str]
                            ) -> list[tuple[Any, ...]]:
    """Rows of (*group values, option, n) of the pseudo-question THEMES, straight from the
    responses in the slice and their texts' codings (for slices no cuboid holds)."""
    r, x, c, t = RESPONSE_T.c, TEXT_T.c, CODING_T.c, THEME_T.c
    cols: dict[str, ColumnElement[Any]] = {d: r[DIM_COLUMNS[d]] for d in ("day", *FILTER_DIMS, "language")}
    keys: list[ColumnElement[Any]] = [cols[g] for g in group]
    coded = RESPONSE_T.join(TEXT_T, x.response_id == r.id).join(CODING_T, c.survey_text_id == x.id)
    conds = [r.survey_id == survey_id, *slice_conditions(cols, sl)]
    per_theme = (
        select(*keys, func.coalesce(t.theme, literal(NO_THEME, String)), func.count())
        .select_from(coded.outerjoin(THEME_T, t.coding_id == c.id))
        .where(*conds)
        .group_by(*keys, t.theme)
    )
    texts = select(*keys, literal(ANSWERED, String), func.count()).select_from(coded).where(*conds)
    if keys:
        texts = texts.group_by(*keys)
    return [tuple(row) for row in (await s.execute(union_all(per_theme, texts))).all()]


async def day_span(s: AsyncSession, survey_id: int) -> tuple[int, int] | None:
    """First and last day with a counted response."""
    r = RESPONSE_T.c
    # Two queries: each is one index seek, while min and max together scan the index.
    lo = (await s.execute(select(func.min(r.day)).where(r.survey_id == survey_id))).scalar_one()
    hi = (await s.execute(select(func.max(r.day)).where(r.survey_id == survey_id))).scalar_one()
    return None if lo is None or hi is None else (int(lo), int(hi))


async def receipt_count(s: AsyncSession, survey_id: int, status: str, day_from: int | None,
                        day_to: int | None) -> int:
    t = SurveyReceipt.__table__.c
    conds = [t.survey_id == survey_id, t.status == status]
    if day_from is not None:
        conds.append(t.day >= day_from)
    if day_to is not None:
        conds.append(t.day <= day_to)
    return int((await s.execute(select(func.count()).where(*conds))).scalar_one())
