"""The final caption lines a worker sent and Parley has not acknowledged yet.

A final sent just before the web process it reached dies (or sent while it has no connection:
the lines its meetings close with when the socket drops) would be lost with that connection.
The worker numbers each final, keeps it here until Parley's `Acked` names it, and sends what it
still keeps again after it reconnects, to the same web process or the next one; the meeting's
owner and the transcript drop a line they have already. Bounded by count and by age: a line
that no owner takes (its meeting ended, or Parley is too old to acknowledge) is given up, and
the log says how many (never their text: transcripts are personal data).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterable

from parley.clock import Clock
from parley.interpretation.protocol import Event

log = logging.getLogger(__name__)

MAX_KEPT = 2000
MAX_AGE_S = 300.0


def is_final(event: Event) -> bool:
    return event.event.get("kind") == "caption" and event.event.get("is_final") is True


class UnackedFinals:
    def __init__(self, clock: Clock, *, name: str = "worker", max_kept: int = MAX_KEPT,
                 max_age_s: float = MAX_AGE_S) -> None:
        self.clock = clock
        self.name = name
        self.max_kept = max_kept
        self.max_age_s = max_age_s
        self._seqs = itertools.count(1)
        self._kept: OrderedDict[int, tuple[Event, float]] = OrderedDict()
        self.given_up = 0

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, event: Event) -> Event:
        """The final numbered, kept until acknowledged."""
        numbered = dataclasses.replace(event, seq=next(self._seqs))
        assert numbered.seq is not None
        self._kept[numbered.seq] = (numbered, self.clock.monotonic())
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
        """What to send again (oldest first); lines older than ``max_age_s`` are given up."""
        now = self.clock.monotonic()
        expired = [seq for seq, (_, at) in self._kept.items() if now - at >= self.max_age_s]
        for seq in expired:
            del self._kept[seq]
        self.given_up += len(expired)
        if expired:
            log.warning("worker %s: %d final caption lines unacknowledged for %.0fs; given up",
                        self.name, len(expired), self.max_age_s)
        return [event for event, _ in self._kept.values()]
