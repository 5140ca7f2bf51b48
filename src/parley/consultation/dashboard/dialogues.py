"""The dialogues' side of the results (registrations, reports and themes of the held
dialogues), the `DialogueResultsSource` that provides it, and `side_by_side`, which lines
it up with the survey's participation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from parley.consultation.dashboard.filters import DIMENSION_VALUES, Filters
from parley.consultation.dashboard.views import Breakdown, OptionCount


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
