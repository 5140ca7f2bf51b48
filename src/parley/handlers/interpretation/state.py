"""What this process knows of each interpreted meeting: its worker, its speakers (and
those who just left), the voices, the lines shown as partial, health and lag.

Every change to a meeting's worker, forwards or voices happens under its ``lock``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from parley.handlers.interpretation.peer import WorkerPeer
from parley.interpretation.frames import Caption


@dataclass
class Speaker:
    """A participant whose audio is forwarded to the meeting's worker (``stream_id`` while it is)."""

    participant_id: int
    user_id: int
    name: str
    feed_id: int
    mid: str
    language: str | None
    keep_transcript: bool
    stream_id: int | None = None


@dataclass
class OpenLine:
    """A caption line shown as partial: the worker's newest caption for it, and when it came."""

    caption: Caption
    updated_at: float

    @property
    def speaker_id(self) -> str:
        return self.caption.speaker_id


@dataclass
class Voice:
    """A synthesized voice: a Janus remote publisher the worker speaks into."""

    publisher_id: int
    host: str
    port: int
    on_worker: bool = False


@dataclass
class MeetingSession:
    """The interpretation of one open meeting."""

    dialogue_id: int
    meeting_id: int
    room_id: int
    languages: tuple[str, ...]
    worker: WorkerPeer | None = None
    speakers: dict[str, Speaker] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    voices: dict[str, Voice] = field(default_factory=dict)
    health: dict[str, dict[str, Any]] = field(default_factory=dict)
    lag: dict[str, deque[float]] = field(default_factory=dict)
    captions: dict[str, int] = field(default_factory=dict)
    segments: OrderedDict[str, int] = field(default_factory=OrderedDict)
    # (utterance, language) -> the line's newest partial, until its final
    open: dict[tuple[str, str], OpenLine] = field(default_factory=dict)
    # speakers who left, for the finals of their last words
    departed: dict[str, Speaker] = field(default_factory=dict)
    # speakers a final named before this process heard them (a new owner): read from the rows
    named: dict[str, Speaker] = field(default_factory=dict)
    # the finals handled lately, (utterance, language, revision): one that comes again (re-sent
    # by a relay that missed the acknowledgement) is not shown or counted twice
    finals: OrderedDict[tuple[str, str, int], None] = field(default_factory=OrderedDict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # finals are handled one at a time (a copy waits for the first to be shown, see `shown`)
    finals_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # this process's owner lease generation for the meeting (1: its first owner, or one process)
    tenure: int = 1


# The meetings being interpreted, by dialogue id (one dict, shared by the parts of the hub).
Sessions = dict[int, MeetingSession]
