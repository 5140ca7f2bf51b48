"""Survey storage: versions, responses, free text, receipts and rollups. Queries only, inside
the caller's transaction.

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
out of the counts before the change and puts them back after.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
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

from parley.storage.analysis_models import AnalysisCoding, AnalysisCodingTheme
from parley.storage.consultation_models import (
    Survey,
    SurveyCode,
    SurveyReceipt,
    SurveyResponse,
    SurveyRollup,
    SurveyText,
    SurveyVersion,
    cast_table,
)

RESPONSE_T = cast_table(SurveyResponse)
RECEIPT_T = cast_table(SurveyReceipt)
TEXT_T = cast_table(SurveyText)
CODE_T = cast_table(SurveyCode)
CODING_T = cast_table(AnalysisCoding)
THEME_T = cast_table(AnalysisCodingTheme)

RESPONSES = "_n"  # pseudo-question counting responses
ANSWERED = ""  # pseudo-option counting respondents who answered a question
THEMES = "_themes"  # pseudo-question counting the coded free-text answers per theme
NO_THEME = "_other"  # its option for texts without a theme (parley.storage.stores.analysis.OTHER)
NO_DAY = -1
ALL_BITS = (1 << 63) - 1
SLOTS = 8

# Breakdown dimensions and the response columns that hold them.
DIM_COLUMNS: dict[str, str] = {
    "day": "day",
    "week": "week",
    "month": "month",
    "region": "region",
    "country": "country",
    "age": "age_group",
    "gender": "gender",
    "education": "education",
    "language": "language",
}

# Which combinations of dimensions are counted. Cost per submission grows with the number of
# cuboids, so small combinations that a bigger cuboid answers by summing a few thousand rows
# are left out: e.g. (age, gender) and (region) come from 21, (country, age) filters read
# 22's rows for one country. Queries pick the smallest cuboid holding what they need.
# The respondent's language is a breakdown, not a filter: 26 to 28 answer it alone, with
# demographic filters, with a country (or a region, as its countries) and with dates.
# The ids are stored in `survey_rollups.cuboid`: never renumber or reuse, only append.
CUBOIDS: dict[int, tuple[str, ...]] = {
    0: (),
    1: ("day",),
    3: ("country",),
    7: ("day", "region"),
    8: ("day", "country"),
    9: ("day", "age"),
    10: ("day", "gender"),
    11: ("day", "education"),
    15: ("country", "age"),
    16: ("country", "gender"),
    17: ("country", "education"),
    21: ("region", "age", "gender", "education"),
    22: ("country", "age", "gender", "education"),
    # Whole months and weeks: a date range is read as whole months or weeks from these, and
    # the days at either end from a daily cuboid or the responses (see
    # parley.consultation.dashboard.plan).
    23: ("month", "country"),
    24: ("week", "age", "gender", "education"),
    25: ("week", "region", "age", "gender", "education"),
    26: ("language", "age", "gender", "education"),
    27: ("language", "country"),
    28: ("day", "language"),
}
TIME_DIMS = ("day", "week", "month")
VALUE_COLUMNS = ("v1", "v2", "v3", "v4")
FILTER_DIMS = ("region", "country", "age", "gender", "education")
# Rough number of values per dimension, to pick the smallest cuboid that answers a query.
CARDINALITY = {"day": 365, "week": 52, "month": 12, "region": 6, "country": 200, "age": 8, "gender": 4, "education": 5,
               "language": 6}
# Finest first: the coarse cuboids' rows are touched by every submission, so lock them last.
WRITE_ORDER: tuple[int, ...] = tuple(sorted(CUBOIDS, key=lambda c: (-len(CUBOIDS[c]), "day" not in CUBOIDS[c], -c)))


def cuboid_columns(cid: int) -> dict[str, str]:
    """Dimension -> rollup column (v1..v4, or day for the day or month) for one cuboid."""
    out: dict[str, str] = {}
    values = [d for d in CUBOIDS[cid] if d not in TIME_DIMS]
    for dim, col in zip(values, VALUE_COLUMNS, strict=False):
        out[dim] = col
    for dim in TIME_DIMS:
        if dim in CUBOIDS[cid]:
            out[dim] = "day"
    return out


def best_cuboid(dims: set[str]) -> int | None:
    """The smallest cuboid holding at least these dimensions, or None."""
    fits = [cid for cid, have in CUBOIDS.items() if dims <= set(have)]
    if not fits:
        return None

    def size(cid: int) -> int:
        n = 1
        for d in CUBOIDS[cid]:
            n *= CARDINALITY[d]
        return n

    return min(fits, key=lambda cid: (size(cid), len(CUBOIDS[cid])))


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


# --- surveys and versions ----------------------------------------------------------------


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


# --- submissions -------------------------------------------------------------------------


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
    for chunk in _chunks(key_hashes, 2000):
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
    for chunk in _chunks(ids, 20_000):
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


async def prune_rollups(s: AsyncSession, response: SurveyResponse, questions: Iterable[str]) -> None:
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


async def response_by_id(s: AsyncSession, response_id: int, *, lock: bool = False) -> SurveyResponse | None:
    """A response; ``lock`` holds its row until the transaction ends (withdrawal, so a
    concurrent re-coding of its texts waits: see `recounting_themes`)."""
    return await s.get(SurveyResponse, response_id, with_for_update=lock)


async def receipt_by_id(s: AsyncSession, receipt_id: int) -> SurveyReceipt | None:
    return await s.get(SurveyReceipt, receipt_id)


async def delete_response(s: AsyncSession, response: SurveyResponse) -> None:
    await s.execute(delete(SurveyText).where(SurveyText.response_id == response.id))
    await s.execute(delete(SurveyResponse).where(SurveyResponse.id == response.id))


async def add_receipt(s: AsyncSession, **values: Any) -> SurveyReceipt:
    receipt = SurveyReceipt(**values)
    s.add(receipt)
    await s.flush()
    return receipt


# --- reading counts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Which responses to count: dimension -> allowed values, and an inclusive day range."""

    where: Mapping[str, tuple[str, ...]]
    day_from: int | None = None
    day_to: int | None = None


def _slice_conditions(columns: Mapping[str, ColumnElement[Any]], sl: Slice) -> list[ColumnElement[bool]]:
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
               *_slice_conditions(cols, sl))
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
    conds = [r.survey_id == survey_id, *_slice_conditions(cols, sl)]
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
    conds = [r.survey_id == survey_id, *_slice_conditions(cols, sl)]
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


# --- reading responses and free text -----------------------------------------------------


async def responses_page(s: AsyncSession, survey_id: int, sl: Slice, after_id: int, limit: int
                         ) -> Sequence[SurveyResponse]:
    r = RESPONSE_T.c
    cols: dict[str, ColumnElement[Any]] = {d: r[DIM_COLUMNS[d]] for d in ("day", *FILTER_DIMS)}
    q = (
        select(SurveyResponse)
        .where(r.survey_id == survey_id, r.id > after_id, *_slice_conditions(cols, sl))
        .order_by(r.id)
        .limit(limit)
    )
    return (await s.execute(q)).scalars().all()


async def texts_for(s: AsyncSession, response_ids: Sequence[int], *, quotable_only: bool) -> Sequence[SurveyText]:
    if not response_ids:
        return []
    q = select(SurveyText).where(SurveyText.response_id.in_(list(response_ids)))
    if quotable_only:
        q = q.where(SurveyText.quotable.is_(True))
    return (await s.execute(q.order_by(SurveyText.id))).scalars().all()


async def texts_page(s: AsyncSession, survey_id: int, after_id: int, limit: int, *,
                     since: datetime | None = None, quotable_only: bool = False) -> Sequence[SurveyText]:
    q = select(SurveyText).where(SurveyText.survey_id == survey_id, SurveyText.id > after_id)
    if since is not None:
        q = q.where(SurveyText.created_at >= since)
    if quotable_only:
        q = q.where(SurveyText.quotable.is_(True))
    return (await s.execute(q.order_by(SurveyText.id).limit(limit))).scalars().all()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
