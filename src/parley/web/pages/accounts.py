"""Account pages: log in and out, my account (details, password, API tokens), invitations
(sending, accepting) and user administration, over the same `parley.handlers.accounts` calls
as the JSON API in `parley.web.routes.accounts`. A refused form comes back with per-field
sentences; success redirects with a one-line notice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from parley.errors import ClientError, Forbidden, InvalidInput, RateLimited, Unauthenticated
from parley.handlers.accounts import (
    PASSWORD_SHORT,
    Account,
    FieldErrors,
    InvitationView,
    Problems,
    check_display_name,
    has_control_chars,
    landing_path,
    normalise_email,
    time_zones,
)
from parley.vocabulary import Role
from parley.web.auth import LOCALE_COOKIE, SESSION_COOKIE, Viewer, server_of, viewer_checked
from parley.web.client import client_address
from parley.web.forms import N_, flash_of, form_str, login_redirect
from parley.web.routes.accounts import MAX_ID, clear_session_cookie, invite_link, replace_session
from parley.web.templating import lang_of, render

router = APIRouter()


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: never another host, scheme or protocol-relative URL."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if has_control_chars(value) or len(value) > 2000:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def form_errors(request: Request, exc: ClientError) -> tuple[str, dict[str, str]]:
    """The summary and per-field sentences for a form, in the viewer's language."""
    lang = lang_of(request)
    server = server_of(request)
    messages = exc.messages if isinstance(exc, FieldErrors) else dict.fromkeys(exc.fields, exc.message)
    out: dict[str, str] = {}
    for field, message in messages.items():
        if exc.fields.get(field) == "too_short":
            out[field] = lang.gettext(PASSWORD_SHORT, n=server.config.auth.min_password_length)
        else:
            out[field] = lang.gettext(message)
    summary = next(iter(out.values())) if len(out) == 1 else lang.gettext(exc.message)
    return summary, out


def parse_int(value: str | None, default: int, low: int = 1, high: int = MAX_ID) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if low <= number <= high else default


DONE = {
    "profile": N_("Your details were saved."),
    "password": N_("Your password was changed. Your other devices were logged out."),
    "token_revoked": N_("The API token was revoked."),
    "invitation": N_("Welcome! Your invitation was accepted."),
    "revoked": N_("The invitation was withdrawn."),
    "saved": N_("The account was updated."),
}


# --- pages: login and logout ----------------------------------------------------------------------


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, next: str = "/", viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"next": safe_next(next), "values": {}, "errors": {}})


@router.post("/login", include_in_schema=False)
async def login_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    form = await request.form()
    email, password = form_str(form, "email", 1000), form_str(form, "password", 1024)
    target = safe_next(form_str(form, "next", 2000))
    try:
        login = await server.accounts.log_in(email, password, client=client_address(request),
                                             limiter=server.rate_limiter)
    except (Unauthenticated, RateLimited) as exc:
        ctx = {"next": target, "values": {"email": email}, "errors": {},
               "error": lang_of(request).gettext(exc.message), "error_code": exc.code}
        page = render(request, "accounts/login.html", ctx, status=exc.status)
        if isinstance(exc, RateLimited):
            page.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        return page
    if target == "/":  # nowhere asked for: where this person's work is
        target = landing_path(login.user)
    response = RedirectResponse(target, status_code=303)
    await replace_session(request, response, server, login)
    return response


@router.post("/logout", include_in_schema=False)
async def logout_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await server.accounts.end_session(token)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, server)
    return response


# --- pages: my account ----------------------------------------------------------------------------


async def account_page(request: Request, user: Account, status: int = 200, **extra: Any) -> HTMLResponse:
    server = server_of(request)
    tokens = await server.accounts.api_tokens(user)
    ctx: dict[str, Any] = {
        "account": user,
        "tokens": tokens,
        "time_zones": time_zones(),
        "profile_values": {"display_name": user.display_name, "locale": user.locale or "",
                           "time_zone": user.time_zone or ""},
        "profile_errors": {},
        "password_errors": {},
        "token_errors": {},
        "token_values": {},
        "flash": flash_of(request, DONE),
        "min_password_length": server.config.auth.min_password_length,
    }
    ctx.update(extra)
    return render(request, "accounts/account.html", ctx, status=status)


@router.get("/account", include_in_schema=False)
async def account_view(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return await account_page(request, viewer.user)


@router.post("/account/profile", include_in_schema=False)
async def account_profile(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    form = await request.form()
    values = {"display_name": form_str(form, "display_name", 1000), "locale": form_str(form, "locale", 64),
              "time_zone": form_str(form, "time_zone", 100)}
    try:
        user = await server.accounts.update_profile(
            viewer.user, locales=server.config.i18n.locales, display_name=values["display_name"],
            locale=values["locale"] or None, time_zone=values["time_zone"] or None,
        )
    except InvalidInput as exc:
        summary, fields = form_errors(request, exc)
        return await account_page(request, viewer.user, exc.status, profile_values=values, profile_errors=fields,
                                  profile_error=summary)
    response = RedirectResponse("/account?done=profile", status_code=303)
    secure = server.config.server.secure_cookies
    if user.locale:
        response.set_cookie(LOCALE_COOKIE, user.locale, max_age=365 * 86400, samesite="lax", secure=secure)
    else:
        response.delete_cookie(LOCALE_COOKIE, samesite="lax", secure=secure)
    return response


@router.post("/account/password", include_in_schema=False)
async def account_password(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    form = await request.form()
    current, new = form_str(form, "current_password", 1024), form_str(form, "new_password", 4096)
    confirm = form_str(form, "new_password_confirm", 4096)
    try:
        problems = Problems()
        problems.check("new_password", lambda: server.accounts.check_password(new))
        if new != confirm:
            problems.add("new_password_confirm", InvalidInput("The two new passwords are not the same.",
                                                              fields={"new_password_confirm": "mismatch"}))
        problems.raise_any()
        await server.accounts.change_password(viewer.user, current=current, new=new, keep_session=viewer.session,
                                              limiter=server.rate_limiter)
    except (InvalidInput, RateLimited) as exc:
        summary, fields = form_errors(request, exc)
        page = await account_page(request, viewer.user, exc.status, password_errors=fields, password_error=summary)
        if isinstance(exc, RateLimited):
            page.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        return page
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/account/tokens", include_in_schema=False)
async def account_create_token(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    name = form_str(form, "name", 1000)
    try:
        new = await server_of(request).accounts.create_api_token(viewer.user, name)
    except ClientError as exc:
        summary, fields = form_errors(request, exc)
        return await account_page(request, viewer.user, exc.status, token_errors=fields, token_error=summary,
                                  token_values={"name": name})
    return await account_page(request, viewer.user, 201, new_token=new)


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
async def account_revoke_token(request: Request, token_id: int = Path(ge=1, le=MAX_ID),
                               viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    await server_of(request).accounts.revoke_api_token(viewer.user, token_id)
    return RedirectResponse("/account?done=token_revoked", status_code=303)


# --- pages: invitations ---------------------------------------------------------------------------


async def invitations_page(request: Request, user: Account, status: int = 200, **extra: Any) -> HTMLResponse:
    server = server_of(request)
    dialogues = await server.accounts.invitable_dialogues(user)
    values = {"role": request.query_params.get("role", "")[:32] or Role.FACILITATOR.value,
              "dialogue_id": request.query_params.get("dialogue", "")[:12]}
    values.update(extra.pop("values", {}))
    # The languages an interpreter may interpret into: the chosen dialogue's, else any listed one's.
    chosen = [langs for did, _, langs in dialogues if str(did) == values.get("dialogue_id")]
    languages = chosen[0] if chosen else sorted({code for _, _, langs in dialogues for code in langs})
    ctx: dict[str, Any] = {
        "invitations": await server.accounts.invitations(user),
        "roles": server.accounts.invitable_roles(user),
        "dialogues": dialogues,
        "interpreter_languages": languages,
        # ?dialogue=N&role=interpreter: "invite an interpreter" from that dialogue's page
        "values": values,
        "errors": {},
        "flash": flash_of(request, DONE),
        "invite_days": server.config.auth.invite_days,
    }
    ctx.update(extra)
    return render(request, "accounts/invitations.html", ctx, status=status)


def _inviter(viewer: Viewer) -> Account:
    user = viewer.user
    if user is None:
        raise Unauthenticated("Log in to continue.", code="login_required")
    if user.role not in (Role.ORGANISER, Role.ADMIN):
        raise Forbidden("Only organisers and admins can invite people.", code="role_required")
    return user


@router.get("/invitations", include_in_schema=False)
async def invitations_view(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return await invitations_page(request, _inviter(viewer))


@router.post("/invitations", include_in_schema=False)
async def invitations_create(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    user = _inviter(viewer)
    server = server_of(request)
    form = await request.form()
    values = {"email": form_str(form, "email", 1000), "role": form_str(form, "role", 32),
              "dialogue_id": form_str(form, "dialogue_id", 32).strip(), "language": form_str(form, "language", 16)}
    try:
        # What the form alone can tell, all at once; the handler checks the rest again.
        problems = Problems()
        role = problems.check("role", lambda: _role_of(values["role"]))
        if role is not None and role not in server.accounts.invitable_roles(user):
            problems.add("role", InvalidInput("Your role cannot invite people with that role.",
                                              fields={"role": "not_allowed"}, code="role_not_invitable"))
        problems.check("email", lambda: normalise_email(values["email"]))
        dialogue_id = problems.check("dialogue_id", lambda: _optional_id(values["dialogue_id"]))
        problems.raise_any()
        assert role is not None
        # The language matters to an interpreter only: another role's form may still carry one.
        language = values["language"] if role == Role.INTERPRETER else None
        new = await server.accounts.invite(user, email=values["email"], role=role, dialogue_id=dialogue_id,
                                           language=language)
    except InvalidInput as exc:
        summary, fields = form_errors(request, exc)
        return await invitations_page(request, user, exc.status, values=values, errors=fields, error=summary)
    except ClientError as exc:
        return await invitations_page(request, user, exc.status, values=values, errors={},
                                      error=lang_of(request).gettext(exc.message))
    # The form keeps the role, dialogue and language: inviting several people to one dialogue
    # then takes an email each.
    kept = {"role": role.value, "dialogue_id": values["dialogue_id"], "language": language or ""}
    return await invitations_page(request, user, 201, created=new.view, link=invite_link(request, server, new.token),
                                  values=kept)


def _role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("Choose a role.", fields={"role": "invalid"}) from None


def _optional_id(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise InvalidInput("Choose a dialogue, or none.", fields={"dialogue_id": "invalid"})
    return int(value)


@router.post("/invitations/{invitation_id}/revoke", include_in_schema=False)
async def invitations_revoke(request: Request, invitation_id: int = Path(ge=1, le=MAX_ID),
                             viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    user = _inviter(viewer)
    try:
        await server_of(request).accounts.revoke_invitation(user, invitation_id)
    except ClientError as exc:
        return await invitations_page(request, user, exc.status, values={"role": Role.FACILITATOR.value},
                                      error=lang_of(request).gettext(exc.message))
    return RedirectResponse("/invitations?done=revoked", status_code=303)


# --- pages: accepting an invitation ---------------------------------------------------------------


async def invite_page(request: Request, token: str, viewer: Viewer, status: int = 200, **extra: Any) -> Response:
    server = server_of(request)
    try:
        view = await server.accounts.open_invitation(token)
    except ClientError as exc:
        ctx = {"closed": True, "error": lang_of(request).gettext(exc.message), "error_code": exc.code}
        return render(request, "accounts/invite.html", ctx, status=exc.status)
    ctx = {
        "closed": False,
        "invitation": view.invitation,
        "view": view,
        "token": token,
        "values": {},
        "errors": {},
        "login_next": f"/login?next={quote('/invite/' + token, safe='')}",
        "min_password_length": server.config.auth.min_password_length,
    }
    ctx.update(extra)
    return render(request, "accounts/invite.html", ctx, status=status)


@router.get("/invite/{token}", include_in_schema=False)
async def invite_view(request: Request, token: str = Path(max_length=200),
                      viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await invite_page(request, token, viewer)


@router.post("/invite/{token}", include_in_schema=False)
async def invite_accept(request: Request, token: str = Path(max_length=200),
                        viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    try:
        invited = await server.accounts.open_invitation(token)
    except ClientError as exc:
        return await invite_page(request, token, viewer, exc.status, error=lang_of(request).gettext(exc.message))
    if viewer.user is not None:
        try:
            user = await server.accounts.accept_invitation_as(token, viewer.user)
        except ClientError as exc:
            return await invite_page(request, token, viewer, exc.status,
                                     error=lang_of(request).gettext(exc.message))
        return RedirectResponse(_after_invitation(invited, user), status_code=303)
    form = await request.form()
    values = {"display_name": form_str(form, "display_name", 1000)}
    password, confirm = form_str(form, "password", 4096), form_str(form, "password_confirm", 4096)
    try:
        if password != confirm:
            problems = Problems()
            problems.check("display_name", lambda: check_display_name(values["display_name"]))
            problems.check("password", lambda: server.accounts.check_password(password))
            problems.add("password_confirm", InvalidInput("The two passwords are not the same.",
                                                          fields={"password_confirm": "mismatch"}))
            problems.raise_any()
        login = await server.accounts.accept_invitation(token, display_name=values["display_name"],
                                                        password=password)
    except InvalidInput as exc:
        summary, fields = form_errors(request, exc)
        return await invite_page(request, token, viewer, exc.status, values=values, errors=fields, error=summary)
    except ClientError as exc:
        return await invite_page(request, token, viewer, exc.status, values=values,
                                 error=lang_of(request).gettext(exc.message))
    response = RedirectResponse(_after_invitation(invited, login.user), status_code=303)
    await replace_session(request, response, server, login)
    return response


def _after_invitation(invited: InvitationView, user: Account) -> str:
    """The dialogue someone was invited to run or interpret, else where their work is."""
    dialogue_id = invited.invitation.dialogue_id
    if dialogue_id is not None:
        return f"/dialogues/{dialogue_id}?done=invitation"
    return landing_path(user) + "?done=invitation"


# --- pages: user administration -------------------------------------------------------------------


async def users_page(request: Request, admin: Account, status: int = 200, **extra: Any) -> HTMLResponse:
    server = server_of(request)
    params = request.query_params
    search = params.get("q", "")[:200]
    role_value = params.get("role", "")
    role = Role(role_value) if role_value in {r.value for r in Role} else None
    page = parse_int(params.get("page"), 1, high=1_000_000)
    try:
        result = await server.accounts.list_users(admin, search=search, role=role, page=page, per_page=25)
    except InvalidInput:
        search = ""
        result = await server.accounts.list_users(admin, role=role, page=page, per_page=25)
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")

    def page_link(n: int) -> str:
        query = {k: v for k, v in {"q": search, "role": role_value if role else "", "page": str(n)}.items() if v}
        return "/admin/users?" + urlencode(query)

    ctx: dict[str, Any] = {
        "result": result,
        "search": search,
        "role_filter": role.value if role else "",
        "roles": list(Role),
        "back": back,
        "page_link": page_link,
        "flash": flash_of(request, DONE),
    }
    ctx.update(extra)
    return render(request, "accounts/users.html", ctx, status=status)


def _admin(viewer: Viewer) -> Account:
    user = viewer.user
    if user is None:
        raise Unauthenticated("Log in to continue.", code="login_required")
    if user.role != Role.ADMIN:
        raise Forbidden("Only admins can manage accounts.", code="admin_only")
    return user


@router.get("/admin/users", include_in_schema=False)
async def users_view(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return await users_page(request, _admin(viewer))


@router.post("/admin/users/{user_id}", include_in_schema=False)
async def users_update(request: Request, user_id: int = Path(ge=1, le=MAX_ID),
                       viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    admin = _admin(viewer)
    server = server_of(request)
    form = await request.form()
    action = form_str(form, "action", 32)
    back = _users_back(form_str(form, "back", 2000))
    try:
        if action == "role":
            await server.accounts.update_user(admin, user_id, role=_role_of(form_str(form, "role", 32)))
        elif action in ("disable", "enable"):
            await server.accounts.update_user(admin, user_id, disabled=action == "disable")
        else:
            raise InvalidInput("Choose what to change.", fields={"action": "invalid"})
    except ClientError as exc:
        return await users_page(request, admin, exc.status, error=lang_of(request).gettext(exc.message),
                                error_user_id=user_id)
    return RedirectResponse(back, status_code=303)


def _users_back(value: str) -> str:
    """Back to the same list page (search, filter, page) with a "saved" note."""
    parts = urlsplit(safe_next(value, "/admin/users"))
    if parts.path != "/admin/users":
        return "/admin/users?done=saved"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in ("q", "role", "page")]
    return "/admin/users?" + urlencode([*query, ("done", "saved")])
