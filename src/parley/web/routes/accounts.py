"""Accounts over HTTP: login and logout, one's own account (details, password, API
tokens), staff invitations and user administration, as JSON under /api/v1 and as pages.

The rules are in `parley.handlers.accounts`; this module only translates between HTTP
(JSON bodies, forms, cookies, redirects) and those calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from parley.errors import ClientError, Forbidden, InvalidInput, NotFound, RateLimited, Unauthenticated
from parley.handlers.accounts import (
    PASSWORD_SHORT,
    UNSET,
    FieldErrors,
    InvitationView,
    LoginSession,
    Problems,
    check_display_name,
    contact_email,
    has_control_chars,
    landing_path,
    normalise_email,
    time_zones,
)
from parley.server import Server
from parley.storage.models import ApiToken, Role, User
from parley.web.auth import LOCALE_COOKIE, SESSION_COOKIE, Viewer, require_role, require_user, server_of, viewer_checked
from parley.web.client import client_address
from parley.web.forms import N_, base_url, flash_of, form_str, login_redirect
from parley.web.schemas import error_docs
from parley.web.templating import lang_of, render

router = APIRouter()

MAX_ID = 2**31 - 1
require_admin = require_role(Role.ADMIN)
require_inviter = require_role(Role.ORGANISER)


# --- JSON shapes --------------------------------------------------------------------------------


_ERROR_TEXT = {
    400: "The request cannot be done as asked.",
    401: "Not logged in, or wrong credentials.",
    403: "Not allowed (role, or missing CSRF token).",
    404: "Not found.",
    409: "Conflicts with the current state.",
    410: "The invitation was used, withdrawn or has expired.",
    422: "Some fields are not valid.",
    429: "Too many attempts; see Retry-After.",
}


errors = error_docs(_ERROR_TEXT)


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    locale: str | None
    time_zone: str | None
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=contact_email(user.email), display_name=user.display_name, role=user.role,
                   locale=user.locale, time_zone=user.time_zone, disabled=user.disabled, created_at=user.created_at)


class LoginIn(BaseModel):
    email: str = Field(max_length=1000)
    password: str = Field(max_length=1024)


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on unsafe requests.")


class ProfileIn(BaseModel):
    display_name: str | None = Field(None, max_length=1000)
    locale: str | None = Field(None, max_length=64, description="Interface language; null follows the browser.")
    time_zone: str | None = Field(None, max_length=100, description="IANA zone; null uses the browser's.")


class PasswordIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=4096)


class TokenIn(BaseModel):
    name: str = Field(max_length=1000)


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(id=token.id, name=token.name, created_at=token.created_at, last_used_at=token.last_used_at)


class TokenList(BaseModel):
    tokens: list[TokenOut]


class NewTokenOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="Use as `Authorization: Bearer <secret>`; shown only this once.")


class InvitationIn(BaseModel):
    email: str = Field(max_length=1000)
    role: Role
    dialogue_id: int | None = Field(None, ge=1, le=MAX_ID)


class InvitationOut(BaseModel):
    id: int
    email: str
    role: Role
    state: str = Field(description="pending, accepted, revoked or expired")
    dialogue_id: int | None
    invited_by_id: int | None
    invited_by_name: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, view: InvitationView) -> InvitationOut:
        i = view.invitation
        return cls(id=i.id, email=i.email, role=i.role, state=view.state, dialogue_id=i.dialogue_id,
                   invited_by_id=i.invited_by_id, invited_by_name=view.invited_by_name, created_at=i.created_at,
                   expires_at=i.expires_at, accepted_at=i.accepted_at, revoked_at=i.revoked_at)


class InvitationList(BaseModel):
    invitations: list[InvitationOut]


class NewInvitationOut(BaseModel):
    invitation: InvitationOut
    link: str = Field(description="Give this link to the person; it is shown only this once.")


class InvitationPreview(BaseModel):
    email: str
    role: Role
    dialogue_id: int | None
    dialogue_title: str | None
    invited_by_name: str | None
    expires_at: datetime
    account_exists: bool = Field(description="If true, log in as that account, then accept.")


class AcceptIn(BaseModel):
    token: str = Field(max_length=200)
    display_name: str | None = Field(None, max_length=1000, description="Needed when creating a new account.")
    password: str | None = Field(None, max_length=4096, description="Needed when creating a new account.")


class AcceptOut(BaseModel):
    user: UserOut
    csrf_token: str | None = Field(description="Set when a new account was created and logged in.")


class UserListOut(BaseModel):
    users: list[UserOut]
    total: int
    page: int
    per_page: int


class UserPatchIn(BaseModel):
    role: Role | None = None
    disabled: bool | None = None


# --- helpers ------------------------------------------------------------------------------------


def set_session_cookie(response: Response, server: Server, login: LoginSession) -> None:
    response.set_cookie(SESSION_COOKIE, login.token, max_age=server.config.auth.session_days * 86400,
                        httponly=True, samesite="lax", secure=server.config.server.secure_cookies, path="/")


def clear_session_cookie(response: Response, server: Server) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=server.config.server.secure_cookies)


async def replace_session(request: Request, response: Response, server: Server, login: LoginSession) -> None:
    """Set the new session cookie and end the one the browser had, if any."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await server.accounts.end_session(old)
    set_session_cookie(response, server, login)


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


def invite_link(request: Request, server: Server, token: str) -> str:
    return f"{base_url(request, server)}/invite/{token}"


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


# --- session API --------------------------------------------------------------------------------


@router.post("/api/v1/session", response_model=LoginOut, tags=["session"], summary="Log in",
             responses=errors(401, 403, 422, 429))
async def api_log_in(body: LoginIn, request: Request, response: Response,
                     viewer: Viewer = Depends(viewer_checked)) -> LoginOut:
    """Check email and password, set the `parley_session` cookie and return the CSRF token."""
    server = server_of(request)
    login = await server.accounts.log_in(body.email, body.password, client=client_address(request),
                                         limiter=server.rate_limiter)
    await replace_session(request, response, server, login)
    return LoginOut(user=UserOut.of(login.user), csrf_token=login.csrf_token)


@router.delete("/api/v1/session", status_code=204, response_class=Response, tags=["session"], summary="Log out",
               responses=errors(400, 401, 403))
async def api_log_out(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    server = server_of(request)
    if viewer.user is None:
        raise Unauthenticated("Log in to continue.", code="login_required")
    if viewer.session is None:
        raise ClientError("API tokens have no session to end; revoke the token instead.", code="no_session")
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await server.accounts.end_session(token)
    response = Response(status_code=204)
    clear_session_cookie(response, server)
    return response


@router.get("/api/v1/me", response_model=UserOut, tags=["account"], summary="The logged-in user",
            responses=errors(401))
async def api_me(user: User = Depends(require_user)) -> UserOut:
    return UserOut.of(user)


@router.patch("/api/v1/me", response_model=UserOut, tags=["account"], summary="Change name and preferences",
              responses=errors(401, 403, 422))
async def api_update_me(body: ProfileIn, request: Request, user: User = Depends(require_user)) -> UserOut:
    server = server_of(request)
    given = body.model_fields_set
    if "display_name" in given and body.display_name is None:
        raise InvalidInput("Enter a name of 1 to 120 characters.", fields={"display_name": "length"})
    updated = await server.accounts.update_profile(
        user,
        locales=server.config.i18n.locales,
        display_name=body.display_name if body.display_name is not None else UNSET,
        locale=body.locale if "locale" in given else UNSET,
        time_zone=body.time_zone if "time_zone" in given else UNSET,
    )
    return UserOut.of(updated)


@router.post("/api/v1/me/password", status_code=204, response_class=Response, tags=["account"],
             summary="Change password", responses=errors(401, 403, 422, 429))
async def api_change_password(body: PasswordIn, request: Request, viewer: Viewer = Depends(viewer_checked),
                              user: User = Depends(require_user)) -> Response:
    """Ends every other session of the user; this one stays logged in."""
    server = server_of(request)
    await server.accounts.change_password(user, current=body.current_password, new=body.new_password,
                                          keep_session=viewer.session, limiter=server.rate_limiter)
    return Response(status_code=204)


@router.get("/api/v1/me/tokens", response_model=TokenList, tags=["account"], summary="My API tokens",
            responses=errors(401))
async def api_tokens(request: Request, user: User = Depends(require_user)) -> TokenList:
    tokens = await server_of(request).accounts.api_tokens(user)
    return TokenList(tokens=[TokenOut.of(t) for t in tokens])


@router.post("/api/v1/me/tokens", response_model=NewTokenOut, status_code=201, tags=["account"],
             summary="Create an API token", responses=errors(401, 403, 409, 422))
async def api_create_token(body: TokenIn, request: Request, viewer: Viewer = Depends(viewer_checked),
                           user: User = Depends(require_user)) -> NewTokenOut:
    """Only from a logged-in session, so a leaked token cannot mint more tokens."""
    if viewer.via != "cookie":
        raise Forbidden("Create API tokens while logged in, not with another token.", code="session_required")
    new = await server_of(request).accounts.create_api_token(user, body.name)
    return NewTokenOut(token=TokenOut.of(new.token), secret=new.secret)


@router.delete("/api/v1/me/tokens/{token_id}", status_code=204, response_class=Response, tags=["account"],
               summary="Revoke an API token", responses=errors(401, 403, 404))
async def api_revoke_token(request: Request, token_id: int = Path(ge=1, le=MAX_ID),
                           user: User = Depends(require_user)) -> Response:
    await server_of(request).accounts.revoke_api_token(user, token_id)
    return Response(status_code=204)


# --- invitations API ----------------------------------------------------------------------------


@router.post("/api/v1/invitations", response_model=NewInvitationOut, status_code=201, tags=["invitations"],
             summary="Invite someone by link", responses=errors(401, 403, 409, 422))
async def api_invite(body: InvitationIn, request: Request, user: User = Depends(require_inviter)) -> NewInvitationOut:
    """Organisers invite facilitators and interpreters; admins also organisers and admins."""
    server = server_of(request)
    new = await server.accounts.invite(user, email=body.email, role=body.role, dialogue_id=body.dialogue_id)
    return NewInvitationOut(invitation=InvitationOut.of(new.view), link=invite_link(request, server, new.token))


@router.get("/api/v1/invitations", response_model=InvitationList, tags=["invitations"],
            summary="Pending invitations", responses=errors(401, 403))
async def api_invitations(request: Request, user: User = Depends(require_inviter)) -> InvitationList:
    """All pending invitations for admins; an organiser's own otherwise."""
    views = await server_of(request).accounts.invitations(user)
    return InvitationList(invitations=[InvitationOut.of(v) for v in views])


@router.delete("/api/v1/invitations/{invitation_id}", response_model=InvitationOut, tags=["invitations"],
               summary="Withdraw an invitation", responses=errors(401, 403, 404, 409))
async def api_revoke_invitation(request: Request, invitation_id: int = Path(ge=1, le=MAX_ID),
                                user: User = Depends(require_inviter)) -> InvitationOut:
    view = await server_of(request).accounts.revoke_invitation(user, invitation_id)
    return InvitationOut.of(view)


@router.get("/api/v1/invitations/preview/{token}", response_model=InvitationPreview, tags=["invitations"],
            summary="What an invitation link offers", responses=errors(404, 410))
async def api_preview_invitation(request: Request, token: str = Path(max_length=200),
                                 viewer: Viewer = Depends(viewer_checked)) -> InvitationPreview:
    view = await server_of(request).accounts.open_invitation(token)
    i = view.invitation
    return InvitationPreview(email=i.email, role=i.role, dialogue_id=i.dialogue_id, dialogue_title=view.dialogue_title,
                             invited_by_name=view.invited_by_name, expires_at=i.expires_at,
                             account_exists=view.account_exists)


@router.post("/api/v1/invitations/accept", response_model=AcceptOut, tags=["invitations"],
             summary="Accept an invitation", responses=errors(403, 404, 409, 410, 422))
async def api_accept_invitation(body: AcceptIn, request: Request, response: Response,
                                viewer: Viewer = Depends(viewer_checked)) -> AcceptOut:
    """Logged in: the invitation applies to this account (the emails must match).
    Otherwise a new account is created from `display_name` and `password` and logged in."""
    server = server_of(request)
    if viewer.user is not None:
        user = await server.accounts.accept_invitation_as(body.token, viewer.user)
        return AcceptOut(user=UserOut.of(user), csrf_token=None)
    login = await server.accounts.accept_invitation(body.token, display_name=body.display_name or "",
                                                    password=body.password or "")
    await replace_session(request, response, server, login)
    return AcceptOut(user=UserOut.of(login.user), csrf_token=login.csrf_token)


# --- administration API -------------------------------------------------------------------------


@router.get("/api/v1/users", response_model=UserListOut, tags=["admin"], summary="List users",
            responses=errors(401, 403, 422))
async def api_users(
    request: Request,
    q: str = Query("", max_length=200, description="Part of an email or name"),
    role: Role | None = Query(None),
    page: int = Query(1, ge=1, le=1_000_000),
    per_page: int = Query(50, ge=1, le=100),
    user: User = Depends(require_admin),
) -> UserListOut:
    result = await server_of(request).accounts.list_users(user, search=q, role=role, page=page, per_page=per_page)
    return UserListOut(users=[UserOut.of(u) for u in result.users], total=result.total, page=result.page,
                       per_page=result.per_page)


@router.get("/api/v1/users/{user_id}", response_model=UserOut, tags=["admin"], summary="One user",
            responses=errors(401, 403, 404))
async def api_user(request: Request, user_id: int = Path(ge=1, le=MAX_ID),
                   user: User = Depends(require_admin)) -> UserOut:
    found = await server_of(request).accounts.user(user_id)
    if found is None:
        raise NotFound("There is no such user.", code="user_not_found")
    return UserOut.of(found)


@router.patch("/api/v1/users/{user_id}", response_model=UserOut, tags=["admin"],
              summary="Change a user's role or disable them", responses=errors(401, 403, 404, 409, 422))
async def api_update_user(body: UserPatchIn, request: Request, user_id: int = Path(ge=1, le=MAX_ID),
                          user: User = Depends(require_admin)) -> UserOut:
    """Disabling ends the user's sessions; the last enabled admin cannot be demoted or disabled."""
    updated = await server_of(request).accounts.update_user(
        user, user_id,
        role=body.role if body.role is not None else UNSET,
        disabled=body.disabled if body.disabled is not None else UNSET,
    )
    return UserOut.of(updated)


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


async def account_page(request: Request, user: User, status: int = 200, **extra: Any) -> HTMLResponse:
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


async def invitations_page(request: Request, user: User, status: int = 200, **extra: Any) -> HTMLResponse:
    server = server_of(request)
    ctx: dict[str, Any] = {
        "invitations": await server.accounts.invitations(user),
        "roles": server.accounts.invitable_roles(user),
        "dialogues": await server.accounts.invitable_dialogues(user),
        # ?dialogue=N: "invite a facilitator" from that dialogue's page
        "values": {"role": request.query_params.get("role", "")[:32] or Role.FACILITATOR.value,
                   "dialogue_id": request.query_params.get("dialogue", "")[:12]},
        "errors": {},
        "flash": flash_of(request, DONE),
        "invite_days": server.config.auth.invite_days,
    }
    ctx.update(extra)
    return render(request, "accounts/invitations.html", ctx, status=status)


def _inviter(viewer: Viewer) -> User:
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
              "dialogue_id": form_str(form, "dialogue_id", 32).strip()}
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
        new = await server.accounts.invite(user, email=values["email"], role=role, dialogue_id=dialogue_id)
    except InvalidInput as exc:
        summary, fields = form_errors(request, exc)
        return await invitations_page(request, user, exc.status, values=values, errors=fields, error=summary)
    except ClientError as exc:
        return await invitations_page(request, user, exc.status, values=values, errors={},
                                      error=lang_of(request).gettext(exc.message))
    return await invitations_page(request, user, 201, created=new.view, link=invite_link(request, server, new.token))


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


def _after_invitation(invited: InvitationView, user: User) -> str:
    """The dialogue someone was invited to run or interpret, else where their work is."""
    dialogue_id = invited.invitation.dialogue_id
    if dialogue_id is not None:
        return f"/dialogues/{dialogue_id}?done=invitation"
    return landing_path(user) + "?done=invitation"


# --- pages: user administration -------------------------------------------------------------------


async def users_page(request: Request, admin: User, status: int = 200, **extra: Any) -> HTMLResponse:
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


def _admin(viewer: Viewer) -> User:
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
