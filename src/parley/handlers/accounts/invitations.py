"""Staff invitations: sending, listing, revoking, opening and accepting the single-use link
(an existing account accepts it once logged in; accounts are never taken over through a link)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.accounts.base import AccountsBase
from parley.handlers.accounts.rules import (
    DIALOGUE_ROLES,
    INVITABLE,
    MAX_INVITABLE_DIALOGUES,
    ROLE_RANK,
    InvitationClosed,
    Problems,
    can_invite,
    check_display_name,
    invitation_state,
    normalise_email,
)
from parley.handlers.accounts.views import InvitationView, LoginSession, NewInvitation
from parley.security import hash_password, hash_token, new_token
from parley.storage.stores import accounts as store
from parley.storage.stores.accounts import Account, InvitationInfo
from parley.vocabulary import DialogueState, Role

log = logging.getLogger(__name__)


class Invitations(AccountsBase):
    # --- invitations ----------------------------------------------------------------------

    def invitable_roles(self, actor: Account) -> tuple[Role, ...]:
        return INVITABLE.get(actor.role, ())

    async def invite(self, actor: Account, *, email: str, role: Role, dialogue_id: int | None = None,
                     language: str | None = None) -> NewInvitation:
        """Create an invitation link for ``email`` to join with ``role``; an interpreter invited
        to a dialogue names the ``language`` they interpret into (one of the dialogue's), and
        accepting makes them its interpreter into it."""
        if not self.invitable_roles(actor):
            raise Forbidden("Only organisers and admins can invite people.", code="role_required")
        if not can_invite(actor, role):
            raise Forbidden("Your role cannot invite people with that role.", code="role_not_invitable")
        problems = Problems()
        address = problems.check("email", lambda: normalise_email(email))
        if dialogue_id is not None and role not in DIALOGUE_ROLES:
            problems.add("dialogue_id", InvalidInput(
                "Only facilitators and interpreters are invited to a dialogue.",
                fields={"dialogue_id": "not_for_role"}))
        language = language or None
        if role == Role.INTERPRETER and dialogue_id is not None and language is None:
            problems.add("language", InvalidInput("Choose the language this interpreter interprets into.",
                                                  fields={"language": "required"}))
        elif language is not None and (role != Role.INTERPRETER or dialogue_id is None):
            problems.add("language", InvalidInput("Only an interpreter invited to a dialogue interprets into a "
                                                  "language.", fields={"language": "not_for_role"}))
        now = self.clock.now()
        token = new_token()
        async with self.db.session() as s:
            dialogue = None
            if dialogue_id is not None and "dialogue_id" not in problems.errors:
                dialogue = await store.dialogue_by_id(s, dialogue_id)
                if dialogue is None:
                    problems.add("dialogue_id", InvalidInput("That dialogue does not exist (any more).",
                                                             fields={"dialogue_id": "not_found"}))
                elif language is not None and "language" not in problems.errors and language not in dialogue.languages:
                    problems.add("language", InvalidInput("Choose one of the dialogue's languages.",
                                                          fields={"language": "not_offered"}))
            problems.raise_any()
            assert address is not None  # problems.raise_any() raised otherwise
            existing = await store.user_by_email(s, address)
            if existing is not None and existing.disabled:
                raise Conflict("That account is disabled; an admin can enable it first.", code="account_disabled")
            if existing is not None and dialogue_id is None and ROLE_RANK[existing.role] >= ROLE_RANK[role]:
                raise Conflict("That person already has an account with this role or a higher one.",
                               code="already_has_role")
            invitation = await store.add_invitation(
                s,
                token_hash=hash_token(token),
                email=address,
                role=role,
                invited_by_id=actor.id,
                dialogue_id=dialogue_id,
                language=language,
                created_at=now,
                expires_at=now + timedelta(days=self.config.invite_days),
            )
        log.info("user %s created invitation %s (%s)", actor.id, invitation.id, role.value)
        view = InvitationView(invitation, "pending", actor.display_name, existing is not None,
                              dialogue.title if dialogue is not None else None)
        return NewInvitation(view=view, token=token)

    async def invitations(self, actor: Account) -> list[InvitationView]:
        """Pending invitations: all of them for admins, an organiser's own otherwise."""
        if not self.invitable_roles(actor):
            raise Forbidden("Only organisers and admins can see invitations.", code="role_required")
        now = self.clock.now()
        async with self.db.session() as s:
            rows = await store.pending_invitations(
                s, now, invited_by_id=None if actor.role == Role.ADMIN else actor.id
            )
            names = await store.display_names(s, [r.invited_by_id for r in rows if r.invited_by_id is not None])
            titles = await store.dialogue_titles(s, [r.dialogue_id for r in rows if r.dialogue_id is not None])
        return [InvitationView(r, "pending", names.get(r.invited_by_id or 0),
                               dialogue_title=titles.get(r.dialogue_id) if r.dialogue_id is not None else None)
                for r in rows]

    async def invitable_dialogues(self, actor: Account) -> list[tuple[int, str, list[str]]]:
        """(id, title, languages) of the dialogues ``actor`` may invite a facilitator or
        interpreter to: those still to be held, an organiser's own, every one for an admin."""
        if not self.invitable_roles(actor):
            return []
        states = (DialogueState.DRAFT, DialogueState.SCHEDULED, DialogueState.LIVE)
        async with self.db.session() as s:
            return await store.dialogues_to_staff(
                s, states, organiser_id=None if actor.role == Role.ADMIN else actor.id, limit=MAX_INVITABLE_DIALOGUES)

    async def revoke_invitation(self, actor: Account, invitation_id: int) -> InvitationView:
        if not self.invitable_roles(actor):
            raise Forbidden("Only organisers and admins can revoke invitations.", code="role_required")
        now = self.clock.now()
        async with self.db.session() as s:
            invitation = await store.invitation_by_id(s, invitation_id)
            if invitation is None or (actor.role != Role.ADMIN and invitation.invited_by_id != actor.id):
                raise NotFound("There is no such invitation.", code="invitation_not_found")
            if not await store.close_invitation(s, invitation.id, now):
                raise Conflict("That invitation was already used or revoked.", code="invitation_closed")
            invitation = await store.reload_invitation(s, invitation.id)
        log.info("user %s revoked invitation %s", actor.id, invitation_id)
        return InvitationView(invitation, "revoked")

    def _check_open(self, invitation: InvitationInfo | None, now: datetime) -> InvitationInfo:
        if invitation is None:
            raise NotFound("This invitation link is not valid. Ask for a new one.", code="invitation_not_found")
        state = invitation_state(invitation, now)
        if state == "accepted":
            raise InvitationClosed("This invitation was already used. Log in instead.", code="invitation_used")
        if state == "revoked":
            raise InvitationClosed("This invitation was withdrawn. Ask for a new one.", code="invitation_revoked")
        if state == "expired":
            raise InvitationClosed("This invitation has expired. Ask for a new one.", code="invitation_expired")
        return invitation

    async def open_invitation(self, token: str) -> InvitationView:
        """A usable invitation for a link token, or the reason it cannot be used."""
        now = self.clock.now()
        async with self.db.session() as s:
            invitation = self._check_open(await store.invitation_by_hash(s, hash_token(token)), now)
            names = await store.display_names(s, [invitation.invited_by_id] if invitation.invited_by_id else [])
            existing = await store.user_by_email(s, invitation.email)
            dialogue = (await store.dialogue_by_id(s, invitation.dialogue_id)) if invitation.dialogue_id else None
        return InvitationView(invitation, "pending", names.get(invitation.invited_by_id or 0),
                              existing is not None, dialogue.title if dialogue is not None else None)

    async def _attach(
        self, s: AsyncSession, invitation: InvitationInfo, user: Account, now: datetime
    ) -> tuple[Account, bool]:
        """Consume the invitation for ``user`` and give them what it grants: the user as they
        are now, and True when that changed a dialogue's staff (its workspace channel then
        follows, after commit)."""
        if not await store.close_invitation(s, invitation.id, now, accepted_by=user.id):
            raise InvitationClosed("This invitation was already used. Log in instead.", code="invitation_used")
        if ROLE_RANK[invitation.role] > ROLE_RANK[user.role]:
            await store.update_user(s, user.id, role=invitation.role)
            user = replace(user, role=invitation.role)
        if invitation.dialogue_id is None:
            return user, False
        dialogue = await store.dialogue_by_id(s, invitation.dialogue_id)
        if dialogue is None:
            return user, False
        if invitation.role == Role.FACILITATOR and dialogue.facilitator_id is None:
            await store.set_facilitator(s, dialogue.id, user.id, now)
            return user, True
        # Only someone who interprets may be an interpreter (an admin accepting one stays admin
        # and is not listed: the dialogue form would refuse them too).
        listed = (invitation.role == Role.INTERPRETER and user.role == Role.INTERPRETER and invitation.language
                  and invitation.language in dialogue.languages
                  and await store.add_interpreter(s, dialogue.id, user.id, invitation.language))
        if listed:
            await store.touch_dialogue(s, dialogue.id, now)
        return user, bool(listed)

    async def _staff_changed(self, dialogue_id: int | None) -> None:
        if dialogue_id is not None and self.staff_changed is not None:
            await self.staff_changed(dialogue_id)

    async def accept_invitation(self, token: str, *, display_name: str, password: str) -> LoginSession:
        """Create the invited account, consume the link and log the new user in, all in
        one transaction."""
        now = self.clock.now()
        problems = Problems()
        name = problems.check("display_name", lambda: check_display_name(display_name))
        problems.check("password", lambda: self.check_password(password))
        pw_hash = await asyncio.to_thread(hash_password, password) if not problems.errors else ""
        try:
            async with self.db.session() as s:
                invitation = self._check_open(await store.invitation_by_hash(s, hash_token(token)), now)
                problems.raise_any()
                assert name is not None
                if await store.user_by_email(s, invitation.email) is not None:
                    raise Conflict("An account with this email already exists. Log in, then open the "
                                   "invitation link again.", code="email_taken")
                user = await store.add_user(s, email=invitation.email, display_name=name, role=invitation.role,
                                            password_hash=pw_hash, created_at=self.clock.now())
                user, changed = await self._attach(s, invitation, user, now)
                session_token, csrf = self._add_session(s, user.id, now)
        except IntegrityError:
            raise Conflict("An account with this email already exists. Log in, then open the invitation "
                           "link again.", code="email_taken") from None
        log.info("invitation %s accepted by new user %s", invitation.id, user.id)
        if changed:
            await self._staff_changed(invitation.dialogue_id)
        return LoginSession(token=session_token, csrf_token=csrf, user=user)

    async def accept_invitation_as(self, token: str, user: Account) -> Account:
        """Accept for a logged-in user whose email the invitation names."""
        now = self.clock.now()
        async with self.db.session() as s:
            invitation = self._check_open(await store.invitation_by_hash(s, hash_token(token)), now)
            account = (await self._user_for_update(s, user.id)).account
            if account.email != invitation.email:
                raise Forbidden("This invitation is for another email address. Log out, then open the link again.",
                                code="invitation_other_account")
            account, changed = await self._attach(s, invitation, account, now)
        log.info("invitation %s accepted by user %s", invitation.id, account.id)
        if changed:
            await self._staff_changed(invitation.dialogue_id)
        return account
