"""What registering takes and gives back: the form, a registration as its owner sees it,
the outcome of registering, a participant's own data, and a dialogue's registration list
as its staff see it. Plain values, built from stored rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.handlers.accounts import LoginSession
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.registration import Answers, RegistrationInfo
from parley.vocabulary import DialogueState, Role


@dataclass(frozen=True)
class RegistrationInput:
    """A registration form. ``display_name`` and ``email`` are only read from people who
    are not logged in; a logged-in person registers themselves."""

    display_name: str = ""
    email: str = ""
    preferred_language: str = ""
    country: str = ""
    age_group: str = ""
    gender: str = ""
    education: str = ""
    consent_participate: bool = False
    consent_transcript: bool = False
    consent_quotes: bool = False
    invite_code: str = ""


@dataclass(frozen=True)
class RegistrationView(Answers):
    """One registration as its owner sees it: their answers, with the dialogue's details."""

    dialogue_id: int
    dialogue_title: str
    dialogue_state: DialogueState
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    dialogue_languages: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: RegistrationInfo, d: DialogueInfo) -> RegistrationView:
        return cls(
            **r.values(),
            dialogue_id=d.id,
            dialogue_title=d.title,
            dialogue_state=d.state,
            starts_at=d.starts_at,
            time_zone=d.time_zone,
            duration_minutes=d.duration_minutes,
            dialogue_languages=list(d.languages),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )

    def as_input(self) -> RegistrationInput:
        return RegistrationInput(
            preferred_language=self.preferred_language,
            country=self.country,
            age_group=self.age_group or "",
            gender=self.gender,
            education=self.education or "",
            consent_participate=self.consent_participate,
            consent_transcript=self.consent_transcript,
            consent_quotes=self.consent_quotes,
        )


@dataclass(frozen=True)
class RegistrationOutcome:
    registration: RegistrationView
    user: Account
    # False when an existing registration was updated.
    created: bool
    # The personal link's token, for accounts that log in only through it.
    link_token: str | None
    # A new login, when registering created the account.
    session: LoginSession | None


@dataclass(frozen=True)
class MyData:
    """Everything Parley holds about a participant, for them to read or download."""

    user_id: int
    display_name: str
    email: str
    role: Role
    locale: str | None
    created_at: datetime
    registrations: list[RegistrationView]


@dataclass(frozen=True)
class Attendee:
    """One row of a dialogue's registration list (organiser and admins only)."""

    user_id: int
    display_name: str
    email: str
    preferred_language: str
    consent_transcript: bool
    consent_quotes: bool
    registered_at: datetime


@dataclass(frozen=True)
class DialogueRegistrations:
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
    # None for facilitators: they see the aggregates only.
    attendees: list[Attendee] | None
