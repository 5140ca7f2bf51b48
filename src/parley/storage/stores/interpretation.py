"""What the live interpretation reads besides the meeting itself: who interprets into which
language in a dialogue, and whether a participant's words may go into its transcript."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import DialogueInterpreter, Registration


async def interpreters(s: AsyncSession, dialogue_id: int) -> dict[int, str]:
    """The dialogue's interpreters: user id -> the language they interpret into."""
    rows = await s.execute(select(DialogueInterpreter).where(DialogueInterpreter.dialogue_id == dialogue_id))
    return {row.user_id: row.language for row in rows.scalars()}


async def interpreter_language(s: AsyncSession, dialogue_id: int, user_id: int) -> str | None:
    """The language ``user_id`` interprets into in this dialogue, None if they do not."""
    language: str | None = await s.scalar(select(DialogueInterpreter.language).where(
        DialogueInterpreter.dialogue_id == dialogue_id, DialogueInterpreter.user_id == user_id))
    return language


async def consents_to_transcript(s: AsyncSession, dialogue_id: int, user_id: int) -> bool:
    """Whether the participant's registration lets their words be kept (no registration: no)."""
    return bool(await s.scalar(select(Registration.consent_transcript).where(
        Registration.dialogue_id == dialogue_id, Registration.user_id == user_id)))
