"""What the analysis reports about itself: the engine's state and what the passes did."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from parley.vocabulary import SourceType


@dataclass(frozen=True)
class RunProgress:
    """Where a pass is: ``waiting`` (asked for, not started), ``preparing`` (loading the coder),
    ``purging``, ``coding`` new sources or ``recoding`` older codings, ``done`` of ``total``
    (0 of 0 while a stage has no count)."""

    stage: str
    done: int = 0
    total: int = 0
    since: datetime | None = None

    @property
    def percent(self) -> int | None:
        return min(100, 100 * self.done // self.total) if self.total else None


@dataclass(frozen=True)
class EngineStatus:
    state: str  # idle | preparing | ready | missing | failed
    message: str = ""
    embedder: str = ""
    themes: int = 0
    corrections: int = 0
    version: str = ""
    last_run_at: datetime | None = None  # the last pass, whether it found work or not
    last_result: RunResult | None = None  # the last pass that changed something
    translation: bool = False
    # Hidden until cross-validation on analysts' labels shows it beats the majority label
    # (see parley.consultation.analysis.sentiment.SentimentCheck).
    sentiment_shown: bool = False
    sentiment_note: str = ""
    progress: RunProgress | None = None  # a pass running or asked for in this process

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def unavailable(self) -> bool:
        return self.state in ("missing", "failed")


@dataclass(frozen=True)
class SourceCounts:
    """What a pass did to one kind of source."""

    coded: int = 0
    recoded: int = 0
    purged: int = 0


@dataclass(frozen=True)
class RunResult:
    """What one pass did, in all and per source type (``survey``, ``report``, ``transcript``)."""

    coded: int = 0
    recoded: int = 0
    purged: int = 0
    by_source: Mapping[str, SourceCounts] = dataclasses.field(default_factory=dict)
    finished_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.coded or self.recoded or self.purged)

    @classmethod
    def of(cls, coded: Mapping[str, int], recoded: Mapping[str, int], purged: Mapping[str, int],
           finished_at: datetime) -> RunResult:
        kinds = [t.value for t in SourceType if coded.get(t.value) or recoded.get(t.value) or purged.get(t.value)]
        by_source = {k: SourceCounts(coded.get(k, 0), recoded.get(k, 0), purged.get(k, 0)) for k in kinds}
        return cls(coded=sum(coded.values()), recoded=sum(recoded.values()), purged=sum(purged.values()),
                   by_source=by_source, finished_at=finished_at)
