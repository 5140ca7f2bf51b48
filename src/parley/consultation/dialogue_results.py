"""What the dialogues produced, for the dashboard, beside the survey and under the same filters.

    registrations of held dialogues --> participants (and dialogues) per region, country, age
                                        group, gender, education and language
    submitted reports --------------> "are we on track?" answers, facilitators' head counts
    analysis counts ----------------> themes of report sections and consented transcript
                                      lines, next to the themes of the survey's open answers

The survey's filters are applied to *participants*: country and region are the ones they
registered with, age group and education are asked in the survey's groups (registrations
from before that count as unstated), gender is mapped onto the survey's groups (non-binary
and another gender count as "other"), dates are the UTC day a dialogue started. A dialogue
is in a slice when one of its participants is (every held dialogue when no demographic
filter is set), and so are its report and the themes coded from it; a transcript line is in
it when its speaker is.

Sizes: a dialogue holds a dozen people, so even a large consultation has tens of thousands of
registrations; their counts are one statement. Themes are never counted from the codings
themselves (every open survey answer is one, at UN75's scale a million or so): the survey's
come from its rollups (`Dashboard.themes`), the transcript lines' from the per-speaker counts
the analysis keeps (``analysis_speaker_themes``), read through the speakers' registrations
so consent and filters apply as they are now; only report sections, a handful per dialogue,
are counted from their codings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, String, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from parley.consultation.dashboard import (
    DIMENSION_VALUES,
    Dashboard,
    DialogueBucket,
    DialogueResults,
    Filters,
    OptionCount,
    ThemeRow,
)
from parley.consultation.regions import REGIONS, UNKNOWN_REGION, countries_in
from parley.handlers.dialogues import HELD_STATES
from parley.i18n import Catalogues
from parley.reference import AGE_GROUPS, EDUCATION, UNSTATED
from parley.storage.analysis_models import (
    AnalysisCoding,
    AnalysisCodingTheme,
    AnalysisSpeakerTheme,
    OnTrack,
    Report,
    ReportStatus,
    SourceType,
)
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
# Registration columns asked in the survey's groups, with those groups.
SURVEY_GROUPS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "age": (Registration.age_group, AGE_GROUPS),
    "education": (Registration.education, EDUCATION),
}
PARTICIPANT_DIMENSIONS = ("region", "country", "age", "gender", "education", "language")
# The reports' answers, as the report page words them ("" = not answered).
ON_TRACK: dict[str, str] = {
    OnTrack.YES.value: N_("Yes, on track"),
    OnTrack.PARTLY.value: N_("Partly"),
    OnTrack.NO.value: N_("No, not on track"),
    OnTrack.UNSURE.value: N_("Participants were unsure"),
    "": N_("Not answered"),
}

ThemesSource = Callable[[], Awaitable[Sequence["ThemeInfo"]]]
# The survey's open answers per theme in a slice, and how many were coded (Dashboard.themes).
SurveyThemes = Callable[[Filters], Awaitable[tuple[dict[str, int], int]]]


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
    return bool(filters.country or filters.region or filters.age or filters.gender or filters.education)


def in_group(dim: str, value: str) -> ColumnElement[bool]:
    """The registration is in the survey's ``value`` of age or education (unstated: said so,
    or registered before it was asked)."""
    column, groups = SURVEY_GROUPS[dim]
    if value == UNSTATED:
        return or_(column.is_(None), column.not_in(groups))
    return column == value  # type: ignore[no-any-return]


def people(filters: Filters) -> list[ColumnElement[bool]]:
    """Registrations matching the filters."""
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
    for dim in SURVEY_GROUPS:
        value = getattr(filters, dim)
        if value:
            conds.append(in_group(dim, value))
    return conds


# --- queries ---------------------------------------------------------------------------------


def group_of(dim: str) -> ColumnElement[str]:
    """A registration's group along ``dim``, in the survey's codes."""
    r = Registration
    if dim == "region":
        return case(*[(r.country.in_(countries_in(region)), region) for region in REGIONS if region != UNKNOWN_REGION],
                    else_=UNKNOWN_REGION)
    if dim == "gender":
        return case(*[(r.gender.in_([raw for raw, g in GENDER_GROUPS.items() if g == group]), group)
                      for group in dict.fromkeys(GENDER_GROUPS.values())], else_=UNSTATED)
    if dim in SURVEY_GROUPS:
        column, groups = SURVEY_GROUPS[dim]
        return case((column.in_(groups), column), else_=UNSTATED)
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


async def transcript_themes(s: AsyncSession, filters: Filters) -> tuple[dict[str, int], int]:
    """Theme (or OTHER) -> coded lines of held dialogues by speakers in the slice who allow a
    transcript, and their number; from the per-speaker counts (consent as of now, as
    `parley.storage.stores.analysis.visible()` reads it)."""
    a, r = AnalysisSpeakerTheme, Registration
    q = (
        select(a.theme, func.sum(a.n))
        .join(r, and_(r.dialogue_id == a.dialogue_id, r.user_id == a.user_id))
        .join(Dialogue, Dialogue.id == a.dialogue_id)
        .where(r.consent_transcript.is_(True), *held(filters), *people(filters))
        .group_by(a.theme)
    )
    counts = {str(theme): int(n) for theme, n in (await s.execute(q)).all() if n}
    return counts, counts.pop("", 0)


async def report_themes(s: AsyncSession, filters: Filters) -> tuple[dict[str, int], int]:
    """Theme (or OTHER) -> coded sections of the submitted reports of dialogues in the slice,
    and their number (a few per dialogue: counted from the codings)."""
    c, t = AnalysisCoding, AnalysisCodingTheme
    reports = (
        select(Report.id)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED, *held(filters), *in_slice(filters, Report.dialogue_id))
    )
    sections = c.report_id.in_(reports)
    per_theme = (
        select(func.coalesce(t.theme, literal(OTHER, String)), func.count())
        .select_from(c).outerjoin(t, t.coding_id == c.id)
        .where(sections)
        .group_by(t.theme)
    )
    coded = select(literal("", String), func.count()).select_from(c).where(sections)
    counts = {str(theme): int(n) for theme, n in (await s.execute(union_all(per_theme, coded))).all() if n}
    return counts, counts.pop("", 0)


@dataclass(frozen=True)
class ThemeCounts:
    survey: dict[str, int]
    survey_coded: int
    dialogues: dict[str, Counter[str]]  # theme -> source type -> items
    dialogue_coded: int


# --- the source --------------------------------------------------------------------------------


class DialogueResultsReader:
    """`parley.consultation.dashboard.DialogueResultsSource` over the dialogues' tables. Every
    figure is read when asked for: each is a sum over rollups or a statement over narrow rows
    (see the module's docstring)."""

    def __init__(self, db: Database, surveys: Surveys, catalogues: Catalogues, themes: ThemesSource,
                 survey_themes: SurveyThemes) -> None:
        self.db = db
        self.surveys = surveys
        self.catalogues = catalogues
        self.themes = themes
        self.survey_themes = survey_themes

    async def theme_counts(self, filters: Filters) -> ThemeCounts:
        """The themes of the survey's open answers and of the dialogues, in the slice."""
        survey, survey_coded = await self.survey_themes(filters)
        dialogues: dict[str, Counter[str]] = defaultdict(Counter)
        coded = 0
        async with self.db.session() as s:
            for source, count in ((SourceType.REPORT, report_themes), (SourceType.TRANSCRIPT, transcript_themes)):
                counts, total = await count(s, filters)
                coded += total
                for theme, n in counts.items():
                    dialogues[theme][source.value] = n
        return ThemeCounts(survey, survey_coded, dict(dialogues), coded)

    async def results(self, filters: Filters, lang: str) -> DialogueResults:
        survey = await self.surveys.current()
        async with self.db.session() as s:
            groups = await participant_counts(s, filters)
            held_total = None if demographic(filters) else await held_count(s, filters)
            reports = await report_rows(s, filters)
        counts = await self.theme_counts(filters)
        themes = await self.themes()
        gettext = self.catalogues.get(lang).gettext

        def buckets(dim: str) -> list[DialogueBucket]:
            present = groups.get(dim, {})
            order = DIMENSION_VALUES.get(dim)
            values = ([v for v in order if v in present] if order is not None
                      else sorted(present, key=lambda v: (-present[v][0], v)))
            return [DialogueBucket(v, Dashboard.value_label(dim, v, lang, survey.definition), *present[v])
                    for v in values]

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
            breakdowns={dim: buckets(dim) for dim in PARTICIPANT_DIMENSIONS},
            survey_coded=counts.survey_coded,
            dialogue_coded=counts.dialogue_coded,
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
