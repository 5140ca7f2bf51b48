"""Dialogues over HTTP: the public listing, a dialogue's page, creating and editing,
state changes and the organisers' overview, as JSON under /api/v1 and as pages.

The rules live in `parley.handlers.dialogues`; this module translates between HTTP (JSON,
forms, redirects) and those calls. Shared pieces for `routes.registration` (error shapes,
form helpers, the per-field messages) are here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from parley.errors import ClientError, Forbidden
from parley.handlers.accounts import normalise_email, uses_first_password
from parley.handlers.dialogues import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    DEFAULT_QUESTIONS,
    DURATION_MAX,
    DURATION_MIN,
    Action,
    DialogueInput,
    DialogueSummary,
    DialogueView,
    Listing,
    ListingQuery,
    Overview,
    StaffChoices,
)
from parley.handlers.dialogues import validate as validate_dialogue
from parley.reference import (
    UN_LANGUAGES,
    countries,
    country_name,
    is_time_zone,
    language_label,
    time_zones,
    un_languages,
)
from parley.server import Server
from parley.storage.models import DialogueState, Role, User, Visibility
from parley.web.auth import Viewer, require_role, require_staff, server_of, viewer_checked
from parley.web.routes.accounts import invite_link
from parley.web.schemas import error_docs
from parley.web.templating import lang_of, render

router = APIRouter()

TAGS: list[str | Enum] = ["dialogues"]
require_organiser = require_role(Role.ORGANISER)


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


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


FIELD_MESSAGES: dict[tuple[str, str], str] = {
    ("title", "length"): N_("Use 3 to 200 characters."),
    ("description", "length"): N_("Use at most 5,000 characters."),
    ("questions", "length"): N_("Each question needs 3 to 500 characters."),
    ("questions", "count"): N_("Give 1 to 12 questions, one per line."),
    ("starts_at", "past"): N_("Choose a time in the future."),
    ("starts_at", "required"): N_("Choose when the dialogue starts."),
    ("starts_at", "nonexistent_time"): N_(
        "That time does not exist in this time zone (the clocks change). Choose another."
    ),
    ("starts_at", "locked_live"): N_("The dialogue has started; its start time cannot change."),
    ("starts_at", "out_of_range"): N_("Choose a date between 2000 and 2200."),
    ("duration_minutes", "range"): N_("Choose between 15 and 480 minutes."),
    ("capacity", "range"): N_("Choose between 2 and 500 places."),
    ("capacity", "below_registrations"): N_("More people have already registered than that."),
    ("languages", "count"): N_("Choose 1 to 12 languages."),
    ("languages", "unknown_language"): N_("Use language codes such as pt, sw or pt-BR."),
    ("languages", "in_use"): N_("A registered participant chose a language you removed."),
    ("interpreters", "count"): N_("At most 24 interpreters."),
    ("interpreters", "invalid"): N_("Choose both the interpreter and their language."),
    ("display_name", "length"): N_("Enter a name of 1 to 120 characters."),
    ("email", "invalid"): N_("Enter a valid email address."),
    ("email", "taken"): N_("This email already has a Parley account: open your personal link to register."),
    ("email", "mismatch"): N_("You are logged in: you can only register yourself."),
    ("consent_participate", "required"): N_("You need to agree to take part to register."),
    ("date_to", "before_start"): N_("The end date is before the start date."),
}
CODE_MESSAGES: dict[str, str] = {
    "unknown_country": N_("Choose a country from the list."),
    "unknown_time_zone": N_("Choose a time zone from the list, such as Europe/Paris."),
    "unknown_language": N_("Choose a language from the list."),
    "not_facilitator": N_("Choose a facilitator from the list."),
    "not_interpreter": N_("Choose interpreters from the list."),
    "language_not_in_dialogue": N_("An interpreter's language must be one of the dialogue's languages."),
    "not_offered": N_("Choose one of the dialogue's languages."),
    "invalid_date": N_("Use a date like 2026-06-30."),
    "required": N_("This is required."),
    "range": N_("This number is out of range."),
    "length": N_("This is too short or too long."),
    "count": N_("Too few or too many."),
}
FALLBACK_MESSAGE = N_("This value is not valid.")


def field_messages(request: Request, exc: ClientError) -> dict[str, str]:
    """Per-field sentences in the viewer's language, for re-rendering a form."""
    gettext = lang_of(request).gettext
    out: dict[str, str] = {}
    for name, code in exc.fields.items():
        message = FIELD_MESSAGES.get((name, code)) or CODE_MESSAGES.get(code) or FALLBACK_MESSAGE
        out[name] = gettext(message)
    if not out:
        out["_form"] = gettext(exc.message)
    return out


def form_str(form: Any, name: str, limit: int = 10_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def form_list(form: Any, name: str, limit: int = 1000) -> list[str]:
    return [v[:limit] for v in form.getlist(name)[:100] if isinstance(v, str)]


def base_url(request: Request, server: Server) -> str:
    return server.config.server.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page_helpers(request: Request) -> dict[str, Any]:
    """Functions templates use to name countries and languages in the reader's language."""
    code = lang_of(request).code
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    user_tz = viewer.user.time_zone if viewer is not None and viewer.user is not None else None
    return {
        "country_name": lambda c: country_name(c, code) if c else "",
        "lang_label": lambda c: language_label(c, code),
        "viewer_tz": user_tz if user_tz and is_time_zone(user_tz) else None,
        "State": DialogueState,
    }


# --- JSON shapes --------------------------------------------------------------------------


class PersonOut(BaseModel):
    id: int
    display_name: str


class InterpreterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int
    language: str = Field(description="The language the interpreter speaks into; one of the dialogue's.")


class InterpreterOut(BaseModel):
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


class PermissionsOut(BaseModel):
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


class DialogueOut(BaseModel):
    id: int
    title: str
    description: str
    questions: list[str]
    state: DialogueState
    visibility: Visibility
    starts_at: datetime | None = Field(description="UTC.")
    ends_at: datetime | None
    starts_local: str | None = Field(description="The start in the dialogue's time zone, `YYYY-MM-DDTHH:MM`.")
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


class DialogueSummaryOut(BaseModel):
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


class CountryCountOut(BaseModel):
    country: str
    name: str
    dialogues: int


class ListingFiltersOut(BaseModel):
    q: str
    language: str
    country: str
    date_from: str
    date_to: str
    tz: str


class ListingOut(BaseModel):
    items: list[DialogueSummaryOut]
    total: int
    page: int
    per_page: int
    pages: int
    filters: ListingFiltersOut
    countries: list[CountryCountOut] = Field(
        description="Dialogues held (ended or reported) per host country, under the same filters except `q`."
    )


class StaffChoicesOut(BaseModel):
    facilitators: list[PersonOut]
    interpreters: list[PersonOut]


class OwedReportOut(BaseModel):
    dialogue: DialogueSummaryOut
    days_since_end: int
    overdue: bool


class ReportGapOut(BaseModel):
    held: int = Field(description="Dialogues that ended (with or without a report).")
    received: int
    missing: int
    percent: int | None = Field(description="Share of held dialogues with a report; null when none ended yet.")
    overdue: int = Field(description="Reports still missing after `due_days` days.")
    due_days: int


class OverviewOut(BaseModel):
    scope: Literal["all", "mine"]
    counts: dict[str, int]
    reports: ReportGapOut
    live: list[DialogueSummaryOut]
    scheduled: list[DialogueSummaryOut]
    this_week: list[DialogueSummaryOut]
    drafts: list[DialogueSummaryOut]
    awaiting_report: list[OwedReportOut] = Field(description="Oldest first.")
    reported: list[DialogueSummaryOut]
    truncated: list[str] = Field(description="Lists cut at 100 entries.")


def register_path(view: DialogueView) -> str:
    path = f"/dialogues/{view.id}/register"
    if view.visibility == Visibility.INVITE_ONLY and view.invite_code:
        path += "?" + urlencode({"code": view.invite_code})
    return path


def dialogue_out(request: Request, view: DialogueView) -> DialogueOut:
    local = view.starts_local
    p = view.permissions
    return DialogueOut(
        id=view.id,
        title=view.title,
        description=view.description,
        questions=view.questions,
        state=view.state,
        visibility=view.visibility,
        starts_at=view.starts_at,
        ends_at=view.ends_at,
        starts_local=local.strftime("%Y-%m-%dT%H:%M") if local else None,
        time_zone=view.time_zone,
        duration_minutes=view.duration_minutes,
        capacity=view.capacity,
        registered=view.registered,
        seats_left=view.seats_left,
        languages=view.languages,
        country=view.country,
        organiser=PersonOut(id=view.organiser.id, display_name=view.organiser.display_name) if view.organiser else None,
        facilitator=(
            PersonOut(id=view.facilitator.id, display_name=view.facilitator.display_name) if view.facilitator else None
        ),
        interpreters=[
            InterpreterOut(user_id=i.user_id, display_name=i.display_name, language=i.language)
            for i in view.interpreters
        ],
        invite_code=view.invite_code,
        register_url=base_url(request, server_of(request)) + register_path(view),
        created_at=view.created_at,
        updated_at=view.updated_at,
        published_at=view.published_at,
        started_at=view.started_at,
        ended_at=view.ended_at,
        report_submitted_at=view.report_submitted_at,
        permissions=PermissionsOut(
            can_edit=p.can_edit,
            can_publish=p.can_publish,
            can_cancel=p.can_cancel,
            can_start=p.can_start,
            can_end=p.can_end,
            can_submit_report=p.can_submit_report,
            can_see_registrations=p.can_see_registrations,
            can_see_names=p.can_see_names,
            can_register=p.can_register,
            is_registered=p.is_registered,
        ),
    )


def summary_out(x: DialogueSummary) -> DialogueSummaryOut:
    return DialogueSummaryOut(
        id=x.id,
        title=x.title,
        description=x.description,
        state=x.state,
        visibility=x.visibility,
        starts_at=x.starts_at,
        time_zone=x.time_zone,
        duration_minutes=x.duration_minutes,
        capacity=x.capacity,
        registered=x.registered,
        seats_left=x.seats_left,
        fill_percent=x.fill_percent,
        languages=x.languages,
        country=x.country,
        facilitator_name=x.facilitator_name,
        ended_at=x.ended_at,
        report_submitted_at=x.report_submitted_at,
    )


def listing_out(request: Request, listing: Listing) -> ListingOut:
    code = lang_of(request).code
    q = listing.query
    return ListingOut(
        items=[summary_out(x) for x in listing.items],
        total=listing.total,
        page=listing.page,
        per_page=listing.per_page,
        pages=listing.pages,
        filters=ListingFiltersOut(
            q=q.q, language=q.language, country=q.country, date_from=q.date_from, date_to=q.date_to, tz=q.time_zone
        ),
        countries=[
            CountryCountOut(country=c.country, name=country_name(c.country, code), dialogues=c.dialogues)
            for c in listing.countries
        ],
    )


def overview_out(o: Overview) -> OverviewOut:
    return OverviewOut(
        scope="mine" if o.scope == "mine" else "all",
        counts={state.value: n for state, n in o.counts.items()},
        reports=ReportGapOut(
            held=o.held,
            received=o.reports_received,
            missing=o.reports_missing,
            percent=o.report_percent,
            overdue=o.overdue,
            due_days=o.report_due_days,
        ),
        live=[summary_out(x) for x in o.live],
        scheduled=[summary_out(x) for x in o.scheduled],
        this_week=[summary_out(x) for x in o.this_week],
        drafts=[summary_out(x) for x in o.drafts],
        awaiting_report=[
            OwedReportOut(dialogue=summary_out(r.dialogue), days_since_end=r.days_since_end, overdue=r.overdue)
            for r in o.awaiting_report
        ],
        reported=[summary_out(x) for x in o.reported],
        truncated=o.truncated,
    )


def staff_out(choices: StaffChoices) -> StaffChoicesOut:
    return StaffChoicesOut(
        facilitators=[PersonOut(id=p.id, display_name=p.display_name) for p in choices.facilitators],
        interpreters=[PersonOut(id=p.id, display_name=p.display_name) for p in choices.interpreters],
    )


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
async def api_staff(request: Request, user: User = Depends(require_organiser)) -> StaffChoicesOut:
    return staff_out(await server_of(request).dialogues.staff_choices(user))


@router.post(
    "/api/v1/dialogues",
    response_model=DialogueOut,
    status_code=201,
    tags=TAGS,
    summary="Create a dialogue (as a draft)",
    responses=errors(401, 403, 422),
)
async def api_create(request: Request, body: DialogueIn, user: User = Depends(require_organiser)) -> DialogueOut:
    view = await server_of(request).dialogues.create(user, body.to_input())
    return dialogue_out(request, view)


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
    return dialogue_out(request, view)


@router.patch(
    "/api/v1/dialogues/{dialogue_id:int}",
    response_model=DialogueOut,
    tags=TAGS,
    summary="Change a dialogue",
    responses=errors(401, 403, 404, 409, 422),
)
async def api_update(
    request: Request, dialogue_id: int, body: DialoguePatch, user: User = Depends(require_staff)
) -> DialogueOut:
    view = await server_of(request).dialogues.update(user, dialogue_id, body.changes())
    return dialogue_out(request, view)


@router.post(
    "/api/v1/dialogues/{dialogue_id:int}/invite-code",
    response_model=DialogueOut,
    tags=TAGS,
    summary="Replace the invite code (links shared before stop working)",
    responses=errors(401, 403, 404),
)
async def api_regenerate(request: Request, dialogue_id: int, user: User = Depends(require_staff)) -> DialogueOut:
    view = await server_of(request).dialogues.regenerate_invite_code(user, dialogue_id)
    return dialogue_out(request, view)


_ACTION_SUMMARY = {
    Action.PUBLISH: "Publish a draft (scheduled; open for registration)",
    Action.CANCEL: "Take a scheduled dialogue back to draft",
    Action.START: "Start a scheduled dialogue (live)",
    Action.END: "End a live dialogue",
    Action.SUBMIT_REPORT: "Mark the facilitator's report as submitted",
}


def _action_route(action: Action) -> Callable[..., Any]:
    async def endpoint(request: Request, dialogue_id: int, user: User = Depends(require_staff)) -> DialogueOut:
        view = await server_of(request).dialogues.transition(user, dialogue_id, action)
        return dialogue_out(request, view)

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


@router.get(
    "/api/v1/overview",
    response_model=OverviewOut,
    tags=["overview"],
    summary="Dialogues by state, owed reports, registrations against capacity",
    responses=errors(401, 403, 422),
)
async def api_overview(
    request: Request,
    scope: Literal["all", "mine"] | None = Query(None, description="Organisers and admins: all (default) or mine."),
    user: User = Depends(require_staff),
) -> OverviewOut:
    return overview_out(await server_of(request).dialogues.overview(user, scope or ""))


# --- pages --------------------------------------------------------------------------------

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


def flash_of(request: Request, done: Mapping[str, str] = DONE) -> str:
    message = done.get(request.query_params.get("done", ""))
    return lang_of(request).gettext(message) if message else ""


def _int_param(value: str, default: int, high: int) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 6:
        return default
    return min(max(1, int(text)), high)


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
        _int_param(params.get("page", ""), 1, 10_000),
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


def _can_organise(user: User | None) -> bool:
    return user is not None and user.role in (Role.ORGANISER, Role.ADMIN)


async def _form_page(
    request: Request,
    user: User,
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
        "country_choices": countries(code),
        "time_zones": time_zones(),
        "facilitators": choices.facilitators,
        "interpreters": choices.interpreters,
        "limits": {"capacity": (CAPACITY_MIN, CAPACITY_MAX), "duration": (DURATION_MIN, DURATION_MAX)},
        **page_helpers(request),
    }
    return render(request, "dialogues/form.html", ctx, status=status)


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
    ctx = {**_detail_context(request, server, view, flash=flash_of(request)), "register_url": register,
           "just_invited": request.query_params.get("done") == "invitation"}
    return render(request, "dialogues/detail.html", ctx)


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
    overview = await server_of(request).dialogues.overview(viewer.user, scope)
    ctx = {"o": overview, "can_create": _can_organise(viewer.user), "flash": flash_of(request),
           "first_password": uses_first_password(viewer.user), **page_helpers(request)}
    return render(request, "dialogues/overview.html", ctx)
