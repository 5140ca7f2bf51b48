"""Logging in and out, login sessions, one's own account (password, profile) and API tokens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import timedelta

from parley.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from parley.handlers.accounts.base import AccountsBase
from parley.handlers.accounts.rules import (
    API_TOKEN_PREFIX,
    MAX_API_TOKENS,
    UNSET,
    Problems,
    _Unset,
    check_display_name,
    check_locale,
    check_time_zone,
    check_token_name,
    normalise_email,
)
from parley.handlers.accounts.views import LoginSession, NewApiToken
from parley.handlers.login_limits import LoginLimits
from parley.handlers.ratelimit import RateLimiter
from parley.security import hash_password, hash_token, needs_rehash, new_token, verify_password
from parley.storage.stores import accounts as store
from parley.storage.stores.accounts import Account, ActiveSession, ApiTokenInfo

log = logging.getLogger(__name__)


class Sessions(AccountsBase):
    # --- logging in -----------------------------------------------------------------------

    async def authenticate(self, email: str, password: str) -> Account:
        """The user for these credentials; one vague error for every failure."""
        async with self.db.session() as s:
            found = await store.credentials_by_email(s, email)
            # Hashing takes tens of milliseconds of CPU: keep it off the event loop.
            # An unknown email costs the same hashing time, so timing does not tell it apart.
            stored = found.password_hash if found is not None else None
            ok = await asyncio.to_thread(verify_password, stored, password)
            if found is None or found.account.disabled or not ok:
                raise Unauthenticated("Wrong email or password.", code="bad_credentials")
            if stored and needs_rehash(stored):
                rehashed = await asyncio.to_thread(hash_password, password)
                await store.update_user(s, found.account.id, password_hash=rehashed)
            return found.account

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

    async def start_session(self, user: Account) -> LoginSession:
        async with self.db.session() as s:
            token, csrf = self._add_session(s, user.id, self.clock.now())
        return LoginSession(token=token, csrf_token=csrf, user=user)

    async def resolve_session(self, token: str) -> ActiveSession | None:
        """The live session for a cookie value, sliding its expiry; None if gone."""
        now = self.clock.now()
        async with self.db.session() as s:
            session = await store.session_by_hash(s, hash_token(token))
            if session is None or session.expires_at < now or session.user.disabled:
                return None
            if now - session.last_seen_at > timedelta(minutes=5):
                expires = now + timedelta(days=self.config.session_days)
                await store.touch_session(s, session.token_hash, now, expires)
                session = replace(session, last_seen_at=now, expires_at=expires)
            return session

    async def end_session(self, token: str) -> None:
        async with self.db.session() as s:
            session = await store.session_by_hash(s, hash_token(token))
            if session is not None:
                await store.delete_session(s, session.token_hash)

    async def resolve_api_token(self, token: str) -> Account | None:
        now = self.clock.now()
        async with self.db.session() as s:
            found = await store.api_token_by_hash(s, hash_token(token))
            if found is None or found[1].disabled:
                return None
            info, owner = found
            # A write per API call would serialise every request on SQLite; minutes are enough.
            if info.last_used_at is None or now - info.last_used_at > timedelta(minutes=5):
                await store.touch_api_token(s, info.id, now)
            return owner

    # --- own account ----------------------------------------------------------------------

    async def change_password(
        self,
        user: Account,
        *,
        current: str,
        new: str,
        keep_session: ActiveSession | None = None,
        limiter: RateLimiter | None = None,
    ) -> Account:
        """Replace the password after checking the current one; every other session of the
        user ends, their API tokens are revoked and links bound to the old credentials stop
        working: whoever learnt the old password may have made a token with it."""
        if limiter is not None:
            limiter.hit(f"password:user:{user.id}", limit=self.config.login_attempts_per_minute, window=60.0)
        problems = Problems()
        problems.check("new_password", lambda: self.check_password(new))
        new_hash = await asyncio.to_thread(hash_password, new) if not problems.errors else ""
        async with self.db.session() as s:
            found = await self._user_for_update(s, user.id)
            if not await asyncio.to_thread(verify_password, found.password_hash, current):
                problems.add("current_password", InvalidInput(
                    "The current password is not right.", fields={"current_password": "wrong"},
                    code="wrong_password"))
            problems.raise_any()
            account = replace(found.account, credentials_version=found.account.credentials_version + 1,
                          has_password=True)
            await store.update_user(s, account.id, password_hash=new_hash,
                                    credentials_version=account.credentials_version)
            await store.delete_sessions(s, account.id, keep=keep_session.token_hash if keep_session else None)
            await store.delete_api_tokens(s, account.id)
        log.info("user %s changed their password", account.id)
        return account

    async def update_profile(
        self,
        user: Account,
        *,
        locales: Collection[str],
        display_name: str | _Unset = UNSET,
        locale: str | None | _Unset = UNSET,
        time_zone: str | None | _Unset = UNSET,
    ) -> Account:
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
            account = (await self._user_for_update(s, user.id)).account
            if name is not None:
                account = replace(account, display_name=name)
            if not isinstance(locale, _Unset):
                account = replace(account, locale=loc)
            if not isinstance(time_zone, _Unset):
                account = replace(account, time_zone=tz)
            await store.update_user(s, account.id, display_name=name)
            if not isinstance(locale, _Unset) or not isinstance(time_zone, _Unset):
                await store.set_preferences(s, account.id, locale=account.locale, time_zone=account.time_zone)
        return account

    # --- API tokens -----------------------------------------------------------------------

    async def create_api_token(self, user: Account, name: str) -> NewApiToken:
        label = check_token_name(name)
        secret = API_TOKEN_PREFIX + new_token()
        async with self.db.session() as s:
            if await store.count_api_tokens(s, user.id) >= MAX_API_TOKENS:
                raise Conflict("You have too many API tokens. Revoke one you no longer use.",
                               code="too_many_tokens")
            info = await store.add_api_token(s, user_id=user.id, name=label, token_hash=hash_token(secret),
                                            created_at=self.clock.now())
        log.info("user %s created API token %s", user.id, info.id)
        return NewApiToken(token=info, secret=secret)

    async def api_tokens(self, user: Account) -> list[ApiTokenInfo]:
        async with self.db.session() as s:
            return await store.api_tokens_of(s, user.id)

    async def revoke_api_token(self, user: Account, token_id: int) -> None:
        async with self.db.session() as s:
            info = await store.api_token_of(s, user.id, token_id)
            if info is None:
                raise NotFound("There is no such API token.", code="token_not_found")
            await store.delete_api_token(s, info.id)
        log.info("user %s revoked API token %s", user.id, token_id)
