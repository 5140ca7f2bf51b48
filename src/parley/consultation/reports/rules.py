"""Who sees and writes a report, and who may be quoted in it."""

from __future__ import annotations

from typing import Any

from parley.consultation.reports.views import Speaker
from parley.handlers.access import SEES_CONTENT, DialogueRole
from parley.handlers.dialogues import manages, runs
from parley.storage.stores import reports as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.vocabulary import DialogueState

HELD = frozenset({DialogueState.ENDED, DialogueState.REPORT_SUBMITTED})


def N_(message: str) -> str:
    return message


def can_view(role: DialogueRole) -> bool:
    """The dialogue's staff and its observers (`access.dialogue_role`); admins are staff."""
    return role in SEES_CONTENT


def can_edit(user: Account, d: DialogueInfo) -> bool:
    return runs(user, d)


def can_reopen(user: Account, d: DialogueInfo) -> bool:
    """Admins and the dialogue's owner."""
    return manages(user, d)


async def quotable_speakers(s: Any, dialogue_id: int) -> list[Speaker]:
    """Registered participants who allow quotes (and the transcript quotes come from)."""
    rows = await store.registrations(s, dialogue_id)
    return [Speaker(r.user_id, r.display_name, r.preferred_language) for r in rows
            if r.consent_quotes and r.consent_transcript]
