"""One interpretation owner per meeting across web processes: a lease per meeting.

A meeting's interpretation (its worker, forwards, voices, open lines, transcript writes) lives
in one process at a time, whichever holds the lease ``interpretation:<dialogue id>``::

    a need (a speaker publishes, a listener chooses) ─▶ claim the lease
        won  ─▶ the session opens here; {meeting, owner} on interpretation:owners
        held elsewhere ─▶ what this process learned goes to the owner,
                          on interpretation:owner:<its holder id>
    every `OWNER_TIMES.renew_s`: renew every lease held here (one statement); one not renewed
        is another's now (the session here is dropped). Claim the lapsed leases of open
        meetings, and at once those of a holder known dead (same host, process gone).

Other processes still deliver the owner's captions: those travel on the meeting's bus topic,
which every meeting socket reads. A lease that lapses with its owner (killed) is taken within
`ttl_s` + `renew_s` by any process; the new owner removes what the old one left in Janus and
re-attaches the meeting (see `Interpretation._session`).

With one process (the embedded default: SQLite, in-process bus) every meeting is this
process's: no lease row is written, nothing crosses the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from parley.bus.base import Bus, Subscription
from parley.clock import Clock
from parley.handlers.leases import Leases, LeaseStore, LeaseTimes, known_dead, process_holder
from parley.storage.database import Database
from parley.storage.stores import leases as store
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

# Renewed every 3 s in one statement per process; a dead owner's meetings move within
# ttl + renew (18 s) across machines, within renew (3 s) on the same host.
OWNER_TIMES = LeaseTimes(ttl_s=15.0, renew_s=3.0, retry_s=3.0, guard_s=5.0)
PREFIX = "interpretation:"
OWNERS_TOPIC = "interpretation:owners"
# How long a process waits for the owner's answer to a question (the page's view).
ASK_S = 2.0

Request = Callable[[int, dict[str, Any]], Awaitable[dict[str, Any] | None]]
# (meeting, its owner now or None, whether it ended)
OwnerChanged = Callable[[int, str | None, bool], Awaitable[None]]


def lease_name(dialogue_id: int) -> str:
    return f"{PREFIX}{dialogue_id}"


def owner_topic(holder: str) -> str:
    return f"interpretation:owner:{holder}"


def _meeting_of(name: str) -> int | None:
    try:
        return int(name.removeprefix(PREFIX))
    except ValueError:
        return None


class Owners:
    """This process's side of the owner leases: which meetings it owns, who owns the others,
    and the messages between them."""

    def __init__(self, db: Database, clock: Clock, bus: Bus, tasks: TaskOwner, *, leases: Leases | None,
                 times: LeaseTimes = OWNER_TIMES) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self._tasks = tasks
        self.local = leases is None or leases.local
        self.holder = leases.holder if leases is not None else process_holder()
        self.store = LeaseStore(db, clock)
        self.times = times
        # meeting -> (generation, until when on our clock we act as its owner)
        self.held: dict[int, tuple[int, float]] = {}
        # meetings owned elsewhere, as last heard: meeting -> holder
        self.elsewhere: dict[int, str] = {}
        self._sub: Subscription | None = None
        self._ids = itertools.count(1)
        self._asked: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._on_request: Request | None = None
        self._on_owner: OwnerChanged | None = None

    async def start(self, on_request: Request, on_owner: OwnerChanged) -> None:
        if self.local:
            return
        self._on_request, self._on_owner = on_request, on_owner
        self._sub = await self.bus.subscribe([OWNERS_TOPIC, owner_topic(self.holder)])
        self._tasks.spawn("owners", self._read(self._sub))

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.close()

    # --- owning -------------------------------------------------------------------------------

    def owns(self, dialogue_id: int) -> bool:
        if self.local:
            return True
        held = self.held.get(dialogue_id)
        return held is not None and self.clock.monotonic() < held[1]

    async def claim(self, dialogue_id: int) -> int | None:
        """Own the meeting's interpretation: the lease's generation (above 1: it had an owner
        before), or None when another process owns it (known from now on)."""
        if self.local:
            return 1
        held = self.held.get(dialogue_id)
        if held is not None:
            return held[0]
        if dialogue_id in self.elsewhere:
            return None  # owned elsewhere: the scan finds out when that owner is gone
        asked = self.clock.monotonic()
        generation = await self.store.acquire(lease_name(dialogue_id), self.holder, self.times.ttl_s)
        if generation is None:
            await self.owner(dialogue_id)
            return None
        self.held[dialogue_id] = (generation, asked + self.times.ttl_s - self.times.guard_s)
        self.elsewhere.pop(dialogue_id, None)
        await self.bus.publish(OWNERS_TOPIC, {"meeting": dialogue_id, "owner": self.holder})
        return generation

    async def owner(self, dialogue_id: int) -> str | None:
        """Who owns the meeting's interpretation now, as far as this process knows."""
        if self.owns(dialogue_id):
            return self.holder
        known = self.elsewhere.get(dialogue_id)
        if known is not None or self.local:
            return known
        async with self.db.session() as s:
            row = await store.lease(s, lease_name(dialogue_id))
            now = self.clock.now()
        if row is None or row.expires_at.replace(tzinfo=now.tzinfo) <= now or row.holder == self.holder:
            return None
        self.elsewhere[dialogue_id] = row.holder
        return row.holder

    async def release(self, dialogue_id: int, *, ended: bool) -> None:
        """Stop owning the meeting: it ended (the row goes), or this process stops (another
        takes it on its next scan)."""
        held = self.held.pop(dialogue_id, None)
        if held is None or self.local:
            return
        with contextlib.suppress(Exception):
            if ended:
                async with self.db.session() as s:
                    await store.drop(s, lease_name(dialogue_id), holder=self.holder)
                    await s.commit()
            else:
                await self.store.release(lease_name(dialogue_id), self.holder, held[0])
            await self.bus.publish(OWNERS_TOPIC, {"meeting": dialogue_id, "owner": None, "ended": ended})

    async def renew(self) -> list[int]:
        """Renew every lease held here; the meetings this process no longer owns."""
        if self.local or not self.held:
            return []
        asked = self.clock.monotonic()
        try:
            async with self.db.session() as s:
                renewed = await store.renew_all(s, PREFIX, self.holder, self.clock.now(),
                                                timedelta(seconds=self.times.ttl_s))
                await s.commit()
        except Exception as exc:  # the database away: act as owner only until the deadline
            log.warning("interpretation leases: renewal failed (%s)", type(exc).__name__)
            return [m for m, (_, until) in self.held.items() if self.clock.monotonic() >= until]
        lost = []
        for dialogue_id, (generation, _) in list(self.held.items()):
            now_generation = renewed.get(lease_name(dialogue_id))
            if now_generation == generation:
                self.held[dialogue_id] = (generation, asked + self.times.ttl_s - self.times.guard_s)
            else:
                lost.append(dialogue_id)
        return lost

    async def orphans(self) -> list[int]:
        """Meetings whose owner is gone: their lease lapsed, or its holder is known dead."""
        if self.local:
            return []
        now = self.clock.now()
        async with self.db.session() as s:
            names = await store.lapsed(s, PREFIX, now)
            for holder in await store.holders(s, PREFIX, now):
                if holder != self.holder and known_dead(holder, self.holder):
                    names += [name for name, _ in await store.held_by(s, PREFIX, holder)]
        found = [m for m in (_meeting_of(n) for n in names) if m is not None and m not in self.held]
        for dialogue_id in found:
            self.elsewhere.pop(dialogue_id, None)
        return found

    async def forget(self, dialogue_id: int) -> None:
        """The meeting is over and nobody holds its lease: remove the row."""
        self.elsewhere.pop(dialogue_id, None)
        async with self.db.session() as s:
            await store.drop(s, lease_name(dialogue_id), lapsed_at=self.clock.now())
            await s.commit()

    def dropped(self, dialogue_id: int) -> None:
        """This process learned it no longer owns the meeting."""
        self.held.pop(dialogue_id, None)

    # --- messages to and from the owner -------------------------------------------------------

    async def tell(self, dialogue_id: int, message: dict[str, Any]) -> bool:
        """Send the meeting's owner what this process learned; False when there is none elsewhere."""
        owner = await self.owner(dialogue_id)
        if owner is None or owner == self.holder:
            return False
        await self.bus.publish(owner_topic(owner), {**message, "meeting": dialogue_id, "from": self.holder})
        return True

    async def ask(self, dialogue_id: int, message: dict[str, Any], wait_s: float = ASK_S) -> dict[str, Any] | None:
        """The owner's answer to a question about the meeting, None without one in time."""
        ask = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._asked[ask] = future
        try:
            if not await self.tell(dialogue_id, {**message, "ask": ask}):
                return None
            return await asyncio.wait_for(future, wait_s)
        except TimeoutError:
            return None
        finally:
            self._asked.pop(ask, None)

    async def _read(self, sub: Subscription) -> None:
        async for topic, event in sub:
            try:
                if topic == OWNERS_TOPIC:
                    await self._announced(dict(event))
                else:
                    await self._message(dict(event))
            except Exception:
                log.exception("an interpretation owner message failed")

    async def _announced(self, event: dict[str, Any]) -> None:
        dialogue_id, owner = event.get("meeting"), event.get("owner")
        if not isinstance(dialogue_id, int) or owner == self.holder:
            return
        if isinstance(owner, str):
            self.elsewhere[dialogue_id] = owner
        else:
            self.elsewhere.pop(dialogue_id, None)
        if self._on_owner is not None:
            await self._on_owner(dialogue_id, owner if isinstance(owner, str) else None, bool(event.get("ended")))

    async def _message(self, event: dict[str, Any]) -> None:
        answer = event.get("answer")
        if isinstance(answer, int):
            future = self._asked.get(answer)
            body = event.get("body")
            if future is not None and not future.done() and isinstance(body, dict):
                future.set_result(body)
            return
        dialogue_id, sender = event.get("meeting"), event.get("from")
        if not isinstance(dialogue_id, int) or not isinstance(sender, str) or self._on_request is None:
            return
        result = await self._on_request(dialogue_id, event)
        ask = event.get("ask")
        if isinstance(ask, int) and result is not None:
            await self.bus.publish(owner_topic(sender), {"answer": ask, "body": result})
