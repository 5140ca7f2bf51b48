"""Users, login sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import ApiToken, AuthSession, Role, User


async def user_by_email(s: AsyncSession, email: str) -> User | None:
    return (await s.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()


async def user_by_id(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def count_users(s: AsyncSession, role: Role | None = None) -> int:
    q = select(func.count()).select_from(User)
    if role is not None:
        q = q.where(User.role == role)
    return int((await s.execute(q)).scalar_one())


async def session_by_hash(s: AsyncSession, token_hash: str) -> AuthSession | None:
    return await s.get(AuthSession, token_hash)


async def delete_sessions(s: AsyncSession, user_id: int, *, keep: str | None = None) -> None:
    q = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        q = q.where(AuthSession.token_hash != keep)
    await s.execute(q)


async def delete_expired_sessions(s: AsyncSession, now: datetime) -> int:
    result = await s.execute(delete(AuthSession).where(AuthSession.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def api_token_by_hash(s: AsyncSession, token_hash: str) -> ApiToken | None:
    return (await s.execute(select(ApiToken).where(ApiToken.token_hash == token_hash))).scalar_one_or_none()
