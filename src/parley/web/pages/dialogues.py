"""Dialogue pages: the public listing, a dialogue's page, the new and edit forms, the
organisers' state buttons and overview. HTML over the same `parley.handlers.dialogues` calls
the JSON API in `parley.web.routes.dialogues` makes; errors come back as the form again with
per-field sentences.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from parley.errors import ClientError, Forbidden
from parley.handlers.accounts import Account, normalise_email, uses_first_password
from parley.handlers.dialogues import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    DURATION_MAX,
    DURATION_MIN,
    Action,
    DialogueInput,
    DialogueView,
    Listing,
    ListingQuery,
    StaffChoices,
)
from parley.handlers.dialogues import validate as validate_dialogue
from parley.reference import UN_LANGUAGES, countries, is_time_zone, language_label, time_zones, un_languages
from parley.server import Server
from parley.vocabulary import Role, Visibility
from parley.web.auth import Viewer, server_of, viewer_checked
from parley.web.forms import (
    N_,
    base_url,
    field_messages,
    flash_of,
    form_list,
    form_str,
    int_param,
    login_redirect,
    page_helpers,
)
from parley.web.routes.accounts import invite_link
from parley.web.routes.dialogues import listing_query, register_path
from parley.web.templating import lang_of, render

router = APIRouter()

DONE = {
    "created": N_("The dialogue was created as a draft. Publish it when it is ready."),
    "saved": N_("Your changes were saved."),
    "publish": N_("The dialogue is published and open for registration."),
    "cancel": N_("The dialogue is back to draft and no longer listed."),
    "start": N_("The dialogue is live."),
    "end": N_("The dialogue has ended."),
    "submit-report": N_("The report is marked as submitted. Thank you!"),
    "invite-code": N_("A new invitation link was made; the old one no longer works."),
    "invitation": N_("Welcome! Your invitation was accepted."),
}


@router.get("/dialogues", include_in_schema=False)
async def listing_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    params = request.query_params
    raw = {k: params.get(k, "")[:200] for k in ("q", "language", "country", "date_from", "date_to", "tz")}
    query = listing_query(
        request,
        raw["q"],
        raw["language"],
        raw["country"],
        raw["date_from"],
        raw["date_to"],
        int_param(params.get("page", ""), 1, 10_000),
        20,
        raw["tz"],
    )
    field_errors: dict[str, str] = {}
    status = 200
    try:
        listing = await server.dialogues.listing(query)
    except ClientError as exc:
        field_errors = field_messages(request, exc)
        status = exc.status
        listing = await server.dialogues.listing(ListingQuery(time_zone=query.time_zone))
        listing = Listing(query=query, items=[], total=0, page=1, per_page=20, countries=listing.countries)

    def page_url(n: int) -> str:
        keep = {k: v for k, v in raw.items() if v}
        keep["page"] = str(n)
        return "/dialogues?" + urlencode(keep)

    code = lang_of(request).code
    ctx = {
        "listing": listing,
        "values": raw,
        "errors": field_errors,
        "page_url": page_url,
        "language_choices": _language_choices(code),
        "country_choices": countries(code),
        "max_count": max((c.dialogues for c in listing.countries), default=0),
        **page_helpers(request),
    }
    return render(request, "dialogues/list.html", ctx, status=status)


def _language_choices(code: str) -> list[tuple[str, str]]:
    return un_languages(code)


def _can_organise(user: Account | None) -> bool:
    return user is not None and user.role in (Role.ORGANISER, Role.ADMIN)


async def _form_page(
    request: Request,
    user: Account,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    dialogue: DialogueView | None,
    status: int = 200,
) -> HTMLResponse:
    server = server_of(request)
    code = lang_of(request).code
    choices = await server.dialogues.staff_choices(user) if _can_organise(user) else StaffChoices([], [])
    rows = list(values.get("interpreter_rows", []))
    rows += [("", "")] * 2
    ctx = {
        "dialogue": dialogue,
        "values": {**values, "interpreter_rows": rows},
        "errors": errors,
        "un_languages": un_languages(code),
        "interpreter_languages": _interpreter_languages(values, rows, code),
        "country_choices": countries(code),
        "time_zones": time_zones(),
        "facilitators": choices.facilitators,
        "interpreters": choices.interpreters,
        "limits": {"capacity": (CAPACITY_MIN, CAPACITY_MAX), "duration": (DURATION_MIN, DURATION_MAX)},
        **page_helpers(request),
    }
    return render(request, "dialogues/form.html", ctx, status=status)


def _interpreter_languages(values: dict[str, Any], rows: list[tuple[str, str]], code: str) -> list[tuple[str, str]]:
    """What an interpreter may speak into, by name rather than a typed code: the UN languages, then
    the dialogue's other ones (and a row's own, so a form shown again keeps it)."""
    choices = list(un_languages(code))
    known = {c for c, _ in choices}
    other = str(values.get("languages_other", "")).replace(",", " ").split()
    for c in [*other, *(lang for _, lang in rows)]:
        if c and c not in known:
            known.add(c)
            choices.append((c, language_label(c, code)))
    return choices


def _values_of(data: DialogueInput, gettext: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Form field values for a dialogue input (translating the default questions)."""
    starts = data.starts_at
    if isinstance(starts, datetime):
        if starts.tzinfo is not None and is_time_zone(data.time_zone):
            starts = starts.astimezone(ZoneInfo(data.time_zone))
        starts_text = starts.strftime("%Y-%m-%dT%H:%M")
    else:
        starts_text = starts or ""
    questions = list(data.questions)
    if gettext is not None:
        questions = [gettext(q) for q in questions]
    un = [c for c in data.languages if c in UN_LANGUAGES]
    other = [c for c in data.languages if c not in UN_LANGUAGES]
    return {
        "title": data.title,
        "description": data.description,
        "questions": "\n".join(questions),
        "starts_at": starts_text,
        "time_zone": data.time_zone,
        "duration_minutes": str(data.duration_minutes),
        "capacity": str(data.capacity),
        "languages": un,
        "languages_other": ", ".join(other),
        "country": data.country or "",
        "facilitator_id": "" if data.facilitator_id in (None, "") else str(data.facilitator_id),
        "interpreter_rows": [(str(u), lang) for u, lang in data.interpreters],
        "visibility": data.visibility,
    }


def _input_of(form: Any) -> tuple[DialogueInput, dict[str, Any]]:
    """A dialogue input from a submitted form, and the raw values to show again."""
    users = form_list(form, "interpreter_user", 16)
    langs = form_list(form, "interpreter_language", 16)
    rows = [(u.strip(), lang.strip()) for u, lang in zip(users, langs, strict=False) if u.strip() or lang.strip()]
    checked = form_list(form, "languages", 16)
    other = form_str(form, "languages_other", 400)
    languages = checked + [p for p in other.replace(",", " ").split() if p]
    title, description = form_str(form, "title", 1000), form_str(form, "description", 20_000)
    questions, starts = form_str(form, "questions", 20_000), form_str(form, "starts_at", 64)
    zone, duration = form_str(form, "time_zone", 64), form_str(form, "duration_minutes", 12)
    capacity, country = form_str(form, "capacity", 12), form_str(form, "country", 8)
    facilitator = form_str(form, "facilitator_id", 12)
    visibility = form_str(form, "visibility", 32) or Visibility.PUBLIC.value
    values: dict[str, Any] = {
        "title": title,
        "description": description,
        "questions": questions,
        "starts_at": starts,
        "time_zone": zone,
        "duration_minutes": duration,
        "capacity": capacity,
        "languages": checked,
        "languages_other": other,
        "country": country,
        "facilitator_id": facilitator,
        "interpreter_rows": rows,
        "visibility": visibility,
    }
    data = DialogueInput(
        title=title,
        description=description,
        questions=[line for line in questions.splitlines() if line.strip()],
        starts_at=starts or None,
        time_zone=zone,
        duration_minutes=duration,
        capacity=capacity,
        languages=languages,
        country=country or None,
        facilitator_id=facilitator or None,
        interpreters=list(rows),
        visibility=visibility,
    )
    return data, values


@router.get("/dialogues/new", include_in_schema=False)
async def new_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    user = viewer.user
    if not _can_organise(user):
        raise Forbidden("Only organisers can create dialogues.", code="role_required")
    tz = user.time_zone if user.time_zone and is_time_zone(user.time_zone) else "UTC"
    values = _values_of(DialogueInput(time_zone=tz), lang_of(request).gettext)
    return await _form_page(request, user, values, {}, dialogue=None)


@router.post("/dialogues/new", include_in_schema=False)
async def new_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    form = await request.form()
    data, values = _input_of(form)
    # A facilitator without an account yet is invited by email, with the dialogue.
    invite_email = form_str(form, "facilitator_email", 1000).strip()
    values["facilitator_email"] = invite_email
    invite_problem = _facilitator_email_problem(invite_email, data)
    try:
        if invite_problem:
            validate_dialogue(data)  # every problem of the form at once
        view = None if invite_problem else await server.dialogues.create(viewer.user, data)
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        errors = field_messages(request, exc)
        if invite_problem:
            errors["facilitator_email"] = lang_of(request).gettext(invite_problem)
        return await _form_page(request, viewer.user, values, errors, dialogue=None, status=exc.status)
    if view is None:
        errors = {"facilitator_email": lang_of(request).gettext(invite_problem)}
        return await _form_page(request, viewer.user, values, errors, dialogue=None, status=422)
    if not invite_email:
        return RedirectResponse(f"/dialogues/{view.id}?done=created", status_code=303)
    try:
        new = await server.accounts.invite(viewer.user, email=invite_email, role=Role.FACILITATOR,
                                           dialogue_id=view.id)
    except ClientError as exc:
        ctx = _detail_context(request, server, view, flash=lang_of(request).gettext(DONE["created"]))
        ctx["action_error"] = lang_of(request).gettext(exc.message)
        ctx["error_code"] = exc.code
        return render(request, "dialogues/detail.html", ctx, status=201)
    ctx = _detail_context(request, server, view, flash=lang_of(request).gettext(DONE["created"]))
    ctx["facilitator_invite"] = {"email": new.view.invitation.email, "link": invite_link(request, server, new.token)}
    return render(request, "dialogues/detail.html", ctx, status=201)


def _facilitator_email_problem(email: str, data: DialogueInput) -> str:
    """Why an email typed to invite a facilitator cannot be used, or ''."""
    if not email:
        return ""
    if data.facilitator_id not in (None, ""):
        return N_("Choose a facilitator from the list or invite one by email, not both.")
    try:
        normalise_email(email)
    except ClientError:
        return N_("Enter a valid email address.")
    return ""


def _detail_context(request: Request, server: Server, view: DialogueView, *, flash: str = "") -> dict[str, Any]:
    return {
        "d": view,
        "flash": flash,
        "register_url": register_path(view),
        "share_url": base_url(request, server) + register_path(view),
        **page_helpers(request),
    }


@router.get("/dialogues/{dialogue_id:int}", include_in_schema=False)
async def detail_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    code = request.query_params.get("code", "")[:64]
    view = await server.dialogues.get(viewer.user, dialogue_id, invite_code=code)
    register = (
        register_path(view)
        if view.invite_code or not code
        else (f"/dialogues/{view.id}/register?" + urlencode({"code": code}))
    )
    ctx = {**_detail_context(request, server, view, flash=flash_of(request, DONE)), "register_url": register,
           "just_invited": request.query_params.get("done") == "invitation",
           "staff_invited": await _staff_invited(server, viewer.user, view.id, view.permissions.can_edit)}
    return render(request, "dialogues/detail.html", ctx)


async def _staff_invited(server: Server, user: Account | None, dialogue_id: int, can_edit: bool) -> list[Any]:
    """The dialogue's staff invitations nobody has accepted yet, for its organiser: the page
    says who is on their way, so nobody is invited twice while the first link waits."""
    if user is None or not can_edit or not server.accounts.invitable_roles(user):
        return []
    return [v.invitation for v in await server.accounts.invitations(user) if v.invitation.dialogue_id == dialogue_id]


@router.get("/dialogues/{dialogue_id:int}/edit", include_in_schema=False)
async def edit_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    view = await server_of(request).dialogues.get(viewer.user, dialogue_id)
    if not view.permissions.can_edit:
        raise Forbidden("Only the dialogue's organiser can change it.", code="not_organiser")
    return await _form_page(request, viewer.user, _values_of(view.as_input()), {}, dialogue=view)


@router.post("/dialogues/{dialogue_id:int}/edit", include_in_schema=False)
async def edit_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    data, values = _input_of(await request.form())
    changes = {f: getattr(data, f) for f in DialogueInput.__dataclass_fields__}
    try:
        await server.dialogues.update(viewer.user, dialogue_id, changes)
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        view = await server.dialogues.get(viewer.user, dialogue_id)
        return await _form_page(
            request, viewer.user, values, field_messages(request, exc), dialogue=view, status=exc.status
        )
    return RedirectResponse(f"/dialogues/{dialogue_id}?done=saved", status_code=303)


def _action_page(action: Action) -> Callable[..., Any]:
    async def endpoint(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
        if viewer.user is None:
            return login_redirect(request)
        server = server_of(request)
        try:
            await server.dialogues.transition(viewer.user, dialogue_id, action)
        except ClientError as exc:
            if exc.status in (401, 403, 404):
                raise
            view = await server.dialogues.get(viewer.user, dialogue_id)
            messages = field_messages(request, exc)
            ctx = {
                "d": view,
                "action_error": lang_of(request).gettext(exc.message),
                "action_errors": messages,
                "error_code": exc.code,
                "register_url": register_path(view),
                "share_url": base_url(request, server) + register_path(view),
                **page_helpers(request),
            }
            return render(request, "dialogues/detail.html", ctx, status=exc.status)
        return RedirectResponse(f"/dialogues/{dialogue_id}?done={action.value}", status_code=303)

    endpoint.__name__ = f"page_{action.name.lower()}"
    return endpoint


for _action in Action:
    router.add_api_route(
        f"/dialogues/{{dialogue_id:int}}/{_action.value}",
        _action_page(_action),
        methods=["POST"],
        include_in_schema=False,
    )


@router.post("/dialogues/{dialogue_id:int}/invite-code", include_in_schema=False)
async def regenerate_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    await server_of(request).dialogues.regenerate_invite_code(viewer.user, dialogue_id)
    return RedirectResponse(f"/dialogues/{dialogue_id}?done=invite-code", status_code=303)


@router.get("/organise", include_in_schema=False)
async def overview_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    scope = request.query_params.get("scope", "")
    if scope not in ("all", "mine"):
        scope = ""
    server = server_of(request)
    overview = await server.dialogues.overview(viewer.user, scope)
    ctx = {"o": overview, "can_create": _can_organise(viewer.user), "flash": flash_of(request, DONE),
           "first_password": uses_first_password(viewer.user),
           "facilitator_invited": await _facilitators_invited(server, viewer.user), **page_helpers(request)}
    return render(request, "dialogues/overview.html", ctx)


async def _facilitators_invited(server: Server, user: Account) -> dict[int, str]:
    """Whom each dialogue's facilitator invitation went to, while nobody has accepted it: the
    overview names them instead of "—", so the organiser does not invite a second facilitator."""
    if not server.accounts.invitable_roles(user):
        return {}
    return {v.invitation.dialogue_id: v.invitation.email for v in await server.accounts.invitations(user)
            if v.invitation.dialogue_id is not None and v.invitation.role == Role.FACILITATOR}
