"""Dialogues: creation and editing, the state machine, the public listing and the
organisers' overview.

    draft --publish--> scheduled --start--> live --end--> ended --submit-report--> report_submitted
      ^                    |
      +------cancel--------+

Every change is stored first, then announced on ``dialogue:<id>``
(``dialogue.created`` / ``dialogue.updated`` / ``dialogue.state``). The dialogue's workspace
channel is re-synced after commit whenever its title or staff change, so its members are
always the organiser, the facilitator and the interpreters.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.reference import COUNTRY_CODES, N_, is_time_zone, normalise_language
from parley.security import new_token, same
from parley.storage.database import Database
from parley.storage.models import Dialogue, DialogueState, Registration, Role, User, Visibility
from parley.storage.stores import dialogues as store
from parley.storage.stores import registration as reg_store

if TYPE_CHECKING:
    from parley.handlers.workspace import Workspace

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS: tuple[str, ...] = (
    N_("What future do we want to create?"),
    N_("Are we on track to get there?"),
    N_("What action is needed to close the gap?"),
)

TITLE_MIN, TITLE_MAX = 3, 200
DESCRIPTION_MAX = 5000
QUESTION_MIN, QUESTION_MAX, QUESTIONS_MAX = 3, 500, 12
LANGUAGES_MAX = 12
INTERPRETERS_MAX = 24
CAPACITY_MIN, CAPACITY_MAX = 2, 500
DURATION_MIN, DURATION_MAX = 15, 480
PER_PAGE_MAX = 100
PAGE_MAX = 10_000
ID_MAX = 2**31 - 1
# A facilitator's report is expected within this many days after the dialogue ends.
REPORT_DUE_DAYS = 7
OVERVIEW_LIST_MAX = 100

OPEN_STATES = frozenset({DialogueState.SCHEDULED, DialogueState.LIVE})
HELD_STATES = frozenset({DialogueState.ENDED, DialogueState.REPORT_SUBMITTED})
EDITABLE_STATES = frozenset({DialogueState.DRAFT, DialogueState.SCHEDULED, DialogueState.LIVE})


def dialogue_topic(dialogue_id: int) -> str:
    return f"dialogue:{dialogue_id}"


class Action(enum.StrEnum):
    PUBLISH = "publish"
    CANCEL = "cancel"
    START = "start"
    END = "end"
    SUBMIT_REPORT = "submit-report"


@dataclass(frozen=True)
class _Transition:
    sources: frozenset[DialogueState]
    target: DialogueState
    # Publishing and cancelling belong to the organiser; running the dialogue also to its facilitator.
    organiser_only: bool


TRANSITIONS: dict[Action, _Transition] = {
    Action.PUBLISH: _Transition(frozenset({DialogueState.DRAFT}), DialogueState.SCHEDULED, True),
    Action.CANCEL: _Transition(frozenset({DialogueState.SCHEDULED}), DialogueState.DRAFT, True),
    Action.START: _Transition(frozenset({DialogueState.SCHEDULED}), DialogueState.LIVE, False),
    Action.END: _Transition(frozenset({DialogueState.LIVE}), DialogueState.ENDED, False),
    Action.SUBMIT_REPORT: _Transition(frozenset({DialogueState.ENDED}), DialogueState.REPORT_SUBMITTED, False),
}


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DialogueInput:
    """What an organiser submits (form or API). ``starts_at`` is either a local date and
    time in ``time_zone`` (naive datetime or ``YYYY-MM-DDTHH:MM`` text) or an instant with
    an offset."""

    title: str = ""
    description: str = ""
    questions: Sequence[str] = DEFAULT_QUESTIONS
    starts_at: datetime | str | None = None
    time_zone: str = "UTC"
    # Numbers may arrive as form text; `validate` reads them.
    duration_minutes: int | str = 90
    capacity: int | str = 12
    languages: Sequence[str] = ("en",)
    country: str | None = None
    facilitator_id: int | str | None = None
    interpreters: Sequence[tuple[int | str, str]] = ()
    visibility: str = Visibility.PUBLIC.value

    def merged(self, changes: Mapping[str, Any]) -> DialogueInput:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise InvalidInput("Unknown fields.", fields=dict.fromkeys(sorted(unknown), "unknown"))
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class CleanDialogue:
    title: str
    description: str
    questions: list[str]
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    capacity: int
    languages: list[str]
    country: str | None
    facilitator_id: int | None
    interpreters: list[tuple[int, str]]
    visibility: Visibility


def clean_text(value: object, *, multiline: bool = False) -> str | None:
    """Trimmed text, or None when it is not text or carries control characters."""
    if not isinstance(value, str):
        return None
    allowed = "\n\t" if multiline else ""
    if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value.replace("\r\n", "\n")):
        return None
    text = value.replace("\r\n", "\n").strip()
    return text if multiline else " ".join(text.split())


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    return None


def parse_starts_at(value: datetime | str | None, zone: str | None) -> tuple[datetime | None, str | None]:
    """(UTC instant, error code). A local time that does not exist in the zone (a DST gap)
    is refused rather than silently moved; an ambiguous one takes its first occurrence."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            return None, "invalid"
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None, "invalid"
    if not isinstance(value, datetime):
        return None, "invalid"
    if not 2000 <= value.year <= 2200:
        return None, "out_of_range"
    # Dialogues start on a minute; dropping seconds keeps form round trips exact.
    value = value.replace(second=0, microsecond=0)
    if value.tzinfo is not None:
        return value.astimezone(UTC), None
    if zone is None:
        return None, None
    tz = ZoneInfo(zone)
    instant = value.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != value:
        return None, "nonexistent_time"
    return instant, None


def validate(data: DialogueInput) -> CleanDialogue:
    """Check every field and report all problems at once, keyed by field name."""
    errors: dict[str, str] = {}

    title = clean_text(data.title)
    if title is None:
        errors["title"] = "invalid"
    elif not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = "length"

    description = clean_text(data.description, multiline=True)
    if description is None:
        errors["description"] = "invalid"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = "length"

    questions: list[str] = []
    raw_questions = list(data.questions) if not isinstance(data.questions, str) else None
    if raw_questions is None:
        errors["questions"] = "invalid"
    else:
        for raw in raw_questions:
            q = clean_text(raw)
            if q is None:
                errors["questions"] = "invalid"
            elif q:
                if not QUESTION_MIN <= len(q) <= QUESTION_MAX:
                    errors["questions"] = "length"
                questions.append(q)
        if "questions" not in errors and not 1 <= len(questions) <= QUESTIONS_MAX:
            errors["questions"] = "count"

    zone = clean_text(data.time_zone) or ""
    if not is_time_zone(zone):
        errors["time_zone"] = "unknown_time_zone"
    starts_at, problem = parse_starts_at(data.starts_at, zone if "time_zone" not in errors else None)
    if problem:
        errors["starts_at"] = problem

    duration = _int(data.duration_minutes)
    if duration is None:
        errors["duration_minutes"] = "invalid"
    elif not DURATION_MIN <= duration <= DURATION_MAX:
        errors["duration_minutes"] = "range"

    capacity = _int(data.capacity)
    if capacity is None:
        errors["capacity"] = "invalid"
    elif not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        errors["capacity"] = "range"

    languages: list[str] = []
    if isinstance(data.languages, str):
        errors["languages"] = "invalid"
    else:
        for raw in data.languages:
            code = normalise_language(raw) if isinstance(raw, str) else None
            if code is None:
                errors["languages"] = "unknown_language"
            elif code not in languages:
                languages.append(code)
        if "languages" not in errors and not 1 <= len(languages) <= LANGUAGES_MAX:
            errors["languages"] = "count"

    country: str | None = None
    if data.country not in (None, ""):
        country = (clean_text(data.country) or "").upper()
        if country not in COUNTRY_CODES:
            errors["country"] = "unknown_country"

    facilitator_id: int | None = None
    if data.facilitator_id is not None and data.facilitator_id != "":
        facilitator_id = _int(data.facilitator_id)
        if facilitator_id is None or not 0 < facilitator_id <= ID_MAX:
            errors["facilitator_id"] = "invalid"

    interpreters: list[tuple[int, str]] = []
    for pair in data.interpreters:
        try:
            raw_user, raw_lang = pair
        except (TypeError, ValueError):
            errors["interpreters"] = "invalid"
            continue
        user_id = _int(raw_user)
        lang = normalise_language(raw_lang) if isinstance(raw_lang, str) else None
        if user_id is None or not 0 < user_id <= ID_MAX or lang is None:
            errors["interpreters"] = "invalid"
        elif lang not in languages:
            if "languages" not in errors:
                errors.setdefault("interpreters", "language_not_in_dialogue")
        elif (user_id, lang) not in interpreters:
            interpreters.append((user_id, lang))
    if len(interpreters) > INTERPRETERS_MAX:
        errors["interpreters"] = "count"

    try:
        visibility = Visibility(data.visibility)
    except ValueError:
        errors["visibility"] = "invalid"
        visibility = Visibility.PUBLIC

    if errors:
        raise InvalidInput("Some fields need attention.", fields=errors)
    assert title is not None and description is not None and duration is not None and capacity is not None
    return CleanDialogue(
        title=title,
        description=description,
        questions=questions,
        starts_at=starts_at,
        time_zone=zone,
        duration_minutes=duration,
        capacity=capacity,
        languages=languages,
        country=country,
        facilitator_id=facilitator_id,
        interpreters=interpreters,
        visibility=visibility,
    )


def check_id(dialogue_id: int) -> int:
    if not 0 < dialogue_id <= ID_MAX:
        raise NotFound("No such dialogue.", code="dialogue_not_found")
    return dialogue_id


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    display_name: str


@dataclass(frozen=True)
class InterpreterView:
    user_id: int
    display_name: str
    language: str


@dataclass(frozen=True)
class Permissions:
    can_edit: bool = False
    can_publish: bool = False
    can_cancel: bool = False
    can_start: bool = False
    can_end: bool = False
    can_submit_report: bool = False
    can_see_registrations: bool = False
    can_see_names: bool = False
    can_register: bool = False
    is_registered: bool = False
    # The viewer's part in running it: their page leads with that, not with registering.
    runs: bool = False
    interprets: bool = False


@dataclass(frozen=True)
class DialogueView:
    id: int
    title: str
    description: str
    questions: list[str]
    state: DialogueState
    visibility: Visibility
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    capacity: int
    registered: int
    languages: list[str]
    country: str | None
    organiser: Person | None
    facilitator: Person | None
    interpreters: list[InterpreterView]
    # Only for those who manage the dialogue.
    invite_code: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    report_submitted_at: datetime | None
    permissions: Permissions

    @property
    def ends_at(self) -> datetime | None:
        return None if self.starts_at is None else self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.registered)

    @property
    def starts_local(self) -> datetime | None:
        return None if self.starts_at is None else self.starts_at.astimezone(ZoneInfo(self.time_zone))

    def as_input(self) -> DialogueInput:
        """The current values, as an update starts from them (the start stays the same
        instant unless a new one is given)."""
        return DialogueInput(
            title=self.title,
            description=self.description,
            questions=list(self.questions),
            starts_at=self.starts_at,
            time_zone=self.time_zone,
            duration_minutes=self.duration_minutes,
            capacity=self.capacity,
            languages=list(self.languages),
            country=self.country,
            facilitator_id=self.facilitator.id if self.facilitator else None,
            interpreters=[(i.user_id, i.language) for i in self.interpreters],
            visibility=self.visibility.value,
        )


@dataclass(frozen=True)
class DialogueSummary:
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
    languages: list[str]
    country: str | None
    facilitator_name: str | None
    ended_at: datetime | None
    report_submitted_at: datetime | None

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.registered)

    @property
    def fill_percent(self) -> int:
        return min(100, round(100 * self.registered / self.capacity)) if self.capacity else 0


@dataclass(frozen=True)
class CountryCount:
    country: str
    dialogues: int


@dataclass(frozen=True)
class ListingQuery:
    """The public listing's filters, exactly as they arrive in the URL."""

    q: str = ""
    language: str = ""
    country: str = ""
    date_from: str = ""
    date_to: str = ""
    page: int = 1
    per_page: int = 20
    # The zone the date range is read in (the viewer's).
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    items: list[DialogueSummary]
    total: int
    page: int
    per_page: int
    countries: list[CountryCount]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class OwedReport:
    dialogue: DialogueSummary
    days_since_end: int
    overdue: bool


@dataclass(frozen=True)
class Overview:
    scope: str
    now: datetime
    counts: dict[DialogueState, int]
    drafts: list[DialogueSummary]
    live: list[DialogueSummary]
    scheduled: list[DialogueSummary]
    this_week: list[DialogueSummary]
    awaiting_report: list[OwedReport]
    reported: list[DialogueSummary]
    report_due_days: int = REPORT_DUE_DAYS
    truncated: list[str] = field(default_factory=list)

    @property
    def held(self) -> int:
        return self.counts[DialogueState.ENDED] + self.counts[DialogueState.REPORT_SUBMITTED]

    @property
    def reports_received(self) -> int:
        return self.counts[DialogueState.REPORT_SUBMITTED]

    @property
    def reports_missing(self) -> int:
        return self.counts[DialogueState.ENDED]

    @property
    def report_percent(self) -> int | None:
        return None if self.held == 0 else round(100 * self.reports_received / self.held)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.awaiting_report if r.overdue)


@dataclass(frozen=True)
class StaffChoices:
    facilitators: list[Person]
    interpreters: list[Person]


# --- rules ---------------------------------------------------------------------------------


def manages(user: User | None, d: Dialogue) -> bool:
    return user is not None and (user.role == Role.ADMIN or d.organiser_id == user.id)


def runs(user: User | None, d: Dialogue) -> bool:
    return user is not None and (manages(user, d) or d.facilitator_id == user.id)


def sees_everything(user: User | None) -> bool:
    """Admins and organisers form the campaign team: they may read every dialogue."""
    return user is not None and user.role in (Role.ADMIN, Role.ORGANISER)


async def can_see(s: AsyncSession, viewer: User | None, d: Dialogue, *, invite_code: str = "") -> bool:
    """Drafts are for the dialogue's staff and the campaign team; invite-only dialogues also
    for those holding the code and those already registered; the rest are public."""
    if sees_everything(viewer) or runs(viewer, d):
        return True
    if viewer is not None and viewer.role == Role.INTERPRETER:
        interpreters = await store.interpreters(s, [d.id])
        if any(u.id == viewer.id for _, u in interpreters[d.id]):
            return True
    if d.state == DialogueState.DRAFT:
        return False
    if d.visibility == Visibility.PUBLIC:
        return True
    if invite_code and same(invite_code, d.invite_code):
        return True
    return viewer is not None and await reg_store.registration(s, d.id, viewer.id) is not None


class Dialogues:
    def __init__(self, db: Database, clock: Clock, bus: Bus, workspace: Workspace) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.workspace = workspace

    # --- writing ------------------------------------------------------------------------

    async def create(self, actor: User, data: DialogueInput) -> DialogueView:
        if actor.role not in (Role.ORGANISER, Role.ADMIN):
            raise Forbidden("Only organisers can create dialogues.", code="role_required")
        clean = validate(data)
        now = self.clock.now()
        async with self.db.session() as s:
            await self._check_staff(s, clean, previous=None)
            d = Dialogue(
                title=clean.title,
                description=clean.description,
                questions=clean.questions,
                starts_at=clean.starts_at,
                time_zone=clean.time_zone,
                duration_minutes=clean.duration_minutes,
                capacity=clean.capacity,
                languages=clean.languages,
                country=clean.country,
                organiser_id=actor.id,
                facilitator_id=clean.facilitator_id,
                visibility=clean.visibility,
                invite_code=new_token(12),
                state=DialogueState.DRAFT,
                created_at=now,
                updated_at=now,
            )
            await store.add(s, d)
            await store.replace_interpreters(s, d.id, clean.interpreters)
            dialogue_id = d.id
        log.info("dialogue %s created by user %s", dialogue_id, actor.id)
        await self._sync_channel(dialogue_id)
        await self.bus.publish(dialogue_topic(dialogue_id), {"type": "dialogue.created", "dialogue_id": dialogue_id})
        return await self.get(actor, dialogue_id)

    async def update(self, actor: User, dialogue_id: int, changes: Mapping[str, Any]) -> DialogueView:
        """Apply ``changes`` (field name -> new value, as in `DialogueInput`) to a dialogue."""
        current = await self.get(actor, check_id(dialogue_id))
        async with self.db.session() as s:
            d = await self._for_update(s, dialogue_id)
            if not manages(actor, d):
                raise Forbidden("Only the dialogue's organiser can change it.", code="not_organiser")
            if d.state not in EDITABLE_STATES:
                raise Conflict("This dialogue has ended and can no longer be changed.", code="dialogue_closed")
            clean = validate(current.as_input().merged(changes))
            errors: dict[str, str] = {}
            if clean.starts_at != d.starts_at:
                if d.state == DialogueState.LIVE:
                    errors["starts_at"] = "locked_live"
                elif d.state == DialogueState.SCHEDULED and (
                    clean.starts_at is None or clean.starts_at <= self.clock.now()
                ):
                    errors["starts_at"] = "required" if clean.starts_at is None else "past"
            registered = await reg_store.count(s, d.id)
            if clean.capacity < registered:
                errors["capacity"] = "below_registrations"
            if await reg_store.preferred_languages(s, d.id) - set(clean.languages):
                errors["languages"] = "in_use"
            if errors:
                raise InvalidInput("Some fields need attention.", fields=errors)
            await self._check_staff(s, clean, previous=current)
            staff_before = (d.title, d.facilitator_id, sorted((i.user_id, i.language) for i in current.interpreters))
            d.title = clean.title
            d.description = clean.description
            d.questions = clean.questions
            d.starts_at = clean.starts_at
            d.time_zone = clean.time_zone
            d.duration_minutes = clean.duration_minutes
            d.capacity = clean.capacity
            d.languages = clean.languages
            d.country = clean.country
            d.facilitator_id = clean.facilitator_id
            d.visibility = clean.visibility
            d.updated_at = self.clock.now()
            await store.replace_interpreters(s, d.id, clean.interpreters)
            staff_after = (clean.title, clean.facilitator_id, sorted(clean.interpreters))
        if staff_before != staff_after:
            await self._sync_channel(dialogue_id)
        await self.bus.publish(dialogue_topic(dialogue_id), {"type": "dialogue.updated", "dialogue_id": dialogue_id})
        return await self.get(actor, dialogue_id)

    async def transition(self, actor: User, dialogue_id: int, action: Action) -> DialogueView:
        rule = TRANSITIONS[action]
        check_id(dialogue_id)
        now = self.clock.now()
        async with self.db.session() as s:
            d = await self._for_update(s, dialogue_id)
            if not await can_see(s, actor, d):
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            allowed = manages(actor, d) if rule.organiser_only else runs(actor, d)
            if not allowed:
                raise Forbidden("You cannot do this for this dialogue.", code="not_allowed")
            if d.state not in rule.sources:
                raise Conflict("The dialogue's current state does not allow this.", code="invalid_transition")
            if action == Action.PUBLISH:
                if d.starts_at is None:
                    raise InvalidInput(
                        "Set a start time before publishing.", fields={"starts_at": "required"}, code="cannot_publish"
                    )
                if d.starts_at <= now:
                    raise InvalidInput(
                        "The start time has passed; choose a later one before publishing.",
                        fields={"starts_at": "past"},
                        code="cannot_publish",
                    )
                d.published_at = now
            elif action == Action.CANCEL:
                d.published_at = None
            elif action == Action.START:
                d.started_at = now
            elif action == Action.END:
                d.ended_at = now
            elif action == Action.SUBMIT_REPORT:
                d.report_submitted_at = now
            previous = d.state
            d.state = rule.target
            d.updated_at = now
        log.info("dialogue %s: %s -> %s by user %s", dialogue_id, previous.value, rule.target.value, actor.id)
        await self.bus.publish(
            dialogue_topic(dialogue_id),
            {
                "type": "dialogue.state",
                "dialogue_id": dialogue_id,
                "state": rule.target.value,
                "previous": previous.value,
                "action": action.value,
                "at": now.isoformat(),
            },
        )
        return await self.get(actor, dialogue_id)

    async def regenerate_invite_code(self, actor: User, dialogue_id: int) -> DialogueView:
        """A new code for the invite link; links shared before stop working."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await self._for_update(s, dialogue_id)
            if not manages(actor, d):
                if not await can_see(s, actor, d):
                    raise NotFound("No such dialogue.", code="dialogue_not_found")
                raise Forbidden("Only the dialogue's organiser can do this.", code="not_organiser")
            d.invite_code = new_token(12)
            d.updated_at = self.clock.now()
        return await self.get(actor, dialogue_id)

    # --- reading ------------------------------------------------------------------------

    async def get(self, viewer: User | None, dialogue_id: int, *, invite_code: str = "") -> DialogueView:
        """The dialogue as ``viewer`` may see it; NotFound when they may not see it at all."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await store.dialogue(s, dialogue_id)
            if d is None or not await can_see(s, viewer, d, invite_code=invite_code):
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            return await self._view(s, viewer, d, invite_code=invite_code)

    async def staff_choices(self, actor: User) -> StaffChoices:
        if actor.role not in (Role.ORGANISER, Role.ADMIN):
            raise Forbidden("Only organisers can choose dialogue staff.", code="role_required")
        async with self.db.session() as s:
            facilitators = await store.users_with_role(s, Role.FACILITATOR)
            interpreters = await store.users_with_role(s, Role.INTERPRETER)
        return StaffChoices(
            facilitators=[Person(u.id, u.display_name) for u in facilitators],
            interpreters=[Person(u.id, u.display_name) for u in interpreters],
        )

    async def listing(self, query: ListingQuery) -> Listing:
        """Upcoming public dialogues matching the filters, and dialogues held per country."""
        q, where_all, where_counts, page, per_page = self._listing_filters(query)
        async with self.db.session() as s:
            rows, total = await store.search(
                s, where_all, states=OPEN_STATES, public_only=True, offset=(page - 1) * per_page, limit=per_page
            )
            counts = await store.country_counts(s, where_counts, states=HELD_STATES)
            items = await self._summaries(s, rows)
        return Listing(
            query=q,
            items=items,
            total=total,
            page=page,
            per_page=per_page,
            countries=[CountryCount(c, n) for c, n in counts],
        )

    def _listing_filters(
        self, query: ListingQuery
    ) -> tuple[ListingQuery, store.Filters, store.Filters, int, int]:
        errors: dict[str, str] = {}
        text = clean_text(query.q)
        if text is None or len(text) > 200:
            errors["q"] = "invalid"
            text = ""
        language = ""
        if query.language:
            language = normalise_language(query.language) or ""
            if not language:
                errors["language"] = "unknown_language"
        country = (query.country or "").strip().upper()
        if country and country not in COUNTRY_CODES:
            errors["country"] = "unknown_country"
        zone = query.time_zone if is_time_zone(query.time_zone) else "UTC"
        day_from = _parse_date(query.date_from)
        if day_from is False:
            errors["date_from"] = "invalid_date"
        day_to = _parse_date(query.date_to)
        if day_to is False:
            errors["date_to"] = "invalid_date"
        if isinstance(day_from, date) and isinstance(day_to, date) and day_to < day_from:
            errors["date_to"] = "before_start"
        if not 1 <= query.page <= PAGE_MAX:
            errors["page"] = "range"
        if not 1 <= query.per_page <= PER_PAGE_MAX:
            errors["per_page"] = "range"
        if errors:
            raise InvalidInput("Some filters are not valid.", fields=errors, code="invalid_filter")
        tz = ZoneInfo(zone)
        starts_from = (
            datetime.combine(day_from, datetime.min.time(), tz).astimezone(UTC) if isinstance(day_from, date) else None
        )
        starts_before = (
            datetime.combine(day_to + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
            if isinstance(day_to, date)
            else None
        )
        cleaned = dataclasses.replace(query, q=text, language=language, country=country, time_zone=zone)
        # The text search finds dialogues to join; the per-country counts ignore it so they
        # never reveal the titles of invite-only dialogues.
        where_all = store.Filters(
            q=text, language=language, country=country, starts_from=starts_from, starts_before=starts_before
        )
        where_counts = store.Filters(
            language=language, country=country, starts_from=starts_from, starts_before=starts_before
        )
        return cleaned, where_all, where_counts, query.page, query.per_page

    async def overview(self, actor: User, scope: str = "") -> Overview:
        """The organisers' view: what is on, what is coming, which reports are owed."""
        if actor.role not in (Role.ADMIN, Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER):
            raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")
        if scope not in ("", "all", "mine"):
            raise InvalidInput("Unknown scope.", fields={"scope": "invalid"})
        if not sees_everything(actor):
            scope = "mine"
        scope = scope or "all"
        involving = actor.id if scope == "mine" else None  # None: every dialogue
        now = self.clock.now()
        State = DialogueState
        limit = OVERVIEW_LIST_MAX
        async with self.db.session() as s:
            counts = await store.state_counts(s, involving)
            drafts = await store.in_state(s, State.DRAFT, involving, limit=limit)
            live = await store.in_state(s, State.LIVE, involving, limit=limit)
            scheduled = await store.in_state(s, State.SCHEDULED, involving, limit=limit)
            week = await store.in_state(
                s, State.SCHEDULED, involving, limit=limit, starts_from=now, starts_before=now + timedelta(days=7)
            )
            ended = await store.in_state(s, State.ENDED, involving, limit=limit, order="ended")
            reported = await store.in_state(
                s,
                State.REPORT_SUBMITTED,
                involving,
                limit=20,
                order="newest_report",
            )
            summaries = await self._summaries(s, [*drafts, *live, *scheduled, *week, *ended, *reported])
        by_id = {x.id: x for x in summaries}
        owed = []
        for d in ended:
            days = (now - d.ended_at).days if d.ended_at else 0
            owed.append(OwedReport(by_id[d.id], days, days >= REPORT_DUE_DAYS))
        truncated = [
            name
            for name, rows, state in (
                ("drafts", drafts, State.DRAFT),
                ("live", live, State.LIVE),
                ("scheduled", scheduled, State.SCHEDULED),
                ("awaiting_report", ended, State.ENDED),
            )
            if len(rows) < counts[state]
        ]
        return Overview(
            scope=scope,
            now=now,
            counts=counts,
            drafts=[by_id[d.id] for d in drafts],
            live=[by_id[d.id] for d in live],
            scheduled=[by_id[d.id] for d in scheduled],
            this_week=[by_id[d.id] for d in week],
            awaiting_report=owed,
            reported=[by_id[d.id] for d in reported],
            truncated=truncated,
        )

    # --- helpers ------------------------------------------------------------------------

    async def _for_update(self, s: AsyncSession, dialogue_id: int) -> Dialogue:
        if not await store.lock(s, dialogue_id):
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        d = await store.dialogue(s, dialogue_id)
        if d is None:  # pragma: no cover - deleted between the two statements
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        return d

    async def _check_staff(self, s: AsyncSession, clean: CleanDialogue, previous: DialogueView | None) -> None:
        """New facilitators and interpreters must be active accounts with that role."""
        errors: dict[str, str] = {}
        old_facilitator = previous.facilitator.id if previous and previous.facilitator else None
        old_interpreters = {i.user_id for i in previous.interpreters} if previous else set()
        wanted: set[int] = set()
        if clean.facilitator_id is not None and clean.facilitator_id != old_facilitator:
            wanted.add(clean.facilitator_id)
        new_interpreters = {uid for uid, _ in clean.interpreters} - old_interpreters
        users = await store.users_by_ids(s, wanted | new_interpreters)
        if clean.facilitator_id in wanted:
            f = users.get(clean.facilitator_id)
            if f is None or f.role != Role.FACILITATOR or f.disabled:
                errors["facilitator_id"] = "not_facilitator"
        for uid in new_interpreters:
            u = users.get(uid)
            if u is None or u.role != Role.INTERPRETER or u.disabled:
                errors["interpreters"] = "not_interpreter"
        if errors:
            raise InvalidInput("Some fields need attention.", fields=errors)

    async def _view(self, s: AsyncSession, viewer: User | None, d: Dialogue, *, invite_code: str = "") -> DialogueView:
        interpreters = (await store.interpreters(s, [d.id]))[d.id]
        registered = await reg_store.count(s, d.id)
        registration: Registration | None = None
        if viewer is not None:
            registration = await reg_store.registration(s, d.id, viewer.id)
        is_manager = manages(viewer, d)
        is_runner = runs(viewer, d)
        interprets = viewer is not None and any(u.id == viewer.id for _, u in interpreters)
        invited = (
            d.visibility == Visibility.PUBLIC or is_manager or bool(invite_code and same(invite_code, d.invite_code))
        )
        state = d.state
        perms = Permissions(
            can_edit=is_manager and state in EDITABLE_STATES,
            can_publish=is_manager and state in TRANSITIONS[Action.PUBLISH].sources,
            can_cancel=is_manager and state in TRANSITIONS[Action.CANCEL].sources,
            can_start=is_runner and state in TRANSITIONS[Action.START].sources,
            can_end=is_runner and state in TRANSITIONS[Action.END].sources,
            can_submit_report=is_runner and state in TRANSITIONS[Action.SUBMIT_REPORT].sources,
            can_see_registrations=is_runner,
            can_see_names=is_manager,
            # Those who run or interpret a dialogue take part as staff, not as registered participants.
            can_register=state in OPEN_STATES and not (is_runner or interprets)
            and (registration is not None or (invited and registered < d.capacity)),
            is_registered=registration is not None,
            runs=is_runner,
            interprets=interprets,
        )
        return DialogueView(
            id=d.id,
            title=d.title,
            description=d.description,
            questions=list(d.questions),
            state=state,
            visibility=d.visibility,
            starts_at=d.starts_at,
            time_zone=d.time_zone,
            duration_minutes=d.duration_minutes,
            capacity=d.capacity,
            registered=registered,
            languages=list(d.languages),
            country=d.country,
            organiser=Person(d.organiser.id, d.organiser.display_name) if d.organiser else None,
            facilitator=Person(d.facilitator.id, d.facilitator.display_name) if d.facilitator else None,
            interpreters=[InterpreterView(u.id, u.display_name, lang) for lang, u in interpreters],
            invite_code=d.invite_code if is_manager else None,
            created_at=d.created_at,
            updated_at=d.updated_at,
            published_at=d.published_at,
            started_at=d.started_at,
            ended_at=d.ended_at,
            report_submitted_at=d.report_submitted_at,
            permissions=perms,
        )

    async def _summaries(self, s: AsyncSession, rows: Iterable[Dialogue]) -> list[DialogueSummary]:
        unique = {d.id: d for d in rows}
        counts = await store.registration_counts(s, list(unique))
        return [
            DialogueSummary(
                id=d.id,
                title=d.title,
                description=d.description,
                state=d.state,
                visibility=d.visibility,
                starts_at=d.starts_at,
                time_zone=d.time_zone,
                duration_minutes=d.duration_minutes,
                capacity=d.capacity,
                registered=counts.get(d.id, 0),
                languages=list(d.languages),
                country=d.country,
                facilitator_name=d.facilitator.display_name if d.facilitator else None,
                ended_at=d.ended_at,
                report_submitted_at=d.report_submitted_at,
            )
            for d in unique.values()
        ]

    async def _sync_channel(self, dialogue_id: int) -> None:
        """Make the dialogue's channel hold exactly its staff. Runs after commit; a failure
        is logged and repaired by the next change rather than undoing the dialogue's."""
        async with self.db.session() as s:
            d = await store.dialogue(s, dialogue_id)
            if d is None:
                return
            interpreters = (await store.interpreters(s, [d.id]))[d.id]
            title = d.title
            members = {d.organiser_id, d.facilitator_id, *(u.id for _, u in interpreters)}
        try:
            await self.workspace.sync_dialogue_channel(dialogue_id, title, sorted(m for m in members if m))
        except Exception:
            log.exception("could not sync the workspace channel of dialogue %s", dialogue_id)


def _parse_date(value: str) -> date | None | bool:
    """A ``YYYY-MM-DD`` date, None when empty, False when unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) != 10:
        return False
    try:
        return date.fromisoformat(text)
    except ValueError:
        return False
