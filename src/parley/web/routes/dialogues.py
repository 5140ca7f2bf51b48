"""Dialogues as JSON under /api/v1: the public listing, one dialogue, creating and editing,
state changes (the organisers' overview is `routes.overview`). The pages over the same calls are in
`parley.web.pages.dialogues`.

The rules live in `parley.handlers.dialogues`; this module translates between JSON and those
calls. The error shapes (`errors`) are shared with `routes.registration`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from parley.handlers.accounts import Account
from parley.handlers.dialogues import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    DEFAULT_QUESTIONS,
    DURATION_MAX,
    DURATION_MIN,
    Action,
    DialogueInput,
    DialogueView,
    Listing,
    ListingQuery,
)
from parley.reference import (
    country_name,
)
from parley.vocabulary import DialogueState, Role, Visibility
from parley.web.auth import Viewer, require_role, require_staff, server_of, viewer_checked
from parley.web.forms import base_url
from parley.web.schemas import ViewOut, error_docs
from parley.web.templating import lang_of

router = APIRouter()

TAGS: list[str | Enum] = ["dialogues"]
require_organiser = require_role(Role.ORGANISER)


# --- error shapes and messages (also used by routes.registration) ----------------------------


_ERROR_TEXT = {
    401: "Not logged in.",
    403: "Not allowed (role, invitation, or missing CSRF token).",
    404: "No such dialogue (or not visible to you).",
    409: "Conflicts with the dialogue's state (full, closed, wrong transition, email known).",
    422: "Some fields are not valid; `fields` says which.",
    429: "Too many attempts; see Retry-After.",
}


errors = error_docs(_ERROR_TEXT)


# --- JSON shapes --------------------------------------------------------------------------


class PersonOut(ViewOut):
    id: int
    display_name: str


class InterpreterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int
    language: str = Field(description="The language the interpreter speaks into; one of the dialogue's.")


class InterpreterOut(ViewOut):
    user_id: int
    display_name: str
    language: str


_STARTS_DOC = (
    "When the dialogue starts. Without an offset (`2026-07-01T14:00`) it is a local time in "
    "`time_zone`; with one it is that instant. Stored in UTC."
)


class DialogueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(description="3 to 200 characters.")
    description: str = ""
    questions: list[str] | None = Field(None, description="1 to 12 questions; default: UN75's three.")
    starts_at: datetime | None = Field(None, description=_STARTS_DOC)
    time_zone: str = Field("UTC", description="IANA time zone, e.g. `Africa/Nairobi`.")
    duration_minutes: int = Field(90, description=f"{DURATION_MIN} to {DURATION_MAX}.")
    capacity: int = Field(12, description=f"{CAPACITY_MIN} to {CAPACITY_MAX} participants.")
    languages: list[str] = Field(default_factory=lambda: ["en"], description="BCP 47 codes, e.g. `fr`, `pt-BR`.")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code of the host country.")
    facilitator_id: int | None = Field(None, description="A user with the facilitator role.")
    interpreters: list[InterpreterIn] = Field(default_factory=list)
    visibility: Visibility = Visibility.PUBLIC

    def to_input(self) -> DialogueInput:
        return DialogueInput(
            title=self.title,
            description=self.description,
            questions=self.questions if self.questions is not None else DEFAULT_QUESTIONS,
            starts_at=self.starts_at,
            time_zone=self.time_zone,
            duration_minutes=self.duration_minutes,
            capacity=self.capacity,
            languages=self.languages,
            country=self.country or None,
            facilitator_id=self.facilitator_id,
            interpreters=[(i.user_id, i.language) for i in self.interpreters],
            visibility=self.visibility.value,
        )


class DialoguePatch(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    description: str | None = None
    questions: list[str] | None = None
    starts_at: datetime | None = Field(None, description=_STARTS_DOC)
    time_zone: str | None = None
    duration_minutes: int | None = None
    capacity: int | None = None
    languages: list[str] | None = None
    country: str | None = None
    facilitator_id: int | None = None
    interpreters: list[InterpreterIn] | None = None
    visibility: Visibility | None = None

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "interpreters":
                value = [(i.user_id, i.language) for i in value or []]
            elif name == "visibility":
                value = (value or Visibility.PUBLIC).value
            elif name in ("title", "description", "time_zone") and value is None:
                value = ""
            elif name in ("questions", "languages") and value is None:
                value = []
            elif name in ("duration_minutes", "capacity") and value is None:
                value = ""
            out[name] = value
        return out


class PermissionsOut(ViewOut):
    can_edit: bool
    can_publish: bool
    can_cancel: bool
    can_start: bool
    can_end: bool
    can_submit_report: bool
    can_see_registrations: bool
    can_see_names: bool
    can_register: bool
    is_registered: bool


def _minutes(value: object) -> object:
    """A local time to the minute, as the forms write it."""
    return value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, datetime) else value


class DialogueOut(ViewOut):
    id: int
    title: str
    description: str
    questions: list[str]
    state: DialogueState
    visibility: Visibility
    starts_at: datetime | None = Field(description="UTC.")
    ends_at: datetime | None
    starts_local: Annotated[str, BeforeValidator(_minutes)] | None = Field(
        description="The start in the dialogue's time zone, `YYYY-MM-DDTHH:MM`.")
    time_zone: str
    duration_minutes: int
    capacity: int
    registered: int
    seats_left: int
    languages: list[str]
    country: str | None
    organiser: PersonOut | None
    facilitator: PersonOut | None
    interpreters: list[InterpreterOut]
    invite_code: str | None = Field(description="Only for the dialogue's organiser and admins.")
    register_url: str = Field(description="The registration link to share (with the invite code when needed).")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    report_submitted_at: datetime | None
    permissions: PermissionsOut


class DialogueSummaryOut(ViewOut):
    id: int
    title: str
    description: str
    state: DialogueState
    visibility: Visibility
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    capacity: int
    registered: int
    seats_left: int
    fill_percent: int
    languages: list[str]
    country: str | None
    facilitator_name: str | None
    ended_at: datetime | None
    report_submitted_at: datetime | None


class CountryCountOut(ViewOut):
    country: str
    name: str
    dialogues: int


class ListingFiltersOut(ViewOut):
    q: str
    language: str
    country: str
    date_from: str
    date_to: str
    tz: str = Field(validation_alias="time_zone")


class ListingOut(ViewOut):
    items: list[DialogueSummaryOut]
    total: int
    page: int
    per_page: int
    pages: int
    filters: ListingFiltersOut = Field(validation_alias="query")
    countries: list[CountryCountOut] = Field(
        description="Dialogues held (ended or reported) per host country, under the same filters except `q`."
    )


class StaffChoicesOut(ViewOut):
    facilitators: list[PersonOut]
    interpreters: list[PersonOut]


def register_path(view: DialogueView) -> str:
    path = f"/dialogues/{view.id}/register"
    if view.visibility == Visibility.INVITE_ONLY and view.invite_code:
        path += "?" + urlencode({"code": view.invite_code})
    return path


def register_url(request: Request, view: DialogueView) -> str:
    """The registration link to share, as the API gives it."""
    return base_url(request, server_of(request)) + register_path(view)


def listing_out(request: Request, listing: Listing) -> ListingOut:
    """The listing, with each host country's name in the reader's language."""
    code = lang_of(request).code
    countries = [CountryCountOut.of(c, name=country_name(c.country, code)) for c in listing.countries]
    return ListingOut.of(listing, countries=countries)


def listing_query(
    request: Request,
    q: str,
    language: str,
    country: str,
    date_from: str,
    date_to: str,
    page: int,
    per_page: int,
    tz: str,
) -> ListingQuery:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    zone = tz or (viewer.user.time_zone if viewer is not None and viewer.user is not None else None) or "UTC"
    return ListingQuery(
        q=q,
        language=language,
        country=country,
        date_from=date_from,
        date_to=date_to,
        page=page,
        per_page=per_page,
        time_zone=zone,
    )


# --- API ----------------------------------------------------------------------------------


@router.get(
    "/api/v1/dialogues",
    response_model=ListingOut,
    tags=TAGS,
    summary="Upcoming public dialogues",
    responses=errors(422),
)
async def api_listing(
    request: Request,
    q: str = Query("", max_length=200, description="Words in the title or description."),
    language: str = Query("", max_length=16, description="Only dialogues in this language."),
    country: str = Query("", max_length=2, description="ISO 3166-1 alpha-2 host country."),
    date_from: str = Query("", max_length=10, description="YYYY-MM-DD, in `tz`."),
    date_to: str = Query("", max_length=10, description="YYYY-MM-DD (inclusive), in `tz`."),
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(20, ge=1, le=100),
    tz: str = Query("", max_length=64, description="Time zone of the dates; default yours, or UTC."),
    viewer: Viewer = Depends(viewer_checked),
) -> ListingOut:
    server = server_of(request)
    query = listing_query(request, q, language, country, date_from, date_to, page, per_page, tz)
    return listing_out(request, await server.dialogues.listing(query))


@router.get(
    "/api/v1/dialogues/staff",
    response_model=StaffChoicesOut,
    tags=TAGS,
    summary="Facilitators and interpreters to choose from",
    responses=errors(401, 403),
)
async def api_staff(request: Request, user: Account = Depends(require_organiser)) -> StaffChoicesOut:
    return StaffChoicesOut.of(await server_of(request).dialogues.staff_choices(user))


@router.post(
    "/api/v1/dialogues",
    response_model=DialogueOut,
    status_code=201,
    tags=TAGS,
    summary="Create a dialogue (as a draft)",
    responses=errors(401, 403, 422),
)
async def api_create(request: Request, body: DialogueIn, user: Account = Depends(require_organiser)) -> DialogueOut:
    view = await server_of(request).dialogues.create(user, body.to_input())
    return DialogueOut.of(view, register_url=register_url(request, view))


@router.get(
    "/api/v1/dialogues/{dialogue_id:int}",
    response_model=DialogueOut,
    tags=TAGS,
    summary="One dialogue",
    responses=errors(404),
)
async def api_get(
    request: Request,
    dialogue_id: int,
    code: str = Query("", max_length=64, description="The invite code, for invite-only dialogues."),
    viewer: Viewer = Depends(viewer_checked),
) -> DialogueOut:
    view = await server_of(request).dialogues.get(viewer.user, dialogue_id, invite_code=code)
    return DialogueOut.of(view, register_url=register_url(request, view))


@router.patch(
    "/api/v1/dialogues/{dialogue_id:int}",
    response_model=DialogueOut,
    tags=TAGS,
    summary="Change a dialogue",
    responses=errors(401, 403, 404, 409, 422),
)
async def api_update(
    request: Request, dialogue_id: int, body: DialoguePatch, user: Account = Depends(require_staff)
) -> DialogueOut:
    view = await server_of(request).dialogues.update(user, dialogue_id, body.changes())
    return DialogueOut.of(view, register_url=register_url(request, view))


@router.post(
    "/api/v1/dialogues/{dialogue_id:int}/invite-code",
    response_model=DialogueOut,
    tags=TAGS,
    summary="Replace the invite code (links shared before stop working)",
    responses=errors(401, 403, 404),
)
async def api_regenerate(request: Request, dialogue_id: int, user: Account = Depends(require_staff)) -> DialogueOut:
    view = await server_of(request).dialogues.regenerate_invite_code(user, dialogue_id)
    return DialogueOut.of(view, register_url=register_url(request, view))


_ACTION_SUMMARY = {
    Action.PUBLISH: "Publish a draft (scheduled; open for registration)",
    Action.CANCEL: "Take a scheduled dialogue back to draft",
    Action.START: "Start a scheduled dialogue (live)",
    Action.END: "End a live dialogue",
    Action.SUBMIT_REPORT: "Mark the facilitator's report as submitted",
}


def _action_route(action: Action) -> Callable[..., Any]:
    async def endpoint(request: Request, dialogue_id: int, user: Account = Depends(require_staff)) -> DialogueOut:
        view = await server_of(request).dialogues.transition(user, dialogue_id, action)
        return DialogueOut.of(view, register_url=register_url(request, view))

    endpoint.__name__ = f"api_{action.name.lower()}"
    return endpoint


for _action in Action:
    router.add_api_route(
        f"/api/v1/dialogues/{{dialogue_id:int}}/{_action.value}",
        _action_route(_action),
        methods=["POST"],
        response_model=DialogueOut,
        tags=TAGS,
        summary=_ACTION_SUMMARY[_action],
        responses=errors(401, 403, 404, 409, 422),
    )
