"""The results dashboard (staff only): pages, a printable report, and a JSON API for every
breakdown. Filters live in the URL (``?country=FR&age=18-24&from=2025-01-01``), so any
view can be shared as a link."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from parley.consultation.dashboard import (
    DIMENSIONS,
    Breakdown,
    Dashboard,
    Filters,
    QuestionResult,
    Summary,
    Trend,
    dimension_choices,
)
from parley.consultation.export import EXPORTERS
from parley.errors import InvalidInput
from parley.storage.models import User
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.templating import lang_of, render

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in."},
    403: {"description": "Only organisers, facilitators and admins see results."},
    422: {"description": "A filter is not valid; `error.fields` names it."},
}
Dimension = Literal["region", "country", "age", "gender", "education"]


def dashboard_of(request: Request) -> Dashboard:
    return server_of(request).survey.dashboard


def filters_of(request: Request) -> Filters:
    return Filters.parse(request.query_params)


# --- API models ----------------------------------------------------------------------------


class OptionCountOut(BaseModel):
    key: str
    label: str
    count: int
    share: float = Field(description="Of the respondents who answered the question (0..1).")


class QuestionResultOut(BaseModel):
    key: str
    kind: str
    text: str
    answered: int
    options: list[OptionCountOut]


class SummaryOut(BaseModel):
    filters: dict[str, str]
    responses: int = Field(description="Counted responses in the slice.")
    declined: int = Field(description="Responses without consent to analysis (date filters only apply).")
    withdrawn: int = Field(description="Responses withdrawn (date of response; date filters only apply).")
    questions: list[QuestionResultOut]
    source: str = Field(description="rollup:<cuboid> or responses: where the counts came from.")


class BucketOut(BaseModel):
    value: str
    label: str
    responses: int
    answered: int = 0
    options: list[OptionCountOut] = Field(default_factory=list)


class BreakdownOut(BaseModel):
    filters: dict[str, str]
    by: str
    question: QuestionResultOut | None
    total: int
    buckets: list[BucketOut]
    source: str


class TrendPointOut(BaseModel):
    start: date
    responses: int
    options: dict[str, int] = Field(default_factory=dict, description="Option counts (\"\" = answered).")


class TrendOut(BaseModel):
    filters: dict[str, str]
    interval: Literal["day", "week"]
    question: str | None
    points: list[TrendPointOut]
    source: str


class DialogueResultsOut(BaseModel):
    available: bool = Field(description="False until dialogue reports are connected to the dashboard.")
    dialogues: int = 0
    participants: int = 0
    themes: list[dict[str, Any]] = Field(default_factory=list)


def _question_out(q: QuestionResult) -> QuestionResultOut:
    return QuestionResultOut(key=q.key, kind=q.kind, text=q.text, answered=q.answered,
                             options=[OptionCountOut(**vars(o)) for o in q.options])


def summary_out(filters: Filters, s: Summary) -> SummaryOut:
    return SummaryOut(filters=filters.query(), responses=s.responses, declined=s.declined, withdrawn=s.withdrawn,
                      questions=[_question_out(q) for q in s.questions], source=s.plan)


def breakdown_out(filters: Filters, b: Breakdown) -> BreakdownOut:
    return BreakdownOut(
        filters=filters.query(), by=b.by, question=_question_out(b.question) if b.question else None, total=b.total,
        buckets=[BucketOut(value=x.value, label=x.label, responses=x.responses, answered=x.answered,
                           options=[OptionCountOut(**vars(o)) for o in x.options]) for x in b.buckets],
        source=b.plan,
    )


def trend_out(filters: Filters, t: Trend) -> TrendOut:
    return TrendOut(filters=filters.query(), interval="day" if t.interval == "day" else "week",
                    question=t.question, points=[TrendPointOut(**vars(p)) for p in t.points], source=t.plan)


# --- JSON API ------------------------------------------------------------------------------

FILTER_DOC = ("Filters: region, country (ISO alpha-2), age, gender, education, from, to (YYYY-MM-DD, "
              "inclusive, UTC days).")


@router.get("/api/v1/dashboard/summary", tags=["dashboard"], response_model=SummaryOut, responses=ERRORS,
            description="Totals and every question's results for a slice. " + FILTER_DOC)
async def api_summary(request: Request, user: User = Depends(require_user)) -> SummaryOut:
    filters = filters_of(request)
    return summary_out(filters, await dashboard_of(request).summary(user, filters, lang_of(request).code))


@router.get("/api/v1/dashboard/participation/{by}", tags=["dashboard"], response_model=BreakdownOut,
            responses=ERRORS, description="Responses per region, country, age group, gender or education. "
            + FILTER_DOC)
async def api_participation(request: Request, by: Dimension = Path(...),
                            user: User = Depends(require_user)) -> BreakdownOut:
    filters = filters_of(request)
    result = await dashboard_of(request).breakdown(user, None, by, filters, lang_of(request).code)
    return breakdown_out(filters, result)


@router.get("/api/v1/dashboard/questions/{question}/{by}", tags=["dashboard"], response_model=BreakdownOut,
            responses=ERRORS, description="One question's results per value of a dimension. " + FILTER_DOC)
async def api_question_breakdown(request: Request, question: str = Path(..., max_length=64),
                                 by: Dimension = Path(...), user: User = Depends(require_user)) -> BreakdownOut:
    filters = filters_of(request)
    result = await dashboard_of(request).breakdown(user, question, by, filters, lang_of(request).code)
    return breakdown_out(filters, result)


@router.get("/api/v1/dashboard/trend", tags=["dashboard"], response_model=TrendOut, responses=ERRORS,
            description="Responses (and optionally one question's answers) per day or week. " + FILTER_DOC)
async def api_trend(request: Request, interval: Literal["day", "week"] = Query("week"),
                    question: str | None = Query(None, max_length=64),
                    user: User = Depends(require_user)) -> TrendOut:
    filters = filters_of(request)
    return trend_out(filters, await dashboard_of(request).trend(user, filters, interval, question))


@router.get("/api/v1/dashboard/dialogues", tags=["dashboard"], response_model=DialogueResultsOut,
            responses=ERRORS, description="Results of the dialogues for the same filters (when connected).")
async def api_dialogues(request: Request, user: User = Depends(require_user)) -> DialogueResultsOut:
    filters = filters_of(request)
    result = await dashboard_of(request).dialogues(user, filters, lang_of(request).code)
    return DialogueResultsOut(**vars(result))


# --- pages ---------------------------------------------------------------------------------


async def _page_context(request: Request, viewer: Viewer) -> dict[str, Any] | Response:
    if viewer.user is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    user = viewer.user
    dash = dashboard_of(request)
    dash.surveys.check_viewer(user)
    lang = lang_of(request).code
    survey = await dash.surveys.current()
    params = request.query_params
    filter_errors: dict[str, str] = {}
    try:
        filters = Filters.parse(params)
    except InvalidInput as exc:
        filters, filter_errors = Filters(), exc.fields
    by = params.get("by", "region")
    if by not in DIMENSIONS:
        by = "region"
    interval = "day" if params.get("interval") == "day" else "week"
    order = [k for k, _, _ in await dash.surveys.question_order()]
    question = params.get("q") if params.get("q") in order else (order[0] if order else None)
    summary = await dash.summary(user, filters, lang)
    breakdown = await dash.breakdown(user, question, by, filters, lang)
    by_country = await dash.breakdown(user, None, "country", filters, lang)
    trend = await dash.trend(user, filters, interval)
    dialogues = await dash.dialogues(user, filters, lang)
    query = filters.query()
    return {
        "filters": filters, "query": query, "qs": urlencode(query), "filter_errors": filter_errors,
        "summary": summary, "breakdown": breakdown, "by_country": by_country, "trend": trend,
        "dialogues": dialogues, "by": by, "interval": interval, "question": question, "dimensions": DIMENSIONS,
        "choices": dimension_choices(lang, survey.definition), "can_export": user.role in EXPORTERS,
        "trend_max": max((p.responses for p in trend.points), default=0),
        "link": lambda **changes: "?" + urlencode({**query, **{k: v for k, v in changes.items() if v}}),
    }


@router.get("/dashboard", include_in_schema=False)
async def dashboard_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    ctx = await _page_context(request, viewer)
    if isinstance(ctx, Response):
        return ctx
    return render(request, "dashboard/index.html", ctx)


@router.get("/dashboard/report", include_in_schema=False)
async def report_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    ctx = await _page_context(request, viewer)
    if isinstance(ctx, Response):
        return ctx
    return render(request, "dashboard/report.html", ctx)
