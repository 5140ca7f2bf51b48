"""Registrations: a participant's place in a dialogue, their personal link, their own data.

Participants have no password. Registering creates a participant account (or, for someone
already logged in, uses theirs) and hands out a personal link: a signed token bound to the
account's credentials version, so it expires, and bumping the version revokes every link
given out before.

Registering never tells whether an address has a Parley account. Participant emails are
never verified, so on a link-only account the email is contact information, not an
identity: someone who is not logged in and gives an address another account already has
gets exactly what a new address gets (a new participant account, its own personal link
and login, 201) and nothing of the existing account, which stays as it was (the new
account stores the address with a tag, `shared_email`, to keep emails unique). The owner
of the address just registers as usual, with their personal link or by logging in; the
organiser sees both registrations under the same address. Answering "this email is
known" instead would let anyone test which people use Parley, one request per address.

A registration is personal data: it never reaches a log line; only its owner sees their
age group, gender and education, the dialogue's organiser (and admins) see who registered,
and the facilitator sees the demographics aggregated. Age group and education use the
survey's codes (`parley.reference`), so the dashboard can filter and break down
dialogue participants and survey respondents alike.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.config import AuthConfig
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from parley.handlers.accounts import (
    Accounts,
    LoginSession,
    check_display_name,
    contact_email,
    normalise_email,
    shared_email,
)
from parley.handlers.dialogues import OPEN_STATES, can_see, check_id, clean_text, manages, runs
from parley.reference import AGE_GROUP_CODES, COUNTRY_CODES, EDUCATION_CODES, GENDER_CODES, UNSTATED
from parley.security import LinkSigner, same
from parley.storage.database import Database
from parley.storage.models import Dialogue, DialogueState, Registration, Role, User, Visibility
from parley.storage.stores import accounts as account_store
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as store
from parley.storage.stores.accounts import Account

log = logging.getLogger(__name__)

LINK_PURPOSE = "participant"
TOKEN_MAX = 512


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
class RegistrationView:
    """One registration as its owner sees it."""

    dialogue_id: int
    dialogue_title: str
    dialogue_state: DialogueState
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    dialogue_languages: list[str]
    preferred_language: str
    country: str
    # None: registered before age group and education were asked in the survey's groups.
    age_group: str | None
    gender: str
    education: str | None
    consent_participate: bool
    consent_transcript: bool
    consent_quotes: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: Registration, d: Dialogue) -> RegistrationView:
        return cls(
            dialogue_id=d.id,
            dialogue_title=d.title,
            dialogue_state=d.state,
            starts_at=d.starts_at,
            time_zone=d.time_zone,
            duration_minutes=d.duration_minutes,
            dialogue_languages=list(d.languages),
            preferred_language=r.preferred_language,
            country=r.country,
            age_group=r.age_group,
            gender=r.gender,
            education=r.education,
            consent_participate=r.consent_participate,
            consent_transcript=r.consent_transcript,
            consent_quotes=r.consent_quotes,
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


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes")


def _counts(values: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


class Registrations:
    def __init__(
        self, db: Database, clock: Clock, signer: LinkSigner, accounts: Accounts, auth_config: AuthConfig
    ) -> None:
        self.db = db
        self.clock = clock
        self.signer = signer
        self.accounts = accounts
        self.config = auth_config
        # One lock per dialogue so concurrent registrations in this process are counted
        # against the capacity one at a time (PostgreSQL also locks the dialogue's row).
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- registering --------------------------------------------------------------------

    async def register(self, dialogue_id: int, data: RegistrationInput, actor: Account | None) -> RegistrationOutcome:
        check_id(dialogue_id)
        lock = self._locks.get(dialogue_id)
        if lock is None:
            lock = self._locks[dialogue_id] = asyncio.Lock()
        async with lock:
            for attempt in (1, 2):
                try:
                    async with self.db.session() as s:
                        registration, row, created, new_account = await self._register(s, dialogue_id, data, actor)
                        user = Account.of(row)
                        d = await dialogue_store.dialogue(s, dialogue_id)
                        assert d is not None
                        view = RegistrationView.of(registration, d)
                    break
                except IntegrityError as exc:
                    # The same new address registered at the same moment elsewhere: once more,
                    # it is now a known address like any other.
                    if attempt == 2:
                        raise Conflict("Registering did not go through. Try again.", code="try_again") from exc
        session = await self.accounts.start_session(user) if new_account else None
        log.info("registration %s for dialogue %s (user %s)", "created" if created else "updated", dialogue_id, user.id)
        return RegistrationOutcome(
            registration=view,
            user=user,
            created=created,
            link_token=self.link_token(user) if _link_only(user) else None,
            session=session,
        )

    async def _register(
        self, s: AsyncSession, dialogue_id: int, data: RegistrationInput, actor: Account | None
    ) -> tuple[Registration, User, bool, bool]:
        if not await dialogue_store.lock(s, dialogue_id):
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        d = await dialogue_store.dialogue(s, dialogue_id)
        assert d is not None
        existing = await store.registration(s, d.id, actor.id) if actor is not None else None
        if d.state == DialogueState.DRAFT:
            if await can_see(s, actor, d):
                raise Conflict("This dialogue is not open for registration yet.", code="registration_closed")
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        if d.visibility == Visibility.INVITE_ONLY and existing is None and not manages(actor, d):
            code = clean_text(data.invite_code) or ""
            if not code:
                raise Forbidden("This dialogue is by invitation: use the link you were given.", code="invite_required")
            if not same(code, d.invite_code):
                raise Forbidden("This invitation link is not valid any more.", code="invite_invalid")
        if d.state not in OPEN_STATES:
            raise Conflict("Registration for this dialogue has closed.", code="registration_closed")

        fields = self._validate(data, d, anonymous=actor is None)
        now = self.clock.now()
        new_account = False
        if actor is not None:
            if data.email.strip():
                try:
                    same_email = normalise_email(data.email) == contact_email(actor.email)
                except InvalidInput:
                    same_email = False
                if not same_email:
                    raise InvalidInput(
                        "You are logged in: you can only register yourself.",
                        fields={"email": "mismatch"},
                        code="email_mismatch",
                    )
            user = await account_store.user_by_id(s, actor.id)
            if user is None:  # pragma: no cover - deleted while logged in
                raise Unauthenticated("Log in to continue.", code="login_required")
            if user.role == Role.PARTICIPANT and fields.get("display_name"):
                user.display_name = fields["display_name"]
        else:
            email = fields["email"]
            if await account_store.user_by_email(s, email) is not None:
                email = shared_email(email)  # the same answer as for a new address: see the module doc
            user = await account_store.add_user(s, User(
                email=email,
                display_name=fields["display_name"],
                password_hash=None,
                role=Role.PARTICIPANT,
                created_at=now,
                disabled=False,
                credentials_version=1,
            ))
            new_account = True

        registration = existing if actor is not None else None
        created = registration is None
        if registration is None:
            if await store.count(s, d.id) >= d.capacity:
                raise Conflict("This dialogue is full.", code="dialogue_full")
            registration = Registration(dialogue_id=d.id, user_id=user.id, created_at=now)
            store.add(s, registration)
        registration.preferred_language = fields["preferred_language"]
        registration.country = fields["country"]
        registration.age_group = fields["age_group"]
        registration.gender = fields["gender"]
        registration.education = fields["education"]
        registration.consent_participate = True
        registration.consent_transcript = _flag(data.consent_transcript)
        registration.consent_quotes = _flag(data.consent_quotes)
        registration.updated_at = now
        await s.flush()
        return registration, user, created, new_account

    @staticmethod
    def _validate(data: RegistrationInput, d: Dialogue, *, anonymous: bool) -> dict[str, str]:
        errors: dict[str, str] = {}
        out: dict[str, str] = {}
        name = clean_text(data.display_name)
        if name is None:
            errors["display_name"] = "invalid"
        elif name or anonymous:
            try:
                out["display_name"] = check_display_name(name)
            except InvalidInput:
                errors["display_name"] = "length"
        if anonymous:
            try:
                out["email"] = normalise_email(clean_text(data.email) or "")
            except InvalidInput:
                errors["email"] = "invalid"
        language = clean_text(data.preferred_language) or ""
        if language not in d.languages:
            errors["preferred_language"] = "not_offered"
        out["preferred_language"] = language
        country = (clean_text(data.country) or "").upper()
        if country not in COUNTRY_CODES:
            errors["country"] = "unknown_country"
        out["country"] = country
        age = clean_text(data.age_group) or ""
        if age not in AGE_GROUP_CODES:
            errors["age_group"] = "invalid"
        out["age_group"] = age
        gender = clean_text(data.gender) or ""
        if gender not in GENDER_CODES:
            errors["gender"] = "invalid"
        out["gender"] = gender
        education = clean_text(data.education) or ""
        if education not in EDUCATION_CODES:
            errors["education"] = "invalid"
        out["education"] = education
        if not _flag(data.consent_participate):
            errors["consent_participate"] = "required"
        if errors:
            raise InvalidInput("Some fields need attention.", fields=errors)
        return out

    # --- personal links -----------------------------------------------------------------

    def link_token(self, user: Account) -> str:
        return self.signer.sign(LINK_PURPOSE, {"u": user.id, "v": user.credentials_version})

    async def open_link(self, token: str) -> LoginSession:
        """Log in with a personal link; one vague error for every kind of bad link."""
        invalid = Unauthenticated("This personal link is not valid any more.", code="link_invalid")
        if not token or len(token) > TOKEN_MAX:
            raise invalid
        payload = self.signer.unsign(LINK_PURPOSE, token, self.config.participant_link_days * 86400)
        if not isinstance(payload, Mapping):
            raise invalid
        user_id, version = payload.get("u"), payload.get("v")
        if not isinstance(user_id, int) or not isinstance(version, int) or not 0 < user_id < 2**31:
            raise invalid
        user = await self.accounts.user(user_id)
        if user is None or user.disabled or not _link_only(user) or user.credentials_version != version:
            raise invalid
        return await self.accounts.start_session(user)

    async def revoke_links(self, user: Account, *, keep_session_token_hash: str | None = None) -> str:
        """Void every personal link and other login of ``user``; returns a fresh link."""
        if not _link_only(user):
            raise Forbidden("Only participants have personal links.", code="participants_only")
        async with self.db.session() as s:
            row = await account_store.user_by_id(s, user.id)
            if row is None:
                raise Unauthenticated("Log in to continue.", code="login_required")
            row.credentials_version += 1
            await account_store.delete_sessions(s, row.id, keep=keep_session_token_hash)
            fresh = row
        return self.link_token(Account.of(fresh))

    # --- a participant's own data -------------------------------------------------------

    async def mine(self, user: Account) -> list[RegistrationView]:
        async with self.db.session() as s:
            return [RegistrationView.of(r, d) for r, d in await store.of_user(s, user.id)]

    async def my_registration(self, user: Account, dialogue_id: int) -> RegistrationView:
        check_id(dialogue_id)
        async with self.db.session() as s:
            return await self._own(s, user, dialogue_id)

    async def returning_answers(self, user: Account, languages: Collection[str]) -> dict[str, str]:
        """What a returning participant answered when they last registered, to fill in a
        new registration: the language they speak (when this dialogue offers it), their
        country and the demographic questions. Never a consent: each dialogue asks anew."""
        async with self.db.session() as s:
            rows = await store.of_user(s, user.id)
        if not rows:
            return {}
        last = max((r for r, _ in rows), key=lambda r: (r.updated_at, r.id))
        out = {"country": last.country, "age_group": last.age_group or "", "gender": last.gender,
               "education": last.education or ""}
        if last.preferred_language in languages:
            out["preferred_language"] = last.preferred_language
        return out

    async def my_data(self, user: Account) -> MyData:
        async with self.db.session() as s:
            row = await account_store.user_by_id(s, user.id)
            if row is None:
                raise Unauthenticated("Log in to continue.", code="login_required")
            registrations = [RegistrationView.of(r, d) for r, d in await store.of_user(s, user.id)]
        return MyData(
            user_id=row.id,
            display_name=row.display_name,
            email=contact_email(row.email),
            role=row.role,
            locale=row.locale,
            created_at=row.created_at,
            registrations=registrations,
        )

    async def update_consent(self, user: Account, dialogue_id: int, *, transcript: bool,
                             quotes: bool) -> RegistrationView:
        check_id(dialogue_id)
        async with self.db.session() as s:
            await self._own(s, user, dialogue_id)
            registration = await store.registration(s, dialogue_id, user.id)
            assert registration is not None
            registration.consent_transcript = transcript
            registration.consent_quotes = quotes
            registration.updated_at = self.clock.now()
            await s.flush()
            return await self._own(s, user, dialogue_id)

    async def withdraw(self, user: Account, dialogue_id: int) -> None:
        """Leave a dialogue: the registration is deleted, not just marked."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            await self._own(s, user, dialogue_id)
            registration = await store.registration(s, dialogue_id, user.id)
            assert registration is not None  # _own raised otherwise
            await store.delete_one(s, registration)
        log.info("registration withdrawn from dialogue %s (user %s)", dialogue_id, user.id)

    async def delete_all(self, user: Account) -> bool:
        """Delete every registration, and the account itself when it is a participant's.
        True when the account is gone (its links and logins with it)."""
        async with self.db.session() as s:
            await store.delete_of_user(s, user.id)
            row = await account_store.user_by_id(s, user.id)
            gone = row is not None and row.role == Role.PARTICIPANT
            if row is not None and gone:
                await account_store.delete_sessions(s, user.id)
                await account_store.delete_user(s, row)
        log.info("user %s deleted their data (account deleted: %s)", user.id, gone)
        return gone

    async def _own(self, s: AsyncSession, user: Account, dialogue_id: int) -> RegistrationView:
        registration = await store.registration(s, dialogue_id, user.id)
        d = await dialogue_store.dialogue(s, dialogue_id)
        if registration is None or d is None:
            raise NotFound("You are not registered for this dialogue.", code="registration_not_found")
        return RegistrationView.of(registration, d)

    # --- for the dialogue's staff -------------------------------------------------------

    async def for_dialogue(self, actor: Account, dialogue_id: int) -> DialogueRegistrations:
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await dialogue_store.dialogue(s, dialogue_id)
            if d is None:
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            if not runs(actor, d):
                if await can_see(s, actor, d):
                    raise Forbidden(
                        "Only the dialogue's organiser and facilitator see who registered.", code="not_allowed"
                    )
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            rows = await store.of_dialogue(s, d.id)
        attendees = None
        if manages(actor, d):
            attendees = [
                Attendee(
                    user_id=r.user.id,
                    display_name=r.user.display_name,
                    email=contact_email(r.user.email),
                    preferred_language=r.preferred_language,
                    consent_transcript=r.consent_transcript,
                    consent_quotes=r.consent_quotes,
                    registered_at=r.created_at,
                )
                for r in rows
            ]
        return DialogueRegistrations(
            dialogue_id=d.id,
            title=d.title,
            capacity=d.capacity,
            total=len(rows),
            by_language=_counts([r.preferred_language for r in rows]),
            by_country=_counts([r.country for r in rows]),
            by_age_group=_counts([r.age_group or UNSTATED for r in rows]),
            by_gender=_counts([r.gender for r in rows]),
            by_education=_counts([r.education or UNSTATED for r in rows]),
            consent_transcript=sum(1 for r in rows if r.consent_transcript),
            consent_quotes=sum(1 for r in rows if r.consent_quotes),
            attendees=attendees,
        )


def _link_only(user: Account) -> bool:
    return user.role == Role.PARTICIPANT and not user.has_password
