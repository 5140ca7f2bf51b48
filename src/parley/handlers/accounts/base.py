"""What every part of the accounts service shares: the database, the clock, the auth settings,
and the few helpers more than one part needs (a new user, a user locked for update, a new
login session)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.config import AuthConfig
from parley.errors import Conflict, InvalidInput, NotFound
from parley.handlers.accounts.rules import PASSWORD_SHORT, check_display_name, normalise_email
from parley.security import hash_password, hash_token, new_token
from parley.storage.database import Database
from parley.storage.stores import accounts as store
from parley.storage.stores.accounts import Account, Credentials
from parley.vocabulary import Role


class AccountsBase:
    def __init__(self, db: Database, clock: Clock, config: AuthConfig,
                 staff_changed: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        # An accepted invitation changed a dialogue's staff: the composition root re-syncs the
        # dialogue's workspace channel (accounts know nothing of the workspace).
        self.staff_changed = staff_changed

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

    async def create_user(
        self,
        *,
        email: str,
        display_name: str,
        role: Role,
        password: str | None = None,
        locale: str | None = None,
    ) -> Account:
        email = normalise_email(email)
        name = check_display_name(display_name)
        pw_hash = None
        if password is not None:
            pw_hash = await asyncio.to_thread(hash_password, self.check_password(password))
        try:
            async with self.db.session() as s:
                if await store.user_by_email(s, email) is not None:
                    raise Conflict("An account with that email already exists.", code="email_taken")
                user = await store.add_user(s, email=email, display_name=name, role=role, password_hash=pw_hash,
                                            created_at=self.clock.now(), locale=locale)
        except IntegrityError:
            raise Conflict("An account with that email already exists.", code="email_taken") from None
        return user

    async def user(self, user_id: int) -> Account | None:
        async with self.db.session() as s:
            return await store.user_by_id(s, user_id)

    async def _user_for_update(self, s: AsyncSession, user_id: int) -> Credentials:
        found = await store.credentials_by_id(s, user_id)
        if found is None:
            raise NotFound("There is no such user.", code="user_not_found")
        return found

    def _add_session(self, s: AsyncSession, user_id: int, now: datetime) -> tuple[str, str]:
        token, csrf = new_token(), new_token(24)
        store.add_session(s, token_hash=hash_token(token), user_id=user_id, csrf_token=csrf, now=now,
                          expires_at=now + timedelta(days=self.config.session_days))
        return token, csrf
