"""Registration pages: registering for a dialogue (with the survey's groups and explicit
consent), the personal link, my dialogues and my data (download, consent, withdraw, delete),
and the registrations list for a dialogue's staff. The JSON API over the same calls is in
`parley.web.routes.registration`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from parley.errors import ClientError, RateLimited
from parley.handlers.dialogues import DialogueView
from parley.handlers.registration import RegistrationInput
from parley.reference import GENDERS, age_groups, countries, education_levels
from parley.vocabulary import Role
from parley.web.auth import Viewer, server_of, viewer_checked
from parley.web.forms import N_, field_messages, flash_of, form_str, login_redirect, page_helpers
from parley.web.routes.registration import (
    MyDataOut,
    clear_login,
    limit_registrations,
    personal_link,
    session_hash,
    start_login,
)
from parley.web.templating import lang_of, render

router = APIRouter()


def demographic_labels(locale: str) -> dict[str, dict[str, str]]:
    """Code -> label of age groups (the survey's, translated), genders (gettext messages, to
    translate with ``_``) and education levels (the survey's, translated)."""
    return {"age_labels": dict(age_groups(locale)), "gender_labels": dict(GENDERS),
            "education_labels": dict(education_levels(locale))}


# --- pages: registering -------------------------------------------------------------------

DONE = {
    "consent": N_("Your choices were saved."),
    "withdrawn": N_("You have left the dialogue; your registration was deleted."),
    "revoked": N_("Your old personal links no longer work. Here is your new one."),
}


def _registration_values(form: Any) -> tuple[RegistrationInput, dict[str, Any]]:
    values: dict[str, Any] = {
        "display_name": form_str(form, "display_name", 1000),
        "email": form_str(form, "email", 1000),
        "preferred_language": form_str(form, "preferred_language", 32),
        "country": form_str(form, "country", 8),
        "age_group": form_str(form, "age_group", 32),
        "gender": form_str(form, "gender", 32),
        "education": form_str(form, "education", 32),
        "consent_participate": bool(form_str(form, "consent_participate", 8)),
        "consent_transcript": bool(form_str(form, "consent_transcript", 8)),
        "consent_quotes": bool(form_str(form, "consent_quotes", 8)),
        "invite_code": form_str(form, "code", 64),
    }
    return RegistrationInput(**values), values


async def _register_page(
    request: Request,
    view: DialogueView,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status: int = 200,
    error: str = "",
    error_code: str = "",
) -> HTMLResponse:
    code = lang_of(request).code
    ctx = {
        "d": view,
        "values": values,
        "errors": errors,
        "error": error,
        "error_code": error_code,
        "country_choices": countries(code),
        "age_groups": age_groups(code),
        "genders": GENDERS,
        "education_levels": education_levels(code),
        **page_helpers(request),
    }
    return render(request, "registration/form.html", ctx, status=status)


@router.get("/dialogues/{dialogue_id:int}/register", include_in_schema=False)
async def register_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    code = request.query_params.get("code", "")[:64]
    view = await server.dialogues.get(viewer.user, dialogue_id, invite_code=code)
    values: dict[str, Any] = {
        "invite_code": code,
        "consent_participate": False,
        "consent_transcript": False,
        "consent_quotes": False,
    }
    if viewer.user is not None and view.permissions.is_registered:
        mine = await server.registrations.my_registration(viewer.user, dialogue_id)
        values.update(dataclasses.asdict(mine.as_input()))
        values["invite_code"] = code
    else:
        # The only language, else the one this page is read in; a returning participant's
        # own earlier answers win (they need not type them again).
        reading = lang_of(request).code
        if len(view.languages) == 1 or reading in view.languages:
            values["preferred_language"] = view.languages[0] if len(view.languages) == 1 else reading
        if viewer.user is not None:
            values.update(await server.registrations.returning_answers(viewer.user, view.languages))
    return await _register_page(request, view, values, {})


@router.post("/dialogues/{dialogue_id:int}/register", include_in_schema=False)
async def register_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    data, values = _registration_values(await request.form())
    view = await server.dialogues.get(viewer.user, dialogue_id, invite_code=data.invite_code)
    try:
        limit_registrations(request, server)
        outcome = await server.registrations.register(dialogue_id, data, viewer.user)
    except ClientError as exc:
        if exc.status in (401, 404):
            raise
        field_errors = field_messages(request, exc) if exc.fields else {}
        page = await _register_page(
            request,
            view,
            values,
            field_errors,
            status=exc.status,
            error=lang_of(request).gettext(exc.message),
            error_code=exc.code,
        )
        if isinstance(exc, RateLimited):
            page.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        return page
    ctx = {
        "d": view,
        "outcome": outcome,
        "personal_link": personal_link(request, server, outcome.link_token) if outcome.link_token else None,
        **page_helpers(request),
    }
    response = render(request, "registration/done.html", ctx, status=201 if outcome.created else 200)
    response.headers["Cache-Control"] = "no-store"
    if outcome.session is not None:
        await start_login(request, response, server, outcome.session)
    return response


@router.get("/p/{token}", include_in_schema=False)
async def open_personal_link(request: Request, token: str, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    login = await server.registrations.open_link(token)
    response = RedirectResponse("/my/dialogues", status_code=303)
    await start_login(request, response, server, login)
    return response


# --- pages: my dialogues and my data ------------------------------------------------------


@router.get("/my/dialogues", include_in_schema=False)
async def my_dialogues_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    mine = await server.registrations.mine(viewer.user)
    link = None
    if viewer.user.role == Role.PARTICIPANT and not viewer.user.has_password:
        link = personal_link(request, server, server.registrations.link_token(viewer.user))
    ctx = {"registrations": mine, "personal_link": link, "flash": flash_of(request, DONE), **page_helpers(request)}
    response = render(request, "registration/my_dialogues.html", ctx)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/my/data", include_in_schema=False)
async def my_data_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    data = await server_of(request).registrations.my_data(viewer.user)
    code = lang_of(request).code
    ctx = {
        "data": data,
        **demographic_labels(code),
        "flash": flash_of(request, DONE),
        "is_participant": data.role == Role.PARTICIPANT,
        "country_choices": countries(code),
        **page_helpers(request),
    }
    response = render(request, "registration/my_data.html", ctx)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/my/data.json", include_in_schema=False)
async def my_data_download(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    data = MyDataOut.of(await server_of(request).registrations.my_data(viewer.user))
    return JSONResponse(
        data.model_dump(mode="json"),
        headers={"Content-Disposition": 'attachment; filename="parley-my-data.json"', "Cache-Control": "no-store"},
    )


@router.post("/my/registrations/{dialogue_id:int}/consent", include_in_schema=False)
async def consent_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    await server_of(request).registrations.update_consent(
        viewer.user,
        dialogue_id,
        transcript=bool(form_str(form, "consent_transcript", 8)),
        quotes=bool(form_str(form, "consent_quotes", 8)),
    )
    return RedirectResponse("/my/data?done=consent", status_code=303)


@router.post("/my/registrations/{dialogue_id:int}/withdraw", include_in_schema=False)
async def withdraw_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    await server_of(request).registrations.withdraw(viewer.user, dialogue_id)
    return RedirectResponse("/my/dialogues?done=withdrawn", status_code=303)


@router.post("/my/data/delete", include_in_schema=False)
async def delete_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    form = await request.form()
    if form_str(form, "confirm", 8) != "yes":
        data = await server.registrations.my_data(viewer.user)
        ctx = {
            "data": data,
            **demographic_labels(lang_of(request).code),
            "is_participant": data.role == Role.PARTICIPANT,
            "delete_error": lang_of(request).gettext("Tick the box to confirm."),
            **page_helpers(request),
        }
        return render(request, "registration/my_data.html", ctx, status=422)
    gone = await server.registrations.delete_all(viewer.user)
    response = render(request, "registration/deleted.html", {"account_deleted": gone, **page_helpers(request)})
    if gone:
        clear_login(response, server)
    return response


@router.post("/my/link/revoke", include_in_schema=False)
async def revoke_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    await server_of(request).registrations.revoke_links(viewer.user, keep_session_token_hash=session_hash(viewer))
    return RedirectResponse("/my/dialogues?done=revoked", status_code=303)


# --- pages: for the dialogue's staff ------------------------------------------------------


@router.get("/dialogues/{dialogue_id:int}/registrations", include_in_schema=False)
async def registrations_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    x = await server_of(request).registrations.for_dialogue(viewer.user, dialogue_id)
    ctx = {"x": x, **demographic_labels(lang_of(request).code), **page_helpers(request)}
    response = render(request, "registration/registrations.html", ctx)
    response.headers["Cache-Control"] = "no-store"
    return response
