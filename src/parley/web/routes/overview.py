"""The organisers' overview over HTTP (/api/v1/overview): dialogues by state, the reports still
owed after a meeting, registrations against capacity. The page is `parley.web.pages.dialogues`;
the counting is `parley.handlers.dialogues` (`Dialogues.overview`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from parley.handlers.accounts import Account
from parley.web.auth import require_staff, server_of
from parley.web.routes.dialogues import DialogueSummaryOut, errors
from parley.web.schemas import ViewOut

router = APIRouter()


class OwedReportOut(ViewOut):
    dialogue: DialogueSummaryOut
    days_since_end: int
    overdue: bool


class ReportGapOut(ViewOut):
    held: int = Field(description="Dialogues that ended (with or without a report).")
    received: int = Field(validation_alias="reports_received")
    missing: int = Field(validation_alias="reports_missing")
    percent: int | None = Field(validation_alias="report_percent",
                                description="Share of held dialogues with a report; null when none ended yet.")
    overdue: int = Field(description="Reports still missing after `due_days` days.")
    due_days: int = Field(validation_alias="report_due_days")


class OverviewOut(ViewOut):
    whole = ("reports",)

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
    return OverviewOut.of(await server_of(request).dialogues.overview(user, scope or ""))
