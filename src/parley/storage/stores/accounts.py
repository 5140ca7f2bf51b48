"""Users, login sessions, API tokens and invitations: queries only, inside the caller's
transaction."""

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

    @classmethod
    def of(cls, row: AuthSession) -> ActiveSession:
        return cls(token_hash=row.token_hash, csrf_token=row.csrf_token, user=Account.of(row.user),
                   expires_at=row.expires_at)


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

# --- users ----------------------------------------------------------------------------------


async def user_by_email(s: AsyncSession, email: str) -> User | None:
    return (await s.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()


async def user_by_id(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def add_user(s: AsyncSession, user: User) -> User:
    """Insert now, so the new user has its id (and a taken email fails here)."""
    s.add(user)
    await s.flush()
    return user


async def delete_user(s: AsyncSession, user: User) -> None:
    await s.delete(user)


async def count_users(s: AsyncSession, role: Role | None = None) -> int:
    q = select(func.count()).select_from(User)
    if role is not None:
        q = q.where(User.role == role)
    return int((await s.execute(q)).scalar_one())


async def list_users(
    s: AsyncSession, *, search: str = "", role: Role | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[User], int]:
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
    return list(rows.scalars()), total


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


async def session_by_hash(s: AsyncSession, token_hash: str) -> AuthSession | None:
    return await s.get(AuthSession, token_hash)


def add_session(s: AsyncSession, session: AuthSession) -> None:
    """A new login session, written with the caller's commit."""
    s.add(session)


async def delete_session(s: AsyncSession, session: AuthSession) -> None:
    await s.delete(session)


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


async def api_token_by_hash(s: AsyncSession, token_hash: str) -> ApiToken | None:
    return (await s.execute(select(ApiToken).where(ApiToken.token_hash == token_hash))).scalar_one_or_none()


async def api_tokens_of(s: AsyncSession, user_id: int) -> list[ApiToken]:
    rows = await s.execute(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    return list(rows.scalars())


async def api_token_of(s: AsyncSession, user_id: int, token_id: int) -> ApiToken | None:
    q = select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    return (await s.execute(q)).scalar_one_or_none()


async def add_api_token(s: AsyncSession, token: ApiToken) -> ApiToken:
    """Insert now, so the new token has its id."""
    s.add(token)
    await s.flush()
    return token


async def delete_api_token(s: AsyncSession, token: ApiToken) -> None:
    await s.delete(token)


async def count_api_tokens(s: AsyncSession, user_id: int) -> int:
    q = select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id)
    return int((await s.execute(q)).scalar_one())


# --- invitations ----------------------------------------------------------------------------


async def invitation_by_hash(s: AsyncSession, token_hash: str) -> Invitation | None:
    q = select(Invitation).where(Invitation.token_hash == token_hash)
    return (await s.execute(q)).scalar_one_or_none()


async def invitation_by_id(s: AsyncSession, invitation_id: int) -> Invitation | None:
    return await s.get(Invitation, invitation_id)


async def add_invitation(s: AsyncSession, invitation: Invitation) -> Invitation:
    """Insert now, so the new invitation has its id."""
    s.add(invitation)
    await s.flush()
    return invitation


async def reload_invitation(s: AsyncSession, invitation: Invitation) -> None:
    """Read the row again, after a conditional UPDATE (`close_invitation`) changed it."""
    await s.refresh(invitation)


async def pending_invitations(
    s: AsyncSession, now: datetime, *, invited_by_id: int | None = None, roles: Sequence[Role] | None = None
) -> list[Invitation]:
    """Neither accepted, revoked nor expired; newest first."""
    q = select(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now
    )
    if invited_by_id is not None:
        q = q.where(Invitation.invited_by_id == invited_by_id)
    if roles is not None:
        q = q.where(Invitation.role.in_(list(roles)))
    rows = await s.execute(q.order_by(Invitation.id.desc()))
    return list(rows.scalars())


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


async def dialogue_by_id(s: AsyncSession, dialogue_id: int) -> Dialogue | None:
    return await s.get(Dialogue, dialogue_id)


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

