"""What the dialogues produced, for the dashboard, beside the survey and under the same filters.

    registrations of held dialogues --> participants (and dialogues) per region, country, age
                                        group, gender and language
    submitted reports --------------> "are we on track?" answers, facilitators' head counts
    analysis codings ---------------> themes of report sections and consented transcript
                                      lines, next to the themes of the survey's open answers

The survey's filters are applied to *participants*: country and region are the ones they
registered with, gender is mapped onto the survey's groups (non-binary and another gender
count as "other"), dates are the UTC day a dialogue started. A dialogue is in a slice when one
of its participants is (every held dialogue when no demographic filter is set), and so are its
report and the themes coded from it; a transcript line is in it when its speaker is.

Registrations ask age in other bands than the survey (16 to 30, ...) and do not ask about
education, so those two filters cannot be applied to dialogues: the results list them in
``not_applied`` (the page says so) and the age breakdown uses the registration's bands.

Sizes: a dialogue holds a dozen people, so even a large consultation has tens of thousands of
registrations; their counts are one statement. Theme counts read only narrow tables and
indexes, but they grow with the items coded (every open survey answer, at UN75's scale a
million or so), so they are kept for a minute per slice (`DialogueResultsReader`).
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, String, and_, case, exists, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from parley.consultation.dashboard import (
    DIMENSION_VALUES,
    Dashboard,
    DialogueBucket,
    DialogueResults,
    Filters,
    OptionCount,
    ThemeRow,
    day_number_of,
)
from parley.consultation.questionnaire import UNSTATED
from parley.consultation.regions import REGIONS, UNKNOWN_REGION, countries_in
from parley.handlers.dialogues import HELD_STATES
from parley.handlers.reference import AGE_GROUPS
from parley.i18n import Catalogues, language_name
from parley.storage.analysis_models import (
    AnalysisCoding,
    AnalysisCodingTheme,
    OnTrack,
    Report,
    ReportStatus,
    SourceType,
    TranscriptSegment,
)
from parley.storage.consultation_models import SurveyResponse, SurveyText
from parley.storage.database import Database
from parley.storage.models import Dialogue, Registration
from parley.storage.stores.analysis import OTHER

if TYPE_CHECKING:
    from parley.consultation.survey import Surveys
    from parley.consultation.themes import ThemeInfo


def N_(message: str) -> str:
    return message


# Registration gender -> the survey's group.
GENDER_GROUPS: dict[str, str] = {
    "woman": "female",
    "man": "male",
    "non_binary": "other",
    "other": "other",
    "undisclosed": UNSTATED,
}
# Registration age bands, in order, with "prefer not to say" as the survey's UNSTATED.
AGE_BANDS: tuple[str, ...] = (*(code for code, _ in AGE_GROUPS if code != "undisclosed"), UNSTATED)
AGE_LABELS: dict[str, str] = {(UNSTATED if code == "undisclosed" else code): label for code, label in AGE_GROUPS}
NOT_APPLICABLE = ("age", "education")  # filters the registrations cannot answer
PARTICIPANT_DIMENSIONS = ("region", "country", "age", "gender", "language")
# The reports' answers, as the report page words them ("" = not answered).
ON_TRACK: dict[str, str] = {
    OnTrack.YES.value: N_("Yes, on track"),
    OnTrack.PARTLY.value: N_("Partly"),
    OnTrack.NO.value: N_("No, not on track"),
    OnTrack.UNSURE.value: N_("Participants were unsure"),
    "": N_("Not answered"),
}

ThemesSource = Callable[[], Awaitable[Sequence["ThemeInfo"]]]


def age_band(code: str) -> str:
    return UNSTATED if code == "undisclosed" else code


def gender_group(code: str) -> str:
    return GENDER_GROUPS.get(code, UNSTATED)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# --- SQL conditions --------------------------------------------------------------------------


def held(filters: Filters) -> list[ColumnElement[bool]]:
    """Held dialogues, started within the filters' dates (UTC days, inclusive)."""
    conds: list[ColumnElement[bool]] = [Dialogue.state.in_(list(HELD_STATES))]
    started = func.coalesce(Dialogue.started_at, Dialogue.starts_at)
    if filters.date_from is not None:
        conds.append(started >= _start(filters.date_from))
    if filters.date_to is not None and filters.date_to < date.max:
        conds.append(started < _start(filters.date_to + timedelta(days=1)))
    return conds


def demographic(filters: Filters) -> bool:
    return bool(filters.country or filters.region or filters.gender)


def people(filters: Filters) -> list[ColumnElement[bool]]:
    """Registrations matching the filters that registrations can answer."""
    r = Registration
    conds: list[ColumnElement[bool]] = []
    if filters.country:
        conds.append(r.country == filters.country)
    if filters.region == UNKNOWN_REGION:  # as group_of("region"): whatever no region claims
        conds.append(r.country.not_in([c for region in REGIONS if region != UNKNOWN_REGION
                                       for c in countries_in(region)]))
    elif filters.region:
        conds.append(r.country.in_(countries_in(filters.region)))
    if filters.gender:
        conds.append(r.gender.in_([raw for raw, group in GENDER_GROUPS.items() if group == filters.gender]))
    return conds


def responses(filters: Filters, survey_id: int) -> list[ColumnElement[bool]]:
    """Survey responses in the slice (as the survey's own counts read it)."""
    r = SurveyResponse
    conds: list[ColumnElement[bool]] = [r.survey_id == survey_id]
    for dim, column in (("region", r.region), ("country", r.country), ("age", r.age_group),
                        ("gender", r.gender), ("education", r.education)):
        value = getattr(filters, dim)
        if value:
            conds.append(column == value)
    first, last = day_number_of(filters.date_from), day_number_of(filters.date_to)
    if first is not None:
        conds.append(r.day >= first)
    if last is not None:
        conds.append(r.day <= last)
    return conds


# --- queries ---------------------------------------------------------------------------------


def group_of(dim: str) -> ColumnElement[str]:
    """A registration's group along ``dim``, in the survey's codes where they match."""
    r = Registration
    if dim == "region":
        return case(*[(r.country.in_(countries_in(region)), region) for region in REGIONS if region != UNKNOWN_REGION],
                    else_=UNKNOWN_REGION)
    if dim == "gender":
        return case(*[(r.gender.in_([raw for raw, g in GENDER_GROUPS.items() if g == group]), group)
                      for group in dict.fromkeys(GENDER_GROUPS.values())], else_=UNSTATED)
    if dim == "age":
        return case((r.age_group == "undisclosed", UNSTATED), else_=r.age_group)
    return (r.country if dim == "country" else r.preferred_language).expression


async def participant_counts(s: AsyncSession, filters: Filters) -> dict[str, dict[str, tuple[int, int]]]:
    """dimension -> group -> (participants, dialogues with one of them), over the participants in
    the slice; dimension "" holds the totals. One statement, a few dozen rows back."""
    r = Registration
    parts = []
    for dim in ("", *PARTICIPANT_DIMENSIONS):
        value = group_of(dim) if dim else literal("", String)
        q = (
            select(literal(dim, String).label("dim"), value.label("value"), func.count().label("n"),
                   func.count(func.distinct(r.dialogue_id)).label("d"))
            .join(Dialogue, Dialogue.id == r.dialogue_id)
            .where(*held(filters), *people(filters))
        )
        parts.append(q.group_by(value) if dim else q)
    out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for name, group, n, d in (await s.execute(union_all(*parts))).all():
        if n:
            out[str(name)][str(group)] = (int(n), int(d))
    return out


async def held_count(s: AsyncSession, filters: Filters) -> int:
    q = select(func.count()).select_from(Dialogue).where(*held(filters))
    return int((await s.execute(q)).scalar_one())


def in_slice(filters: Filters, dialogue_id: Any) -> list[ColumnElement[bool]]:
    """The dialogue has a participant in the slice (nothing to check without demographics)."""
    if not demographic(filters):
        return []
    return [exists().where(Registration.dialogue_id == dialogue_id, *people(filters))]


async def report_rows(s: AsyncSession, filters: Filters) -> list[tuple[str, int | None]]:
    """(on-track answer or "", facilitator's head count) of each submitted report in the slice."""
    q = (
        select(Report.on_track, Report.participant_count)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED, *held(filters), *in_slice(filters, Report.dialogue_id))
    )
    return [(o.value if isinstance(o, OnTrack) else str(o or ""), None if n is None else int(n))
            for o, n in (await s.execute(q)).all()]


# Theme counts go through the narrow tables and the codings' foreign-key indexes (each holds
# the coding id), never through the codings' own rows: those carry an embedding each, so
# reading them costs ~1 kB per item. The consent conditions are those of
# `parley.storage.stores.analysis.visible()`, applied to the sources instead of the codings:
# a transcript line counts while its speaker's registration allows a transcript, a report
# section while its report is submitted; survey texts exist only with consent to analysis.


def transcript_codings(filters: Filters) -> Select[int]:
    """Ids of the codings of consented transcript lines of held dialogues, by speakers in the slice."""
    seg, r = TranscriptSegment, Registration
    lines = (
        select(seg.id)
        .join(r, and_(r.dialogue_id == seg.dialogue_id, r.user_id == seg.speaker_user_id))
        .join(Dialogue, Dialogue.id == seg.dialogue_id)
        .where(r.consent_transcript.is_(True), *held(filters), *people(filters))
    )
    return select(AnalysisCoding.id).where(AnalysisCoding.segment_id.in_(lines))


def report_codings(filters: Filters) -> Select[int]:
    """Ids of the codings of the sections of submitted reports of dialogues in the slice."""
    reports = (
        select(Report.id)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED, *held(filters), *in_slice(filters, Report.dialogue_id))
    )
    return select(AnalysisCoding.id).where(AnalysisCoding.report_id.in_(reports))


def survey_codings(filters: Filters, survey_id: int) -> Select[int]:
    """Ids of the codings of survey texts whose response is in the slice (without filters, of
    every survey text: a deployment runs one survey)."""
    c = AnalysisCoding
    if not filters.active:
        return select(c.id).where(c.source_type == SourceType.SURVEY)
    texts = (
        select(SurveyText.id)
        .join(SurveyResponse, SurveyResponse.id == SurveyText.response_id)
        .where(*responses(filters, survey_id))
    )
    return select(c.id).where(c.survey_text_id.in_(texts))


async def theme_counts(s: AsyncSession, codings: Select[int]) -> tuple[dict[str, int], int]:
    """Theme (or OTHER, for items without a theme) -> items among ``codings``, and their number."""
    t = AnalysisCodingTheme
    q = select(t.theme, func.count()).where(t.coding_id.in_(codings)).group_by(t.theme)
    counts = {str(theme): int(n) for theme, n in (await s.execute(q)).all()}
    ids = codings.subquery()
    untagged = case((exists().where(t.coding_id == ids.c.id), 0), else_=1)
    total, other = (await s.execute(select(func.count(), func.coalesce(func.sum(untagged), 0)).select_from(ids))).one()
    if other:
        counts[OTHER] = int(other)
    return counts, int(total)


@dataclass(frozen=True)
class ThemeCounts:
    survey: dict[str, int]
    survey_coded: int
    dialogues: dict[str, Counter[str]]  # theme -> source type -> items
    dialogue_coded: int


async def coded_sources(s: AsyncSession) -> set[SourceType]:
    """The kinds of source with at least one coding (one index seek each): the slices of the
    others are not worth reading (a survey slice may mean scanning its responses)."""
    c = AnalysisCoding
    kinds = list(SourceType)
    row = (await s.execute(select(*[exists().where(c.source_type == kind) for kind in kinds]))).one()
    return {kind for kind, present in zip(kinds, row, strict=True) if present}


async def all_theme_counts(s: AsyncSession, filters: Filters, survey_id: int) -> ThemeCounts:
    coded_kinds = await coded_sources(s)
    survey: dict[str, int] = {}
    survey_coded = 0
    if SourceType.SURVEY in coded_kinds:
        survey, survey_coded = await theme_counts(s, survey_codings(filters, survey_id))
    dialogues: dict[str, Counter[str]] = defaultdict(Counter)
    coded = 0
    for source, codings in ((SourceType.REPORT, report_codings(filters)),
                            (SourceType.TRANSCRIPT, transcript_codings(filters))):
        if source not in coded_kinds:
            continue
        counts, total = await theme_counts(s, codings)
        coded += total
        for theme, n in counts.items():
            dialogues[theme][source.value] = n
    return ThemeCounts(survey, survey_coded, dict(dialogues), coded)


# --- the source --------------------------------------------------------------------------------


class DialogueResultsReader:
    """`parley.consultation.dashboard.DialogueResultsSource` over the dialogues' tables.

    Theme counts are kept for ``theme_cache_s`` per slice: they change only when the
    analysis job runs, and counting a survey's worth of coded answers takes a while (a
    rollup of theme counts would make it as quick as the survey's counts). Participants and
    reports are read every time."""

    def __init__(self, db: Database, surveys: Surveys, catalogues: Catalogues, themes: ThemesSource, *,
                 theme_cache_s: float = 60.0, cache_size: int = 256) -> None:
        self.db = db
        self.surveys = surveys
        self.clock = surveys.clock
        self.catalogues = catalogues
        self.themes = themes
        self.theme_cache_s = theme_cache_s
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Filters, int], tuple[float, ThemeCounts]] = OrderedDict()

    async def theme_counts(self, filters: Filters, survey_id: int) -> ThemeCounts:
        key = (filters, survey_id)
        now = self.clock.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now < hit[0]:
            self._cache.move_to_end(key)
            return hit[1]
        async with self.db.session() as s:
            counts = await all_theme_counts(s, filters, survey_id)
        if self.theme_cache_s > 0:
            self._cache[key] = (now + self.theme_cache_s, counts)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return counts

    async def results(self, filters: Filters, lang: str) -> DialogueResults:
        survey = await self.surveys.current()
        async with self.db.session() as s:
            groups = await participant_counts(s, filters)
            held_total = None if demographic(filters) else await held_count(s, filters)
            reports = await report_rows(s, filters)
        counts = await self.theme_counts(filters, survey.id)
        themes = await self.themes()
        gettext = self.catalogues.get(lang).gettext

        def label(dim: str, value: str) -> str:
            if dim == "age" and value != UNSTATED:
                return gettext(AGE_LABELS.get(value, value))
            if dim == "language":
                return language_name(value, lang)
            return Dashboard.value_label(dim, value, lang, survey.definition)

        def buckets(dim: str) -> list[DialogueBucket]:
            present = groups.get(dim, {})
            order = {"age": AGE_BANDS}.get(dim) or DIMENSION_VALUES.get(dim)
            values = ([v for v in order if v in present] if order is not None
                      else sorted(present, key=lambda v: (-present[v][0], v)))
            return [DialogueBucket(v, label(dim, v), *present[v]) for v in values]

        participants, in_dialogues = groups.get("", {}).get("", (0, 0))
        on_track = Counter(answer for answer, _ in reports)
        return DialogueResults(
            available=True,
            dialogues=held_total if held_total is not None else in_dialogues,
            participants=participants,
            themes=theme_rows({t.id: t.label(lang) for t in themes}, counts, gettext(N_("Other (no theme)"))),
            reports=len(reports),
            reported_participants=sum(n for _, n in reports if n is not None),
            on_track=[OptionCount(k, gettext(text), on_track[k], on_track[k] / len(reports) if reports else 0.0)
                      for k, text in ON_TRACK.items()],
            breakdowns={dim: buckets(dim) for dim in PARTICIPANT_DIMENSIONS if dim != "language"},
            languages=buckets("language"),
            survey_coded=counts.survey_coded,
            dialogue_coded=counts.dialogue_coded,
            not_applied=[dim for dim in NOT_APPLICABLE if getattr(filters, dim)],
        )


def theme_rows(labels: Mapping[str, str], counts: ThemeCounts, other_label: str) -> list[ThemeRow]:
    """Every theme either side counted, most items first, "other" last; shares are of the
    items coded on each side (an item may have several themes)."""
    present = set(counts.survey) | set(counts.dialogues)
    rank = {t: i for i, t in enumerate(labels)}

    def size(theme: str) -> int:
        return counts.survey.get(theme, 0) + sum(counts.dialogues.get(theme, Counter()).values())

    order = sorted(present - {OTHER}, key=lambda t: (-size(t), rank.get(t, len(rank)), t))
    if OTHER in present:
        order.append(OTHER)
    out = []
    for theme in order:
        sources = counts.dialogues.get(theme, Counter())
        d = sum(sources.values())
        n = counts.survey.get(theme, 0)
        out.append(ThemeRow(
            theme=theme, label=other_label if theme == OTHER else labels.get(theme, theme),
            survey=n, dialogues=d, reports=sources.get(SourceType.REPORT.value, 0),
            transcripts=sources.get(SourceType.TRANSCRIPT.value, 0),
            survey_share=n / counts.survey_coded if counts.survey_coded else 0.0,
            dialogue_share=d / counts.dialogue_coded if counts.dialogue_coded else 0.0,
        ))
    return out
