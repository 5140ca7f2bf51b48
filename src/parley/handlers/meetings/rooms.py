"""A meeting's rooms in Janus: placed on a media node, opened from the database, re-pinned,
recovered, moved when their node is lost, and watched.

Each open meeting lives on one media node (`handlers.media_nodes` places it by load; the
embedded Janus of `parley serve` is the node "local"). Janus forgets everything when it
restarts; the database does not. `open` builds a meeting's VideoRoom (and TextRoom) on its node
from its rows: the tokens of people admitted, the pin, a recording that is live. When a node
comes back, `recover` does it for every open meeting on it; when a node is lost, `rehome`
places each of its meetings on another node and does it there. Either way the browsers are told
(``meeting.media_restarted``) and reconnect to wherever the meeting now is.

One process per node watches its rooms (a lease, ``meetings.monitor:<node>``): its silent
monitor participant in each room turns what Janus sees (talking, published, left) into changes
of the meeting, and it recovers the node's rooms when the node restarts. Every process would
otherwise take every event (and each restart) once more, for nothing but load. When the
holder dies its monitors go with its Janus sessions; the next holder joins every open room on
the node, and the list of publishers Janus gives a joiner brings the meeting up to date.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import EngineError
from parley.handlers.leases import Leases
from parley.handlers.media_nodes import MediaNodes
from parley.handlers.meetings.changes import MeetingChanges, NoChange
from parley.handlers.meetings.room import Room, participant_of_feed
from parley.handlers.meetings.views import meeting_topic
from parley.media.janus.service import EventCallback, JanusService, MediaEvent, RoomSpec
from parley.media.janus.videoroom import new_room_pin
from parley.media.placement import NoMediaNode
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import meetings as store
from parley.storage.stores.meetings import MeetingInfo
from parley.tasks import TaskOwner
from parley.vocabulary import AttendeeStatus, MeetingStatus, Presence

log = logging.getLogger(__name__)


def repin(room: Room) -> tuple[int, str]:
    """Inside a change: give the room a new pin (someone was sent out); its id and the pin."""
    room.meeting.room_pin = new_room_pin()
    return room.meeting.room_id, room.meeting.room_pin


# How often the process that watches a node looks for rooms it does not watch yet.
MONITOR_SCAN_S = 2.0


class MediaRooms:
    def __init__(self, changes: MeetingChanges, nodes: MediaNodes, leases: Leases, tasks: TaskOwner, *,
                 data_dir: Path) -> None:
        self.changes = changes
        self.nodes = nodes
        self.leases = leases
        self._tasks = tasks
        self.data_dir = data_dir
        # Rooms this process has opened, and on which node.
        self._ready: dict[int, int] = {}
        self._room_dialogue: dict[int, int] = {}
        # The nodes whose rooms this process watches (it holds their monitor lease).
        self._monitoring: set[int] = set()

    def watch_nodes(self) -> None:
        """Hear every node's room events, recoveries and losses (nodes join the pool at run time)."""
        pool = self.nodes.pool
        if pool is not None:
            pool.on_service(self._node_service)
        self.nodes.on_node_lost(self._node_lost)

    def monitors(self, node_id: int) -> bool:
        return node_id in self._monitoring

    def on_room_events(self, callback: EventCallback) -> None:
        """Hear what every node's monitors see (interpretation follows who publishes)."""
        pool = self.nodes.pool
        if pool is not None:
            pool.on_service(lambda _node_id, service: service.on_event(callback))

    def _node_service(self, node_id: int, service: JanusService) -> None:
        service.on_event(self.on_media_event)
        service.on_recovered(functools.partial(self.recover, node_id))
        name = f"meetings.monitor:{node_id}"
        if not self.leases.running(name):
            self._tasks.spawn(name, self.leases(name, functools.partial(self._watch_node, node_id)))

    async def _watch_node(self, node_id: int) -> None:
        """While this process holds the node's monitor lease: watch every open room on it."""
        pool = self.nodes.pool
        if pool is None or node_id not in pool:
            await self.changes.clock.sleep(60)  # gone from the pool: the lease is of no use here
            return
        self._monitoring.add(node_id)
        log.info("watching the rooms of media node %s", node_id)
        try:
            await self.recover(node_id)
            while node_id in pool:
                await self.changes.clock.sleep(MONITOR_SCAN_S)
                janus = pool.service_for(node_id)
                if not janus.ready:
                    continue
                ids = set(await self.nodes.meetings_on(node_id))
                async with self.changes.db.session() as s:
                    unwatched = [m for m in await store.open_meetings(s)
                                 if m.id in ids and janus.monitor_handle(m.room_id) is None]
                for meeting in unwatched:
                    self.follow(meeting)
                    try:
                        created = await self._open_on(meeting, node_id, janus)
                    except EngineError as exc:
                        log.warning("watching the rooms of meeting %s failed: %s", meeting.dialogue_id, exc)
                        continue
                    if created:  # Janus had forgotten them (it restarted before `recover` ran)
                        await self._restarted(meeting)
        finally:
            self._monitoring.discard(node_id)

    # --- reaching a meeting's node ------------------------------------------------------------

    async def media(self, meeting: MeetingInfo) -> tuple[int, JanusService]:
        """The node hosting the meeting (placed now if it has none or lost it) and its connected
        Janus; an engine error that says whether waiting helps otherwise."""
        try:
            node, janus = await self.nodes.service_for_meeting(meeting.id)
        except NoMediaNode as exc:
            raise EngineError(exc.message, retryable=True, engine="janus") from None
        if not janus.ready:
            raise EngineError("janus is not connected", retryable=True, engine="janus")
        return node.id, janus

    async def media_for_dialogue(self, dialogue_id: int) -> JanusService:
        async with self.changes.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
        if meeting is None:
            raise EngineError("the meeting has not started", retryable=True, engine="janus")
        return (await self.media(meeting))[1]

    async def service_of(self, meeting_id: int) -> JanusService | None:
        """The Janus of the node the meeting is on, connected or not; None when it is on none
        (or on one this process cannot reach: a lost node has forgotten its rooms anyway)."""
        node_id = await self.nodes.node_of(meeting_id)
        pool = self.nodes.pool
        if node_id is None or pool is None or node_id not in pool:
            return None
        return pool.service_for(node_id)

    async def live_room(self, room_id: int) -> JanusService | None:
        """The connected Janus hosting this room, else None (for best-effort side effects)."""
        node_id = self._ready.get(room_id)
        pool = self.nodes.pool
        if node_id is None:
            async with self.changes.db.session() as s:
                meeting = await store.meeting_by_room(s, room_id)
            node_id = await self.nodes.node_of(meeting.id) if meeting is not None else None
        if node_id is None or pool is None or node_id not in pool:
            return None
        janus = pool.service_for(node_id)
        return janus if janus.ready else None

    def available(self) -> bool:
        """Whether this process reaches at least one connected media node."""
        pool = self.nodes.pool
        return pool is not None and any(pool.service_for(n).ready for n in pool.node_ids)

    def path(self, relative: str) -> Path:
        return (self.data_dir / relative).resolve()

    def follow(self, meeting: MeetingInfo) -> None:
        self._room_dialogue[meeting.room_id] = meeting.dialogue_id

    # --- opening and closing ---------------------------------------------------------------------

    async def ensure_open(self, meeting: MeetingInfo, *, new: bool = False) -> JanusService:
        """The meeting's Janus with its rooms open in it (opened now if this process has not).

        Rooms of a running meeting (not `new`) that had to be created again mean that Janus
        forgot them: whichever process or path finds that first tells the browsers, since the
        others then find the rooms there and cannot know."""
        node_id, janus = await self.media(meeting)
        if self._ready.get(meeting.room_id) != node_id:
            created = await self._open_on(meeting, node_id, janus)
            if created and not new:
                await self._restarted(meeting)
        return janus

    async def _open_on(self, meeting: MeetingInfo, node_id: int, janus: JanusService) -> bool:
        """Create (or update) the meeting's rooms on that node from what the database holds."""
        pin = meeting.room_pin if meeting.room_pin is not None else await self._give_pin(meeting.dialogue_id)
        db, clock = self.changes.db, self.changes.clock
        async with db.session() as s:
            now = clock.now()
            tokens = await store.live_tokens(s, [meeting.id], now)
            dialogue = await dialogue_store.info(s, meeting.dialogue_id)
            room = await self.changes.room_in(s, meeting.dialogue_id)
            recording = None
            if room is not None:
                current = room.meeting
                pin = current.room_pin or pin
                # A paused recording stays paused in the recreated room.
                if current.recording_id is not None and room.recording_live():
                    recording = await store.recording(s, current.recording_id)
        capacity = dialogue.capacity if dialogue is not None else 16
        spec = RoomSpec(
            room_id=meeting.room_id,
            text_room_id=meeting.text_room_id,
            description=f"dialogue {meeting.dialogue_id}",
            publishers=min(capacity + 8, 200),
            allowed=tuple(token for token in tokens if token),
            pin=pin,
            record_dir=self.path(recording.directory) if recording is not None else None,
            monitor=node_id in self._monitoring,
        )
        created = await janus.open_rooms(spec)
        self._ready[meeting.room_id] = node_id
        return created

    async def close(self, meeting: MeetingInfo) -> None:
        self._room_dialogue.pop(meeting.room_id, None)
        self._ready.pop(meeting.room_id, None)
        janus = await self.service_of(meeting.id)
        if janus is None or not janus.ready:
            return
        try:
            await janus.close_rooms(meeting.room_id, meeting.text_room_id)
        except EngineError as exc:
            log.error("janus cleanup of meeting %s failed: %s", meeting.dialogue_id, exc)

    async def set_pin(self, dialogue_id: int, room_id: int, pin: str) -> None:
        """Tell Janus the room's new pin; if it cannot hear it now, `recover` sets it later."""
        janus = await self.live_room(room_id) if room_id in self._ready else None
        if janus is None:
            return
        try:
            await janus.set_pin(room_id, pin)
        except EngineError as exc:
            self._ready.pop(room_id, None)  # the next connect reopens (and re-pins) the rooms
            log.error("meeting %s: janus kept the old room pin: %s", dialogue_id, exc)

    async def _give_pin(self, dialogue_id: int) -> str:
        """A pin for a meeting opened before rooms had pins (stored, so every process agrees)."""

        async def give(room: Room, s: AsyncSession) -> str:
            if room.meeting.room_pin is None:
                room.meeting.room_pin = new_room_pin()
            return room.meeting.room_pin

        pin, _ = await self.changes.change(dialogue_id, give)
        return pin

    async def moderate(self, dialogue_id: int, room_id: int, feed_id: int, muted: bool) -> None:
        janus = await self.live_room(room_id)
        if janus is None:
            return
        try:
            await janus.moderate(room_id, feed_id, muted)
        except EngineError as exc:
            log.error("janus moderate in meeting %s failed: %s", dialogue_id, exc)

    # --- a node restarted or was lost ----------------------------------------------------------

    async def recover(self, node_id: int) -> None:
        """A node's Janus came (back) up: recreate the rooms of its open meetings and reinstall
        their live tokens (it forgot both), then tell the browsers of each room it had lost. The
        process watching the node does it; the others only forget which rooms they opened there."""
        for room_id in [r for r, n in self._ready.items() if n == node_id]:
            del self._ready[room_id]
        pool = self.nodes.pool
        if node_id not in self._monitoring or pool is None or node_id not in pool \
                or not pool.service_for(node_id).ready:
            return
        janus = pool.service_for(node_id)
        ids = set(await self.nodes.meetings_on(node_id))
        async with self.changes.db.session() as s:
            meetings = [m for m in await store.open_meetings(s) if m.id in ids]
            tokens = await store.live_tokens(s, [m.id for m in meetings], self.changes.clock.now())
        try:
            await janus.install_tokens([token for token in tokens if token])
        except EngineError as exc:
            log.error("reinstalling janus tokens on node %s failed: %s", node_id, exc)
        for meeting in meetings:
            self.follow(meeting)
            try:
                created = await self._open_on(meeting, node_id, janus)
            except EngineError as exc:
                log.error("recreating the rooms of meeting %s failed: %s", meeting.dialogue_id, exc)
                continue
            if created:
                await self._restarted(meeting)
        if meetings:
            log.info("media node %s recovered: %d meeting(s), %d token(s)", node_id, len(meetings), len(tokens))

    async def _node_lost(self, node_id: int, meeting_ids: list[int]) -> None:
        """Every process hears it; each meeting moves once (a lease per meeting, and `rehome`
        finds a meeting another process moved already)."""
        for meeting_id in meeting_ids:
            job = functools.partial(self.rehome, meeting_id, node_id)
            await self.leases.until_done(f"meetings.rehome:{meeting_id}", job)

    async def rehome(self, meeting_id: int, lost_node: int) -> bool:
        """Move a meeting off a lost node: place it elsewhere, install its live tokens and open
        its rooms there, tell its browsers. False when it had moved already (or ended)."""
        if await self.nodes.node_of(meeting_id) != lost_node:
            return False
        try:
            node = await self.nodes.move(meeting_id, away_from=lost_node)
            janus = await self.nodes.service_for(node.id)
        except NoMediaNode as exc:
            log.error("meeting %s could not move off lost media node %s: %s", meeting_id, lost_node, exc.message)
            return False
        async with self.changes.db.session() as s:
            meeting = await store.meeting(s, meeting_id)
            tokens = await store.live_tokens(s, [meeting_id], self.changes.clock.now()) if meeting else []
        if meeting is None or meeting.status != MeetingStatus.OPEN:
            return False
        self._ready.pop(meeting.room_id, None)
        self.follow(meeting)
        try:
            await janus.install_tokens([token for token in tokens if token])
            await self._open_on(meeting, node.id, janus)
        except EngineError as exc:
            log.error("meeting %s: opening its rooms on media node %s failed: %s", meeting.dialogue_id, node.name, exc)
        log.info("meeting %s moved from lost media node %s to %s", meeting.dialogue_id, lost_node, node.name)
        await self._restarted(meeting)
        return True

    async def _restarted(self, meeting: MeetingInfo) -> None:
        await self.changes.bus.publish(meeting_topic(meeting.dialogue_id),
                                       {"type": "meeting.media_restarted", "dialogue_id": meeting.dialogue_id})

    # --- what the monitors see -----------------------------------------------------------------

    async def _dialogue_for_room(self, room_id: int) -> int | None:
        dialogue_id = self._room_dialogue.get(room_id)
        if dialogue_id is None:
            async with self.changes.db.session() as s:
                meeting = await store.meeting_by_room(s, room_id)
            if meeting is None or meeting.status != MeetingStatus.OPEN:
                return None
            dialogue_id = self._room_dialogue[room_id] = meeting.dialogue_id
        return dialogue_id

    async def on_media_event(self, event: MediaEvent) -> None:
        """Someone started or stopped talking, published, or their media went away."""
        dialogue_id = await self._dialogue_for_room(event.room_id)
        if dialogue_id is None:
            return
        pid = participant_of_feed(event.feed_id)
        reapply_mute: list[bool] = []

        async def apply(room: Room, s: AsyncSession) -> None:
            p = room.participants.get(pid)
            if p is None or p.feed_id != event.feed_id:
                raise NoChange  # an old connection of someone who reconnected since
            if event.kind in ("talking", "stopped-talking"):
                if not room.talking(pid, event.kind == "talking"):
                    raise NoChange
            elif event.kind == "left":
                if not room.media_lost(pid):
                    raise NoChange
            elif event.kind == "published":
                if p.force_muted:
                    reapply_mute.append(True)
                if p.status != AttendeeStatus.ADMITTED or p.presence == Presence.ONLINE:
                    raise NoChange
                p.presence = Presence.ONLINE
                p.updated_at = room.now
            else:
                raise NoChange

        await self.changes.try_change(dialogue_id, apply)
        if reapply_mute:
            janus = await self.live_room(event.room_id)
            if janus is not None:
                with contextlib.suppress(EngineError):
                    await janus.moderate(event.room_id, event.feed_id, True)
