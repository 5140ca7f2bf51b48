"""Analysis pages: the engine's status and progress, theme discovery (preview, adopt), coding
review with translations, and the exports, over the same `parley.consultation.themes` calls as
the JSON API in `parley.web.routes.analysis`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from parley.consultation.themes import (
    SENTIMENT_LABELS,
    DiscoveryView,
    PreviewView,
    check_analyst,
)
from parley.errors import ClientError, ModelMissing
from parley.handlers.accounts import Account
from parley.vocabulary import OTHER, STAFF_ROLES
from parley.web.auth import Viewer, viewer_checked
from parley.web.forms import N_, form_list, form_str, login_redirect, page_helpers
from parley.web.routes.analysis import PER_PAGE, analysis_of, coding_filter
from parley.web.templating import lang_of, render

router = APIRouter()


DONE = {
    "corrected": N_("Correction saved. The coder uses it from now on; other items are re-coded shortly."),
    "adopted": N_("Theme added. Items are re-coded with it shortly; it takes the answers that look like its "
                  "group, not every answer near it."),
    "running": N_("Analysis started: this page follows its progress."),
}


def _flash(request: Request) -> str:
    message = DONE.get(request.query_params.get("done", ""))
    return lang_of(request).gettext(message) if message else ""


async def _common(request: Request, user: Account) -> dict[str, Any]:
    analysis = analysis_of(request)
    themes = await analysis.themes()
    return {
        "status": analysis.status(),
        "themes": themes,
        "theme_names": {t.id: t.label(lang_of(request).code) for t in themes},
        "sentiments": SENTIMENT_LABELS,
        "OTHER": OTHER,
        # operators' hints (which model to install for a language pair) are for staff only
        "staff": user.role in STAFF_ROLES,
        **page_helpers(request),
    }


def _safe_next(value: str, default: str) -> str:
    return value if value.startswith("/analysis") and "//" not in value and "\\" not in value else default


@router.get("/analysis", include_in_schema=False)
async def review_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    check_analyst(viewer.user)
    p = request.query_params
    f = coding_filter(p.get("theme", ""), p.get("language", ""), p.get("source", ""), p.get("sentiment", ""),
                      p.get("dialogue_id", ""), p.get("order", ""))
    raw_page = p.get("page", "1")
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 7 else 1
    result = await analysis_of(request).review(viewer.user, f, page=page, per_page=PER_PAGE,
                                               reader_language=lang_of(request).code)
    query = {k: v for k, v in p.items() if k in ("theme", "language", "source", "sentiment", "dialogue_id", "order")
             and v}
    ctx = {
        **await _common(request, viewer.user), "page": result, "filters": f, "query": query,
        "here": request.url.path + ("?" + request.url.query if request.url.query else ""),
        "page_url": lambda n: "/analysis?" + urlencode({**query, "page": n}), "flash": _flash(request),
    }
    return render(request, "analysis/review.html", ctx)


@router.get("/analysis/items/{coding_id:int}", include_in_schema=False)
async def item_page(request: Request, coding_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    item = await analysis_of(request).item(viewer.user, coding_id, reader_language=lang_of(request).code)
    ctx = {**await _common(request, viewer.user), "item": item, "flash": _flash(request),
           "here": request.url.path}
    return render(request, "analysis/item.html", ctx)


@router.get("/analysis/sources/{ref}", include_in_schema=False)
async def source_page(request: Request, ref: str, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    item = await analysis_of(request).source(viewer.user, ref[:80])
    return RedirectResponse(f"/analysis/items/{item.id}", status_code=303)


@router.post("/analysis/items/{coding_id:int}", include_in_schema=False)
async def correct_submit(request: Request, coding_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    themes = form_list(form, "themes", 64)
    sentiment = form_str(form, "sentiment", 16) or None
    target = _safe_next(form_str(form, "next", 500), f"/analysis/items/{coding_id}")
    analysis = analysis_of(request)
    try:
        await analysis.correct(viewer.user, coding_id, themes=themes, sentiment=sentiment)
    except ModelMissing:
        item = await analysis.item(viewer.user, coding_id, reader_language=lang_of(request).code)
        ctx = {**await _common(request, viewer.user), "item": item, "here": request.url.path,
               "form_error": lang_of(request).gettext(N_("The analysis engine is not installed, so corrections "
                                                         "cannot be learnt now."))}
        return render(request, "analysis/item.html", ctx, status=503)
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        item = await analysis.item(viewer.user, coding_id, reader_language=lang_of(request).code)
        ctx = {**await _common(request, viewer.user), "item": item, "here": request.url.path,
               "form_error": lang_of(request).gettext(exc.message), "typed": {"themes": themes,
                                                                            "sentiment": sentiment}}
        return render(request, "analysis/item.html", ctx, status=exc.status)
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done=corrected#item-{coding_id}", status_code=303)


async def _themes_page(request: Request, user: Account, *, discovery: DiscoveryView | None = None,
                       preview: PreviewView | None = None, form_error: str = "", errors: dict[str, str] | None = None,
                       typed: dict[str, Any] | None = None, status: int = 200) -> Response:
    counts = await analysis_of(request).theme_counts(user)
    ctx = {**await _common(request, user), "counts": counts, "discovery": discovery, "preview": preview,
           "form_error": form_error, "errors": errors or {}, "typed": typed or {}, "flash": _flash(request),
           "granularities": GRANULARITY_LABELS, "scopes": SCOPE_LABELS}
    return render(request, "analysis/themes.html", ctx, status=status)


GRANULARITY_LABELS = {"coarse": N_("Coarse (a few broad groups)"), "medium": N_("Medium"),
                      "fine": N_("Fine (many narrow groups)")}
SCOPE_LABELS = {"all": N_("All answers"), "uncovered": N_("Only answers no theme fits well")}


def _adoption_form(form: Any) -> dict[str, Any]:
    granularity = form_str(form, "granularity", 16)
    scope = form_str(form, "scope", 16)
    return {"theme_id": form_str(form, "theme_id", 64), "name": form_str(form, "name", 120),
            "granularity": granularity if granularity in GRANULARITY_LABELS else "",
            "scope": scope if scope in SCOPE_LABELS else "all", "examples": form_list(form, "examples", 80)}


async def _adoption_error(request: Request, user: Account, exc: ClientError, typed: dict[str, Any]) -> Response:
    gettext = lang_of(request).gettext
    messages = {"theme_id": N_("Use 1 to 64 of a-z, 0-9, '_' and '-'; it must be new."),
                "name": N_("Enter a name of 1 to 120 characters."),
                "examples": N_("Run the discovery again: these examples are gone."),
                "confirm": N_("Tick the box to confirm, or choose a finer group.")}
    errors = {name: gettext(messages.get(name, N_("This value is not valid."))) for name in exc.fields}
    return await _themes_page(request, user, status=exc.status, form_error=gettext(exc.message), errors=errors,
                              typed=typed)


@router.get("/analysis/themes", include_in_schema=False)
async def themes_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return await _themes_page(request, viewer.user)


@router.post("/analysis/themes/discover", include_in_schema=False)
async def discover_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    granularity = form_str(form, "granularity", 16)
    scope = form_str(form, "scope", 16)
    try:
        found = await analysis_of(request).discover(
            viewer.user, granularity=granularity if granularity in GRANULARITY_LABELS else "medium",
            scope=scope if scope in SCOPE_LABELS else "all", reader_language=lang_of(request).code)
    except ModelMissing:
        return await _themes_page(request, viewer.user, status=503, form_error=lang_of(request).gettext(
            N_("The analysis engine is not installed, so themes cannot be discovered.")))
    return await _themes_page(request, viewer.user, discovery=found)


@router.post("/analysis/themes/preview", include_in_schema=False)
async def preview_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    typed = _adoption_form(await request.form())
    try:
        found = await analysis_of(request).preview(
            viewer.user, theme_id=typed["theme_id"], name=typed["name"], refs=typed["examples"],
            granularity=typed["granularity"], scope=typed["scope"], language=lang_of(request).code)
    except ModelMissing:
        return await _themes_page(request, viewer.user, status=503, form_error=lang_of(request).gettext(
            N_("The analysis engine is not installed, so themes cannot be added.")))
    except ClientError as exc:
        if exc.status in (401, 403):
            raise
        return await _adoption_error(request, viewer.user, exc, typed)
    return await _themes_page(request, viewer.user, preview=found, typed=typed)


@router.post("/analysis/themes/adopt", include_in_schema=False)
async def adopt_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    typed = _adoption_form(form)
    analysis = analysis_of(request)
    try:
        await analysis.adopt(viewer.user, theme_id=typed["theme_id"], name=typed["name"], refs=typed["examples"],
                             language=lang_of(request).code, granularity=typed["granularity"], scope=typed["scope"],
                             confirm=form_str(form, "confirm", 8) == "yes")
    except ModelMissing:
        return await _themes_page(request, viewer.user, status=503, form_error=lang_of(request).gettext(
            N_("The analysis engine is not installed, so themes cannot be added.")))
    except ClientError as exc:
        if exc.status in (401, 403):
            raise
        if exc.code == "adoption_too_broad":  # show the preview again, with the confirmation box
            found = await analysis.preview(
                viewer.user, theme_id=typed["theme_id"], name=typed["name"], refs=typed["examples"],
                granularity=typed["granularity"], scope=typed["scope"], language=lang_of(request).code)
            gettext = lang_of(request).gettext
            return await _themes_page(
                request, viewer.user, preview=found, typed=typed, status=409, form_error=gettext(exc.message),
                errors={"confirm": gettext(N_("Tick the box to confirm, or choose a finer group."))})
        return await _adoption_error(request, viewer.user, exc, typed)
    return RedirectResponse("/analysis/themes?done=adopted", status_code=303)


@router.post("/analysis/run", include_in_schema=False)
async def run_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    check_analyst(viewer.user)
    analysis_of(request).request_run()
    form = await request.form()
    target = _safe_next(form_str(form, "next", 500), "/analysis")
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done=running", status_code=303)
