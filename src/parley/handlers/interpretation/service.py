"""The interpretation hub: one object per process that opens and ends each meeting's
interpretation, follows the meeting's changes, and composes the parts (see the package).

A meeting's interpretation opens on first need (a speaker publishes, a listener chooses)
and ends with the meeting. Every `RECONCILE_S` the hub makes each meeting whole again (a
worker, a forward per speaker, the voices wanted) and closes lines nothing finished.

With several web processes, one of them owns each meeting's interpretation (`owners`): the
others tell it what they learn and ask it for the page's view; when it dies, another takes
the meeting over and re-attaches it (worker, forwards, voices) as after a worker's loss.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from parley.bus.base import Bus, Subscription
from parley.clock import Clock
from parley.errors import EngineError
from parley.handlers.dialogues import dialogue_topic
from parley.handlers.glossary import INSTALLATION_TOPIC
from parley.handlers.interpretation.captions import Captions
from parley.handlers.interpretation.facts import SessionFacts
from parley.handlers.interpretation.forwarding import Forwarding, RoomMedia
from parley.handlers.interpretation.health import Health
from parley.handlers.interpretation.late_finals import LateFinals
from parley.handlers.interpretation.listeners import AccessCheck, Listeners
from parley.handlers.interpretation.owners import Owners
from parley.handlers.interpretation.peer import Hangup, WorkerPeer
from parley.handlers.interpretation.pool import GlossarySource, WorkerPool
from parley.handlers.interpretation.relay import Relay
from parley.handlers.interpretation.shown import ShownFinals
from parley.handlers.interpretation.speakers import Speakers
from parley.handlers.interpretation.state import MeetingSession, Sessions
from parley.handlers.interpretation.transcript import TranscriptHook, TranscriptWriter
from parley.handlers.leases import Leases
from parley.handlers.meetings import meeting_topic
from parley.interpretation.frames import Caption
from parley.interpretation.protocol import CloseMeeting, Event, Hello
from parley.interpretation.unacked import is_final
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import meetings as store
from parley.storage.stores.accounts import Account
from parley.tasks import TaskOwner
from parley.vocabulary import MeetingStatus

log = logging.getLogger(__name__)

RECONCILE_S = 5.0


class Interpretation:
    def __init__(self, db: Database, clock: Clock, bus: Bus, media: RoomMedia | None, *,
                 enabled: bool = True, glossary: GlossarySource | None = None,
                 on_transcript: TranscriptHook | None = None, access: AccessCheck | None = None,
                 leases: Leases | None = None) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.media = media
        self.enabled = enabled
        self._sessions: Sessions = {}
        self._ending: Sessions = {}  # closing on their worker: its last finals still count
        self._room_dialogue: dict[int, int] = {}
        self._tasks = TaskOwner("interpretation")
        self._sub: Subscription | None = None
        self.owners = Owners(db, clock, bus, self._tasks, leases=leases)
        self.health = Health(bus, clock)
        self.forwarding = Forwarding(media, self.health)
        transcript = TranscriptWriter(db, clock, on_transcript)
        self.captions = Captions(bus, clock, transcript, ShownFinals(db))
        self.late = LateFinals(db, transcript)
        self.pool = WorkerPool(self._sessions, self._tasks, clock, health=self.health, forwarding=self.forwarding,
                               captions=self.captions, on_event=self._on_worker_event, glossary=glossary)
        self.relay = Relay(bus, clock, self.pool, self._tasks, process=self.owners.holder,
                           owner_of=self._owner_elsewhere, handle=self._relayed)
        self.speakers = Speakers(db, clock, self._sessions, self._room_dialogue, self._tasks,
                                 open_session=self._session, tell=self.owners.tell, forwarding=self.forwarding,
                                 captions=self.captions)
        self.listeners = Listeners(db, clock, self._sessions, enabled=enabled, pool=self.pool,
                                   forwarding=self.forwarding, open_session=self._session, tell=self.owners.tell,
                                   ask=self._ask_owner, access=access)

    @property
    def workers(self) -> list[WorkerPeer]:
        return self.pool.workers

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.enabled:
            return
        if self.media is not None:
            self.media.on_room_events(self.speakers.on_media_event)
        await self.relay.start()
        await self.owners.start(self._owner_request, self._owner_changed)
        self._sub = await self.bus.subscribe([INSTALLATION_TOPIC])
        self._tasks.spawn("meeting-events", self._watch_meetings(self._sub))
        self._tasks.spawn("reconcile", self._reconcile_loop())
        self._tasks.spawn("worker-heartbeat", self.pool.watch())
        if not self.owners.local:
            self._tasks.spawn("owners", self._ownership_loop())

    async def stop(self) -> None:
        for dialogue_id in list(self._sessions):
            with contextlib.suppress(Exception):
                if self.owners.local:
                    await self._end(dialogue_id)
                else:  # the meeting goes on: another process takes it over
                    await self._let_go(dialogue_id, hand_over=True)
        if self._sub is not None:
            await self._sub.close()
        with contextlib.suppress(Exception):
            await self.owners.stop()
        with contextlib.suppress(Exception):
            await self.relay.stop()
        await self._tasks.stop()
        for peer in self.workers:
            peer.close()
        self.workers.clear()

    # --- workers --------------------------------------------------------------------------------

    async def connect_worker(self, hello: Hello, send: Callable[[str], Awaitable[None]],
                             hangup: Hangup | None = None) -> WorkerPeer:
        """A worker said hello (see `WorkerPool.connect`); raises `Conflict` for a duplicate.
        ``hangup`` closes its connection (used when it stops answering)."""
        peer = await self.pool.connect(hello, self.relay.outgoing(hello.worker, send), hangup)
        await self.relay.local_connected(peer)
        return peer

    async def disconnect_worker(self, peer: WorkerPeer) -> None:
        """The worker is gone: its meetings move (see `WorkerPool.disconnect`)."""
        await self.pool.disconnect(peer)
        await self.relay.local_gone(peer)

    async def worker_frame(self, peer: WorkerPeer, frame: str) -> None:
        """One frame from a worker; one for another process goes there (see `relay`), a
        malformed one is logged and dropped."""
        if not await self.relay.local_frame(peer, frame):
            handled = await self.pool.frame(peer, frame)
            await self.relay.local_final(peer, frame, handled)

    async def _on_worker_event(self, message: Event) -> bool:
        """A worker's event of a meeting; False when this process does not interpret it."""
        session = self._sessions.get(message.meeting) or self._ending.get(message.meeting)
        if session is None:
            return False
        event = message.event
        kind = event.get("kind")
        if kind == "caption":
            try:
                caption = Caption.from_dict(event)
            except ValueError as exc:  # the message names a field, never its text
                log.warning("meeting %d: a worker's caption was dropped: %s", message.meeting, exc)
                return True
            await self.captions.caption(session, caption)
        elif kind == "engine_health":
            await self.health.report(session, event)
        return True

    # --- sessions -------------------------------------------------------------------------------

    async def _session(self, dialogue_id: int) -> MeetingSession | None:
        """The interpretation session of an open meeting (created on first need)."""
        session = self._sessions.get(dialogue_id)
        if session is not None:
            return session
        async with self.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
            dialogue = await dialogue_store.info(s, dialogue_id)
        if meeting is None or meeting.status != MeetingStatus.OPEN or dialogue is None:
            return None
        generation = await self.owners.claim(dialogue_id)  # one process owns it (with one: this one)
        if generation is None:
            return None
        session = self._sessions.get(dialogue_id)
        if session is not None:
            return session
        session = MeetingSession(dialogue_id, meeting.id, meeting.room_id, tuple(dialogue.languages),
                                 tenure=generation)
        self._sessions[dialogue_id] = session
        self._room_dialogue[meeting.room_id] = dialogue_id
        if self._sub is not None:
            await self._sub.add(meeting_topic(dialogue_id))
            await self._sub.add(dialogue_topic(dialogue_id))
        if generation > 1:  # taken over: what the previous owner left in Janus goes first
            log.info("interpretation of meeting %s taken over (tenure %d)", dialogue_id, generation)
            await self.forwarding.clear_left_behind(session)
        session.targets, _ = await self.listeners.listening(session)
        await self.pool.place(session)
        if not self.owners.local:
            self._tasks.spawn(f"attach:{dialogue_id}", self._attach_known(dialogue_id))
        return session

    async def _attach_known(self, dialogue_id: int) -> None:
        """A meeting just owned here: the speakers this process heard, and the finals it relayed
        to the previous owner that may not have arrived."""
        await self.speakers.replay(dialogue_id)
        await self.relay.owner_changed(dialogue_id)

    async def _end(self, dialogue_id: int) -> None:
        session = self._sessions.pop(dialogue_id, None)
        if session is None:
            return
        self._room_dialogue.pop(session.room_id, None)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.remove(meeting_topic(dialogue_id))
                await self._sub.remove(dialogue_topic(dialogue_id))
        self._ending[dialogue_id] = session
        try:
            async with session.lock:
                await self.forwarding.stop_forwards(session)
                await self.forwarding.remove_voices(session)
                if session.worker is not None:
                    # the worker closes its open lines before it answers
                    with contextlib.suppress(EngineError):
                        await session.worker.request(CloseMeeting(dialogue_id))
                    session.worker = None
                await self.captions.close_lines(session)
        finally:
            self._ending.pop(dialogue_id, None)
            self.speakers.heard.pop(dialogue_id, None)
            try:
                await self.captions.shown.forget(session)
            except Exception:  # left until the meeting is deleted: identifiers only
                log.exception("interpretation of meeting %s: its record of finals shown stays", dialogue_id)
            await self.owners.release(dialogue_id, ended=True)
        log.info("interpretation of meeting %s ended", dialogue_id)

    async def _let_go(self, dialogue_id: int, *, hand_over: bool) -> None:
        """Stop interpreting a meeting that goes on elsewhere. ``hand_over``: this process stops;
        what it added to Janus goes, its lease is released, another process takes the meeting
        on its next scan (the worker keeps the meeting for it). Else this process lost its lease
        (another owns it now) and touches nothing."""
        session = self._sessions.pop(dialogue_id, None)
        if session is not None:
            self._room_dialogue.pop(session.room_id, None)
            if self._sub is not None:
                with contextlib.suppress(Exception):
                    await self._sub.remove(meeting_topic(dialogue_id))
                    await self._sub.remove(dialogue_topic(dialogue_id))
            if hand_over:
                async with session.lock:
                    await self.forwarding.stop_forwards(session)
                    await self.forwarding.remove_voices(session)
        if hand_over:
            await self.owners.release(dialogue_id, ended=False)
        else:
            self.owners.dropped(dialogue_id)
        log.warning("interpretation of meeting %s %s", dialogue_id,
                    "handed over" if hand_over else "is owned by another process now")

    # --- owners ---------------------------------------------------------------------------------

    async def _ownership_loop(self) -> None:
        """Keep the meetings owned here; take over those whose owner is gone."""
        while True:
            await self.clock.sleep(self.owners.times.renew_s)
            try:
                for dialogue_id in await self.owners.renew():
                    await self._let_go(dialogue_id, hand_over=False)
                for dialogue_id in await self.owners.orphans():
                    if await self._session(dialogue_id) is None and await self.owners.owner(dialogue_id) is None:
                        await self.owners.forget(dialogue_id)  # its meeting ended meanwhile
            except Exception:
                log.exception("interpretation owners: renewal or take-over failed")

    async def _owner_changed(self, dialogue_id: int, owner: str | None, ended: bool) -> None:
        """Another process owns the meeting now (or, None, nobody does): tell it who published
        here, and re-send it the finals it may have missed."""
        if ended:
            self.speakers.heard.pop(dialogue_id, None)
        if owner is None:
            return
        if dialogue_id in self._sessions:
            await self._let_go(dialogue_id, hand_over=False)
        await self.speakers.replay(dialogue_id)
        await self.relay.owner_changed(dialogue_id)

    async def _owner_request(self, dialogue_id: int, message: dict[str, Any]) -> dict[str, Any] | None:
        """What another process tells (or asks) this one as the meeting's owner."""
        op = message.get("op")
        feed = message.get("feed")
        if op == "published" and isinstance(feed, int):
            mids = [str(m) for m in message.get("mids") or []]
            await self.speakers.published(dialogue_id, feed, mids)
        elif op == "left" and isinstance(feed, int):
            await self.speakers.left(dialogue_id, feed)
        elif op == "refresh":
            session = self._sessions.get(dialogue_id)
            if session is not None:
                await self.listeners.refresh(session)
        elif op == "view":
            session = self._sessions.get(dialogue_id)
            return SessionFacts.of(session).to_dict() if session is not None else None
        return None

    async def _ask_owner(self, dialogue_id: int) -> SessionFacts | None:
        answer = await self.owners.ask(dialogue_id, {"op": "view"})
        return SessionFacts.from_dict(answer) if answer is not None else None

    async def _owner_elsewhere(self, dialogue_id: int) -> str | None:
        """For the relay: the meeting's owner (None with one process: nothing is relayed)."""
        return None if self.owners.local else await self.owners.owner(dialogue_id)

    async def _relayed(self, message: Event) -> bool:
        """A worker's final relayed by another process (or re-sent): True once handled here, as
        the meeting's owner, or because its meeting is over (see `late_finals`)."""
        if await self._on_worker_event(message):
            return True
        return is_final(message) and await self.late.settle(message)

    def sessions(self) -> list[int]:
        return sorted(self._sessions)

    # --- speakers and listeners -----------------------------------------------------------------

    async def speaker_published(self, dialogue_id: int, feed_id: int, mids: Sequence[str]) -> None:
        """A participant's audio is in the room: forward it to the meeting's worker."""
        await self.speakers.published(dialogue_id, feed_id, mids)

    async def speaker_left(self, dialogue_id: int, feed_id: int) -> None:
        await self.speakers.left(dialogue_id, feed_id)

    async def choose(self, actor: Account, dialogue_id: int, *, caption_language: str | None,
                     listen_channel: str | None) -> dict[str, Any]:
        """A participant picks a caption language and what to listen to; returns the view."""
        return await self.listeners.choose(actor, dialogue_id, caption_language=caption_language,
                                           listen_channel=listen_channel)

    async def view(self, actor: Account, dialogue_id: int) -> dict[str, Any]:
        """What a participant's page needs: languages, channels, own choices, health (and lag for hosts)."""
        return await self.listeners.view(actor, dialogue_id)

    # --- meeting and Janus lifecycle ------------------------------------------------------------

    async def _watch_meetings(self, sub: Subscription) -> None:
        async for topic, event in sub:
            kind = event.get("type")
            if kind == "glossary.updated" and topic == INSTALLATION_TOPIC:
                for session in list(self._sessions.values()):
                    await self.pool.glossary_changed(session)
                continue
            dialogue_id = event.get("dialogue_id")
            if not isinstance(dialogue_id, int):
                dialogue_id = int(topic.partition(":")[2]) if topic.startswith("meeting:") else None
            if dialogue_id is None or dialogue_id not in self._sessions:
                continue
            try:
                if kind == "meeting.ended":
                    await self._end(dialogue_id)
                elif kind == "glossary.updated":
                    await self.pool.glossary_changed(self._sessions[dialogue_id])
                elif kind == "meeting.state":
                    await self.listeners.refresh(self._sessions[dialogue_id])
                elif kind == "meeting.media_restarted":
                    await self.forwarding.media_restarted(self._sessions[dialogue_id])
            except Exception:
                log.exception("interpretation of meeting %s could not follow a change", dialogue_id)

    async def _reconcile_loop(self) -> None:
        while True:
            await self.clock.sleep(RECONCILE_S)
            try:
                await self._close_stale_lines()
                await self.reconcile()
            except Exception:
                log.exception("interpretation reconcile failed")

    async def _close_stale_lines(self) -> None:
        await self.captions.close_stale_lines(self._sessions)

    async def reconcile(self) -> None:
        """Make every session whole again: a worker, a forward per speaker, the voices wanted.

        Each step can fail on its own (Janus restarting, a worker gone); this retries them
        without waiting for the next event that would have.
        """
        for session in list(self._sessions.values()):
            if session.worker is None or session.worker.closed:
                session.worker = None
                await self.pool.place(session)
                continue
            async with session.lock:
                for speaker_id, speaker in list(session.speakers.items()):
                    if speaker.stream_id is None:
                        await self.forwarding.forward(session, speaker_id, speaker)
                for language in list(session.voices):
                    await self.forwarding.voice_on_worker(session, language)
            await self.listeners.refresh(session)

