"""What callers (API, pages, other handlers) see of a dialogue: the full view with the
viewer's permissions, the short summary used in lists, and the staff one may choose.

Plain frozen values: they hold no session and no rules; `reading.Reader` fills them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from parley.handlers.dialogues.validation import DialogueInput
from parley.vocabulary import DialogueState, Visibility


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
class StaffChoices:
    facilitators: list[Person]
    interpreters: list[Person]
