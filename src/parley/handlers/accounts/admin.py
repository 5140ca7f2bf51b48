"""User administration for admins: listing, changing roles and access, resetting a password;
there is always at least one enabled admin."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.accounts.base import AccountsBase
from parley.handlers.accounts.rules import MAX_PER_PAGE, UNSET, Problems, _Unset, check_search, normalise_email
from parley.handlers.accounts.views import UserPage
from parley.security import hash_password
from parley.storage.stores import accounts as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

log = logging.getLogger(__name__)


class Administration(AccountsBase):
    # --- administration -------------------------------------------------------------------

    @staticmethod
    def _require_admin(actor: Account) -> None:
        if actor.role != Role.ADMIN:
            raise Forbidden("Only admins can manage accounts.", code="admin_only")

    async def list_users(
        self, actor: Account | None, *, search: str = "", role: Role | None = None, page: int = 1, per_page: int = 50
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
        self, actor: Account, user_id: int, *, role: Role | _Unset = UNSET, disabled: bool | _Unset = UNSET
    ) -> Account:
        """Change a user's role or enable/disable them; never leaves the site without an
        enabled admin. Disabling ends the user's sessions at once."""
        self._require_admin(actor)
        async with self.db.session() as s:
            account = (await self._user_for_update(s, user_id)).account
            new_role = account.role if isinstance(role, _Unset) else role
            new_disabled = account.disabled if isinstance(disabled, _Unset) else disabled
            was_active_admin = account.role == Role.ADMIN and not account.disabled
            stays_active_admin = new_role == Role.ADMIN and not new_disabled
            if was_active_admin and not stays_active_admin:
                admins = await store.active_admin_ids(s, lock=True)
                if admins == [account.id]:
                    raise Conflict("This is the last admin. Make someone else an admin first.", code="last_admin")
            if new_disabled and not account.disabled:
                await store.delete_sessions(s, account.id)
            await store.update_user(s, account.id, role=new_role if new_role != account.role else None,
                                    disabled=new_disabled if new_disabled != account.disabled else None)
            account = replace(account, role=new_role, disabled=new_disabled)
        log.info("admin %s updated user %s (role %s, disabled %s)", actor.id, account.id, account.role.value,
                 account.disabled)
        return account

    async def reset_password(self, email: str) -> tuple[Account, str]:
        """Give the account a new random password (for the CLI), end its sessions and revoke
        its API tokens (a reset usually means the old credentials leaked)."""
        address = normalise_email(email)
        password = secrets.token_urlsafe(12)
        pw_hash = await asyncio.to_thread(hash_password, password)
        async with self.db.session() as s:
            found = await store.user_by_email(s, address)
            if found is None:
                raise NotFound("There is no account with that email.", code="user_not_found")
            account = replace(found, credentials_version=found.credentials_version + 1, has_password=True)
            await store.update_user(s, account.id, password_hash=pw_hash,
                                    credentials_version=account.credentials_version)
            await store.delete_sessions(s, account.id)
            await store.delete_api_tokens(s, account.id)
        log.info("password of user %s was reset", account.id)
        return account, password
