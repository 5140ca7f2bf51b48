"""A stream's engine health: reported to the worker's listeners only when it changes, so a
failing engine is said once, not once per pass, and its recovery is said too.
"""

from __future__ import annotations

from collections.abc import Callable

from parley.errors import EngineError, ModelMissing
from parley.interpretation.asr.base import AsrEngine
from parley.interpretation.frames import AsrEvent, EngineHealth, HealthStatus


class HealthReporter:
    """Emits the recogniser's health for one stream when it changes: OK after a pass that
    worked, MISSING or FAILING (and whether a retry helps) after one that did not."""

    def __init__(self, engine: AsrEngine, stream_id: str, emit: Callable[[AsrEvent], None]) -> None:
        self.engine = engine
        self.stream_id = stream_id
        self._emit = emit
        self._health = HealthStatus.OK

    def report(self, exc: EngineError | None) -> None:
        if exc is None:
            status, message = HealthStatus.OK, "recognising"
        elif isinstance(exc, ModelMissing):
            status, message = HealthStatus.MISSING, str(exc)
        else:
            status, message = HealthStatus.FAILING, str(exc)
        if status is self._health:
            return
        self._health = status
        self._emit(EngineHealth(stage="asr", engine=self.engine.name, status=status, message=message,
                                retryable=bool(exc and exc.retryable), speaker_id=self.stream_id))
