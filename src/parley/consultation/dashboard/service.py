"""The dashboard: counts per question option for a plan, and the views built on them
(summary, breakdown, trend, themes, dialogues side by side), for staff who may see results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from parley.consultation.dashboard.dialogues import DialogueResults, DialogueResultsSource, SideBySide, side_by_side
from parley.consultation.dashboard.filters import BREAKDOWNS, BY_DIMENSIONS, DIMENSION_VALUES, Filters
from parley.consultation.dashboard.labels import value_label
from parley.consultation.dashboard.planning import Plan, day_number_of, plan, week_of
from parley.consultation.dashboard.views import (
    Breakdown,
    Bucket,
    Counts,
    OptionCount,
    QuestionResult,
    Summary,
    Trend,
    TrendPoint,
)
from parley.consultation.regions import region_of
from parley.consultation.survey import N_, Surveys, day_date
from parley.errors import InvalidInput
from parley.storage.stores import survey as store
from parley.storage.stores.accounts import Account

MAX_TREND_DAYS = 3700


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

    value_label = staticmethod(value_label)


def _describe(p: Plan) -> str:
    return p.source
