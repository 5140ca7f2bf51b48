"""Rollups: counting responses (and their texts' themes) into every cuboid.

Rollups are written in SQL, in two steps: the just-inserted responses are joined once to
`SurveyCode` (bit masks -> (question, option) pairs) and counted per full combination of
dimensions into a per-connection temporary table; then one ``INSERT .. SELECT .. GROUP BY
.. ON CONFLICT DO UPDATE`` per cuboid adds those counts up. The same statements (with a
negative sign) undo a withdrawal and (over every response) rebuild the rollups from
scratch, so the three can never disagree. Rows are upserted in key order and the coarsest,
most contended cuboids last, to keep lock waits short and deadlock-free on PostgreSQL.

The themes the analysis coded the free-text answers with are counted in the same cuboids,
as the pseudo-question ``_themes`` (option: a theme id, ``_other`` for a text no theme fits,
``""`` for every coded text), so the dashboard reads them for any slice as it reads an
answer. The staging step counts them from the analysis tables; the analysis store wraps every
change of a survey text's coding in `recounting_themes`, which takes the texts' responses
out of the counts before the change and puts them back after."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateTable

from parley.storage.consultation_models import SurveyCode, SurveyResponse, SurveyRollup, cast_table
from parley.storage.stores.survey.cuboids import (
    ANSWERED,
    DIM_COLUMNS,
    NO_DAY,
    NO_THEME,
    RESPONSES,
    SLOTS,
    THEMES,
    VALUE_COLUMNS,
    WRITE_ORDER,
    cuboid_columns,
)
from parley.storage.stores.survey.responses import ResponseInfo
from parley.storage.stores.survey.tables import CODE_T, CODING_T, RESPONSE_T, TEXT_T, THEME_T, chunks

# Per-connection scratch table: one batch's counts per full combination of dimensions.
_scratch = MetaData()
BATCH_CELLS = Table(
    "survey_batch_cells",
    _scratch,
    Column("question", String(64)),
    Column("option", String(64)),
    Column("day", Integer),
    Column("week", Integer),
    Column("month", Integer),
    Column("region", String(16)),
    Column("country", String(2)),
    Column("age_group", String(16)),
    Column("gender", String(16)),
    Column("education", String(16)),
    Column("language", String(16)),
    Column("n", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


def _slot_value() -> ColumnElement[Any]:
    r = SurveyResponse.__table__.c
    k = SurveyCode.__table__.c
    whens = {0: cast(literal(1), BigInteger), **{i: r[f"c{i}"] for i in range(1, SLOTS + 1)}}
    return case(whens, value=k.slot, else_=cast(literal(0), BigInteger))


def _dimension_columns() -> list[ColumnElement[Any]]:
    """The response's dimensions, in the scratch table's order."""
    r = RESPONSE_T.c
    return [r.day, r.week, r.month, r.region, r.country, r.age_group, r.gender, r.education, r.language]


def _id_condition(by_list: bool) -> ColumnElement[bool]:
    r = RESPONSE_T.c
    return r.id.in_(bindparam("ids", expanding=True)) if by_list else r.id.between(bindparam("lo"), bindparam("hi"))


@functools.cache
def _stage_statement(by_list: bool) -> Any:
    """Count the selected responses per (question, option, every dimension) into the scratch
    table: the one pass over responses a batch needs. Built once; parameters ``survey_id``
    and ``lo``/``hi`` (an id range) or ``ids`` (a list)."""
    r = RESPONSE_T.c
    k = CODE_T.c
    keys = [k.question, k.option, *_dimension_columns()]
    # Join on the parameter, not on r.survey_id, and test r.survey_id + 0: an index on
    # survey_id must not be used, so SQLite walks the id range.
    sel = (
        select(*keys, func.count())
        .select_from(RESPONSE_T.join(CODE_T, k.survey_id == bindparam("survey_id")))
        .where(_id_condition(by_list), (r.survey_id + 0) == bindparam("survey_id"),
               _slot_value().bitwise_and(k.mask) != 0)
        .group_by(*keys)
    )
    return BATCH_CELLS.insert().from_select([c.name for c in BATCH_CELLS.c], sel)


@functools.cache
def _theme_cells(by_list: bool) -> Any:
    """(THEMES, theme or NO_THEME or ANSWERED, every dimension, n) of the selected responses'
    coded texts, times the parameter ``sign``: each coded text counts once for ANSWERED and
    once per theme (or once for NO_THEME)."""
    r, x, c, t = RESPONSE_T.c, TEXT_T.c, CODING_T.c, THEME_T.c
    dims = _dimension_columns()
    coded = RESPONSE_T.join(TEXT_T, x.response_id == r.id).join(CODING_T, c.survey_text_id == x.id)
    where = [_id_condition(by_list), (r.survey_id + 0) == bindparam("survey_id")]
    n = bindparam("sign", type_=Integer) * func.count()
    theme = func.coalesce(t.theme, literal(NO_THEME, String))
    per_theme = (
        select(literal(THEMES, String), theme, *dims, n)
        .select_from(coded.outerjoin(THEME_T, t.coding_id == c.id))
        .where(*where)
        .group_by(t.theme, *dims)
    )
    texts = select(literal(THEMES, String), literal(ANSWERED, String), *dims, n).select_from(coded).where(
        *where).group_by(*dims)
    return union_all(per_theme, texts)


@functools.cache
def _theme_stage_statement(by_list: bool) -> Any:
    return BATCH_CELLS.insert().from_select([c.name for c in BATCH_CELLS.c], _theme_cells(by_list))


def _cuboid_keys(cid: int) -> list[ColumnElement[Any]]:
    """The scratch table's columns for one cuboid's key: v1..v4 ('' when unused) and day."""
    b = BATCH_CELLS.c
    cols = cuboid_columns(cid)
    dim_of = {col: dim for dim, col in cols.items()}
    values = [b[DIM_COLUMNS[dim_of[v]]] if v in dim_of else literal("", String) for v in VALUE_COLUMNS]
    day = b[DIM_COLUMNS[dim_of["day"]]] if "day" in dim_of else literal(NO_DAY, Integer)
    return [*values, day]


@functools.cache
def _fan_out_statement(dialect: str, cid: int, sign: int) -> Any:
    b = BATCH_CELLS.c
    total = func.sum(b.n) if sign > 0 else -func.sum(b.n)
    keys = [b.question, *_cuboid_keys(cid), b.option]
    # Grouped and written in the table's key order: the cell, then question and option.
    in_key_order = [*_cuboid_keys(cid), b.question, b.option]
    sel = (
        select(bindparam("survey_id", type_=Integer), literal(cid, Integer), *keys, total)
        .where(true())
        .group_by(*in_key_order)
        # Cells whose changes cancel out (a re-coded text kept a theme) are left alone.
        .having(func.sum(b.n) != 0)
        .order_by(*in_key_order)
    )
    table = cast_table(SurveyRollup)
    names = ["survey_id", "cuboid", "question", *VALUE_COLUMNS, "day", "option"]
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).from_select([*names, "n"], sel)
    return ins.on_conflict_do_update(index_elements=names, set_={"n": table.c.n + ins.excluded.n})


@functools.cache
def _prune_statement(cid: int) -> Any:
    """Delete this cuboid's zero theme counts among the staged cells (parameter ``survey_id``)."""
    b = BATCH_CELLS.c
    t = SurveyRollup.__table__.c
    staged = select(*_cuboid_keys(cid), b.option).where(b.question == THEMES).distinct()
    return delete(SurveyRollup).where(
        t.survey_id == bindparam("survey_id"), t.cuboid == cid, t.question == THEMES, t.n <= 0,
        tuple_(*[t[v] for v in VALUE_COLUMNS], t.day, t.option).in_(staged))


_CREATE_CELLS = CreateTable(BATCH_CELLS, if_not_exists=True)
_CLEAR_CELLS = delete(BATCH_CELLS)


def _id_params(survey_id: int, ids: Sequence[int]) -> dict[str, Any]:
    lo, hi = min(ids), max(ids)
    params: dict[str, Any] = {"survey_id": survey_id}
    params.update({"lo": lo, "hi": hi} if hi - lo + 1 == len(ids) else {"ids": list(ids)})
    return params


async def _clear_cells(s: AsyncSession) -> None:
    await s.execute(_CREATE_CELLS)
    await s.execute(_CLEAR_CELLS)


async def _fan_out(s: AsyncSession, survey_id: int, sign: int) -> None:
    dialect = s.get_bind().dialect.name
    for cid in WRITE_ORDER:
        await s.execute(_fan_out_statement(dialect, cid, sign), {"survey_id": survey_id})


async def _apply(s: AsyncSession, survey_id: int, ids: Sequence[int], sign: int, themes: bool) -> None:
    """Stage these responses (with their texts' themes), then add (or subtract) them in every
    cuboid."""
    params = _id_params(survey_id, ids)
    by_list = "ids" in params
    await _clear_cells(s)
    await s.execute(_stage_statement(by_list), params)
    if themes:
        await s.execute(_theme_stage_statement(by_list), {**params, "sign": 1})
    await _fan_out(s, survey_id, sign)


async def add_to_rollups(s: AsyncSession, survey_id: int, response_ids: Sequence[int], sign: int = 1, *,
                         themes: bool = True) -> None:
    """Count (or, with ``sign=-1``, uncount) these responses in every cuboid. ``themes=False``
    skips their texts' themes (new responses have none coded yet)."""
    ids = sorted(set(response_ids))
    for chunk in chunks(ids, 20_000):
        await _apply(s, survey_id, chunk, sign, themes)


@asynccontextmanager
async def recounting_themes(s: AsyncSession, text_ids: Iterable[int]) -> AsyncIterator[None]:
    """Keep the theme counts right while the block changes the codings of these survey texts:
    their responses' theme cells are read before and after, and the difference is added to
    every cuboid (cells that drop to zero are deleted). The responses are locked first, so a
    concurrent re-coding or withdrawal of the same response waits for this one."""
    ids = sorted(set(text_ids))
    responses: dict[int, list[int]] = {}
    if ids:
        r, x = RESPONSE_T.c, TEXT_T.c
        q = (
            select(r.survey_id, r.id)
            .where(r.id.in_(select(x.response_id).where(x.id.in_(ids))))
            .order_by(r.id)
            .with_for_update()
        )
        for survey_id, response_id in (await s.execute(q)).all():
            responses.setdefault(int(survey_id), []).append(int(response_id))
    before: dict[int, list[dict[str, Any]]] = {}
    names = [c.name for c in BATCH_CELLS.c]
    for survey_id, rids in responses.items():
        params = _id_params(survey_id, rids)
        rows = await s.execute(_theme_cells("ids" in params), {**params, "sign": -1})
        before[survey_id] = [dict(zip(names, row, strict=True)) for row in rows.all()]
    yield
    for survey_id, rids in responses.items():
        params = _id_params(survey_id, rids)
        await _clear_cells(s)
        if before[survey_id]:
            await s.execute(BATCH_CELLS.insert(), before[survey_id])
        await s.execute(_theme_stage_statement("ids" in params), {**params, "sign": 1})
        await _fan_out(s, survey_id, 1)
        for cid in WRITE_ORDER:
            await s.execute(_prune_statement(cid), {"survey_id": survey_id})


async def prune_rollups(s: AsyncSession, response: ResponseInfo, questions: Iterable[str]) -> None:
    """Delete the zero counts a withdrawal left in this response's cells (an empty cell
    would still tell that someone with these demographics once answered)."""
    qs = [RESPONSES, THEMES, *questions]
    t = SurveyRollup.__table__.c
    for cid in WRITE_ORDER:
        cols = cuboid_columns(cid)
        values = dict.fromkeys(VALUE_COLUMNS, "")
        day = NO_DAY
        for dim, col in cols.items():
            if col == "day":
                day = getattr(response, DIM_COLUMNS[dim])
            else:
                values[col] = getattr(response, DIM_COLUMNS[dim])
        await s.execute(delete(SurveyRollup).where(
            t.survey_id == response.survey_id, t.cuboid == cid, t.question.in_(qs),
            *[t[v] == values[v] for v in VALUE_COLUMNS], t.day == day, t.n <= 0))


async def rebuild_rollups(s: AsyncSession, survey_id: int, chunk: int = 50_000) -> None:
    """Recount every cuboid from the responses and the codings of their texts (repair; also
    proves the increments right)."""
    await s.execute(delete(SurveyRollup).where(SurveyRollup.survey_id == survey_id))
    r = RESPONSE_T.c
    lo, hi = (await s.execute(select(func.min(r.id), func.max(r.id)).where(r.survey_id == survey_id))).one()
    if lo is None:
        return
    for start in range(int(lo), int(hi) + 1, chunk):
        await _apply(s, survey_id, range(start, min(start + chunk, int(hi) + 1)), 1, True)
