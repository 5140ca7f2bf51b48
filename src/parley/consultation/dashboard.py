"""Survey results for staff: counts per question option, broken down and filtered by region,
country, age group, gender, education and date, and broken down by the respondent's language.

Every view is answered by a *plan*: the dimensions it needs (its breakdown, its filters, and
the day when dates are filtered). Rollup cuboids hold counts for the day with each other
dimension, and for all four demographics with the region or the country; when one of them
covers the view, the answer is a sum over at most some thousands of rows, whatever the
number of responses. Other combinations (a date range with two or more other filters, e.g.
``?country=FR&age=18-24&from=...``) count the responses themselves through the (survey,
country, day) or (survey, day) index, so their cost grows with the slice, not the survey.
The themes of the open answers are counted the same way (`Dashboard.themes`).

Dialogue results (registrations, reports and themes of the held dialogues) plug in through
`DialogueResultsSource`, and `side_by_side` lines them up with the survey's participation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from parley.consultation.questionnaire import GENDERS
from parley.consultation.regions import (
    COUNTRIES,
    REGIONS,
    UNKNOWN_COUNTRY,
    countries_in,
    country_name,
    region_name,
    region_of,
)
from parley.consultation.survey import N_, Surveys, day_date, month_of, week_start
from parley.errors import InvalidInput
from parley.i18n import language_name
from parley.reference import AGE_GROUPS, EDUCATION, UNSTATED
from parley.storage.stores import survey as store
from parley.storage.stores.accounts import Account

DIMENSIONS = ("region", "country", "age", "gender", "education")  # filters, and breakdowns
BY_DIMENSIONS = (*DIMENSIONS, "language")  # breakdowns
BREAKDOWNS = (*BY_DIMENSIONS, "day", "week")
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
class Part:
    """One read: a rollup cuboid (or the responses, when None) over one slice."""

    cuboid: int | None
    slice: store.Slice


@dataclass(frozen=True)
class Plan:
    parts: tuple[Part, ...]
    group: tuple[str, ...]  # dimensions grouped in storage
    region_from_country: bool = False
    empty: bool = False

    @property
    def source(self) -> str:
        if self.empty:
            return "empty"
        return "+".join(dict.fromkeys(f"rollup:{p.cuboid}" if p.cuboid is not None else "responses"
                                      for p in self.parts))


def plan(filters: Filters, by: str | None, span: tuple[int, int] | None = None) -> Plan:
    """How to count a view exactly with the least reading.

    Without dates: the smallest cuboid holding the view's dimensions, else the responses.
    With dates (and a breakdown other than time): whole months or weeks inside the range from
    a monthly or weekly cuboid, the days at either end from a daily cuboid or the responses.
    ``span`` is the first and last day with responses (for open-ended ranges)."""
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
    group_dim = {"week": "day"}.get(by or "", by)
    region_from_country = False
    if group_dim == "region" and "country" in where:
        group_dim, region_from_country = "country", True
    if group_dim == "country" and "region" in where:
        where["country"] = countries_in(where.pop("region")[0])
    group = (group_dim,) if group_dim else ()
    dims = set(where) | set(group)
    first, last = day_number_of(filters.date_from), day_number_of(filters.date_to)
    if span is not None:
        # Bounds outside the data select nothing less: drop them.
        first = None if first is not None and first <= span[0] else first
        last = None if last is not None and last >= span[1] else last
    dated = {"day"} if first is not None or last is not None else set()
    if "region" in where and store.best_cuboid(dims | dated) is None:
        # A region is its countries: a cuboid with the country may hold the view (e.g. by
        # language in one region).
        by_country = dims - {"region"} | {"country"}
        if store.best_cuboid(by_country | dated) is not None:
            where["country"] = countries_in(where.pop("region")[0])
            dims = by_country

    def done(*parts: Part) -> Plan:
        return Plan(tuple(parts), group, region_from_country, empty)

    if first is None and last is None:
        return done(Part(store.best_cuboid(dims), store.Slice(where)))
    daily = store.best_cuboid(dims | {"day"})
    whole = store.Slice(where, first, last)
    if "day" in dims or span is None:
        return done(Part(daily, whole))
    lo = span[0] if first is None else first
    hi = span[1] if last is None else last
    options: list[tuple[float, tuple[Part, ...]]] = [(read_cost(daily, where, hi - lo + 1), (Part(daily, whole),))]
    for grain in ("month", "week"):
        coarse = store.best_cuboid(dims | {grain})
        units = whole_units(grain, lo, hi) if coarse is not None else None
        if coarse is None or units is None:
            continue
        start, last_unit, end = units
        parts = [Part(coarse, store.Slice(where, start, last_unit))]
        count = (last_unit - start) // 7 + 1 if grain == "week" else (last_unit - start) // 28 + 1
        cost = read_cost(coarse, where, count)
        if lo < start:
            parts.append(Part(daily, store.Slice(where, lo, start - 1)))
            cost += read_cost(daily, where, start - lo)
        if end < hi:
            parts.append(Part(daily, store.Slice(where, end + 1, hi)))
            cost += read_cost(daily, where, hi - end)
        options.append((cost, tuple(parts)))
    return done(*min(options, key=lambda option: option[0])[1])


def read_cost(cuboid: int | None, where: Mapping[str, tuple[str, ...]], units: int) -> float:
    """Rough rows read for ``units`` days (weeks, months) of a cuboid, or of the responses."""
    if cuboid is None:
        # Responses per day, once per question, narrowed by the country index if filtered.
        return units * 20_000 / (50 if "country" in where else 1)
    rows = float(units)
    for dim in store.CUBOIDS[cuboid]:
        if dim not in store.TIME_DIMS and len(where.get(dim, ())) != 1:
            rows *= store.CARDINALITY[dim]
    return rows


def whole_units(grain: str, lo: int, hi: int) -> tuple[int, int, int] | None:
    """(first unit start, last unit start, last day covered) of the whole weeks or months
    inside [lo, hi], or None when there is none."""
    if grain == "week":
        start = lo if week_of(lo) == lo else week_of(lo) + 7
        last_unit = week_of(hi) if week_of(hi + 1) == hi + 1 else week_of(hi) - 7
        if start > last_unit:
            return None
        return start, last_unit, last_unit + 6
    start = lo if month_of(lo) == lo else next_month(lo)
    last_unit = month_of(hi) if month_of(hi + 1) == hi + 1 else month_of(month_of(hi) - 1)
    if start > last_unit:
        return None
    return start, last_unit, next_month(last_unit) - 1


def next_month(day: int) -> int:
    return month_of(month_of(day) + 31)


def day_number_of(value: date | None) -> int | None:
    return None if value is None else (value - date(1970, 1, 1)).days


def week_of(day: int) -> int:
    """The Monday starting the week of ``day``."""
    return week_start(day)


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
class DialogueBucket:
    value: str
    label: str
    participants: int
    dialogues: int  # with at least one of these participants


@dataclass(frozen=True)
class ThemeRow:
    """One theme's share of the survey's coded open answers and of the dialogues' coded items."""

    theme: str  # a theme id, or "_other" for items no theme fits
    label: str
    survey: int
    dialogues: int
    reports: int  # of ``dialogues``: report sections
    transcripts: int  # of ``dialogues``: transcript lines
    survey_share: float
    dialogue_share: float


@dataclass(frozen=True)
class DialogueResults:
    """What the dialogues produced, for the same filters (see parley.consultation.dialogue_results)."""

    available: bool
    dialogues: int = 0
    participants: int = 0  # registered in those dialogues
    themes: list[ThemeRow] = field(default_factory=list)
    reports: int = 0  # submitted
    reported_participants: int = 0  # the facilitators' head counts, summed
    on_track: list[OptionCount] = field(default_factory=list)  # key "" = not answered
    # Participants per value of each of BY_DIMENSIONS (language: the one they speak).
    breakdowns: dict[str, list[DialogueBucket]] = field(default_factory=dict)
    survey_coded: int = 0
    dialogue_coded: int = 0


class DialogueResultsSource(Protocol):
    """Implemented by `parley.consultation.dialogue_results.DialogueResultsReader` and set
    as ``Dashboard.dialogue_results`` by the composition root."""

    async def results(self, filters: Filters, lang: str) -> DialogueResults: ...


@dataclass(frozen=True)
class SideBySideRow:
    value: str
    label: str
    responses: int | None  # None: the survey has no such group
    participants: int | None  # None: the dialogues have no such group
    dialogues: int | None


@dataclass(frozen=True)
class SideBySide:
    """Survey responses and dialogue participants per value of one dimension."""

    by: str
    rows: list[SideBySideRow]
    responses: int
    participants: int


def side_by_side(survey: Breakdown, dialogues: DialogueResults) -> SideBySide:
    """Merge a participation breakdown with the dialogues' one for the same dimension."""
    by = survey.by
    theirs = {b.value: b for b in dialogues.breakdowns.get(by, [])}
    rows = [SideBySideRow(b.value, b.label, b.responses, theirs[b.value].participants if b.value in theirs else None,
                          theirs[b.value].dialogues if b.value in theirs else None) for b in survey.buckets]
    ours = {b.value for b in survey.buckets}
    rows += [SideBySideRow(b.value, b.label, None, b.participants, b.dialogues)
             for b in theirs.values() if b.value not in ours]
    if by in DIMENSION_VALUES:
        rank = {v: i for i, v in enumerate(DIMENSION_VALUES[by])}
        rows.sort(key=lambda r: rank.get(r.value, len(rank)))
    else:  # countries and languages: the most people first
        rows.sort(key=lambda r: (-(r.responses or 0) - (r.participants or 0), r.value))
    return SideBySide(by, rows, survey.total, dialogues.participants)


class Dashboard:
    def __init__(self, surveys: Surveys, *, dialogue_results: DialogueResultsSource | None = None) -> None:
        self.surveys = surveys
        self.db = surveys.db
        # The dialogues' side of the results (a DialogueResultsReader); None: survey only.
        self.dialogue_results = dialogue_results

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
            async with self.db.session() as s:
                span = await store.day_span(s, survey.id)
        p = plan(filters, by, span)
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
            for part in p.parts:
                if part.cuboid is not None:
                    rows = await store.rollup_counts(s, survey.id, part.cuboid, questions, part.slice, p.group)
                    for question, option, *values, n in rows:
                        out[question][bucket(values)][option] += int(n)
                    continue
                for question in questions:
                    if question == store.THEMES:
                        for *values, option, n in await store.fact_theme_counts(s, survey.id, part.slice, p.group):
                            out[question][bucket(values)][option] += int(n)
                        continue
                    slot = None if question == store.RESPONSES else survey.codebook.slots.get(question)
                    if slot is None and question != store.RESPONSES:
                        continue
                    for *values, mask, n in await store.fact_counts(s, survey.id, slot, part.slice, p.group):
                        cell = out[question][bucket(values)]
                        cell[store.ANSWERED] += int(n)
                        if slot is not None:
                            for option in survey.codebook.decode(question, int(mask)):
                                cell[option] += int(n)
        return out, p

    # --- views -------------------------------------------------------------------------

    async def summary(self, user: Account, filters: Filters, lang: str) -> Summary:
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

    async def breakdown(self, user: Account, question: str | None, by: str, filters: Filters, lang: str) -> Breakdown:
        """One question (or, with ``question=None``, participation) per value of ``by``."""
        self.surveys.check_viewer(user)
        if by not in BY_DIMENSIONS:
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

    async def trend(self, user: Account, filters: Filters, interval: str = "week", question: str | None = None
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

    async def themes(self, filters: Filters) -> tuple[dict[str, int], int]:
        """Theme (or "_other") -> coded open answers in the slice, and how many were coded
        (an answer may have several themes); from the rollups like every other count."""
        counts, _ = await self.counts([store.THEMES], filters, None)
        cell = dict(counts[store.THEMES].get(None, {}))
        coded = cell.pop(store.ANSWERED, 0)
        return {theme: n for theme, n in cell.items() if n > 0}, coded

    async def dialogues(self, user: Account, filters: Filters, lang: str) -> DialogueResults:
        self.surveys.check_viewer(user)
        if self.dialogue_results is None:
            return DialogueResults(available=False)
        return await self.dialogue_results.results(filters, lang)

    async def compare(self, user: Account, by: str, filters: Filters, lang: str) -> SideBySide:
        """Survey responses and dialogue participants side by side, per value of ``by``."""
        survey = await self.breakdown(user, None, by, filters, lang)
        return side_by_side(survey, await self.dialogues(user, filters, lang))

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
        if by == "language":
            return language_name(value, lang)
        return value


def _describe(p: Plan) -> str:
    return p.source


def dimension_choices(lang: str, definition: Any) -> dict[str, list[tuple[str, str]]]:
    """(value, label) lists for filter pickers."""
    from parley.consultation.regions import country_choices

    out: dict[str, list[tuple[str, str]]] = {
        dim: [(v, Dashboard.value_label(dim, v, lang, definition)) for v in values]
        for dim, values in DIMENSION_VALUES.items()
    }
    out["country"] = [(UNKNOWN_COUNTRY, definition.label(UNSTATED, lang)), *country_choices(lang)]
    return out
