"""What the dialogues produced, counted for the dashboard: participants per group, the submitted
reports' answers, and themes of report sections and consented transcript lines, over a slice of
participants. Queries only, inside the caller's transaction.

The consultation layer (`parley.consultation.dialogue_results`) turns the dashboard's filters
and vocabularies into a `Slice` and `Groups`; this module turns those into SQL and knows which
registration column each dimension reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import (
    AnalysisCoding,
    AnalysisCodingTheme,
    AnalysisSpeakerTheme,
    OnTrack,
    Report,
    ReportStatus,
)
from parley.storage.models import Dialogue, DialogueState, Registration
from parley.storage.stores.analysis import OTHER


@dataclass(frozen=True)
class InGroup:
    """A registration's answer is ``value``; None: unstated (not answered, or none of ``known``,
    as for registrations from before the question was asked)."""

    value: str | None
    known: tuple[str, ...]


@dataclass(frozen=True)
class Slice:
    """Which dialogues and registrations count. A None condition is not checked; an empty tuple
    matches nothing."""

    states: tuple[DialogueState, ...]
    # When the dialogue started (or was to start): from, and before.
    started_from: datetime | None = None
    started_before: datetime | None = None
    country: str | None = None
    countries: tuple[str, ...] | None = None  # registered in one of these
    not_countries: tuple[str, ...] | None = None  # registered in none of these
    genders: tuple[str, ...] | None = None  # registration gender codes
    age: InGroup | None = None
    education: InGroup | None = None

    @property
    def demographic(self) -> bool:
        """Whether registrations are filtered at all (a dialogue is in the slice when one of its
        participants is; without such a filter every held dialogue is)."""
        return bool(self.country) or any(
            c is not None for c in (self.countries, self.not_countries, self.genders, self.age, self.education)
        )


@dataclass(frozen=True)
class Groups:
    """How registrations group along each dimension, in the survey's codes."""

    regions: Mapping[str, tuple[str, ...]]  # region -> its countries, in order; the rest is ``unknown_region``
    unknown_region: str
    genders: Mapping[str, tuple[str, ...]]  # group -> registration gender codes, in order
    age: tuple[str, ...]  # the known age groups
    education: tuple[str, ...]  # the known levels
    unstated: str


# Registration columns asked in the survey's groups.
_GROUP_COLUMNS: dict[str, Any] = {"age": Registration.age_group, "education": Registration.education}


def _held(sl: Slice) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Dialogue.state.in_(list(sl.states))]
    started = func.coalesce(Dialogue.started_at, Dialogue.starts_at)
    if sl.started_from is not None:
        conds.append(started >= sl.started_from)
    if sl.started_before is not None:
        conds.append(started < sl.started_before)
    return conds


def _in_group(dim: str, group: InGroup) -> ColumnElement[bool]:
    column = _GROUP_COLUMNS[dim]
    if group.value is None:
        return or_(column.is_(None), column.not_in(group.known))
    return column == group.value  # type: ignore[no-any-return]


def _people(sl: Slice) -> list[ColumnElement[bool]]:
    """Registrations in the slice."""
    r = Registration
    conds: list[ColumnElement[bool]] = []
    if sl.country:
        conds.append(r.country == sl.country)
    if sl.not_countries is not None:
        conds.append(r.country.not_in(list(sl.not_countries)))
    elif sl.countries is not None:
        conds.append(r.country.in_(list(sl.countries)))
    if sl.genders is not None:
        conds.append(r.gender.in_(list(sl.genders)))
    for dim, group in (("age", sl.age), ("education", sl.education)):
        if group is not None:
            conds.append(_in_group(dim, group))
    return conds


def _in_slice(sl: Slice, dialogue_id: Any) -> list[ColumnElement[bool]]:
    """The dialogue has a participant in the slice (nothing to check without demographics)."""
    if not sl.demographic:
        return []
    return [exists().where(Registration.dialogue_id == dialogue_id, *_people(sl))]


def _group_of(dim: str, groups: Groups) -> ColumnElement[str]:
    """A registration's group along ``dim``, in the survey's codes."""
    r = Registration
    if dim == "region":
        return case(*[(r.country.in_(countries), region) for region, countries in groups.regions.items()],
                    else_=groups.unknown_region)
    if dim == "gender":
        return case(*[(r.gender.in_(codes), group) for group, codes in groups.genders.items()],
                    else_=groups.unstated)
    if dim in _GROUP_COLUMNS:
        column = _GROUP_COLUMNS[dim]
        return case((column.in_(groups.age if dim == "age" else groups.education), column), else_=groups.unstated)
    return (r.country if dim == "country" else r.preferred_language).expression


async def participant_counts(s: AsyncSession, sl: Slice, groups: Groups, dimensions: Sequence[str]
                             ) -> dict[str, dict[str, tuple[int, int]]]:
    """dimension -> group -> (participants, dialogues with one of them), over the participants in
    the slice; dimension "" holds the totals. ``dimensions``: region, country, age, gender,
    education, language. One statement, a few dozen rows back."""
    r = Registration
    parts = []
    for dim in ("", *dimensions):
        value = _group_of(dim, groups) if dim else literal("", String)
        q = (
            select(literal(dim, String).label("dim"), value.label("value"), func.count().label("n"),
                   func.count(func.distinct(r.dialogue_id)).label("d"))
            .join(Dialogue, Dialogue.id == r.dialogue_id)
            .where(*_held(sl), *_people(sl))
        )
        parts.append(q.group_by(value) if dim else q)
    out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for name, group, n, d in (await s.execute(union_all(*parts))).all():
        if n:
            out[str(name)][str(group)] = (int(n), int(d))
    return out


async def held_count(s: AsyncSession, sl: Slice) -> int:
    """Dialogues in the slice's states and dates (registrations are not looked at)."""
    q = select(func.count()).select_from(Dialogue).where(*_held(sl))
    return int((await s.execute(q)).scalar_one())


async def report_rows(s: AsyncSession, sl: Slice) -> list[tuple[str, int | None]]:
    """(on-track answer or "", facilitator's head count) of each submitted report in the slice."""
    q = (
        select(Report.on_track, Report.participant_count)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED, *_held(sl), *_in_slice(sl, Report.dialogue_id))
    )
    return [(o.value if isinstance(o, OnTrack) else str(o or ""), None if n is None else int(n))
            for o, n in (await s.execute(q)).all()]


async def transcript_themes(s: AsyncSession, sl: Slice) -> tuple[dict[str, int], int]:
    """Theme (or OTHER) -> coded lines of dialogues in the slice by speakers in the slice who
    allow a transcript, and their number; from the per-speaker counts (consent as of now, as
    `parley.storage.stores.analysis.visible()` reads it)."""
    a, r = AnalysisSpeakerTheme, Registration
    q = (
        select(a.theme, func.sum(a.n))
        .join(r, and_(r.dialogue_id == a.dialogue_id, r.user_id == a.user_id))
        .join(Dialogue, Dialogue.id == a.dialogue_id)
        .where(r.consent_transcript.is_(True), *_held(sl), *_people(sl))
        .group_by(a.theme)
    )
    counts = {str(theme): int(n) for theme, n in (await s.execute(q)).all() if n}
    return counts, counts.pop("", 0)


async def report_themes(s: AsyncSession, sl: Slice) -> tuple[dict[str, int], int]:
    """Theme (or OTHER) -> coded sections of the submitted reports of dialogues in the slice,
    and their number (a few per dialogue: counted from the codings)."""
    c, t = AnalysisCoding, AnalysisCodingTheme
    reports = (
        select(Report.id)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED, *_held(sl), *_in_slice(sl, Report.dialogue_id))
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
