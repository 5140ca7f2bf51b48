"""Users, login sessions, API tokens and invitations: queries only, inside the caller's
transaction.

Callers get values (`Account`, `ActiveSession`, `ApiTokenInfo`, `InvitationInfo`), never rows:
a change is a call here, so nothing is written by setting an attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import (
    ApiToken,
    AuthSession,
    Dialogue,
    DialogueInterpreter,
    DialogueState,
    Invitation,
    Role,
    User,
)

# --- what callers get: values, not rows ---------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A user as everything above storage sees one: a value (no password hash, nothing that
    loads or writes), so a page or a handler cannot change an account by accident."""

    id: int
    email: str
    display_name: str
    role: Role
    locale: str | None
    time_zone: str | None
    disabled: bool
    created_at: datetime
    # Bumped on password change: personal links and sessions issued before are void.
    credentials_version: int
    # False for participants who only use personal links.
    has_password: bool

    @classmethod
    def of(cls, row: User) -> Account:
        return cls(id=row.id, email=row.email, display_name=row.display_name, role=row.role, locale=row.locale,
                   time_zone=row.time_zone, disabled=row.disabled, created_at=row.created_at,
                   credentials_version=row.credentials_version, has_password=row.password_hash is not None)


@dataclass(frozen=True)
class ActiveSession:
    """A browser login found by its cookie: whose it is and the CSRF token it pairs with."""

    token_hash: str
    csrf_token: str
    user: Account
    expires_at: datetime
    # The expiry slides forward when this is a few minutes old.
    last_seen_at: datetime

    @classmethod
    def of(cls, row: AuthSession) -> ActiveSession:
        return cls(token_hash=row.token_hash, csrf_token=row.csrf_token, user=Account.of(row.user),
                   expires_at=row.expires_at, last_seen_at=row.last_seen_at)


@dataclass(frozen=True)
class ApiTokenInfo:
    """An API token as its owner sees it in the list (the secret is shown once, at creation)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> ApiTokenInfo:
        return cls(id=row.id, name=row.name, created_at=row.created_at, last_used_at=row.last_used_at)


@dataclass(frozen=True)
class InvitationInfo:
    """An invitation as the inviter and the invited see it: no token hash, nothing that writes."""

    id: int
    email: str
    role: Role
    invited_by_id: int | None
    # A facilitator or interpreter may be invited to one dialogue.
    dialogue_id: int | None
    # An interpreter invited to a dialogue: the language they interpret into.
    language: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Invitation) -> InvitationInfo:
        return cls(id=row.id, email=row.email, role=row.role, invited_by_id=row.invited_by_id,
                   dialogue_id=row.dialogue_id, language=row.language, created_at=row.created_at,
                   expires_at=row.expires_at, accepted_at=row.accepted_at, revoked_at=row.revoked_at)


@dataclass(frozen=True)
class Credentials:
    """An account with its password hash, for the checks that need it (never handed to web code)."""

    account: Account
    password_hash: str | None


@dataclass(frozen=True)
class InvitedDialogue:
    """What accepting an invitation to a dialogue reads of it."""

    id: int
    title: str
    languages: tuple[str, ...]
    facilitator_id: int | None


# --- users ----------------------------------------------------------------------------------


async def user_by_email(s: AsyncSession, email: str) -> Account | None:
    found = await credentials_by_email(s, email)
    return None if found is None else found.account


async def user_by_id(s: AsyncSession, user_id: int) -> Account | None:
    row = await s.get(User, user_id)
    return None if row is None else Account.of(row)


def _credentials(row: User | None) -> Credentials | None:
    return None if row is None else Credentials(account=Account.of(row), password_hash=row.password_hash)


async def credentials_by_email(s: AsyncSession, email: str) -> Credentials | None:
    row = (await s.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()
    return _credentials(row)


async def credentials_by_id(s: AsyncSession, user_id: int) -> Credentials | None:
    return _credentials(await s.get(User, user_id))


async def add_user(
    s: AsyncSession,
    *,
    email: str,
    display_name: str,
    role: Role,
    password_hash: str | None,
    created_at: datetime,
    locale: str | None = None,
) -> Account:
    """Insert now, so the new user has its id (and a taken email fails here); enabled, first
    credentials."""
    row = User(email=email, display_name=display_name, role=role, password_hash=password_hash, locale=locale,
               created_at=created_at, disabled=False, credentials_version=1)
    s.add(row)
    await s.flush()
    return Account.of(row)


async def update_user(
    s: AsyncSession,
    user_id: int,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    disabled: bool | None = None,
    password_hash: str | None = None,
    credentials_version: int | None = None,
) -> None:
    """Set what is given (None: unchanged); nothing given, nothing written."""
    given = {"display_name": display_name, "role": role, "disabled": disabled, "password_hash": password_hash,
             "credentials_version": credentials_version}
    values = {k: v for k, v in given.items() if v is not None}
    if values:
        await s.execute(update(User).where(User.id == user_id).values(**values))


async def set_preferences(s: AsyncSession, user_id: int, *, locale: str | None, time_zone: str | None) -> None:
    await s.execute(update(User).where(User.id == user_id).values(locale=locale, time_zone=time_zone))


async def delete_user(s: AsyncSession, user_id: int) -> None:
    await s.execute(delete(User).where(User.id == user_id))


async def count_users(s: AsyncSession, role: Role | None = None) -> int:
    q = select(func.count()).select_from(User)
    if role is not None:
        q = q.where(User.role == role)
    return int((await s.execute(q)).scalar_one())


async def list_users(
    s: AsyncSession, *, search: str = "", role: Role | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[Account], int]:
    """One page of users, oldest first, and how many match in all."""
    conditions = []
    if search:
        needle = search.lower()
        conditions.append(
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
            )
        )
    if role is not None:
        conditions.append(User.role == role)
    total = int((await s.execute(select(func.count()).select_from(User).where(*conditions))).scalar_one())
    rows = await s.execute(select(User).where(*conditions).order_by(User.id).offset(offset).limit(limit))
    return [Account.of(u) for u in rows.scalars()], total


async def active_admin_ids(s: AsyncSession, *, lock: bool = False) -> list[int]:
    """Enabled admins; ``lock`` holds their rows so two demotions cannot both pass the
    last-admin check (PostgreSQL; SQLite serialises writers anyway)."""
    q = select(User.id).where(User.role == Role.ADMIN, User.disabled.is_(False)).order_by(User.id)
    if lock:
        q = q.with_for_update()
    return [int(i) for i in (await s.execute(q)).scalars()]


async def display_names(s: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await s.execute(select(User.id, User.display_name).where(User.id.in_(list(set(user_ids)))))
    return {int(i): str(name) for i, name in rows.all()}


# --- sessions -------------------------------------------------------------------------------


async def session_by_hash(s: AsyncSession, token_hash: str) -> ActiveSession | None:
    row = await s.get(AuthSession, token_hash)
    return None if row is None else ActiveSession.of(row)


def add_session(
    s: AsyncSession, *, token_hash: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
) -> None:
    """A new login session, written with the caller's commit."""
    s.add(AuthSession(token_hash=token_hash, user_id=user_id, csrf_token=csrf_token, created_at=now,
                      expires_at=expires_at, last_seen_at=now))


async def touch_session(s: AsyncSession, token_hash: str, now: datetime, expires_at: datetime) -> None:
    """Seen now: slide the expiry."""
    await s.execute(
        update(AuthSession).where(AuthSession.token_hash == token_hash).values(last_seen_at=now, expires_at=expires_at)
    )


async def delete_session(s: AsyncSession, token_hash: str) -> None:
    await s.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash))


async def delete_sessions(s: AsyncSession, user_id: int, *, keep: str | None = None) -> None:
    q = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        q = q.where(AuthSession.token_hash != keep)
    await s.execute(q)


async def delete_api_tokens(s: AsyncSession, user_id: int) -> int:
    result = await s.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_expired_sessions(s: AsyncSession, now: datetime) -> int:
    result = await s.execute(delete(AuthSession).where(AuthSession.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def count_sessions(s: AsyncSession, user_id: int) -> int:
    q = select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)
    return int((await s.execute(q)).scalar_one())


# --- API tokens -----------------------------------------------------------------------------


async def api_token_by_hash(s: AsyncSession, token_hash: str) -> tuple[ApiTokenInfo, Account] | None:
    """The token and its owner."""
    row = (await s.execute(select(ApiToken).where(ApiToken.token_hash == token_hash))).scalar_one_or_none()
    return None if row is None else (ApiTokenInfo.of(row), Account.of(row.user))


async def api_tokens_of(s: AsyncSession, user_id: int) -> list[ApiTokenInfo]:
    rows = await s.execute(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    return [ApiTokenInfo.of(t) for t in rows.scalars()]


async def api_token_of(s: AsyncSession, user_id: int, token_id: int) -> ApiTokenInfo | None:
    q = select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    row = (await s.execute(q)).scalar_one_or_none()
    return None if row is None else ApiTokenInfo.of(row)


async def add_api_token(
    s: AsyncSession, *, user_id: int, name: str, token_hash: str, created_at: datetime
) -> ApiTokenInfo:
    """Insert now, so the new token has its id."""
    row = ApiToken(user_id=user_id, name=name, token_hash=token_hash, created_at=created_at, last_used_at=None)
    s.add(row)
    await s.flush()
    return ApiTokenInfo.of(row)


async def touch_api_token(s: AsyncSession, token_id: int, now: datetime) -> None:
    await s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


async def delete_api_token(s: AsyncSession, token_id: int) -> None:
    await s.execute(delete(ApiToken).where(ApiToken.id == token_id))


async def count_api_tokens(s: AsyncSession, user_id: int) -> int:
    q = select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id)
    return int((await s.execute(q)).scalar_one())


# --- invitations ----------------------------------------------------------------------------


def _invitation(row: Invitation | None) -> InvitationInfo | None:
    return None if row is None else InvitationInfo.of(row)


async def invitation_by_hash(s: AsyncSession, token_hash: str) -> InvitationInfo | None:
    q = select(Invitation).where(Invitation.token_hash == token_hash)
    return _invitation((await s.execute(q)).scalar_one_or_none())


async def invitation_by_id(s: AsyncSession, invitation_id: int) -> InvitationInfo | None:
    return _invitation(await s.get(Invitation, invitation_id))


async def add_invitation(
    s: AsyncSession,
    *,
    token_hash: str,
    email: str,
    role: Role,
    invited_by_id: int | None,
    dialogue_id: int | None,
    language: str | None,
    created_at: datetime,
    expires_at: datetime,
) -> InvitationInfo:
    """Insert now, so the new invitation has its id; open (neither accepted nor revoked)."""
    row = Invitation(token_hash=token_hash, email=email, role=role, invited_by_id=invited_by_id,
                     dialogue_id=dialogue_id, language=language, created_at=created_at, expires_at=expires_at,
                     accepted_at=None, accepted_user_id=None, revoked_at=None)
    s.add(row)
    await s.flush()
    return InvitationInfo.of(row)


async def reload_invitation(s: AsyncSession, invitation_id: int) -> InvitationInfo:
    """Read the row again, after a conditional UPDATE (`close_invitation`) changed it."""
    q = select(Invitation).where(Invitation.id == invitation_id).execution_options(populate_existing=True)
    return InvitationInfo.of((await s.execute(q)).scalar_one())


async def pending_invitations(
    s: AsyncSession, now: datetime, *, invited_by_id: int | None = None, roles: Sequence[Role] | None = None
) -> list[InvitationInfo]:
    """Neither accepted, revoked nor expired; newest first."""
    q = select(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now
    )
    if invited_by_id is not None:
        q = q.where(Invitation.invited_by_id == invited_by_id)
    if roles is not None:
        q = q.where(Invitation.role.in_(list(roles)))
    rows = await s.execute(q.order_by(Invitation.id.desc()))
    return [InvitationInfo.of(i) for i in rows.scalars()]


async def close_invitation(
    s: AsyncSession, invitation_id: int, now: datetime, *, accepted_by: int | None = None
) -> bool:
    """Mark an open invitation accepted (``accepted_by`` given) or revoked.

    A conditional UPDATE, so of two racing requests only one sees True: the link is
    single use even under concurrency.
    """
    values: dict[str, object] = (
        {"accepted_at": now, "accepted_user_id": accepted_by} if accepted_by is not None else {"revoked_at": now}
    )
    result = await s.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


# --- dialogues (only what invitations need) ---------------------------------------------------


async def dialogue_by_id(s: AsyncSession, dialogue_id: int) -> InvitedDialogue | None:
    row = await s.get(Dialogue, dialogue_id)
    if row is None:
        return None
    return InvitedDialogue(id=row.id, title=row.title, languages=tuple(row.languages),
                           facilitator_id=row.facilitator_id)


async def set_facilitator(s: AsyncSession, dialogue_id: int, user_id: int, now: datetime) -> None:
    await s.execute(update(Dialogue).where(Dialogue.id == dialogue_id).values(facilitator_id=user_id, updated_at=now))


async def touch_dialogue(s: AsyncSession, dialogue_id: int, now: datetime) -> None:
    """Its staff changed: bump ``updated_at``."""
    await s.execute(update(Dialogue).where(Dialogue.id == dialogue_id).values(updated_at=now))


async def dialogue_titles(s: AsyncSession, dialogue_ids: Sequence[int]) -> dict[int, str]:
    if not dialogue_ids:
        return {}
    rows = await s.execute(select(Dialogue.id, Dialogue.title).where(Dialogue.id.in_(set(dialogue_ids))))
    return {int(i): str(t) for i, t in rows}


async def dialogues_to_staff(s: AsyncSession, states: Sequence[DialogueState], *, organiser_id: int | None,
                             limit: int) -> list[tuple[int, str, list[str]]]:
    """(id, title, languages) of dialogues still to be held, soonest first; ``organiser_id``
    None: all of them."""
    q = select(Dialogue.id, Dialogue.title, Dialogue.languages).where(Dialogue.state.in_(states))
    if organiser_id is not None:
        q = q.where(Dialogue.organiser_id == organiser_id)
    q = q.order_by(Dialogue.starts_at.is_(None), Dialogue.starts_at, Dialogue.id).limit(limit)
    return [(int(i), str(t), list(langs or [])) for i, t, langs in await s.execute(q)]


async def add_interpreter(s: AsyncSession, dialogue_id: int, user_id: int, language: str) -> bool:
    """Make ``user_id`` an interpreter of the dialogue into ``language``; False if already so."""
    found = await s.execute(select(DialogueInterpreter.id).where(
        DialogueInterpreter.dialogue_id == dialogue_id, DialogueInterpreter.user_id == user_id,
        DialogueInterpreter.language == language))
    if found.first() is not None:
        return False
    s.add(DialogueInterpreter(dialogue_id=dialogue_id, user_id=user_id, language=language))
    return True

