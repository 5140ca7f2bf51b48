"""The final caption lines a worker sent and Parley has not acknowledged yet.

A final sent just before the web process it reached dies (or sent while it has no connection:
the lines its meetings close with when the socket drops) would be lost with that connection.
The worker numbers each final, keeps it here until Parley's `Acked` names it, and sends what it
still keeps again after it reconnects, to the same web process or the next one. While the
connection stays up, a final whose acknowledgement does not come (the meeting's owner died
after the line reached the web process, a frame lost between processes) goes again after
`RESEND_S`, then after twice as long each time, up to `MAX_RESEND_S` (`due`); the meeting's
owner and the transcript drop a line they have already, and acknowledge it again.

Bounded by count and by age: a line that no owner takes (Parley is too old to acknowledge,
or none answers for `MAX_AGE_S`) is given up, and the log says how many (never their text:
transcripts are personal data).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from parley.clock import Clock
from parley.interpretation.protocol import Event

log = logging.getLogger(__name__)

MAX_KEPT = 2000
MAX_AGE_S = 300.0
# A kept final goes again this long after it was sent, then twice as long each time.
RESEND_S = 5.0
MAX_RESEND_S = 60.0


def is_final(event: Event) -> bool:
    return event.event.get("kind") == "caption" and event.event.get("is_final") is True


@dataclass
class _Kept:
    event: Event
    kept_at: float
    # when it goes again if still unacknowledged, and how long it waited for that
    due_at: float
    wait_s: float


class UnackedFinals:
    def __init__(self, clock: Clock, *, name: str = "worker", max_kept: int = MAX_KEPT,
                 max_age_s: float = MAX_AGE_S, resend_s: float = RESEND_S,
                 max_resend_s: float = MAX_RESEND_S) -> None:
        self.clock = clock
        self.name = name
        self.max_kept = max_kept
        self.max_age_s = max_age_s
        self.resend_s = resend_s
        self.max_resend_s = max_resend_s
        self._seqs = itertools.count(1)
        self._kept: OrderedDict[int, _Kept] = OrderedDict()
        self.given_up = 0

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, event: Event) -> Event:
        """The final numbered, kept until acknowledged."""
        numbered = dataclasses.replace(event, seq=next(self._seqs))
        assert numbered.seq is not None
        now = self.clock.monotonic()
        self._kept[numbered.seq] = _Kept(numbered, now, now + self.resend_s, self.resend_s)
        if len(self._kept) > self.max_kept:
            self._kept.popitem(last=False)
            self.given_up += 1
            if self.given_up % 100 == 1:  # once per hundred (a Parley too old to acknowledge any)
                log.warning("worker %s: more than %d final caption lines unacknowledged; the oldest given up "
                            "(%d so far)", self.name, self.max_kept, self.given_up)
        return numbered

    def acked(self, seqs: Iterable[int]) -> None:
        for seq in seqs:
            self._kept.pop(seq, None)

    def pending(self) -> list[Event]:
        """What to send again after a reconnect (oldest first); each goes again later only
        after `resend_s` from now. Lines older than ``max_age_s`` are given up."""
        self._expire()
        now = self.clock.monotonic()
        for kept in self._kept.values():
            kept.due_at, kept.wait_s = now + self.resend_s, self.resend_s
        return [kept.event for kept in self._kept.values()]

    def due(self) -> list[Event]:
        """What to send again on a connection that stays up: the finals unacknowledged since
        their last send for as long as they were to wait, which doubles each time."""
        self._expire()
        now = self.clock.monotonic()
        due = []
        for kept in self._kept.values():
            if now >= kept.due_at:
                kept.wait_s = min(kept.wait_s * 2, self.max_resend_s)
                kept.due_at = now + kept.wait_s
                due.append(kept.event)
        return due

    def _expire(self) -> None:
        now = self.clock.monotonic()
        expired = [seq for seq, kept in self._kept.items() if now - kept.kept_at >= self.max_age_s]
        for seq in expired:
            del self._kept[seq]
        self.given_up += len(expired)
        if expired:
            log.warning("worker %s: %d final caption lines unacknowledged for %.0fs; given up",
                        self.name, len(expired), self.max_age_s)
