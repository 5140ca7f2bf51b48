"""Listeners: each participant's choice of caption language and of what to hear (the floor,
a synthesized voice, an interpreter's channel), what that asks of the worker (the target
languages, the voices), and the page's view of it all."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from parley.handlers.interpretation.facts import SessionFacts
from parley.handlers.interpretation.forwarding import Forwarding
from parley.handlers.interpretation.health import languages_status, shown_health
from parley.handlers.interpretation.pool import WorkerPool
from parley.handlers.interpretation.state import MeetingSession, Sessions
from parley.interpretation.protocol import SetTargets
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import interpretation as interpretation_store
from parley.storage.stores import meetings as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.meetings import MeetingInfo, ParticipantInfo
from parley.vocabulary import AttendeeRole, AttendeeStatus, MeetingStatus, Presence

if TYPE_CHECKING:
    from parley.handlers.meetings import Access

# The meeting role someone has in a dialogue (`Meetings.access`): hosts see the health view
# without having joined.
AccessCheck = Callable[[Account, int], Awaitable["Access"]]
SessionOpener = Callable[[int], Awaitable["MeetingSession | None"]]
# What this process tells a meeting's owner elsewhere (True when there is one), and asks it.
Tell = Callable[[int, dict[str, Any]], Awaitable[bool]]
Ask = Callable[[int], Awaitable["SessionFacts | None"]]


class Listeners:
    def __init__(self, db: Database, clock: Clock, sessions: Sessions, *, enabled: bool, pool: WorkerPool,
                 forwarding: Forwarding, open_session: SessionOpener, tell: Tell, ask: Ask,
                 access: AccessCheck | None = None) -> None:
        self.db = db
        self.clock = clock
        self._sessions = sessions
        self.enabled = enabled
        self.pool = pool
        self.forwarding = forwarding
        self._open_session = open_session
        self._tell = tell
        self._ask = ask
        self.access = access

    async def choose(self, actor: Account, dialogue_id: int, *, caption_language: str | None,
                     listen_channel: str | None) -> dict[str, Any]:
        """A participant picks a caption language and what to listen to; returns the view."""
        async with self.db.session() as s:
            meeting, me = await _attendee(s, actor, dialogue_id)
            dialogue = await dialogue_store.info(s, dialogue_id)
            assert dialogue is not None
            if caption_language is not None and caption_language not in dialogue.languages:
                raise InvalidInput("Captions can be shown in the dialogue's languages only.",
                                   code="caption_language", fields={"caption_language": "not_in_dialogue"})
            if listen_channel is not None:
                kind, _, language = listen_channel.partition(":")
                if kind not in ("voice", "interpreter") or language not in dialogue.languages:
                    raise InvalidInput("Choose the floor, a synthesized voice or an interpreter channel.",
                                       code="listen_channel", fields={"listen_channel": "unknown"})
            await store.set_listening(s, me.id, caption_language=caption_language, listen_channel=listen_channel,
                                      now=self.clock.now())
            await s.commit()
        session = self._sessions.get(dialogue_id) if not self.enabled else await self._open_session(dialogue_id)
        if session is not None:
            await self.refresh(session)
        elif self.enabled:
            await self._tell(dialogue_id, {"op": "refresh"})  # its owner reads the choice
        return await self.view(actor, dialogue_id)

    async def refresh(self, session: MeetingSession) -> None:
        """Tell the worker the languages read now, and add the voices someone listens to."""
        targets, voices = await self.listening(session)
        async with session.lock:
            if targets != session.targets:
                session.targets = targets
                if session.worker is not None:
                    with contextlib.suppress(EngineError):
                        await session.worker.request(SetTargets(session.dialogue_id, targets))
            for language in voices:
                if language not in session.voices:
                    await self.forwarding.add_voice(session, language)

    async def listening(self, session: MeetingSession) -> tuple[tuple[str, ...], set[str]]:
        """One read of who is in: the languages captions are read in (targets), and the
        synthesized voices someone listens to (each also a target)."""
        captions: set[str] = set()
        voices: set[str] = set()
        async with self.db.session() as s:
            for p in await store.participants(s, session.meeting_id):
                if p.status != AttendeeStatus.ADMITTED:
                    continue
                captions.add(p.caption_language or p.language)
                if p.listen_channel and p.listen_channel.startswith("voice:"):
                    voices.add(p.listen_channel.partition(":")[2])
        return tuple(sorted(lang for lang in captions | voices if lang)), voices

    async def view(self, actor: Account, dialogue_id: int) -> dict[str, Any]:
        """What a participant's page needs: languages, channels, own choices, health (and lag for hosts)."""
        host_only = False
        async with self.db.session() as s:
            try:
                meeting, me = await _attendee(s, actor, dialogue_id)
            except Forbidden:
                if self.access is None or (await self.access(actor, dialogue_id)).role != AttendeeRole.HOST:
                    raise
                found = await store.meeting_for(s, dialogue_id)
                assert found is not None  # _attendee raised NotFound otherwise
                meeting, me, host_only = found, None, True
            dialogue = await dialogue_store.info(s, dialogue_id)
            assert dialogue is not None
            people = await store.participants(s, meeting.id)
            interpreters = await interpretation_store.interpreters(s, dialogue_id)
        session = self._sessions.get(dialogue_id)
        facts = SessionFacts.of(session) if session is not None else None
        if facts is None and self.enabled:
            facts = await self._ask(dialogue_id)  # owned by another process (None: by none)
        voices = self.pool.voice_languages()
        channels: list[dict[str, Any]] = []
        for language in dialogue.languages:
            if language in voices:
                channels.append({"id": f"voice:{language}", "kind": "voice", "language": language,
                                 "feed_id": facts.voices.get(language) if facts is not None else None})
        for p in people:
            into = interpreters.get(p.user_id)
            if into is not None and p.role == AttendeeRole.STAFF and p.status == AttendeeStatus.ADMITTED:
                channels.append({"id": f"interpreter:{into}", "kind": "interpreter", "language": into,
                                 "feed_id": p.feed_id if p.presence == Presence.ONLINE else None,
                                 "name": p.display_name})
        host = host_only or (me is not None and me.role == AttendeeRole.HOST)
        out: dict[str, Any] = {
            "enabled": self.enabled,
            "languages": list(dialogue.languages),
            "caption_language": (me.caption_language or me.language) if me is not None else dialogue.languages[0],
            "listen_channel": me.listen_channel if me is not None else None,
            "channels": channels,
            "interpreting": interpreters.get(me.user_id) if me is not None and me.role == AttendeeRole.STAFF else None,
            "health": shown_health(facts, enabled=self.enabled, workers=len(self.pool.workers), host=host),
            "workers": len(self.pool.workers),
        }
        if host and facts is not None:
            out["languages_status"] = languages_status(facts, people)
            out["speakers"] = facts.speakers
            out["worker"] = facts.worker
        return out


async def _attendee(s: AsyncSession, actor: Account, dialogue_id: int) -> tuple[MeetingInfo, ParticipantInfo]:
    meeting = await store.meeting_for(s, dialogue_id)
    if meeting is None:
        raise NotFound("This dialogue has no meeting yet.", code="no_meeting")
    if meeting.status != MeetingStatus.OPEN:
        raise Conflict("This meeting has ended.", code="meeting_ended")
    me = await store.attendee(s, meeting.id, actor.id)
    if me is None or me.status != AttendeeStatus.ADMITTED:
        raise Forbidden("Only people in the meeting can choose how to follow it.", code="not_admitted")
    return meeting, me
