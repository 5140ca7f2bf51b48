"""Registering: a place in a dialogue for someone logged in, or a new participant account
with its personal link and login for someone who is not.

Registering never tells whether an address has a Parley account. Participant emails are
never verified, so on a link-only account the email is contact information, not an
identity: someone who is not logged in and gives an address another account already has
gets exactly what a new address gets (a new participant account, its own personal link
and login, 201) and nothing of the existing account, which stays as it was (the new
account stores the address with a tag, `shared_email`, to keep emails unique). The owner
of the address just registers as usual, with their personal link or by logging in; the
organiser sees both registrations under the same address. Answering "this email is
known" instead would let anyone test which people use Parley, one request per address.

Registrations are counted against the dialogue's capacity one at a time: a lock per
dialogue in this process, and the dialogue's row locked in the database.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from parley.handlers.accounts import Accounts, contact_email, normalise_email, shared_email
from parley.handlers.dialogues import OPEN_STATES, can_see, check_id, clean_text, manages
from parley.handlers.registration.links import PersonalLinks
from parley.handlers.registration.rules import flag, link_only
from parley.handlers.registration.validation import validate
from parley.handlers.registration.views import RegistrationInput, RegistrationOutcome, RegistrationView
from parley.security import same
from parley.storage.database import Database
from parley.storage.stores import accounts as account_store
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.registration import Answers, RegistrationInfo
from parley.vocabulary import DialogueState, Role, Visibility

log = logging.getLogger(__name__)


class Registering:
    def __init__(self, db: Database, clock: Clock, accounts: Accounts, links: PersonalLinks) -> None:
        self.db = db
        self.clock = clock
        self.accounts = accounts
        self.links = links
        # One lock per dialogue so concurrent registrations in this process are counted
        # against the capacity one at a time (PostgreSQL also locks the dialogue's row).
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def register(self, dialogue_id: int, data: RegistrationInput, actor: Account | None) -> RegistrationOutcome:
        check_id(dialogue_id)
        lock = self._locks.get(dialogue_id)
        if lock is None:
            lock = self._locks[dialogue_id] = asyncio.Lock()
        async with lock:
            for attempt in (1, 2):
                try:
                    async with self.db.session() as s:
                        registration, user, created, new_account = await self._register(s, dialogue_id, data, actor)
                        d = await dialogue_store.info(s, dialogue_id)
                        assert d is not None
                        view = RegistrationView.of(registration, d)
                    break
                except IntegrityError as exc:
                    # The same new address registered at the same moment elsewhere: once more,
                    # it is now a known address like any other.
                    if attempt == 2:
                        raise Conflict("Registering did not go through. Try again.", code="try_again") from exc
        session = await self.accounts.start_session(user) if new_account else None
        log.info("registration %s for dialogue %s (user %s)", "created" if created else "updated", dialogue_id, user.id)
        return RegistrationOutcome(
            registration=view,
            user=user,
            created=created,
            link_token=self.links.link_token(user) if link_only(user) else None,
            session=session,
        )

    async def _register(
        self, s: AsyncSession, dialogue_id: int, data: RegistrationInput, actor: Account | None
    ) -> tuple[RegistrationInfo, Account, bool, bool]:
        if not await dialogue_store.lock(s, dialogue_id):
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        d = await dialogue_store.info(s, dialogue_id)
        assert d is not None
        existing = await store.registration(s, d.id, actor.id) if actor is not None else None
        if d.state == DialogueState.DRAFT:
            if await can_see(s, actor, d):
                raise Conflict("This dialogue is not open for registration yet.", code="registration_closed")
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        if d.visibility == Visibility.INVITE_ONLY and existing is None and not manages(actor, d):
            code = clean_text(data.invite_code) or ""
            if not code:
                raise Forbidden("This dialogue is by invitation: use the link you were given.", code="invite_required")
            if not same(code, d.invite_code):
                raise Forbidden("This invitation link is not valid any more.", code="invite_invalid")
        if d.state not in OPEN_STATES:
            raise Conflict("Registration for this dialogue has closed.", code="registration_closed")

        fields = validate(data, d, anonymous=actor is None)
        now = self.clock.now()
        new_account = False
        if actor is not None:
            if data.email.strip():
                try:
                    same_email = normalise_email(data.email) == contact_email(actor.email)
                except InvalidInput:
                    same_email = False
                if not same_email:
                    raise InvalidInput(
                        "You are logged in: you can only register yourself.",
                        fields={"email": "mismatch"},
                        code="email_mismatch",
                    )
            user = await account_store.user_by_id(s, actor.id)
            if user is None:  # pragma: no cover - deleted while logged in
                raise Unauthenticated("Log in to continue.", code="login_required")
            if user.role == Role.PARTICIPANT and fields.get("display_name"):
                await account_store.update_user(s, user.id, display_name=fields["display_name"])
                user = replace(user, display_name=fields["display_name"])
        else:
            email = fields["email"]
            if await account_store.user_by_email(s, email) is not None:
                email = shared_email(email)  # the same answer as for a new address: see the module doc
            user = await account_store.add_user(
                s, email=email, display_name=fields["display_name"], role=Role.PARTICIPANT, password_hash=None,
                created_at=now
            )
            new_account = True

        answers = Answers(
            preferred_language=fields["preferred_language"], country=fields["country"],
            age_group=fields["age_group"], gender=fields["gender"], education=fields["education"],
            consent_participate=True, consent_transcript=flag(data.consent_transcript),
            consent_quotes=flag(data.consent_quotes),
        )
        registration = existing if actor is not None else None
        created = registration is None
        if registration is None:
            if await store.count(s, d.id) >= d.capacity:
                raise Conflict("This dialogue is full.", code="dialogue_full")
            await store.add(s, d.id, user.id, answers, now)
        else:
            await store.update_answers(s, registration.id, answers, now)
        saved = await store.registration(s, d.id, user.id)
        assert saved is not None
        return saved, user, created, new_account
