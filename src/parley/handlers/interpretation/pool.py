"""The interpretation workers connected to this process, and which meeting runs on which.

Workers connect (`connect`) and may come and go: a meeting lives on one worker (the least
busy when it is placed) and is moved, speakers and voices with it, when that worker
disconnects. A worker whose process dies closes its socket at once; one that hangs, or whose
machine drops off the network, leaves it open and silent: `watch` pings every worker each
`HEARTBEAT_S` and takes one that stays silent `SILENT_S` after a ping as gone (its meetings
move, its socket is closed). A worker's name is its identity: while one of that name still
answers, a second is refused.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from parley.clock import Clock
from parley.errors import Conflict, EngineError
from parley.handlers.interpretation.captions import Captions
from parley.handlers.interpretation.forwarding import Forwarding
from parley.handlers.interpretation.health import Health
from parley.handlers.interpretation.peer import Hangup, WorkerPeer
from parley.handlers.interpretation.state import MeetingSession, Sessions
from parley.interpretation.mt.base import Glossary
from parley.interpretation.protocol import (
    Event,
    Hello,
    Load,
    OpenMeeting,
    Ping,
    ProtocolError,
    Reply,
    glossary_terms,
    parse_worker_message,
)
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

# How long a worker with a name already connected has to answer before the newcomer replaces it.
PROBE_S = 5.0
# Every worker is pinged this often; one silent this long after a ping is gone. A worker
# answers pings at once, even mid-inference, so this only catches a hung or unreachable one:
# its speakers move within HEARTBEAT_S + SILENT_S (the bound is 5 s).
HEARTBEAT_S = 1.0
SILENT_S = 3.0
GlossarySource = Callable[[int], Awaitable[tuple[Glossary, str]]]
EventHandler = Callable[[Event], Awaitable[bool]]  # False: a meeting not interpreted here


class WorkerPool:
    def __init__(self, sessions: Sessions, tasks: TaskOwner, clock: Clock, *, health: Health,
                 forwarding: Forwarding, captions: Captions, on_event: EventHandler,
                 glossary: GlossarySource | None = None) -> None:
        self.workers: list[WorkerPeer] = []
        self.clock = clock
        self._sessions = sessions
        self._tasks = tasks
        self.health = health
        self.forwarding = forwarding
        self.captions = captions
        self.on_event = on_event
        self.glossary = glossary

    async def connect(self, hello: Hello, send: Callable[[str], Awaitable[None]],
                      hangup: Hangup | None = None) -> WorkerPeer:
        """A worker said hello: meetings waiting for one are placed on it.

        A worker's name is its identity: while a worker of that name still answers, a second
        one is refused (`Conflict` ``duplicate_worker``): an orphan of a crashed server, or a
        second copy started by mistake, must not take meetings twice. One that no longer
        answers (its connection died unnoticed), or that was connected to another process
        (its web process died, see `relay`), is replaced.
        """
        for old in [w for w in self.workers if w.name == hello.worker and not w.closed]:
            if old.relay is not None:  # it was connected to another process, and moved here
                log.info("interpretation worker %s moved here from process %s", hello.worker, old.relay)
                await self.disconnect(old)
                continue
            try:
                await old.request(Ping(0), wait_s=PROBE_S)
            except EngineError:
                log.warning("interpretation worker %s reconnected; its old connection no longer answers",
                            hello.worker)
                await self.disconnect(old)
                continue
            log.error("refused a second interpretation worker named %s: one is connected and answering",
                      hello.worker)
            raise Conflict(f"A worker named {hello.worker} is already connected.", code="duplicate_worker")
        peer = WorkerPeer(hello, send, hangup)
        await self.add(peer)
        return peer

    async def add(self, peer: WorkerPeer) -> None:
        """A worker joins the pool (connected here, or announced by another process): meetings
        waiting for one are placed on it."""
        self.workers.append(peer)
        hello = peer.hello
        log.info("interpretation worker %s %s (asr %s, %d voices, %d pairs)", hello.worker,
                 "connected" if peer.relay is None else f"reachable through process {peer.relay}",
                 "yes" if hello.asr else "no", len(hello.voices), len(hello.pairs))
        for session in list(self._sessions.values()):
            if session.worker is None:
                self._tasks.spawn(f"place:{session.dialogue_id}", self.place(session))

    async def disconnect(self, peer: WorkerPeer) -> None:
        """The worker is gone: its meetings move to another worker (or wait for one), and the
        lines it was still recognising are closed with what listeners saw of them."""
        if peer.closed and peer not in self.workers:
            return  # already replaced (see `connect`)
        peer.close()
        with contextlib.suppress(ValueError):
            self.workers.remove(peer)
        log.warning("interpretation worker %s disconnected", peer.name)
        for session in list(self._sessions.values()):
            if session.worker is peer:
                session.worker = None
                for voice in session.voices.values():
                    voice.on_worker = False
                await self.captions.close_lines(session)
                await self.forwarding.stop_forwards(session)
                self._tasks.spawn(f"place:{session.dialogue_id}", self.place(session))

    async def frame(self, peer: WorkerPeer, frame: str) -> bool:
        """One frame from a worker; a malformed one is logged and dropped. False for an event of
        a meeting this process does not interpret."""
        peer.heard()
        try:
            message = parse_worker_message(frame)
        except ProtocolError as exc:
            log.warning("bad frame from worker %s: %s", peer.name, exc)
            return True
        if isinstance(message, Reply):
            peer.resolve(message)
        elif isinstance(message, Load):
            peer.load = message
        elif isinstance(message, Event):
            return await self.on_event(message)
        return True

    async def watch(self) -> None:
        """Ping every worker each `HEARTBEAT_S`; one silent `SILENT_S` after a ping is gone."""
        while True:
            await self.clock.sleep(HEARTBEAT_S)
            now = self.clock.monotonic()
            for peer in list(self.workers):
                if peer.closed:
                    continue
                if peer.asked_at is not None and now - peer.asked_at >= SILENT_S:
                    await self.lost(peer, now - peer.asked_at)
                elif not peer.probing:  # a send stuck on a full socket buffer is not repeated
                    self._tasks.spawn(f"probe:{peer.name}", peer.probe(now))

    async def lost(self, peer: WorkerPeer, silent_s: float) -> None:
        """A worker stopped answering with its socket still open: its meetings move now, and
        its socket is closed (a worker that was only slow reconnects, and starts afresh)."""
        log.warning("interpretation worker %s silent for %.1fs: taken as gone", peer.name, silent_s)
        await self.disconnect(peer)
        if peer.hangup is not None:
            self._tasks.spawn(f"hangup:{peer.name}", peer.hangup())

    def voice_languages(self) -> set[str]:
        """The languages some connected worker can speak."""
        return {lang for w in self.workers if not w.closed for lang in w.hello.voices}

    def _pick(self) -> WorkerPeer | None:
        live = [w for w in self.workers if not w.closed and w.hello.asr]
        if not live:
            return None
        placed = {id(w): 0 for w in live}
        for session in self._sessions.values():
            if session.worker is not None and id(session.worker) in placed:
                placed[id(session.worker)] += 1 + len(session.speakers)
        return min(live, key=lambda w: (placed[id(w)], w.load.speakers))

    async def place(self, session: MeetingSession) -> None:
        """Open the meeting on a worker, then re-add its speakers and voices there."""
        async with session.lock:
            if session.worker is not None or self._sessions.get(session.dialogue_id) is not session:
                return
            worker = self._pick()
            if worker is None:
                await self.health.report(session, {
                    "kind": "engine_health", "stage": "asr", "engine": "worker", "status": "missing",
                    "message": "no interpretation worker is connected", "retryable": True,
                })
                return
            try:
                await worker.request(await self._open_command(session))
            except EngineError as exc:
                log.error("opening meeting %s on worker %s failed: %s", session.dialogue_id, worker.name, exc)
                return
            session.worker = worker
            await self.health.report(session, {
                "kind": "engine_health", "stage": "asr", "engine": "worker", "status": "ok",
                "message": f"interpreted by {worker.name}", "retryable": False,
            })
            for speaker_id, speaker in list(session.speakers.items()):
                await self.forwarding.forward(session, speaker_id, speaker)
            for language in list(session.voices):
                await self.forwarding.voice_on_worker(session, language)

    async def _open_command(self, session: MeetingSession) -> OpenMeeting:
        glossary, hotwords = (Glossary(), "")
        if self.glossary is not None:
            try:
                glossary, hotwords = await self.glossary(session.dialogue_id)
            except Exception:
                log.exception("loading the glossary of dialogue %s failed", session.dialogue_id)
        return OpenMeeting(session.dialogue_id, session.targets, tuple(glossary_terms(glossary)), hotwords)

    async def glossary_changed(self, session: MeetingSession) -> None:
        """Organisers edited a glossary during the meeting: the worker takes it at once."""
        async with session.lock:
            if session.worker is not None:
                with contextlib.suppress(EngineError):
                    await session.worker.request(await self._open_command(session))
