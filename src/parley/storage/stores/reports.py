"""Facilitator reports and their quotes. Queries and writes only, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Exists, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import Report, ReportQuote, ReportStatus
from parley.storage.models import Dialogue, DialogueState, Registration


async def for_dialogue(s: AsyncSession, dialogue_id: int, *, lock: bool = False) -> Report | None:
    q = select(Report).where(Report.dialogue_id == dialogue_id)
    if lock and s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return (await s.execute(q)).scalar_one_or_none()


async def by_id(s: AsyncSession, report_id: int) -> Report | None:
    return await s.get(Report, report_id)


async def add(s: AsyncSession, report: Report) -> Report:
    """Insert now, so the new report has its id for its quotes."""
    s.add(report)
    await s.flush()
    return report


def add_quotes(s: AsyncSession, quotes: Iterable[ReportQuote]) -> None:
    """New quotes, written with the caller's next flush or commit."""
    s.add_all(quotes)


async def delete_quote(s: AsyncSession, quote: ReportQuote) -> None:
    await s.delete(quote)


async def quotes(s: AsyncSession, report_id: int, *, consented_only: bool = True) -> Sequence[ReportQuote]:
    """The report's quotes and candidates in order; by default only those whose speaker
    still allows quotes (consent is read now, not when the quote was chosen)."""
    q = select(ReportQuote).where(ReportQuote.report_id == report_id)
    if consented_only:
        q = q.where(quote_consented())
    return (await s.execute(q.order_by(ReportQuote.position, ReportQuote.id))).scalars().all()


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


async def submitted(s: AsyncSession, *, dialogue_ids: Sequence[int] | None = None) -> Sequence[tuple[Report, Dialogue]]:
    q = (
        select(Report, Dialogue)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED)
        .order_by(Report.submitted_at.desc(), Report.id.desc())
    )
    if dialogue_ids is not None:
        q = q.where(Report.dialogue_id.in_(list(dialogue_ids)))
    return [(r, d) for r, d in (await s.execute(q)).unique().all()]


async def listing(s: AsyncSession, *, facilitator_id: int | None = None, limit: int = 500
                  ) -> Sequence[tuple[Dialogue, Report | None]]:
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
    return [(d, r) for d, r in (await s.execute(q)).unique().all()]


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
