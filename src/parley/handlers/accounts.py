"""Accounts, roles and login sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from parley.clock import Clock
from parley.config import AuthConfig
from parley.errors import Conflict, InvalidInput, Unauthenticated
from parley.security import hash_password, hash_token, needs_rehash, new_token, verify_password
from parley.storage.database import Database
from parley.storage.models import AuthSession, Role, User
from parley.storage.stores import accounts as store

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@dataclass(frozen=True)
class LoginSession:
    token: str
    csrf_token: str
    user: User


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 320 or not EMAIL_RE.match(value):
        raise InvalidInput("Enter a valid email address.", fields={"email": "invalid"}, code="invalid_email")
    return value


def check_display_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= 120:
        raise InvalidInput("Enter a name of 1 to 120 characters.", fields={"display_name": "length"})
    return value


class Accounts:
    def __init__(self, db: Database, clock: Clock, config: AuthConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    def check_password(self, password: str) -> str:
        if len(password) < self.config.min_password_length:
            raise InvalidInput(
                f"Use a password of at least {self.config.min_password_length} characters.",
                fields={"password": "too_short"},
                code="weak_password",
            )
        if len(password) > 1024:
            raise InvalidInput("That password is too long.", fields={"password": "too_long"})
        return password

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
        pw_hash = hash_password(self.check_password(password)) if password is not None else None
        async with self.db.session() as s:
            if await store.user_by_email(s, email) is not None:
                raise Conflict("An account with that email already exists.", code="email_taken")
            user = User(
                email=email,
                display_name=name,
                role=role,
                password_hash=pw_hash,
                locale=locale,
                created_at=self.clock.now(),
                disabled=False,
                credentials_version=1,
            )
            s.add(user)
        return user

    async def user(self, user_id: int) -> User | None:
        async with self.db.session() as s:
            return await store.user_by_id(s, user_id)

    async def authenticate(self, email: str, password: str) -> User:
        """The user for these credentials; one vague error for every failure."""
        async with self.db.session() as s:
            user = await store.user_by_email(s, email)
            if user is None or user.disabled or not verify_password(user.password_hash, password):
                if user is None:
                    verify_password(None, password)
                raise Unauthenticated("Wrong email or password.", code="bad_credentials")
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            return user

    async def start_session(self, user: User) -> LoginSession:
        token, csrf = new_token(), new_token(24)
        now = self.clock.now()
        async with self.db.session() as s:
            s.add(
                AuthSession(
                    token_hash=hash_token(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + timedelta(days=self.config.session_days),
                    last_seen_at=now,
                )
            )
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
                await s.delete(session)

    async def resolve_api_token(self, token: str) -> User | None:
        now = self.clock.now()
        async with self.db.session() as s:
            row = await store.api_token_by_hash(s, hash_token(token))
            if row is None or row.user.disabled:
                return None
            row.last_used_at = now
            return row.user
