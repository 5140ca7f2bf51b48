"""The organisers' overview: what is on, what is coming this week, which reports are owed.

Admins and organisers see every dialogue or only their own; facilitators and interpreters
only those they work on. The lists stop at `OVERVIEW_LIST_MAX`; `truncated` names those that did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from parley.clock import Clock
from parley.errors import Forbidden, InvalidInput
from parley.handlers.dialogues.access import sees_everything
from parley.handlers.dialogues.reading import summarise
from parley.handlers.dialogues.views import DialogueSummary
from parley.storage.database import Database
from parley.storage.stores import dialogues as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import DialogueState, Role

# A facilitator's report is expected within this many days after the dialogue ends.
REPORT_DUE_DAYS = 7
OVERVIEW_LIST_MAX = 100


@dataclass(frozen=True)
class OwedReport:
    dialogue: DialogueSummary
    days_since_end: int
    overdue: bool


@dataclass(frozen=True)
class Overview:
    scope: str
    now: datetime
    counts: dict[DialogueState, int]
    drafts: list[DialogueSummary]
    live: list[DialogueSummary]
    scheduled: list[DialogueSummary]
    this_week: list[DialogueSummary]
    awaiting_report: list[OwedReport]
    reported: list[DialogueSummary]
    report_due_days: int = REPORT_DUE_DAYS
    truncated: list[str] = field(default_factory=list)

    @property
    def held(self) -> int:
        return self.counts[DialogueState.ENDED] + self.counts[DialogueState.REPORT_SUBMITTED]

    @property
    def reports_received(self) -> int:
        return self.counts[DialogueState.REPORT_SUBMITTED]

    @property
    def reports_missing(self) -> int:
        return self.counts[DialogueState.ENDED]

    @property
    def report_percent(self) -> int | None:
        return None if self.held == 0 else round(100 * self.reports_received / self.held)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.awaiting_report if r.overdue)


class Overviews:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def overview(self, actor: Account, scope: str = "") -> Overview:
        """The organisers' view: what is on, what is coming, which reports are owed."""
        if actor.role not in (Role.ADMIN, Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER):
            raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")
        if scope not in ("", "all", "mine"):
            raise InvalidInput("Unknown scope.", fields={"scope": "invalid"})
        if not sees_everything(actor):
            scope = "mine"
        scope = scope or "all"
        involving = actor.id if scope == "mine" else None  # None: every dialogue
        now = self.clock.now()
        State = DialogueState
        limit = OVERVIEW_LIST_MAX
        async with self.db.session() as s:
            counts = await store.state_counts(s, involving)
            drafts = await store.in_state(s, State.DRAFT, involving, limit=limit)
            live = await store.in_state(s, State.LIVE, involving, limit=limit)
            scheduled = await store.in_state(s, State.SCHEDULED, involving, limit=limit)
            week = await store.in_state(
                s, State.SCHEDULED, involving, limit=limit, starts_from=now, starts_before=now + timedelta(days=7)
            )
            ended = await store.in_state(s, State.ENDED, involving, limit=limit, order="ended")
            reported = await store.in_state(
                s,
                State.REPORT_SUBMITTED,
                involving,
                limit=20,
                order="newest_report",
            )
            summaries = await summarise(s, [*drafts, *live, *scheduled, *week, *ended, *reported])
        by_id = {x.id: x for x in summaries}
        owed = []
        for d in ended:
            days = (now - d.ended_at).days if d.ended_at else 0
            owed.append(OwedReport(by_id[d.id], days, days >= REPORT_DUE_DAYS))
        truncated = [
            name
            for name, rows, state in (
                ("drafts", drafts, State.DRAFT),
                ("live", live, State.LIVE),
                ("scheduled", scheduled, State.SCHEDULED),
                ("awaiting_report", ended, State.ENDED),
            )
            if len(rows) < counts[state]
        ]
        return Overview(
            scope=scope,
            now=now,
            counts=counts,
            drafts=[by_id[d.id] for d in drafts],
            live=[by_id[d.id] for d in live],
            scheduled=[by_id[d.id] for d in scheduled],
            this_week=[by_id[d.id] for d in week],
            awaiting_report=owed,
            reported=[by_id[d.id] for d in reported],
            truncated=truncated,
        )
