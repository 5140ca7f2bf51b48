"""Engine health of each meeting's interpretation: what workers and Janus report, kept per
stage and engine, published to the people inside when it changes, and shown on the page
(everyone sees what fails; hosts see all, and how each language does)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.interpretation.facts import SessionFacts
from parley.handlers.interpretation.state import MeetingSession
from parley.handlers.meetings import meeting_topic
from parley.storage.stores.meetings import ParticipantInfo
from parley.vocabulary import AttendeeStatus


def health_key(event: dict[str, Any]) -> str:
    return ":".join(str(event.get(k, "")) for k in ("stage", "engine", "source_language", "target_language",
                                                       "speaker_id"))


class Health:
    def __init__(self, bus: Bus, clock: Clock) -> None:
        self.bus = bus
        self.clock = clock

    async def report(self, session: MeetingSession, event: dict[str, Any]) -> None:
        """Keep the newest status of one stage and engine; publish it when it changed."""
        key = health_key(event)
        entry = {k: event.get(k, "") for k in ("stage", "engine", "status", "message", "source_language",
                                               "target_language", "speaker_id")}
        entry["at"] = self.clock.now().isoformat()
        if session.health.get(key, {}).get("status") == entry["status"] and \
                session.health[key].get("message") == entry["message"]:
            return
        session.health[key] = entry
        await self.bus.publish(meeting_topic(session.dialogue_id), {"type": "interpretation", "health": entry})


def shown_health(facts: SessionFacts | None, *, enabled: bool, workers: int, host: bool) -> list[dict[str, Any]]:
    """The health lines a page shows: what is not ok (all of it for hosts), or why there is none."""
    health = list(facts.health) if facts is not None else []
    if not enabled:
        health = [{"stage": "asr", "engine": "off", "status": "missing",
                   "message": "interpretation is turned off on this server"}]
    elif not workers:
        health = [{"stage": "asr", "engine": "worker", "status": "missing",
                   "message": "no interpretation worker is connected"}]
    return [h for h in health if host or h.get("status") != "ok"]


def languages_status(facts: SessionFacts, people: Sequence[ParticipantInfo]) -> list[dict[str, Any]]:
    """For hosts: per language, the final lines so far, the median lag and who reads it (no
    lag before the first final line: a partial's lag alone beside 0 lines misleads)."""
    return [
        {"language": lang,
         "captions": facts.captions.get(lang, 0),
         "median_lag_s": facts.lag.get(lang) if facts.captions.get(lang) else None,
         "listeners": sum(1 for p in people if p.status == AttendeeStatus.ADMITTED
                          and (p.caption_language or p.language) == lang)}
        for lang in sorted(set(facts.targets) | set(facts.lag))
    ]
