"""The dashboard page: survey and dialogues side by side, breakdowns, trends and the world map,
over the same calls as the JSON API in `parley.web.routes.dashboard`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from parley.consultation.dashboard import (
    BY_DIMENSIONS,
    Filters,
    dimension_choices,
    side_by_side,
)
from parley.consultation.export import EXPORTERS
from parley.consultation.themes import ANALYSTS
from parley.errors import InvalidInput
from parley.web.auth import Viewer, viewer_checked
from parley.web.routes.dashboard import dashboard_of
from parley.web.templating import lang_of, render
from parley.web.world_map import world_map

router = APIRouter()


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
    if by not in BY_DIMENSIONS:
        by = "region"
    interval = "day" if params.get("interval") == "day" else "week"
    order = [k for k, _, _ in await dash.surveys.question_order()]
    question = params.get("q") if params.get("q") in order else (order[0] if order else None)
    summary = await dash.summary(user, filters, lang)
    breakdown = await dash.breakdown(user, question, by, filters, lang)
    by_country = await dash.breakdown(user, None, "country", filters, lang)
    trend = await dash.trend(user, filters, interval)
    dialogues = await dash.dialogues(user, filters, lang)
    participation = by_country if by == "country" else await dash.breakdown(user, None, by, filters, lang)
    by_language = participation if by == "language" else await dash.breakdown(user, None, "language", filters, lang)
    query = filters.query()
    countries = side_by_side(by_country, dialogues)
    return {
        "filters": filters, "query": query, "qs": urlencode(query), "filter_errors": filter_errors,
        "summary": summary, "breakdown": breakdown, "by_country": by_country, "trend": trend,
        "dialogues": dialogues, "countries": countries, "world": world_map(countries.rows),
        "languages": side_by_side(by_language, dialogues),
        "compared": side_by_side(participation, dialogues), "can_analyse": user.role in ANALYSTS,
        "by": by, "interval": interval, "question": question, "dimensions": BY_DIMENSIONS,
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
