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
from typing import TYPE_CHECKING

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
from parley.storage.database import Database
from parley.storage.stores import dialogue_results as store
from parley.storage.stores.analysis import OTHER
from parley.vocabulary import OnTrack, SourceType

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


# --- the dashboard's filters in registration terms ------------------------------------------


def _in_group(value: str | None, known: tuple[str, ...]) -> store.InGroup | None:
    """The survey's ``value`` of age or education (unstated: said so, or registered before it
    was asked)."""
    if not value:
        return None
    return store.InGroup(None if value == UNSTATED else value, known)


def participants_in(filters: Filters) -> store.Slice:
    """Held dialogues started within the filters' dates (UTC days, inclusive), and the
    registrations matching the filters."""
    countries = not_countries = None
    if filters.region == UNKNOWN_REGION:  # as GROUPS: whatever no region claims
        not_countries = tuple(c for region in REGIONS if region != UNKNOWN_REGION for c in countries_in(region))
    elif filters.region:
        countries = countries_in(filters.region)
    genders = None
    if filters.gender:
        genders = tuple(raw for raw, group in GENDER_GROUPS.items() if group == filters.gender)
    return store.Slice(
        states=tuple(HELD_STATES),
        started_from=_start(filters.date_from) if filters.date_from is not None else None,
        started_before=(_start(filters.date_to + timedelta(days=1))
                        if filters.date_to is not None and filters.date_to < date.max else None),
        country=filters.country,
        countries=countries,
        not_countries=not_countries,
        genders=genders,
        age=_in_group(filters.age, AGE_GROUPS),
        education=_in_group(filters.education, EDUCATION),
    )


# Registrations grouped in the survey's codes, for the breakdowns.
GROUPS = store.Groups(
    regions={region: countries_in(region) for region in REGIONS if region != UNKNOWN_REGION},
    unknown_region=UNKNOWN_REGION,
    genders={group: tuple(raw for raw, g in GENDER_GROUPS.items() if g == group)
             for group in dict.fromkeys(GENDER_GROUPS.values())},
    age=AGE_GROUPS,
    education=EDUCATION,
    unstated=UNSTATED,
)


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
        sl = participants_in(filters)
        async with self.db.session() as s:
            for source, count in ((SourceType.REPORT, store.report_themes),
                                  (SourceType.TRANSCRIPT, store.transcript_themes)):
                counts, total = await count(s, sl)
                coded += total
                for theme, n in counts.items():
                    dialogues[theme][source.value] = n
        return ThemeCounts(survey, survey_coded, dict(dialogues), coded)

    async def results(self, filters: Filters, lang: str) -> DialogueResults:
        survey = await self.surveys.current()
        sl = participants_in(filters)
        async with self.db.session() as s:
            groups = await store.participant_counts(s, sl, GROUPS, PARTICIPANT_DIMENSIONS)
            held_total = None if sl.demographic else await store.held_count(s, sl)
            reports = await store.report_rows(s, sl)
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
