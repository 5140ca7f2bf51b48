"""What a page's view needs of a meeting's interpretation, read off the session by the
process that owns it: the owner builds it from its session, another process asks the owner
for it over the bus (see `owners`)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from parley.handlers.interpretation.state import MeetingSession


@dataclass(frozen=True)
class SessionFacts:
    health: tuple[dict[str, Any], ...] = ()
    # language -> the Janus publisher of its synthesized voice
    voices: dict[str, int] = field(default_factory=dict)
    # language -> final lines so far, and the median seconds to a line's first caption
    captions: dict[str, int] = field(default_factory=dict)
    lag: dict[str, float] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    speakers: int = 0
    worker: str | None = None

    @classmethod
    def of(cls, session: MeetingSession) -> SessionFacts:
        return cls(
            health=tuple(session.health.values()),
            voices={language: voice.publisher_id for language, voice in session.voices.items()},
            captions=dict(session.captions),
            lag={language: round(statistics.median(lags), 2) for language, lags in session.lag.items() if lags},
            targets=session.targets,
            speakers=len(session.speakers),
            worker=session.worker.name if session.worker is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionFacts:
        """The owner's answer (a malformed one reads as nothing known)."""
        try:
            return cls(
                health=tuple(dict(h) for h in data.get("health", [])),
                voices={str(k): int(v) for k, v in dict(data.get("voices", {})).items()},
                captions={str(k): int(v) for k, v in dict(data.get("captions", {})).items()},
                lag={str(k): float(v) for k, v in dict(data.get("lag", {})).items()},
                targets=tuple(str(t) for t in data.get("targets", [])),
                speakers=int(data.get("speakers", 0)),
                worker=str(data["worker"]) if data.get("worker") is not None else None,
            )
        except (TypeError, ValueError):
            return cls()
