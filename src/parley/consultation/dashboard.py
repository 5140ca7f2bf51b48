"""Survey results for staff: counts per question option, broken down and filtered by region,
country, age group, gender, education and date.

Every view is answered by a *plan*: the dimensions it needs (its breakdown, its filters, and
the day when dates are filtered). Rollup cuboids hold counts for the day with each other
dimension, and for all four demographics with the region or the country; when one of them
covers the view, the answer is a sum over at most some thousands of rows, whatever the
number of responses. Other combinations (a date range with two or more other filters, e.g.
``?country=FR&age=18-24&from=...``) count the responses themselves through the (survey,
country, day) or (survey, day) index, so their cost grows with the slice, not the survey.

Dialogue results (from the dialogues' reports) plug in through `DialogueResultsSource`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from parley.consultation.questionnaire import AGE_GROUPS, EDUCATION, GENDERS, UNSTATED
from parley.consultation.regions import (
    COUNTRIES,
    REGIONS,
    UNKNOWN_COUNTRY,
    countries_in,
    country_name,
    region_name,
    region_of,
)
from parley.consultation.survey import N_, Surveys, day_date, month_of
from parley.errors import InvalidInput
from parley.storage.models import User
from parley.storage.stores import survey as store

DIMENSIONS = ("region", "country", "age", "gender", "education")
BREAKDOWNS = (*DIMENSIONS, "day", "week")
DIMENSION_VALUES: dict[str, tuple[str, ...]] = {
    "region": REGIONS,
    "age": (*AGE_GROUPS, UNSTATED),
    "gender": (*GENDERS, UNSTATED),
    "education": (*EDUCATION, UNSTATED),
}
LABEL_PREFIX = {"age": "age_group", "gender": "gender", "education": "education"}
MAX_TREND_DAYS = 3700


@dataclass(frozen=True)
class Filters:
    """What slice of the responses a view shows; parsed from (and written back to) the URL."""

    region: str | None = None
    country: str | None = None
    age: str | None = None
    gender: str | None = None
    education: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        fields: dict[str, str] = {}
        values: dict[str, Any] = {}
        for dim in DIMENSIONS:
            raw = (params.get(dim) or "").strip()
            if not raw:
                continue
            value = raw.upper() if dim == "country" else raw.lower()
            allowed = COUNTRIES if dim == "country" else DIMENSION_VALUES[dim]
            if value not in allowed:
                fields[dim] = N_("Not a known value.")
            else:
                values[dim] = value
        for name, attr in (("from", "date_from"), ("to", "date_to")):
            raw = (params.get(name) or "").strip()
            if raw:
                try:
                    values[attr] = date.fromisoformat(raw)
                except ValueError:
                    fields[name] = N_("Use a date like 2025-01-31.")
        if fields:
            raise InvalidInput(N_("Some filters are not valid."), fields=fields, code="invalid_filter")
        return cls(**values)

    def query(self, **changes: Any) -> dict[str, str]:
        """URL parameters for these filters (with ``changes`` applied), for shareable links."""
        f = replace(self, **changes) if changes else self
        out = {dim: getattr(f, dim) for dim in DIMENSIONS if getattr(f, dim)}
        if f.date_from:
            out["from"] = f.date_from.isoformat()
        if f.date_to:
            out["to"] = f.date_to.isoformat()
        return out

    @property
    def active(self) -> bool:
        return bool(self.query())


@dataclass(frozen=True)
class Plan:
    cuboid: int | None  # None: count the responses themselves
    slice: store.Slice
    group: tuple[str, ...]  # dimensions grouped in storage
    region_from_country: bool = False
    empty: bool = False


def plan(filters: Filters, by: str | None) -> Plan:
    """Pick the smallest storage that answers a view exactly."""
    where: dict[str, tuple[str, ...]] = {}
    empty = False
    if filters.country:
        where["country"] = (filters.country,)
        empty = filters.region is not None and region_of(filters.country) != filters.region
    elif filters.region:
        where["region"] = (filters.region,)
    for dim in ("age", "gender", "education"):
        value = getattr(filters, dim)
        if value:
            where[dim] = (value,)
    day_from = day_number_of(filters.date_from)
    day_to = day_number_of(filters.date_to)
    group_dim = {"week": "day"}.get(by or "", by)
    region_from_country = False
    if group_dim == "region" and "country" in where:
        group_dim, region_from_country = "country", True
    if group_dim == "country" and "region" in where:
        where["country"] = countries_in(where.pop("region")[0])
    group = (group_dim,) if group_dim else ()
    dims = set(where) | set(group)
    if day_from is not None or day_to is not None:
        dims.add("day")
    cuboid = store.best_cuboid(dims)
    return Plan(cuboid, store.Slice(where, day_from, day_to), group, region_from_country, empty)


def month_parts(p: Plan, span: tuple[int, int] | None, by: str | None) -> list[tuple[int, store.Slice]]:
    """A day-cuboid read over a date range, as whole months from the monthly cuboid plus the
    days at either end: exact, and a year of countries is ~12 rows each instead of ~365."""
    assert p.cuboid is not None
    monthly = store.MONTHLY.get(p.cuboid)
    sl = p.slice
    if monthly is None or by in ("day", "week") or span is None or (sl.day_from is None and sl.day_to is None):
        return [(p.cuboid, sl)]
    first = span[0] if sl.day_from is None else sl.day_from
    last = span[1] if sl.day_to is None else sl.day_to
    full_from = first if day_date(first).day == 1 else next_month(first)
    last_full = month_of(last) if day_date(last + 1).day == 1 else month_of(month_of(last) - 1)
    if full_from > last_full:
        return [(p.cuboid, sl)]
    parts = [(monthly, store.Slice(sl.where, full_from, last_full))]
    if first < full_from:
        parts.append((p.cuboid, store.Slice(sl.where, first, full_from - 1)))
    after = next_month(last_full)
    if after <= last:
        parts.append((p.cuboid, store.Slice(sl.where, after, last)))
    return parts


def next_month(day: int) -> int:
    return month_of(month_of(day) + 31)


def day_number_of(value: date | None) -> int | None:
    return None if value is None else (value - date(1970, 1, 1)).days


def week_of(day: int) -> int:
    """The Monday starting the week of ``day`` (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


Counts = dict[str, dict[Any, dict[str, int]]]  # question -> bucket -> option -> n


@dataclass(frozen=True)
class OptionCount:
    key: str
    label: str
    count: int
    share: float  # of those who answered the question


@dataclass(frozen=True)
class QuestionResult:
    key: str
    kind: str
    text: str
    answered: int
    options: list[OptionCount]


@dataclass(frozen=True)
class Bucket:
    value: str
    label: str
    responses: int
    answered: int = 0
    options: list[OptionCount] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    responses: int
    declined: int
    withdrawn: int
    questions: list[QuestionResult]
    plan: str


@dataclass(frozen=True)
class Breakdown:
    question: QuestionResult | None
    by: str
    buckets: list[Bucket]
    total: int
    plan: str


@dataclass(frozen=True)
class TrendPoint:
    start: date
    responses: int
    options: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Trend:
    interval: str
    points: list[TrendPoint]
    question: str | None
    plan: str


@dataclass(frozen=True)
class DialogueResults:
    """What the dialogues said, for the same filters (filled in by the dialogue reports)."""

    available: bool
    dialogues: int = 0
    participants: int = 0
    themes: list[dict[str, Any]] = field(default_factory=list)


class DialogueResultsSource(Protocol):
    """Implemented by the dialogue reports and set as ``Dashboard.dialogue_results``."""

    async def results(self, filters: Filters, lang: str) -> DialogueResults: ...


class Dashboard:
    def __init__(self, surveys: Surveys) -> None:
        self.surveys = surveys
        self.db = surveys.db
        # EXTENSION POINT: dialogue results join the dashboard when this is set.
        self.dialogue_results: DialogueResultsSource | None = None

    # --- counting ----------------------------------------------------------------------

    async def counts(self, questions: Sequence[str], filters: Filters, by: str | None) -> tuple[Counts, Plan]:
        """question -> bucket -> option -> count (option "" = answered the question; question
        "_n" counts responses); bucket is None without a breakdown."""
        if by is not None and by not in BREAKDOWNS:
            raise InvalidInput(N_("Not a known breakdown."), fields={"by": "unknown"}, code="invalid_filter")
        survey = await self.surveys.current()
        out: Counts = {q: defaultdict(lambda: defaultdict(int)) for q in questions}
        span: tuple[int, int] | None = None
        if filters.date_from or filters.date_to:
            # A bound outside the data selects nothing less: drop it, so coarser counts serve.
            async with self.db.session() as s:
                span = await store.day_span(s, survey.id)
            if span is not None:
                first, last = (day_date(d) for d in span)
                if filters.date_from and filters.date_from <= first:
                    filters = replace(filters, date_from=None)
                if filters.date_to and filters.date_to >= last:
                    filters = replace(filters, date_to=None)
        p = plan(filters, by)
        if p.empty:
            return out, p

        def bucket(values: Sequence[Any]) -> Any:
            if not p.group:
                return None
            value = values[0]
            if by == "week":
                return week_of(int(value))
            if p.region_from_country:
                return region_of(str(value))
            return value

        async with self.db.session() as s:
            if p.cuboid is not None:
                for cid, sl in month_parts(p, span, by):
                    rows = await store.rollup_counts(s, survey.id, cid, questions, sl, p.group)
                    for question, option, *values, n in rows:
                        out[question][bucket(values)][option] += int(n)
            else:
                for question in questions:
                    slot = None if question == store.RESPONSES else survey.codebook.slots.get(question)
                    if slot is None and question != store.RESPONSES:
                        continue
                    for *values, mask, n in await store.fact_counts(s, survey.id, slot, p.slice, p.group):
                        cell = out[question][bucket(values)]
                        cell[store.ANSWERED] += int(n)
                        if slot is not None:
                            for option in survey.codebook.decode(question, int(mask)):
                                cell[option] += int(n)
        return out, p

    # --- views -------------------------------------------------------------------------

    async def summary(self, user: User, filters: Filters, lang: str) -> Summary:
        self.surveys.check_viewer(user)
        order = await self.surveys.question_order()
        keys = [store.RESPONSES, *[k for k, _, _ in order]]
        counts, p = await self.counts(keys, filters, None)
        labels = await self.surveys.labels(lang)
        questions = [self._result(k, kind, opts, counts[k].get(None, {}), labels) for k, opts, kind in order]
        days = (day_number_of(filters.date_from), day_number_of(filters.date_to))
        survey = await self.surveys.current()
        async with self.db.session() as s:
            declined = await store.receipt_count(s, survey.id, "declined", *days)
            withdrawn = await store.receipt_count(s, survey.id, "withdrawn", *days)
        return Summary(
            responses=counts[store.RESPONSES].get(None, {}).get(store.ANSWERED, 0),
            declined=declined, withdrawn=withdrawn, questions=questions, plan=_describe(p),
        )

    async def breakdown(self, user: User, question: str | None, by: str, filters: Filters, lang: str) -> Breakdown:
        """One question (or, with ``question=None``, participation) per value of ``by``."""
        self.surveys.check_viewer(user)
        if by not in DIMENSIONS:
            raise InvalidInput(N_("Not a known breakdown."), fields={"by": "unknown"}, code="invalid_filter")
        order = {k: (opts, kind) for k, opts, kind in await self.surveys.question_order()}
        if question is not None and question not in order:
            raise InvalidInput(N_("This survey has no such question."), fields={"question": "unknown"},
                               code="unknown_question")
        keys = [store.RESPONSES] + ([question] if question else [])
        counts, p = await self.counts(keys, filters, by)
        labels = await self.surveys.labels(lang)
        survey = await self.surveys.current()
        responses = counts[store.RESPONSES]
        buckets: list[Bucket] = []
        for value in self._bucket_order(by, responses):
            n = responses.get(value, {}).get(store.ANSWERED, 0)
            if question is None:
                buckets.append(Bucket(str(value), self.value_label(by, str(value), lang, survey.definition), n))
                continue
            opts, kind = order[question]
            result = self._result(question, kind, opts, counts[question].get(value, {}), labels)
            buckets.append(Bucket(str(value), self.value_label(by, str(value), lang, survey.definition), n,
                                  result.answered, result.options))
        total = sum(b.responses for b in buckets)
        overall = None
        if question is not None:
            merged: dict[str, int] = defaultdict(int)
            for cell in counts[question].values():
                for option, n in cell.items():
                    merged[option] += n
            opts, kind = order[question]
            overall = self._result(question, kind, opts, merged, labels)
        return Breakdown(overall, by, buckets, total, _describe(p))

    async def trend(self, user: User, filters: Filters, interval: str = "week", question: str | None = None
                    ) -> Trend:
        self.surveys.check_viewer(user)
        if interval not in ("day", "week"):
            raise InvalidInput(N_("Use day or week."), fields={"interval": "unknown"}, code="invalid_filter")
        keys = [store.RESPONSES] + ([question] if question else [])
        if question is not None and question not in {k for k, _, _ in await self.surveys.question_order()}:
            raise InvalidInput(N_("This survey has no such question."), fields={"question": "unknown"},
                               code="unknown_question")
        counts, p = await self.counts(keys, filters, interval)
        responses = counts[store.RESPONSES]
        present = [int(b) for b, cell in responses.items() if cell.get(store.ANSWERED)]
        if not present:
            return Trend(interval, [], question, _describe(p))
        first = day_number_of(filters.date_from)
        last = day_number_of(filters.date_to)
        lo = min(present) if first is None else (week_of(first) if interval == "week" else first)
        hi = max(present) if last is None else (week_of(last) if interval == "week" else last)
        hi = min(hi, lo + MAX_TREND_DAYS)
        step = 7 if interval == "week" else 1
        points = []
        for start in range(lo, hi + 1, step):
            cell = responses.get(start, {})
            options = dict(counts[question].get(start, {})) if question else {}
            points.append(TrendPoint(day_date(start), cell.get(store.ANSWERED, 0), options))
        return Trend(interval, points, question, _describe(p))

    async def dialogues(self, user: User, filters: Filters, lang: str) -> DialogueResults:
        self.surveys.check_viewer(user)
        if self.dialogue_results is None:
            return DialogueResults(available=False)
        return await self.dialogue_results.results(filters, lang)

    # --- presentation helpers ------------------------------------------------------------

    @staticmethod
    def _result(key: str, kind: str, option_keys: Sequence[str], cell: Mapping[str, int],
                labels: Mapping[tuple[str, str], str]) -> QuestionResult:
        answered = cell.get(store.ANSWERED, 0)
        options = [
            OptionCount(o, labels.get((key, o), o), cell.get(o, 0), (cell.get(o, 0) / answered) if answered else 0.0)
            for o in option_keys
        ]
        return QuestionResult(key, kind, labels.get((key, ""), key), answered, options)

    @staticmethod
    def _bucket_order(by: str, responses: Mapping[Any, Mapping[str, int]]) -> list[Any]:
        present = [b for b, cell in responses.items() if cell.get(store.ANSWERED)]
        if by in DIMENSION_VALUES:
            fixed = DIMENSION_VALUES[by]
            return [v for v in fixed if v in present]
        # Countries: most responses first.
        return sorted(present, key=lambda b: (-responses[b].get(store.ANSWERED, 0), str(b)))

    @staticmethod
    def value_label(by: str, value: str, lang: str, definition: Any) -> str:
        if by == "region":
            return region_name(value, lang) if value != "unknown" else definition.label(UNSTATED, lang)
        if by == "country":
            return definition.label(UNSTATED, lang) if value == UNKNOWN_COUNTRY else country_name(value, lang)
        if by in LABEL_PREFIX:
            key = UNSTATED if value == UNSTATED else f"{LABEL_PREFIX[by]}.{value}"
            return str(definition.label(key, lang))
        return value


def _describe(p: Plan) -> str:
    if p.empty:
        return "empty"
    return f"rollup:{p.cuboid}" if p.cuboid is not None else "responses"


def dimension_choices(lang: str, definition: Any) -> dict[str, list[tuple[str, str]]]:
    """(value, label) lists for filter pickers."""
    from parley.consultation.regions import country_choices

    out: dict[str, list[tuple[str, str]]] = {
        dim: [(v, Dashboard.value_label(dim, v, lang, definition)) for v in values]
        for dim, values in DIMENSION_VALUES.items()
    }
    out["country"] = [(UNKNOWN_COUNTRY, definition.label(UNSTATED, lang)), *country_choices(lang)]
    return out
