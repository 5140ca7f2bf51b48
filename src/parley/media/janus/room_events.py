"""What the monitor reports from a room: talking, stopped talking, published (with the
publisher's audio streams) and left, parsed from VideoRoom events in Janus 1.1 shapes.
Publisher ids below `MONITOR_ID_LIMIT` are monitors, never participants.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from parley.media.janus.client import JanusEvent

# Publisher ids below this never belong to a participant (their ids are shifted left by 20).
MONITOR_ID_LIMIT = 1 << 20


@dataclass(frozen=True)
class MediaEvent:
    """Something the monitor saw in a room. kind: talking | stopped-talking | published | left."""

    room_id: int
    kind: str
    feed_id: int
    audio_mids: tuple[str, ...] = ()


EventCallback = Callable[[MediaEvent], Awaitable[None]]


def _feed(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_room_event(room_id: int, event: JanusEvent) -> list[MediaEvent]:
    """The VideoRoom events Parley cares about, in Janus 1.1 shapes."""
    data = event.data
    kind = data.get("videoroom")
    out: list[MediaEvent] = []
    if kind in ("talking", "stopped-talking"):
        feed = _feed(data.get("id"))
        if feed is not None:
            out.append(MediaEvent(room_id, str(kind), feed))
        return out
    if kind not in ("event", "joined"):
        return out
    for publisher in data.get("publishers") or []:
        if not isinstance(publisher, dict):
            continue
        feed = _feed(publisher.get("id"))
        if feed is None:
            continue
        mids = tuple(
            str(s.get("mid")) for s in publisher.get("streams") or []
            if isinstance(s, dict) and s.get("type") == "audio" and not s.get("disabled")
        )
        out.append(MediaEvent(room_id, "published", feed, mids))
        if publisher.get("talking") is True:
            out.append(MediaEvent(room_id, "talking", feed))
    for key in ("leaving", "unpublished", "kicked"):
        feed = _feed(data.get(key))
        if feed is not None:
            out.append(MediaEvent(room_id, "left", feed))
    return out
