"""Who may see and who may run a dialogue.

The organiser (and any admin) manages it; its facilitator also runs it; admins and
organisers together form the campaign team that may read every dialogue. Other handlers
(registration, meetings, the glossary, transcripts, reports) ask these same questions.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from parley.security import same
from parley.storage.stores import dialogues as store
from parley.storage.stores import registration as reg_store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.vocabulary import DialogueState, Role, Visibility


def manages(user: Account | None, d: DialogueInfo) -> bool:
    return user is not None and (user.role == Role.ADMIN or d.organiser_id == user.id)


def runs(user: Account | None, d: DialogueInfo) -> bool:
    return user is not None and (manages(user, d) or d.facilitator_id == user.id)


def sees_everything(user: Account | None) -> bool:
    """Admins and organisers form the campaign team: they may read every dialogue."""
    return user is not None and user.role in (Role.ADMIN, Role.ORGANISER)


async def can_see(s: AsyncSession, viewer: Account | None, d: DialogueInfo, *, invite_code: str = "") -> bool:
    """Drafts are for the dialogue's staff and the campaign team; invite-only dialogues also
    for those holding the code and those already registered; the rest are public."""
    if sees_everything(viewer) or runs(viewer, d):
        return True
    if viewer is not None and viewer.role == Role.INTERPRETER:
        interpreters = await store.interpreters(s, [d.id])
        if any(u.id == viewer.id for _, u in interpreters[d.id]):
            return True
    if d.state == DialogueState.DRAFT:
        return False
    if d.visibility == Visibility.PUBLIC:
        return True
    if invite_code and same(invite_code, d.invite_code):
        return True
    return viewer is not None and await reg_store.registration(s, d.id, viewer.id) is not None
