"""Accounts as JSON under /api/v1: the session (log in and out), one's own account (details,
password, API tokens), staff invitations and user administration. The pages over the same
calls are in `parley.web.pages.accounts`; the session cookie helpers here serve both.

The rules are in `parley.handlers.accounts`; this module only translates between JSON, cookies
and those calls.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from parley.errors import ClientError, Forbidden, InvalidInput, NotFound, Unauthenticated
from parley.handlers.accounts import (
    UNSET,
    Account,
    ApiTokenInfo,
    InvitationView,
    LoginSession,
    contact_email,
)
from parley.server import Server
from parley.vocabulary import Role
from parley.web.auth import SESSION_COOKIE, Viewer, require_role, require_user, server_of, viewer_checked
from parley.web.client import client_address
from parley.web.forms import base_url
from parley.web.schemas import error_docs

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
    def of(cls, user: Account) -> UserOut:
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
    def of(cls, token: ApiTokenInfo) -> TokenOut:
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
    language: str | None = Field(None, max_length=16, description=(
        "An interpreter invited to a dialogue: the language they interpret into (required then, one of the "
        "dialogue's); accepting makes them its interpreter into it."))


class InvitationOut(BaseModel):
    id: int
    email: str
    role: Role
    state: str = Field(description="pending, accepted, revoked or expired")
    dialogue_id: int | None
    language: str | None = None
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
                   language=i.language, invited_by_id=i.invited_by_id, invited_by_name=view.invited_by_name,
                   created_at=i.created_at, expires_at=i.expires_at, accepted_at=i.accepted_at,
                   revoked_at=i.revoked_at)


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


def invite_link(request: Request, server: Server, token: str) -> str:
    return f"{base_url(request, server)}/invite/{token}"


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
async def api_me(user: Account = Depends(require_user)) -> UserOut:
    return UserOut.of(user)


@router.patch("/api/v1/me", response_model=UserOut, tags=["account"], summary="Change name and preferences",
              responses=errors(401, 403, 422))
async def api_update_me(body: ProfileIn, request: Request, user: Account = Depends(require_user)) -> UserOut:
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
                              user: Account = Depends(require_user)) -> Response:
    """Ends every other session of the user; this one stays logged in."""
    server = server_of(request)
    await server.accounts.change_password(user, current=body.current_password, new=body.new_password,
                                          keep_session=viewer.session, limiter=server.rate_limiter)
    return Response(status_code=204)


@router.get("/api/v1/me/tokens", response_model=TokenList, tags=["account"], summary="My API tokens",
            responses=errors(401))
async def api_tokens(request: Request, user: Account = Depends(require_user)) -> TokenList:
    tokens = await server_of(request).accounts.api_tokens(user)
    return TokenList(tokens=[TokenOut.of(t) for t in tokens])


@router.post("/api/v1/me/tokens", response_model=NewTokenOut, status_code=201, tags=["account"],
             summary="Create an API token", responses=errors(401, 403, 409, 422))
async def api_create_token(body: TokenIn, request: Request, viewer: Viewer = Depends(viewer_checked),
                           user: Account = Depends(require_user)) -> NewTokenOut:
    """Only from a logged-in session, so a leaked token cannot mint more tokens."""
    if viewer.via != "cookie":
        raise Forbidden("Create API tokens while logged in, not with another token.", code="session_required")
    new = await server_of(request).accounts.create_api_token(user, body.name)
    return NewTokenOut(token=TokenOut.of(new.token), secret=new.secret)


@router.delete("/api/v1/me/tokens/{token_id}", status_code=204, response_class=Response, tags=["account"],
               summary="Revoke an API token", responses=errors(401, 403, 404))
async def api_revoke_token(request: Request, token_id: int = Path(ge=1, le=MAX_ID),
                           user: Account = Depends(require_user)) -> Response:
    await server_of(request).accounts.revoke_api_token(user, token_id)
    return Response(status_code=204)


# --- invitations API ----------------------------------------------------------------------------


@router.post("/api/v1/invitations", response_model=NewInvitationOut, status_code=201, tags=["invitations"],
             summary="Invite someone by link", responses=errors(401, 403, 409, 422))
async def api_invite(body: InvitationIn, request: Request,
                     user: Account = Depends(require_inviter)) -> NewInvitationOut:
    """Organisers invite facilitators and interpreters; admins also organisers and admins."""
    server = server_of(request)
    new = await server.accounts.invite(user, email=body.email, role=body.role, dialogue_id=body.dialogue_id,
                                       language=body.language)
    return NewInvitationOut(invitation=InvitationOut.of(new.view), link=invite_link(request, server, new.token))


@router.get("/api/v1/invitations", response_model=InvitationList, tags=["invitations"],
            summary="Pending invitations", responses=errors(401, 403))
async def api_invitations(request: Request, user: Account = Depends(require_inviter)) -> InvitationList:
    """All pending invitations for admins; an organiser's own otherwise."""
    views = await server_of(request).accounts.invitations(user)
    return InvitationList(invitations=[InvitationOut.of(v) for v in views])


@router.delete("/api/v1/invitations/{invitation_id}", response_model=InvitationOut, tags=["invitations"],
               summary="Withdraw an invitation", responses=errors(401, 403, 404, 409))
async def api_revoke_invitation(request: Request, invitation_id: int = Path(ge=1, le=MAX_ID),
                                user: Account = Depends(require_inviter)) -> InvitationOut:
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
    user: Account = Depends(require_admin),
) -> UserListOut:
    result = await server_of(request).accounts.list_users(user, search=q, role=role, page=page, per_page=per_page)
    return UserListOut(users=[UserOut.of(u) for u in result.users], total=result.total, page=result.page,
                       per_page=result.per_page)


@router.get("/api/v1/users/{user_id}", response_model=UserOut, tags=["admin"], summary="One user",
            responses=errors(401, 403, 404))
async def api_user(request: Request, user_id: int = Path(ge=1, le=MAX_ID),
                   user: Account = Depends(require_admin)) -> UserOut:
    found = await server_of(request).accounts.user(user_id)
    if found is None:
        raise NotFound("There is no such user.", code="user_not_found")
    return UserOut.of(found)


@router.patch("/api/v1/users/{user_id}", response_model=UserOut, tags=["admin"],
              summary="Change a user's role or disable them", responses=errors(401, 403, 404, 409, 422))
async def api_update_user(body: UserPatchIn, request: Request, user_id: int = Path(ge=1, le=MAX_ID),
                          user: Account = Depends(require_admin)) -> UserOut:
    """Disabling ends the user's sessions; the last enabled admin cannot be demoted or disabled."""
    updated = await server_of(request).accounts.update_user(
        user, user_id,
        role=body.role if body.role is not None else UNSET,
        disabled=body.disabled if body.disabled is not None else UNSET,
    )
    return UserOut.of(updated)
