"""A report's pre-draft running in the background, and the stage it has reached.

Pre-drafting reads the transcript, finds its most representative lines with the analysis
engine (seconds; longer when the engine has to load first) and translates them. The page
that asked gets its answer at once and shows the stage and counts while it reloads itself,
instead of a request that hangs with no word. What a finished pre-draft could not do
(no transcript, a language with no engine) waits here for that page to show it once.

The state is this process's: a page served by another process sees the report appear
when the pre-draft is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from parley.clock import Clock
from parley.errors import ClientError
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

# reading the transcript, choosing the representative lines (n of N read by the engine),
# translating (n of N lines), saving
STAGES = ("reading", "choosing", "translating", "saving")

Step = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DraftProgress:
    stage: str
    done: int = 0
    total: int = 0
    since: datetime | None = None

    @property
    def percent(self) -> int | None:
        return min(100, 100 * self.done // self.total) if self.total else None


class Drafting:
    """Pre-drafts under way, one per dialogue, each a named task of ``tasks``."""

    def __init__(self, clock: Clock, tasks: TaskOwner) -> None:
        self.clock = clock
        self._tasks = tasks
        self._running: dict[int, DraftProgress] = {}
        self._left: dict[int, list[str]] = {}  # notices of finished pre-drafts, for their page

    def progress(self, dialogue_id: int) -> DraftProgress | None:
        return self._running.get(dialogue_id)

    def step(self, dialogue_id: int) -> Step:
        """What the pre-draft calls at each stage (and as its counts move)."""
        def at(stage: str, done: int = 0, total: int = 0) -> None:
            if dialogue_id in self._running:
                since = self._running[dialogue_id].since
                self._running[dialogue_id] = DraftProgress(stage, done, max(done, total), since)
        return at

    def start(self, dialogue_id: int, work: Callable[[Step], Awaitable[Sequence[str]]]) -> bool:
        """Run ``work`` (which returns the draft's notices) unless one runs for this dialogue;
        False when one did already."""
        if dialogue_id in self._running:
            return False
        self._running[dialogue_id] = DraftProgress("reading", since=self.clock.now())
        self._left.pop(dialogue_id, None)
        self._tasks.spawn(f"report-draft:{dialogue_id}", self._run(dialogue_id, work))
        return True

    async def _run(self, dialogue_id: int, work: Callable[[Step], Awaitable[Sequence[str]]]) -> None:
        try:
            self._left[dialogue_id] = list(await work(self.step(dialogue_id)))
        except ClientError as exc:  # the dialogue changed meanwhile (ended, reassigned): the page says so
            self._left[dialogue_id] = [f"draft_refused:{exc.code}"]
        except Exception as exc:
            log.error("report pre-draft for dialogue %d failed: %s", dialogue_id, type(exc).__name__)
            self._left[dialogue_id] = ["draft_failed"]
        finally:
            self._running.pop(dialogue_id, None)

    def take_notices(self, dialogue_id: int) -> list[str]:
        """What the last finished pre-draft left to say (once)."""
        return self._left.pop(dialogue_id, [])
