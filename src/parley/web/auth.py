"""Who is asking: session cookies, bearer tokens, roles and CSRF.

Browsers log in with a session cookie (HttpOnly, SameSite=Lax) and must echo a CSRF token
on every unsafe request (form field ``csrf_token`` or header ``X-CSRF-Token``); before login
the token is a double-submit cookie. Integrations send ``Authorization: Bearer <token>``
and need no CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from parley.errors import Forbidden, Unauthenticated
from parley.handlers.accounts import Account, ActiveSession
from parley.security import new_token, same
from parley.server import Server
from parley.vocabulary import STAFF_ROLES, Role

SESSION_COOKIE = "parley_session"
CSRF_COOKIE = "parley_csrf"
LOCALE_COOKIE = "parley_locale"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Viewer:
    user: Account | None
    session: ActiveSession | None
    via: Literal["cookie", "token", "none"]
    csrf_token: str
    # Set when the CSRF cookie must be (re)issued with the response.
    new_csrf_cookie: bool = False

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.role in STAFF_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.user is not None and (self.user.role in roles or self.user.role == Role.ADMIN)


def server_of(request: HTTPConnection) -> Server:
    server: Server = request.app.state.server
    return server


async def get_viewer(request: Request) -> Viewer:
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    server = server_of(request)
    viewer: Viewer
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = await server.accounts.resolve_api_token(header[7:].strip())
        if user is None:
            raise Unauthenticated("The API token is not valid.", code="bad_token")
        viewer = Viewer(user=user, session=None, via="token", csrf_token="")
    else:
        session = None
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            session = await server.accounts.resolve_session(cookie)
        if session is not None:
            viewer = Viewer(user=session.user, session=session, via="cookie", csrf_token=session.csrf_token)
        else:
            csrf = request.cookies.get(CSRF_COOKIE)
            viewer = Viewer(
                user=None, session=None, via="none", csrf_token=csrf or new_token(24), new_csrf_cookie=not csrf
            )
    request.state.viewer = viewer
    return viewer


async def check_csrf(request: Request, viewer: Viewer) -> None:
    """Raise unless an unsafe cookie-authenticated request echoes the CSRF token."""
    if request.method in SAFE_METHODS or viewer.via == "token":
        return
    if viewer.via == "none" and request.headers.get("content-type", "").startswith("application/json"):
        # Cross-site pages cannot send JSON without a CORS preflight, which Parley never
        # grants, so anonymous API calls (login, registration) need no token.
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or viewer.new_csrf_cookie or not same(sent, viewer.csrf_token):
        raise Forbidden("The form expired or came from another site. Reload the page and try again.",
                        code="csrf_failed")


async def viewer_checked(request: Request, viewer: Viewer = Depends(get_viewer)) -> Viewer:
    """The viewer, with CSRF enforced for unsafe methods: the default for every route."""
    await check_csrf(request, viewer)
    return viewer


async def require_user(viewer: Viewer = Depends(viewer_checked)) -> Account:
    if viewer.user is None:
        raise Unauthenticated("Log in to continue.", code="login_required")
    return viewer.user


async def require_staff(user: Account = Depends(require_user)) -> Account:
    if user.role not in STAFF_ROLES:
        raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")
    return user


def require_role(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency factory: the user must hold one of ``roles`` (admins always pass)."""

    async def dependency(user: Account = Depends(require_user)) -> Account:
        if user.role not in roles and user.role != Role.ADMIN:
            raise Forbidden("Your role does not allow this.", code="role_required")
        return user

    return dependency
