"""A participant's own data: their registrations, what they answered last time (to fill in
the next form), everything Parley holds about them, their consents, and leaving: one
dialogue (the registration is deleted, not marked) or all of it (a participant's account
goes with it). Only its owner reads a registration's age group, gender and education.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import NotFound, Unauthenticated
from parley.handlers.accounts import contact_email
from parley.handlers.dialogues import check_id
from parley.handlers.registration.views import MyData, RegistrationView
from parley.storage.database import Database
from parley.storage.stores import accounts as account_store
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

log = logging.getLogger(__name__)


class OwnData:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

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
            await store.set_consent(s, registration.id, transcript=transcript, quotes=quotes, now=self.clock.now())
            return await self._own(s, user, dialogue_id)

    async def withdraw(self, user: Account, dialogue_id: int) -> None:
        """Leave a dialogue: the registration is deleted, not just marked."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            await self._own(s, user, dialogue_id)
            registration = await store.registration(s, dialogue_id, user.id)
            assert registration is not None  # _own raised otherwise
            await store.delete_one(s, registration.id)
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
                await account_store.delete_user(s, row.id)
        log.info("user %s deleted their data (account deleted: %s)", user.id, gone)
        return gone

    async def _own(self, s: AsyncSession, user: Account, dialogue_id: int) -> RegistrationView:
        registration = await store.registration(s, dialogue_id, user.id)
        d = await dialogue_store.info(s, dialogue_id)
        if registration is None or d is None:
            raise NotFound("You are not registered for this dialogue.", code="registration_not_found")
        return RegistrationView.of(registration, d)
