"""Registration as JSON under /api/v1: registering for a dialogue, the personal link, a
participant's own data (read, download, change consent, withdraw, delete), and the
registration list for a dialogue's organiser and facilitator. The pages are in
`parley.web.pages.registration`; the login and rate-limit helpers here serve both.

The rules live in `parley.handlers.registration`.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AliasPath, BaseModel, ConfigDict, Field

from parley.errors import Forbidden
from parley.handlers.accounts import Account, LoginSession
from parley.handlers.ratelimit import client_key
from parley.handlers.registration import (
    RegistrationInput,
    RegistrationOutcome,
)
from parley.reference import (
    AGE_GROUP_CODES,
    EDUCATION_CODES,
    GENDERS,
)
from parley.server import Server
from parley.vocabulary import DialogueState, Role
from parley.web.auth import SESSION_COOKIE, Viewer, require_user, server_of, viewer_checked
from parley.web.client import client_address
from parley.web.forms import base_url
from parley.web.routes.dialogues import errors
from parley.web.schemas import ViewOut

router = APIRouter()

TAGS: list[str | Enum] = ["registration"]
MY_TAGS: list[str | Enum] = ["my data"]


# --- JSON shapes --------------------------------------------------------------------------


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str = Field("", description="Required when not logged in; 1 to 120 characters.")
    email: str = Field("", description="Required when not logged in. Logged in, you register yourself.")
    preferred_language: str = Field(description="One of the dialogue's languages.")
    country: str = Field(description="ISO 3166-1 alpha-2 code of where you live.")
    age_group: str = Field(description="The survey's age groups: one of " + ", ".join(AGE_GROUP_CODES)
                           + " (unstated: prefer not to say).")
    gender: str = Field(description="One of " + ", ".join(c for c, _ in GENDERS) + ".")
    education: str = Field(description="The survey's education levels: one of " + ", ".join(EDUCATION_CODES)
                           + " (unstated: prefer not to say).")
    consent_participate: bool = Field(description="Must be true: you agree to take part.")
    consent_transcript: bool = Field(False, description="A transcript of the dialogue may be kept.")
    consent_quotes: bool = Field(False, description="What you say may be quoted (anonymously) in the analysis.")
    invite_code: str = Field("", description="Needed for invite-only dialogues.")

    def to_input(self) -> RegistrationInput:
        return RegistrationInput(**self.model_dump())


class ConsentOut(ViewOut):
    participate: bool = Field(validation_alias="consent_participate")
    transcript: bool = Field(validation_alias="consent_transcript")
    quotes: bool = Field(validation_alias="consent_quotes")


class MyRegistrationOut(ViewOut):
    whole = ("consent",)

    dialogue_id: int
    dialogue_title: str
    dialogue_state: DialogueState
    starts_at: datetime | None
    time_zone: str
    preferred_language: str
    country: str
    age_group: str | None = Field(description="Null for registrations made before the survey's age groups.")
    gender: str
    education: str | None = Field(description="Null for registrations made before education was asked.")
    consent: ConsentOut
    created_at: datetime
    updated_at: datetime


class RegistrationResultOut(ViewOut):
    registration: MyRegistrationOut
    created: bool = Field(description="False when an existing registration was updated.")
    user_id: int = Field(validation_alias=AliasPath("user", "id"))
    personal_link: str | None = Field(
        description="Opens your dialogues and data without a password. Keep it private. Null for staff accounts."
    )


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consent_transcript: bool
    consent_quotes: bool


class AccountDataOut(ViewOut):
    id: int = Field(validation_alias="user_id")
    display_name: str
    email: str
    role: Role
    locale: str | None
    created_at: datetime


class MyDataOut(ViewOut):
    whole = ("account",)

    account: AccountDataOut
    registrations: list[MyRegistrationOut]


class MyRegistrationsOut(BaseModel):
    items: list[MyRegistrationOut]


class PersonalLinkOut(BaseModel):
    personal_link: str


class AttendeeOut(ViewOut):
    user_id: int
    display_name: str
    email: str
    preferred_language: str
    consent_transcript: bool
    consent_quotes: bool
    registered_at: datetime


class DialogueRegistrationsOut(ViewOut):
    dialogue_id: int
    title: str
    capacity: int
    total: int
    by_language: dict[str, int]
    by_country: dict[str, int]
    by_age_group: dict[str, int]
    by_gender: dict[str, int]
    by_education: dict[str, int]
    consent_transcript: int
    consent_quotes: int
    attendees: list[AttendeeOut] | None = Field(description="Names and emails: the organiser and admins only.")


# --- helpers ------------------------------------------------------------------------------


def personal_link(request: Request, server: Server, token: str) -> str:
    return f"{base_url(request, server)}/p/{token}"


def limit_registrations(request: Request, server: Server) -> None:
    server.rate_limiter.hit(
        f"register:{client_key(client_address(request))}",
        limit=server.config.auth.registrations_per_hour,
        window=3600,
        code="rate_limited",
    )


async def start_login(request: Request, response: Response, server: Server, login: LoginSession) -> None:
    """Set the new session cookie, ending the one this browser had."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await server.accounts.end_session(old)
    response.set_cookie(
        SESSION_COOKIE,
        login.token,
        max_age=server.config.auth.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=server.config.server.secure_cookies,
        path="/",
    )


def clear_login(response: Response, server: Server) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=server.config.server.secure_cookies
    )


def session_hash(viewer: Viewer) -> str | None:
    return viewer.session.token_hash if viewer.session is not None else None


# --- API ----------------------------------------------------------------------------------


@router.post(
    "/api/v1/dialogues/{dialogue_id:int}/registrations",
    response_model=RegistrationResultOut,
    status_code=201,
    tags=TAGS,
    summary="Register for a dialogue (or update your registration)",
    responses={
        200: {"model": RegistrationResultOut, "description": "An existing registration was updated."},
        **errors(403, 404, 409, 422, 429),
    },
)
async def api_register(
    request: Request, dialogue_id: int, body: RegistrationIn, viewer: Viewer = Depends(viewer_checked)
) -> Response:
    server = server_of(request)
    limit_registrations(request, server)
    outcome = await server.registrations.register(dialogue_id, body.to_input(), viewer.user)
    result = _result_out(request, server, outcome)
    response = JSONResponse(result.model_dump(mode="json"), status_code=201 if outcome.created else 200)
    if outcome.session is not None:
        await start_login(request, response, server, outcome.session)
    return response


def _result_out(request: Request, server: Server, outcome: RegistrationOutcome) -> RegistrationResultOut:
    """The outcome, with the personal link (a URL on this server) its token opens."""
    link = personal_link(request, server, outcome.link_token) if outcome.link_token else None
    return RegistrationResultOut.of(outcome, personal_link=link)


@router.get(
    "/api/v1/dialogues/{dialogue_id:int}/registrations",
    response_model=DialogueRegistrationsOut,
    tags=TAGS,
    summary="Who registered (organiser: names; facilitator: aggregates only)",
    responses=errors(401, 403, 404),
)
async def api_dialogue_registrations(
    request: Request, dialogue_id: int, user: Account = Depends(require_user)
) -> DialogueRegistrationsOut:
    return DialogueRegistrationsOut.of(await server_of(request).registrations.for_dialogue(user, dialogue_id))


@router.get(
    "/api/v1/me/registrations",
    response_model=MyRegistrationsOut,
    tags=MY_TAGS,
    summary="My registrations",
    responses=errors(401),
)
async def api_mine(request: Request, user: Account = Depends(require_user)) -> MyRegistrationsOut:
    mine = await server_of(request).registrations.mine(user)
    return MyRegistrationsOut(items=[MyRegistrationOut.of(r) for r in mine])


@router.get(
    "/api/v1/me/registrations/{dialogue_id:int}",
    response_model=MyRegistrationOut,
    tags=MY_TAGS,
    summary="My registration for one dialogue",
    responses=errors(401, 404),
)
async def api_my_registration(
    request: Request, dialogue_id: int, user: Account = Depends(require_user)
) -> MyRegistrationOut:
    return MyRegistrationOut.of(await server_of(request).registrations.my_registration(user, dialogue_id))


@router.patch(
    "/api/v1/me/registrations/{dialogue_id:int}",
    response_model=MyRegistrationOut,
    tags=MY_TAGS,
    summary="Change my consent choices",
    responses=errors(401, 403, 404, 422),
)
async def api_consent(
    request: Request, dialogue_id: int, body: ConsentIn, user: Account = Depends(require_user)
) -> MyRegistrationOut:
    view = await server_of(request).registrations.update_consent(
        user, dialogue_id, transcript=body.consent_transcript, quotes=body.consent_quotes
    )
    return MyRegistrationOut.of(view)


@router.delete(
    "/api/v1/me/registrations/{dialogue_id:int}",
    status_code=204,
    response_class=Response,
    tags=MY_TAGS,
    summary="Withdraw from a dialogue (deletes the registration)",
    responses=errors(401, 403, 404),
)
async def api_withdraw(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> Response:
    await server_of(request).registrations.withdraw(user, dialogue_id)
    return Response(status_code=204)


@router.get(
    "/api/v1/me/data",
    response_model=MyDataOut,
    tags=MY_TAGS,
    summary="Everything Parley holds about me (download)",
    responses=errors(401),
)
async def api_my_data(request: Request, user: Account = Depends(require_user)) -> Response:
    data = MyDataOut.of(await server_of(request).registrations.my_data(user))
    return JSONResponse(
        data.model_dump(mode="json"),
        headers={"Content-Disposition": 'attachment; filename="parley-my-data.json"', "Cache-Control": "no-store"},
    )


@router.delete(
    "/api/v1/me/data",
    status_code=204,
    response_class=Response,
    tags=MY_TAGS,
    summary="Delete my registrations, and my account if I am a participant",
    responses=errors(401, 403),
)
async def api_delete_my_data(request: Request, user: Account = Depends(require_user)) -> Response:
    server = server_of(request)
    gone = await server.registrations.delete_all(user)
    response = Response(status_code=204)
    if gone:
        clear_login(response, server)
    return response


@router.get(
    "/api/v1/me/personal-link",
    response_model=PersonalLinkOut,
    tags=MY_TAGS,
    summary="My personal link (participants)",
    responses=errors(401, 403),
)
async def api_personal_link(request: Request, user: Account = Depends(require_user)) -> PersonalLinkOut:
    server = server_of(request)
    if user.role != Role.PARTICIPANT or user.has_password:
        raise Forbidden("Only participants have personal links.", code="participants_only")
    return PersonalLinkOut(personal_link=personal_link(request, server, server.registrations.link_token(user)))


@router.post(
    "/api/v1/me/personal-link/revoke",
    response_model=PersonalLinkOut,
    tags=MY_TAGS,
    summary="Void my old personal links and other logins; get a new link",
    responses=errors(401, 403),
)
async def api_revoke_link(
    request: Request, viewer: Viewer = Depends(viewer_checked), user: Account = Depends(require_user)
) -> PersonalLinkOut:
    server = server_of(request)
    token = await server.registrations.revoke_links(user, keep_session_token_hash=session_hash(viewer))
    return PersonalLinkOut(personal_link=personal_link(request, server, token))
