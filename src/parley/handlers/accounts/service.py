"""Accounts, roles, login sessions, API tokens and staff invitations.

The rules live here, not in the web layer, so the pages, the JSON API and the CLI enforce
the same ones:

- Login is rate limited per client, per account and client, and (more loosely) per
  account (`parley.handlers.login_limits`), and every failure gets the same vague answer.
- Organisers invite facilitators and interpreters; admins also invite organisers and
  admins. An invitation is a random link (stored hashed), single use, revocable, and
  expires after ``auth.invite_days``.
- An invitation for an email that already has an account is accepted by that account
  once logged in: its role is raised to the invited one if that ranks higher (never
  lowered), and a facilitator invitation for a dialogue without a facilitator assigns
  it. Opening the link anonymously then asks the person to log in first; accounts are
  never taken over through a link.
- There is always at least one enabled admin.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TypeVar
from zoneinfo import available_timezones

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.config import AuthConfig
from parley.errors import ClientError, Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from parley.handlers.login_limits import LoginLimits
from parley.handlers.ratelimit import RateLimiter
from parley.security import hash_password, hash_token, needs_rehash, new_token, verify_password
from parley.storage.database import Database
from parley.storage.models import ApiToken, AuthSession, DialogueState, Invitation, Role, User
from parley.storage.stores import accounts as store

log = logging.getLogger(__name__)

# RFC 5321's longest address; the column holds 320, room for `shared_email`'s tag.
EMAIL_MAX = 254
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")
PASSWORD_SHORT = "Use a password of at least %(n)s characters."
API_TOKEN_PREFIX = "prl_"
MAX_API_TOKENS = 25
MAX_PER_PAGE = 100
MAX_INVITABLE_DIALOGUES = 500

# Higher ranks may do more; accepting an invitation only ever raises a role.
ROLE_RANK = {Role.PARTICIPANT: 0, Role.INTERPRETER: 1, Role.FACILITATOR: 2, Role.ORGANISER: 3, Role.ADMIN: 4}
INVITABLE: dict[Role, tuple[Role, ...]] = {
    Role.ADMIN: (Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER, Role.ADMIN),
    Role.ORGANISER: (Role.FACILITATOR, Role.INTERPRETER),
}
DIALOGUE_ROLES = frozenset({Role.FACILITATOR, Role.INTERPRETER})
# The administrator that the very first start creates, with a password printed once.
FIRST_ADMIN_EMAIL = "admin@parley.local"

T = TypeVar("T")


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


class InvitationClosed(ClientError):
    """The link was valid once but cannot be used any more (used, revoked, expired)."""

    status = 410
    code = "invitation_closed"


class FieldErrors(InvalidInput):
    """Several fields wrong at once; ``messages`` gives each field's sentence for forms,
    ``fields`` the stable codes for API clients."""

    def __init__(self, errors: dict[str, InvalidInput]) -> None:
        first = next(iter(errors.values()))
        single = len(errors) == 1
        fields: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        for name, exc in errors.items():
            # Keyed by the form's field name, whatever name the shared check used.
            fields[name] = next(iter(exc.fields.values()), exc.code)
            self.messages[name] = exc.message
        super().__init__(
            first.message if single else "Some fields are not valid.",
            fields=fields,
            code=first.code if single else "invalid_input",
        )


class Problems:
    """Runs each field's check and raises all failures together, so a form shows every
    problem at once instead of one per submit."""

    def __init__(self) -> None:
        self.errors: dict[str, InvalidInput] = {}

    def check(self, field: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except InvalidInput as exc:
            self.errors[field] = exc
            return None

    def add(self, field: str, exc: InvalidInput) -> None:
        self.errors[field] = exc

    def raise_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


@dataclass(frozen=True)
class LoginSession:
    token: str
    csrf_token: str
    user: User


def landing_path(user: User) -> str:
    """Where a person lands after logging in with nowhere else to go: the staff's overview
    (new dialogues, what is on, reports owed), a participant's own dialogues."""
    return "/my/dialogues" if user.role == Role.PARTICIPANT else "/organise"


def uses_first_password(user: User) -> bool:
    """The first-start administrator still logs in with the password the console printed."""
    return user.email == FIRST_ADMIN_EMAIL and user.credentials_version == 1


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    # Shown to the user once; only its hash is stored.
    secret: str


@dataclass(frozen=True)
class InvitationView:
    invitation: Invitation
    state: str
    invited_by_name: str | None = None
    # Whether the invited email already has an account (decides the accept flow).
    account_exists: bool = False
    dialogue_title: str | None = None


@dataclass(frozen=True)
class NewInvitation:
    view: InvitationView
    # The secret part of the link; only its hash is stored.
    token: str


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# --- field checks -----------------------------------------------------------------------------


def has_control_chars(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in value)


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > EMAIL_MAX or not EMAIL_RE.match(value):
        raise InvalidInput("Enter a valid email address.", fields={"email": "invalid"}, code="invalid_email")
    return value


def shared_email(email: str) -> str:
    """What a link-only participant account stores when another account already has the
    address it was registered with (see `parley.handlers.registration`): the address, a
    space and a random tag. No address `normalise_email` accepts has a space, so it never
    equals a real one, logs in, or receives an invitation."""
    return f"{email} {secrets.token_hex(4)}"


def contact_email(stored: str) -> str:
    """The address a person gave, as shown to them and to organisers."""
    return stored.split(" ", 1)[0]


def check_display_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= 120:
        raise InvalidInput("Enter a name of 1 to 120 characters.", fields={"display_name": "length"})
    if has_control_chars(value):
        raise InvalidInput("The name contains characters that are not allowed.", fields={"display_name": "invalid"})
    return value


def check_locale(value: str | None, allowed: Collection[str]) -> str | None:
    """An interface language from ``allowed``, or None to follow the browser."""
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput("Choose one of the offered languages.", fields={"locale": "unknown"},
                           code="unknown_locale")
    return value


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zones() -> list[str]:
    """Every IANA time zone name, sorted (for pickers)."""
    return sorted(_time_zones())


def check_time_zone(value: str | None) -> str | None:
    """An IANA zone name such as ``Africa/Nairobi``, or None to use the browser's."""
    if not value:
        return None
    value = value.strip()
    if value not in _time_zones():
        raise InvalidInput("Choose a time zone from the list, such as Europe/Paris.",
                           fields={"time_zone": "unknown"}, code="unknown_time_zone")
    return value


def check_token_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= 120 or has_control_chars(value):
        raise InvalidInput("Give the token a name of 1 to 120 characters.", fields={"name": "length"})
    return value


def check_search(value: str) -> str:
    value = value.strip()
    if len(value) > 200 or has_control_chars(value):
        raise InvalidInput("Search for at most 200 characters.", fields={"q": "invalid"})
    return value


def invitation_state(invitation: Invitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def can_invite(actor: User, role: Role) -> bool:
    return role in INVITABLE.get(actor.role, ())


class Accounts:
    def __init__(self, db: Database, clock: Clock, config: AuthConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    # --- users --------------------------------------------------------------------------

    def check_password(self, password: str) -> str:
        if len(password) < self.config.min_password_length:
            raise InvalidInput(
                PASSWORD_SHORT % {"n": self.config.min_password_length},
                fields={"password": "too_short"},
                code="weak_password",
            )
        if len(password) > 1024:
            raise InvalidInput("That password is too long.", fields={"password": "too_long"})
        return password

    def _new_user(self, *, email: str, display_name: str, role: Role, password_hash: str | None,
                  locale: str | None = None) -> User:
        return User(
            email=email,
            display_name=display_name,
            role=role,
            password_hash=password_hash,
            locale=locale,
            created_at=self.clock.now(),
            disabled=False,
            credentials_version=1,
        )

    async def create_user(
        self,
        *,
        email: str,
        display_name: str,
        role: Role,
        password: str | None = None,
        locale: str | None = None,
    ) -> User:
        email = normalise_email(email)
        name = check_display_name(display_name)
        pw_hash = None
        if password is not None:
            pw_hash = await asyncio.to_thread(hash_password, self.check_password(password))
        try:
            async with self.db.session() as s:
                if await store.user_by_email(s, email) is not None:
                    raise Conflict("An account with that email already exists.", code="email_taken")
                user = await store.add_user(s, self._new_user(email=email, display_name=name, role=role,
                                                              password_hash=pw_hash, locale=locale))
        except IntegrityError:
            raise Conflict("An account with that email already exists.", code="email_taken") from None
        return user

    async def user(self, user_id: int) -> User | None:
        async with self.db.session() as s:
            return await store.user_by_id(s, user_id)

    async def _user_for_update(self, s: AsyncSession, user_id: int) -> User:
        user = await store.user_by_id(s, user_id)
        if user is None:
            raise NotFound("There is no such user.", code="user_not_found")
        return user

    # --- logging in -----------------------------------------------------------------------

    async def authenticate(self, email: str, password: str) -> User:
        """The user for these credentials; one vague error for every failure."""
        async with self.db.session() as s:
            user = await store.user_by_email(s, email)
            # Hashing takes tens of milliseconds of CPU: keep it off the event loop.
            # An unknown email costs the same hashing time, so timing does not tell it apart.
            stored = user.password_hash if user is not None else None
            ok = await asyncio.to_thread(verify_password, stored, password)
            if user is None or user.disabled or not ok:
                raise Unauthenticated("Wrong email or password.", code="bad_credentials")
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = await asyncio.to_thread(hash_password, password)
            return user

    async def log_in(self, email: str, password: str, *, client: str, limiter: RateLimiter) -> LoginSession:
        """Check credentials under the login limits (`parley.handlers.login_limits`: per
        client, per account and client, looser per account) and open a session."""
        limits = LoginLimits(limiter, self.config)
        limits.before(email, client)
        try:
            try:
                address = normalise_email(email)
            except InvalidInput:
                await asyncio.to_thread(verify_password, None, password)
                raise Unauthenticated("Wrong email or password.", code="bad_credentials") from None
            user = await self.authenticate(address, password)
        except Unauthenticated:
            limits.failed(email, client)
            raise
        limits.succeeded(email, client)
        login = await self.start_session(user)
        log.info("user %s logged in", user.id)
        return login

    def _add_session(self, s: AsyncSession, user_id: int, now: datetime) -> tuple[str, str]:
        token, csrf = new_token(), new_token(24)
        store.add_session(
            s,
            AuthSession(
                token_hash=hash_token(token),
                user_id=user_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(days=self.config.session_days),
                last_seen_at=now,
            )
        )
        return token, csrf

    async def sweep_sessions(self) -> int:
        """Delete expired login sessions (they are refused anyway; this keeps the table small)."""
        async with self.db.session() as s:
            removed = await store.delete_expired_sessions(s, self.clock.now())
            await s.commit()
        if removed:
            log.info("removed %d expired login session(s)", removed)
        return removed

    async def sweep_sessions_forever(self, every_s: float = 3600.0) -> None:
        while True:
            try:
                await self.sweep_sessions()
            except Exception:
                log.exception("sweeping expired sessions failed")
            await self.clock.sleep(every_s)

    async def start_session(self, user: User) -> LoginSession:
        async with self.db.session() as s:
            token, csrf = self._add_session(s, user.id, self.clock.now())
        return LoginSession(token=token, csrf_token=csrf, user=user)

    async def resolve_session(self, token: str) -> AuthSession | None:
        """The live session for a cookie value, sliding its expiry; None if gone."""
        now = self.clock.now()
        async with self.db.session() as s:
            session = await store.session_by_hash(s, hash_token(token))
            if session is None or session.expires_at < now or session.user.disabled:
                return None
            if now - session.last_seen_at > timedelta(minutes=5):
                session.last_seen_at = now
                session.expires_at = now + timedelta(days=self.config.session_days)
            return session

    async def end_session(self, token: str) -> None:
        async with self.db.session() as s:
            session = await store.session_by_hash(s, hash_token(token))
            if session is not None:
                await store.delete_session(s, session)

    async def resolve_api_token(self, token: str) -> User | None:
        now = self.clock.now()
        async with self.db.session() as s:
            row = await store.api_token_by_hash(s, hash_token(token))
            if row is None or row.user.disabled:
                return None
            # A write per API call would serialise every request on SQLite; minutes are enough.
            if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
                row.last_used_at = now
            return row.user

    # --- own account ----------------------------------------------------------------------

    async def change_password(
        self,
        user: User,
        *,
        current: str,
        new: str,
        keep_session: AuthSession | None = None,
        limiter: RateLimiter | None = None,
    ) -> User:
        """Replace the password after checking the current one; every other session of the
        user ends, their API tokens are revoked and links bound to the old credentials stop
        working: whoever learnt the old password may have made a token with it."""
        if limiter is not None:
            limiter.hit(f"password:user:{user.id}", limit=self.config.login_attempts_per_minute, window=60.0)
        problems = Problems()
        problems.check("new_password", lambda: self.check_password(new))
        new_hash = await asyncio.to_thread(hash_password, new) if not problems.errors else ""
        async with self.db.session() as s:
            row = await self._user_for_update(s, user.id)
            if not await asyncio.to_thread(verify_password, row.password_hash, current):
                problems.add("current_password", InvalidInput(
                    "The current password is not right.", fields={"current_password": "wrong"},
                    code="wrong_password"))
            problems.raise_any()
            row.password_hash = new_hash
            row.credentials_version += 1
            await store.delete_sessions(s, row.id, keep=keep_session.token_hash if keep_session else None)
            await store.delete_api_tokens(s, row.id)
        log.info("user %s changed their password", row.id)
        return row

    async def update_profile(
        self,
        user: User,
        *,
        locales: Collection[str],
        display_name: str | _Unset = UNSET,
        locale: str | None | _Unset = UNSET,
        time_zone: str | None | _Unset = UNSET,
    ) -> User:
        """Change name and preferences; fields left UNSET keep their value."""
        problems = Problems()
        name = problems.check("display_name", lambda: check_display_name(display_name)) \
            if not isinstance(display_name, _Unset) else None
        loc = problems.check("locale", lambda: check_locale(locale, locales)) \
            if not isinstance(locale, _Unset) else None
        tz = problems.check("time_zone", lambda: check_time_zone(time_zone)) \
            if not isinstance(time_zone, _Unset) else None
        problems.raise_any()
        async with self.db.session() as s:
            row = await self._user_for_update(s, user.id)
            if name is not None:
                row.display_name = name
            if not isinstance(locale, _Unset):
                row.locale = loc
            if not isinstance(time_zone, _Unset):
                row.time_zone = tz
        return row

    # --- API tokens -----------------------------------------------------------------------

    async def create_api_token(self, user: User, name: str) -> NewApiToken:
        label = check_token_name(name)
        secret = API_TOKEN_PREFIX + new_token()
        async with self.db.session() as s:
            if await store.count_api_tokens(s, user.id) >= MAX_API_TOKENS:
                raise Conflict("You have too many API tokens. Revoke one you no longer use.",
                               code="too_many_tokens")
            row = await store.add_api_token(s, ApiToken(user_id=user.id, name=label, token_hash=hash_token(secret),
                                                        created_at=self.clock.now(), last_used_at=None))
        log.info("user %s created API token %s", user.id, row.id)
        return NewApiToken(token=row, secret=secret)

    async def api_tokens(self, user: User) -> list[ApiToken]:
        async with self.db.session() as s:
            return await store.api_tokens_of(s, user.id)

    async def revoke_api_token(self, user: User, token_id: int) -> None:
        async with self.db.session() as s:
            row = await store.api_token_of(s, user.id, token_id)
            if row is None:
                raise NotFound("There is no such API token.", code="token_not_found")
            await store.delete_api_token(s, row)
        log.info("user %s revoked API token %s", user.id, token_id)

    # --- invitations ----------------------------------------------------------------------

    def invitable_roles(self, actor: User) -> tuple[Role, ...]:
        return INVITABLE.get(actor.role, ())

    async def invite(self, actor: User, *, email: str, role: Role, dialogue_id: int | None = None) -> NewInvitation:
        """Create an invitation link for ``email`` to join with ``role``."""
        if not self.invitable_roles(actor):
            raise Forbidden("Only organisers and admins can invite people.", code="role_required")
        if not can_invite(actor, role):
            raise Forbidden("Your role cannot invite people with that role.", code="role_not_invitable")
        problems = Problems()
        address = problems.check("email", lambda: normalise_email(email))
        if dialogue_id is not None and role not in DIALOGUE_ROLES:
            problems.add("dialogue_id", InvalidInput(
                "Only facilitators and interpreters are invited to a dialogue.",
                fields={"dialogue_id": "not_for_role"}))
        now = self.clock.now()
        token = new_token()
        async with self.db.session() as s:
            dialogue = None
            if dialogue_id is not None and "dialogue_id" not in problems.errors:
                dialogue = await store.dialogue_by_id(s, dialogue_id)
                if dialogue is None:
                    problems.add("dialogue_id", InvalidInput("That dialogue does not exist (any more).",
                                                             fields={"dialogue_id": "not_found"}))
            problems.raise_any()
            assert address is not None  # problems.raise_any() raised otherwise
            existing = await store.user_by_email(s, address)
            if existing is not None and existing.disabled:
                raise Conflict("That account is disabled; an admin can enable it first.", code="account_disabled")
            if existing is not None and dialogue_id is None and ROLE_RANK[existing.role] >= ROLE_RANK[role]:
                raise Conflict("That person already has an account with this role or a higher one.",
                               code="already_has_role")
            invitation = Invitation(
                token_hash=hash_token(token),
                email=address,
                role=role,
                invited_by_id=actor.id,
                dialogue_id=dialogue_id,
                created_at=now,
                expires_at=now + timedelta(days=self.config.invite_days),
                accepted_at=None,
                accepted_user_id=None,
                revoked_at=None,
            )
            await store.add_invitation(s, invitation)
        log.info("user %s created invitation %s (%s)", actor.id, invitation.id, role.value)
        view = InvitationView(invitation, "pending", actor.display_name, existing is not None,
                              dialogue.title if dialogue is not None else None)
        return NewInvitation(view=view, token=token)

    async def invitations(self, actor: User) -> list[InvitationView]:
        """Pending invitations: all of them for admins, an organiser's own otherwise."""
        if not self.invitable_roles(actor):
            raise Forbidden("Only organisers and admins can see invitations.", code="role_required")
        now = self.clock.now()
        async with self.db.session() as s:
            rows = await store.pending_invitations(
                s, now, invited_by_id=None if actor.role == Role.ADMIN else actor.id
            )
            names = await store.display_names(s, [r.invited_by_id for r in rows if r.invited_by_id is not None])
            titles = await store.dialogue_titles(s, [r.dialogue_id for r in rows if r.dialogue_id is not None])
        return [InvitationView(r, "pending", names.get(r.invited_by_id or 0),
                               dialogue_title=titles.get(r.dialogue_id) if r.dialogue_id is not None else None)
                for r in rows]

    async def invitable_dialogues(self, actor: User) -> list[tuple[int, str]]:
        """(id, title) of the dialogues ``actor`` may invite a facilitator or interpreter to:
        those still to be held, an organiser's own, every one for an admin."""
        if not self.invitable_roles(actor):
            return []
        states = (DialogueState.DRAFT, DialogueState.SCHEDULED, DialogueState.LIVE)
        async with self.db.session() as s:
            return await store.dialogues_to_staff(
                s, states, organiser_id=None if actor.role == Role.ADMIN else actor.id, limit=MAX_INVITABLE_DIALOGUES)

    async def revoke_invitation(self, actor: User, invitation_id: int) -> InvitationView:
        if not self.invitable_roles(actor):
            raise Forbidden("Only organisers and admins can revoke invitations.", code="role_required")
        now = self.clock.now()
        async with self.db.session() as s:
            invitation = await store.invitation_by_id(s, invitation_id)
            if invitation is None or (actor.role != Role.ADMIN and invitation.invited_by_id != actor.id):
                raise NotFound("There is no such invitation.", code="invitation_not_found")
            if not await store.close_invitation(s, invitation.id, now):
                raise Conflict("That invitation was already used or revoked.", code="invitation_closed")
            await store.reload_invitation(s, invitation)
        log.info("user %s revoked invitation %s", actor.id, invitation_id)
        return InvitationView(invitation, "revoked")

    def _check_open(self, invitation: Invitation | None, now: datetime) -> Invitation:
        if invitation is None:
            raise NotFound("This invitation link is not valid. Ask for a new one.", code="invitation_not_found")
        state = invitation_state(invitation, now)
        if state == "accepted":
            raise InvitationClosed("This invitation was already used. Log in instead.", code="invitation_used")
        if state == "revoked":
            raise InvitationClosed("This invitation was withdrawn. Ask for a new one.", code="invitation_revoked")
        if state == "expired":
            raise InvitationClosed("This invitation has expired. Ask for a new one.", code="invitation_expired")
        return invitation

    async def open_invitation(self, token: str) -> InvitationView:
        """A usable invitation for a link token, or the reason it cannot be used."""
        now = self.clock.now()
        async with self.db.session() as s:
            invitation = self._check_open(await store.invitation_by_hash(s, hash_token(token)), now)
            names = await store.display_names(s, [invitation.invited_by_id] if invitation.invited_by_id else [])
            existing = await store.user_by_email(s, invitation.email)
            dialogue = (await store.dialogue_by_id(s, invitation.dialogue_id)) if invitation.dialogue_id else None
        return InvitationView(invitation, "pending", names.get(invitation.invited_by_id or 0), existing is not None,
                              dialogue.title if dialogue is not None else None)

    async def _attach(self, s: AsyncSession, invitation: Invitation, user: User, now: datetime) -> None:
        """Consume the invitation for ``user`` and give them what it grants."""
        if not await store.close_invitation(s, invitation.id, now, accepted_by=user.id):
            raise InvitationClosed("This invitation was already used. Log in instead.", code="invitation_used")
        if ROLE_RANK[invitation.role] > ROLE_RANK[user.role]:
            user.role = invitation.role
        if invitation.dialogue_id is not None and invitation.role == Role.FACILITATOR:
            dialogue = await store.dialogue_by_id(s, invitation.dialogue_id)
            if dialogue is not None and dialogue.facilitator_id is None:
                dialogue.facilitator_id = user.id
                dialogue.updated_at = now

    async def accept_invitation(self, token: str, *, display_name: str, password: str) -> LoginSession:
        """Create the invited account, consume the link and log the new user in, all in
        one transaction."""
        now = self.clock.now()
        problems = Problems()
        name = problems.check("display_name", lambda: check_display_name(display_name))
        problems.check("password", lambda: self.check_password(password))
        pw_hash = await asyncio.to_thread(hash_password, password) if not problems.errors else ""
        try:
            async with self.db.session() as s:
                invitation = self._check_open(await store.invitation_by_hash(s, hash_token(token)), now)
                problems.raise_any()
                assert name is not None
                if await store.user_by_email(s, invitation.email) is not None:
                    raise Conflict("An account with this email already exists. Log in, then open the "
                                   "invitation link again.", code="email_taken")
                user = await store.add_user(s, self._new_user(email=invitation.email, display_name=name,
                                                              role=invitation.role, password_hash=pw_hash))
                await self._attach(s, invitation, user, now)
                session_token, csrf = self._add_session(s, user.id, now)
        except IntegrityError:
            raise Conflict("An account with this email already exists. Log in, then open the invitation "
                           "link again.", code="email_taken") from None
        log.info("invitation %s accepted by new user %s", invitation.id, user.id)
        return LoginSession(token=session_token, csrf_token=csrf, user=user)

    async def accept_invitation_as(self, token: str, user: User) -> User:
        """Accept for a logged-in user whose email the invitation names."""
        now = self.clock.now()
        async with self.db.session() as s:
            invitation = self._check_open(await store.invitation_by_hash(s, hash_token(token)), now)
            row = await self._user_for_update(s, user.id)
            if row.email != invitation.email:
                raise Forbidden("This invitation is for another email address. Log out, then open the link again.",
                                code="invitation_other_account")
            await self._attach(s, invitation, row, now)
        log.info("invitation %s accepted by user %s", invitation.id, row.id)
        return row

    # --- administration -------------------------------------------------------------------

    @staticmethod
    def _require_admin(actor: User) -> None:
        if actor.role != Role.ADMIN:
            raise Forbidden("Only admins can manage accounts.", code="admin_only")

    async def list_users(
        self, actor: User | None, *, search: str = "", role: Role | None = None, page: int = 1, per_page: int = 50
    ) -> UserPage:
        """A page of users matching ``search`` (email or name). ``actor`` None is the CLI."""
        if actor is not None:
            self._require_admin(actor)
        problems = Problems()
        needle = problems.check("q", lambda: check_search(search)) or ""
        if page < 1:
            problems.add("page", InvalidInput("Pages start at 1.", fields={"page": "invalid"}))
        if not 1 <= per_page <= MAX_PER_PAGE:
            problems.add("per_page", InvalidInput("Show 1 to 100 users per page.", fields={"per_page": "invalid"}))
        problems.raise_any()
        async with self.db.session() as s:
            users, total = await store.list_users(
                s, search=needle, role=role, offset=(page - 1) * per_page, limit=per_page
            )
        return UserPage(users=users, total=total, page=page, per_page=per_page)

    async def update_user(
        self, actor: User, user_id: int, *, role: Role | _Unset = UNSET, disabled: bool | _Unset = UNSET
    ) -> User:
        """Change a user's role or enable/disable them; never leaves the site without an
        enabled admin. Disabling ends the user's sessions at once."""
        self._require_admin(actor)
        async with self.db.session() as s:
            row = await self._user_for_update(s, user_id)
            new_role = row.role if isinstance(role, _Unset) else role
            new_disabled = row.disabled if isinstance(disabled, _Unset) else disabled
            was_active_admin = row.role == Role.ADMIN and not row.disabled
            stays_active_admin = new_role == Role.ADMIN and not new_disabled
            if was_active_admin and not stays_active_admin:
                admins = await store.active_admin_ids(s, lock=True)
                if admins == [row.id]:
                    raise Conflict("This is the last admin. Make someone else an admin first.", code="last_admin")
            row.role = new_role
            if new_disabled and not row.disabled:
                await store.delete_sessions(s, row.id)
            row.disabled = new_disabled
        log.info("admin %s updated user %s (role %s, disabled %s)", actor.id, row.id, row.role.value, row.disabled)
        return row

    async def reset_password(self, email: str) -> tuple[User, str]:
        """Give the account a new random password (for the CLI), end its sessions and revoke
        its API tokens (a reset usually means the old credentials leaked)."""
        address = normalise_email(email)
        password = secrets.token_urlsafe(12)
        pw_hash = await asyncio.to_thread(hash_password, password)
        async with self.db.session() as s:
            row = await store.user_by_email(s, address)
            if row is None:
                raise NotFound("There is no account with that email.", code="user_not_found")
            row.password_hash = pw_hash
            row.credentials_version += 1
            await store.delete_sessions(s, row.id)
            await store.delete_api_tokens(s, row.id)
        log.info("password of user %s was reset", row.id)
        return row, password
