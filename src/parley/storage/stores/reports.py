"""Facilitator reports and their quotes. Queries and writes only, inside the caller's transaction.

Callers get values (`ReportInfo`, `QuoteInfo`), never rows: a change is a call here, so
nothing is written by setting an attribute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import OnTrack, Report, ReportQuote, ReportStatus
from parley.storage.models import Dialogue, DialogueState, Registration
from parley.storage.stores.dialogues import DialogueInfo


@dataclass(frozen=True)
class ReportInfo:
    id: int
    dialogue_id: int
    status: ReportStatus
    language: str
    future: str
    on_track: OnTrack | None
    on_track_text: str
    actions: str
    notes: str
    participant_count: int | None
    languages: tuple[str, ...]
    # Grows on every change, so a save from a stale page is refused.
    version: int
    drafted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None
    submitted_at: datetime | None
    submitted_by_id: int | None
    reopened_at: datetime | None
    reopened_by_id: int | None

    @classmethod
    def of(cls, row: Report) -> ReportInfo:
        return cls(
            id=row.id, dialogue_id=row.dialogue_id, status=row.status, language=row.language, future=row.future,
            on_track=row.on_track, on_track_text=row.on_track_text, actions=row.actions, notes=row.notes,
            participant_count=row.participant_count, languages=tuple(row.languages or ()), version=row.version,
            drafted_at=row.drafted_at, created_at=row.created_at, updated_at=row.updated_at,
            updated_by_id=row.updated_by_id, submitted_at=row.submitted_at, submitted_by_id=row.submitted_by_id,
            reopened_at=row.reopened_at, reopened_by_id=row.reopened_by_id,
        )


@dataclass(frozen=True)
class NewQuote:
    """A quote or candidate to add to a report (`add_quotes`)."""

    position: int
    included: bool
    segment_id: int | None
    speaker_user_id: int
    speaker_name: str
    text: str
    language: str
    translation: str | None
    translation_language: str | None
    translation_engine: str | None
    created_at: datetime


@dataclass(frozen=True)
class QuoteInfo(NewQuote):
    """A report's quote (``included``) or a candidate the pre-draft proposed."""

    id: int
    report_id: int

    @classmethod
    def of(cls, row: ReportQuote) -> QuoteInfo:
        return cls(
            id=row.id, report_id=row.report_id, position=row.position, included=row.included,
            segment_id=row.segment_id, speaker_user_id=row.speaker_user_id, speaker_name=row.speaker_name,
            text=row.text, language=row.language, translation=row.translation,
            translation_language=row.translation_language, translation_engine=row.translation_engine,
            created_at=row.created_at,
        )


async def for_dialogue(s: AsyncSession, dialogue_id: int, *, lock: bool = False) -> ReportInfo | None:
    q = select(Report).where(Report.dialogue_id == dialogue_id)
    if lock and s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    row = (await s.execute(q)).scalar_one_or_none()
    return None if row is None else ReportInfo.of(row)


async def add(
    s: AsyncSession,
    *,
    dialogue_id: int,
    language: str,
    future: str,
    on_track_text: str,
    actions: str,
    participant_count: int,
    languages: list[str],
    now: datetime,
    by: int,
) -> ReportInfo:
    """Insert a pre-drafted draft now, so the new report has its id for its quotes."""
    row = Report(dialogue_id=dialogue_id, status=ReportStatus.DRAFT, language=language, future=future,
                 on_track=None, on_track_text=on_track_text, actions=actions, notes="",
                 participant_count=participant_count, languages=languages, version=1, drafted_at=now,
                 created_at=now, updated_at=now, updated_by_id=by)
    s.add(row)
    await s.flush()
    return ReportInfo.of(row)


# What `revise` may set besides the version and the time.
_REVISABLE = frozenset({
    "status", "language", "future", "on_track", "on_track_text", "actions", "notes", "participant_count",
    "languages", "drafted_at", "submitted_at", "submitted_by_id", "reopened_at", "reopened_by_id",
})


async def revise(s: AsyncSession, report_id: int, now: datetime, *, by: int | None, **values: Any) -> None:
    """Change the report: one more version, updated ``now`` (by ``by``; None: by Parley, the
    last editor kept), with ``values`` set."""
    if not values.keys() <= _REVISABLE:
        raise ValueError(f"not a report field that changes: {sorted(values.keys() - _REVISABLE)}")
    if by is not None:
        values["updated_by_id"] = by
    await s.execute(
        update(Report).where(Report.id == report_id).values(version=Report.version + 1, updated_at=now, **values)
    )


def add_quotes(s: AsyncSession, report_id: int, quotes: Iterable[NewQuote]) -> None:
    """New quotes, written with the caller's next flush or commit."""
    s.add_all(
        ReportQuote(report_id=report_id, position=q.position, included=q.included, segment_id=q.segment_id,
                    speaker_user_id=q.speaker_user_id, speaker_name=q.speaker_name, text=q.text,
                    language=q.language, translation=q.translation, translation_language=q.translation_language,
                    translation_engine=q.translation_engine, created_at=q.created_at)
        for q in quotes
    )


async def update_quote(s: AsyncSession, quote_id: int, **values: Any) -> None:
    """Set a quote's ``included`` or translation fields."""
    allowed = {"included", "translation", "translation_language", "translation_engine"}
    if not values.keys() <= allowed:
        raise ValueError(f"not a quote field that changes: {sorted(values.keys() - allowed)}")
    await s.execute(update(ReportQuote).where(ReportQuote.id == quote_id).values(**values))


async def delete_quote(s: AsyncSession, quote_id: int) -> None:
    await s.execute(delete(ReportQuote).where(ReportQuote.id == quote_id))


async def quotes(s: AsyncSession, report_id: int, *, consented_only: bool = True) -> list[QuoteInfo]:
    """The report's quotes and candidates in order; by default only those whose speaker
    still allows quotes (consent is read now, not when the quote was chosen)."""
    q = select(ReportQuote).where(ReportQuote.report_id == report_id)
    if consented_only:
        q = q.where(quote_consented())
    return [QuoteInfo.of(r) for r in (await s.execute(q.order_by(ReportQuote.position, ReportQuote.id))).scalars()]


def quote_consented() -> Exists:
    """SQL condition: the quote's speaker is registered for the report's dialogue with consent
    to quotes (and to the transcript the quote comes from)."""
    return exists().where(
        Report.id == ReportQuote.report_id,
        Registration.dialogue_id == Report.dialogue_id,
        Registration.user_id == ReportQuote.speaker_user_id,
        Registration.consent_quotes.is_(True),
        Registration.consent_transcript.is_(True),
    )


async def delete_unconsented_quotes(s: AsyncSession) -> int:
    """Delete every quote whose speaker no longer allows it (withdrawal deletes, not hides)."""
    result = await s.execute(delete(ReportQuote).where(~quote_consented()).execution_options(
        synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_candidates(s: AsyncSession, report_id: int) -> None:
    """Drop the pre-draft's proposals that the facilitator has not included."""
    await s.execute(delete(ReportQuote).where(ReportQuote.report_id == report_id,
                                              ReportQuote.included.is_(False)))


async def listing(s: AsyncSession, *, facilitator_id: int | None = None, limit: int = 500
                  ) -> list[tuple[DialogueInfo, ReportInfo | None]]:
    """Ended dialogues with their report (or None), newest first; only one facilitator's
    dialogues when ``facilitator_id`` is given."""
    q = (
        select(Dialogue, Report)
        .outerjoin(Report, Report.dialogue_id == Dialogue.id)
        .where(Dialogue.state.in_([DialogueState.ENDED, DialogueState.REPORT_SUBMITTED]))
        .order_by(Dialogue.ended_at.desc(), Dialogue.id.desc())
        .limit(limit)
    )
    if facilitator_id is not None:
        q = q.where(Dialogue.facilitator_id == facilitator_id)
    rows = (await s.execute(q)).unique().all()
    return [(DialogueInfo.of(d), None if r is None else ReportInfo.of(r)) for d, r in rows]


@dataclass(frozen=True)
class Registrant:
    """A dialogue's registered participant, as a report reads them (a value, not the row)."""

    user_id: int
    display_name: str
    preferred_language: str
    consent_transcript: bool
    consent_quotes: bool


async def registrations(s: AsyncSession, dialogue_id: int) -> list[Registrant]:
    q = select(Registration).where(Registration.dialogue_id == dialogue_id).order_by(Registration.id)
    return [Registrant(r.user_id, r.user.display_name, r.preferred_language, r.consent_transcript, r.consent_quotes)
            for r in (await s.execute(q)).scalars().unique()]
