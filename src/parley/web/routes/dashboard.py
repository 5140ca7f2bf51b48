"""The results dashboard (staff only) as a JSON API for every breakdown (the pages and the
printable report are `parley.web.pages.dashboard`). Filters live in the URL
(``?country=FR&age=18-24&from=2025-01-01``), so any view can be shared as a link."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from parley.consultation.dashboard import (
    Dashboard,
    Filters,
)
from parley.handlers.accounts import Account
from parley.web.auth import require_user, server_of
from parley.web.schemas import ViewOut
from parley.web.templating import lang_of

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in."},
    403: {"description": "Only organisers, facilitators and admins see results."},
    422: {"description": "A filter is not valid; `error.fields` names it."},
}
Dimension = Literal["region", "country", "age", "gender", "education", "language"]


def dashboard_of(request: Request) -> Dashboard:
    return server_of(request).dashboard


def filters_of(request: Request) -> Filters:
    return Filters.parse(request.query_params)


# --- API models ----------------------------------------------------------------------------


class OptionCountOut(ViewOut):
    key: str
    label: str
    count: int
    share: float = Field(description="Of the respondents who answered the question (0..1).")


class QuestionResultOut(ViewOut):
    key: str
    kind: str
    text: str
    answered: int
    options: list[OptionCountOut]


class SummaryOut(ViewOut):
    filters: dict[str, str]
    responses: int = Field(description="Counted responses in the slice.")
    declined: int = Field(description="Responses without consent to analysis (date filters only apply).")
    withdrawn: int = Field(description="Responses withdrawn (date of response; date filters only apply).")
    questions: list[QuestionResultOut]
    source: str = Field(validation_alias="plan",
                        description="rollup:<cuboid> or responses: where the counts came from.")


class BucketOut(ViewOut):
    value: str
    label: str
    responses: int
    answered: int = 0
    options: list[OptionCountOut] = Field(default_factory=list)


class BreakdownOut(ViewOut):
    filters: dict[str, str]
    by: str
    question: QuestionResultOut | None
    total: int
    buckets: list[BucketOut]
    source: str = Field(validation_alias="plan")


class TrendPointOut(ViewOut):
    start: date
    responses: int
    options: dict[str, int] = Field(default_factory=dict, description="Option counts (\"\" = answered).")


class TrendOut(ViewOut):
    filters: dict[str, str]
    interval: Literal["day", "week"]
    question: str | None
    points: list[TrendPointOut]
    source: str = Field(validation_alias="plan")


class DialogueBucketOut(ViewOut):
    value: str
    label: str
    participants: int
    dialogues: int = Field(description="Dialogues with at least one of these participants.")


class ThemeRowOut(ViewOut):
    theme: str = Field(description="A theme id, or `_other` for items no theme fits.")
    label: str
    survey: int = Field(description="Coded open survey answers with this theme.")
    dialogues: int = Field(description="Coded report sections and transcript lines with this theme.")
    reports: int
    transcripts: int
    survey_share: float = Field(description="Of the coded survey answers in the slice (0..1).")
    dialogue_share: float = Field(description="Of the coded dialogue items in the slice (0..1).")


class DialogueResultsOut(ViewOut):
    filters: dict[str, str] = Field(default_factory=dict)
    available: bool = Field(description="False when no dialogue results are connected to the dashboard.")
    dialogues: int = Field(0, description="Held dialogues (with a participant in the slice when filtered).")
    participants: int = Field(0, description="Participants registered in them, in the slice.")
    reports: int = Field(0, description="Submitted facilitator reports of those dialogues.")
    reported_participants: int = Field(0, description="The facilitators' head counts, summed.")
    on_track: list[OptionCountOut] = Field(
        default_factory=list, description="\"Are we on track?\" answers of the reports (key \"\" = not answered).")
    breakdowns: dict[str, list[DialogueBucketOut]] = Field(
        default_factory=dict, description="Participants per region, country, age group, gender (mapped onto the "
        "survey's groups), education and language (the one they speak in the dialogue).")
    themes: list[ThemeRowOut] = Field(default_factory=list, description="Themes of the survey and of the dialogues.")
    survey_coded: int = 0
    dialogue_coded: int = 0


class SideBySideRowOut(ViewOut):
    value: str
    label: str
    responses: int | None = Field(description="Survey responses; null when the survey has no such group.")
    participants: int | None = Field(description="Dialogue participants; null when dialogues have no such group.")
    dialogues: int | None


class SideBySideOut(ViewOut):
    filters: dict[str, str]
    by: str
    responses: int
    participants: int
    rows: list[SideBySideRowOut]


# --- JSON API ------------------------------------------------------------------------------

FILTER_DOC = ("Filters: region, country (ISO alpha-2), age, gender, education, from, to (YYYY-MM-DD, "
              "inclusive, UTC days).")


@router.get("/api/v1/dashboard/summary", tags=["dashboard"], response_model=SummaryOut, responses=ERRORS,
            description="Totals and every question's results for a slice. " + FILTER_DOC)
async def api_summary(request: Request, user: Account = Depends(require_user)) -> SummaryOut:
    filters = filters_of(request)
    view = await dashboard_of(request).summary(user, filters, lang_of(request).code)
    return SummaryOut.of(view, filters=filters.query())


@router.get("/api/v1/dashboard/participation/{by}", tags=["dashboard"], response_model=BreakdownOut,
            responses=ERRORS, description="Responses per region, country, age group, gender, education or "
            "language (the one the survey was answered in). " + FILTER_DOC)
async def api_participation(request: Request, by: Dimension = Path(...),
                            user: Account = Depends(require_user)) -> BreakdownOut:
    filters = filters_of(request)
    result = await dashboard_of(request).breakdown(user, None, by, filters, lang_of(request).code)
    return BreakdownOut.of(result, filters=filters.query())


@router.get("/api/v1/dashboard/questions/{question}/{by}", tags=["dashboard"], response_model=BreakdownOut,
            responses=ERRORS, description="One question's results per value of a dimension. " + FILTER_DOC)
async def api_question_breakdown(request: Request, question: str = Path(..., max_length=64),
                                 by: Dimension = Path(...), user: Account = Depends(require_user)) -> BreakdownOut:
    filters = filters_of(request)
    result = await dashboard_of(request).breakdown(user, question, by, filters, lang_of(request).code)
    return BreakdownOut.of(result, filters=filters.query())


@router.get("/api/v1/dashboard/trend", tags=["dashboard"], response_model=TrendOut, responses=ERRORS,
            description="Responses (and optionally one question's answers) per day or week. " + FILTER_DOC)
async def api_trend(request: Request, interval: Literal["day", "week"] = Query("week"),
                    question: str | None = Query(None, max_length=64),
                    user: Account = Depends(require_user)) -> TrendOut:
    filters = filters_of(request)
    view = await dashboard_of(request).trend(user, filters, interval, question)
    return TrendOut.of(view, filters=filters.query())


@router.get("/api/v1/dashboard/dialogues", tags=["dashboard"], response_model=DialogueResultsOut,
            responses=ERRORS, description="What the held dialogues produced, for the same filters: dialogues, "
            "participants per group, the reports' answers, and themes beside the survey's. Demographic filters "
            "apply to participants, dates to the day a dialogue started. " + FILTER_DOC)
async def api_dialogues(request: Request, user: Account = Depends(require_user)) -> DialogueResultsOut:
    filters = filters_of(request)
    view = await dashboard_of(request).dialogues(user, filters, lang_of(request).code)
    return DialogueResultsOut.of(view, filters=filters.query())


@router.get("/api/v1/dashboard/compare/{by}", tags=["dashboard"], response_model=SideBySideOut, responses=ERRORS,
            description="Survey responses and dialogue participants side by side per region, country, age "
            "group, gender, education or language. " + FILTER_DOC)
async def api_compare(request: Request, by: Dimension = Path(...), user: Account = Depends(require_user)
                      ) -> SideBySideOut:
    filters = filters_of(request)
    view = await dashboard_of(request).compare(user, by, filters, lang_of(request).code)
    return SideBySideOut.of(view, filters=filters.query())
