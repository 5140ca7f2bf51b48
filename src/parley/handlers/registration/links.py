"""Personal links: how participants, who have no password, log in.

A link is a signed token bound to the account's credentials version, so it expires (after
``auth.participant_link_days``), and bumping the version revokes every link given out
before, with the account's other logins. A bad link of any kind gets one vague answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from parley.config import AuthConfig
from parley.errors import Forbidden, Unauthenticated
from parley.handlers.accounts import Accounts, LoginSession
from parley.handlers.registration.rules import LINK_PURPOSE, TOKEN_MAX, link_only
from parley.security import LinkSigner
from parley.storage.database import Database
from parley.storage.stores import accounts as account_store
from parley.storage.stores.accounts import Account


class PersonalLinks:
    def __init__(self, db: Database, signer: LinkSigner, accounts: Accounts, auth_config: AuthConfig) -> None:
        self.db = db
        self.signer = signer
        self.accounts = accounts
        self.config = auth_config

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
        if user is None or user.disabled or not link_only(user) or user.credentials_version != version:
            raise invalid
        return await self.accounts.start_session(user)

    async def revoke_links(self, user: Account, *, keep_session_token_hash: str | None = None) -> str:
        """Void every personal link and other login of ``user``; returns a fresh link."""
        if not link_only(user):
            raise Forbidden("Only participants have personal links.", code="participants_only")
        async with self.db.session() as s:
            account = await account_store.user_by_id(s, user.id)
            if account is None:
                raise Unauthenticated("Log in to continue.", code="login_required")
            fresh = replace(account, credentials_version=account.credentials_version + 1)
            await account_store.update_user(s, account.id, credentials_version=fresh.credentials_version)
            await account_store.delete_sessions(s, account.id, keep=keep_session_token_hash)
        return self.link_token(fresh)
