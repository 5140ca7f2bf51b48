"""The organisers' overview over HTTP (/api/v1/overview): dialogues by state, the reports still
owed after a meeting, registrations against capacity. The page is `parley.web.pages.dialogues`;
the counting is `parley.handlers.dialogues` (`Dialogues.overview`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from parley.handlers.accounts import Account
from parley.handlers.dialogues import Overview
from parley.web.auth import require_staff, server_of
from parley.web.routes.dialogues import DialogueSummaryOut, errors
from parley.web.schemas import ViewOut

router = APIRouter()


class OwedReportOut(ViewOut):
    dialogue: DialogueSummaryOut
    days_since_end: int
    overdue: bool


class ReportGapOut(BaseModel):
    held: int = Field(description="Dialogues that ended (with or without a report).")
    received: int
    missing: int
    percent: int | None = Field(description="Share of held dialogues with a report; null when none ended yet.")
    overdue: int = Field(description="Reports still missing after `due_days` days.")
    due_days: int


class OverviewOut(BaseModel):
    scope: Literal["all", "mine"]
    counts: dict[str, int]
    reports: ReportGapOut
    live: list[DialogueSummaryOut]
    scheduled: list[DialogueSummaryOut]
    this_week: list[DialogueSummaryOut]
    drafts: list[DialogueSummaryOut]
    awaiting_report: list[OwedReportOut] = Field(description="Oldest first.")
    reported: list[DialogueSummaryOut]
    truncated: list[str] = Field(description="Lists cut at 100 entries.")


def overview_out(o: Overview) -> OverviewOut:
    return OverviewOut(
        scope="mine" if o.scope == "mine" else "all",
        counts={state.value: n for state, n in o.counts.items()},
        reports=ReportGapOut(
            held=o.held,
            received=o.reports_received,
            missing=o.reports_missing,
            percent=o.report_percent,
            overdue=o.overdue,
            due_days=o.report_due_days,
        ),
        live=[DialogueSummaryOut.of(x) for x in o.live],
        scheduled=[DialogueSummaryOut.of(x) for x in o.scheduled],
        this_week=[DialogueSummaryOut.of(x) for x in o.this_week],
        drafts=[DialogueSummaryOut.of(x) for x in o.drafts],
        awaiting_report=[OwedReportOut.of(r) for r in o.awaiting_report],
        reported=[DialogueSummaryOut.of(x) for x in o.reported],
        truncated=o.truncated,
    )


@router.get(
    "/api/v1/overview",
    response_model=OverviewOut,
    tags=["overview"],
    summary="Dialogues by state, owed reports, registrations against capacity",
    responses=errors(401, 403, 422),
)
async def api_overview(
    request: Request,
    scope: Literal["all", "mine"] | None = Query(None, description="Organisers and admins: all (default) or mine."),
    user: Account = Depends(require_staff),
) -> OverviewOut:
    return overview_out(await server_of(request).dialogues.overview(user, scope or ""))
