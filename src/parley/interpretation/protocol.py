"""The messages between Parley and its interpretation workers.

A worker is its own process (started by `parley serve`, or by hand on another machine); it
connects to Parley over a WebSocket and says ``hello``. From then on Parley sends commands,
each with an ``id`` the worker answers with a ``reply``, and the worker streams ``event``
messages (captions, engine health) and ``load`` reports on its own.

    Parley ── open / speaker / drop / targets / voice / close / ping / acked ──▶ worker
    Parley ◀── hello / reply / event / load ─────────────────────────── worker

Final caption lines are acknowledged when both sides can (a worker says ``acks`` in its
hello): the worker numbers each final (``seq`` on its event) and keeps it until Parley's
``acked`` names it (the meeting's owner has handled it), and sends the ones it still keeps
again after it reconnects, here or to another web process. An older worker (no ``acks``) gets
no ``acked``; an older Parley ignores ``seq``.

Frames are JSON objects; `parse_command` and `parse_worker_message` validate them, so a
malformed frame from either side is a clear `ProtocolError` instead of a KeyError deep in
a handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from parley.interpretation.mt.base import Glossary

PROTOCOL_VERSION = 1
# WebSocket close code Parley refuses a worker with when one of the same name is connected
# and answering (`Ping`); the refused worker retries with backoff.
CLOSE_DUPLICATE_WORKER = 4409
# Speaker ids on the wire: "p<meeting participant id>".
MAX_TEXT = 4000


class ProtocolError(ValueError):
    """A frame that does not follow this protocol."""


def _str(data: dict[str, Any], key: str, *, optional: bool = False, limit: int = 64) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(f"{key!r} must be a string of at most {limit} characters")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{key!r} must be an integer")
    return value


def _languages(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 16 for v in value):
        raise ProtocolError(f"{key!r} must be a list of language codes")
    return tuple(sorted(set(value)))


@dataclass(frozen=True)
class GlossaryTerm:
    source: str
    target: str
    term: str
    translation: str


def glossary_terms(glossary: Glossary) -> list[GlossaryTerm]:
    return [GlossaryTerm(s, t, term, translation) for (s, t), term, translation in glossary.items()]


def glossary_from_terms(terms: tuple[GlossaryTerm, ...]) -> Glossary:
    glossary = Glossary()
    for t in terms:
        glossary.add(t.source, t.target, t.term, t.translation)
    return glossary


# --- commands: Parley -> worker ------------------------------------------------------------


@dataclass(frozen=True)
class OpenMeeting:
    """Start interpreting a meeting: its listeners' languages, its glossary and hotwords."""

    meeting: int
    targets: tuple[str, ...] = ()
    glossary: tuple[GlossaryTerm, ...] = ()
    hotwords: str = ""
    op: Literal["open"] = "open"


@dataclass(frozen=True)
class AddSpeaker:
    """A publisher's audio is about to be forwarded: the worker answers where to send it."""

    meeting: int
    speaker: str
    language: str | None = None
    op: Literal["speaker"] = "speaker"


@dataclass(frozen=True)
class DropSpeaker:
    meeting: int
    speaker: str
    op: Literal["drop"] = "drop"


@dataclass(frozen=True)
class SetTargets:
    meeting: int
    targets: tuple[str, ...]
    op: Literal["targets"] = "targets"


@dataclass(frozen=True)
class AddVoice:
    """Speak translations into ``language`` as Opus RTP to a Janus remote publisher."""

    meeting: int
    language: str
    host: str
    port: int
    # Janus tells a remote publisher's streams apart by SSRC (base + 10 x mindex).
    ssrc: int = 1000
    op: Literal["voice"] = "voice"


@dataclass(frozen=True)
class CloseMeeting:
    meeting: int
    op: Literal["close"] = "close"


@dataclass(frozen=True)
class Ping:
    """Are you there? (Parley asks before it lets another worker take this one's name.)"""

    meeting: int = 0
    op: Literal["ping"] = "ping"


@dataclass(frozen=True)
class Acked:
    """These finals (the worker's ``seq``) are handled: the worker forgets them. Sent only to a
    worker that said ``acks``; not answered (its ``id`` is 0)."""

    seqs: tuple[int, ...]
    meeting: int = 0
    op: Literal["acked"] = "acked"


Command = OpenMeeting | AddSpeaker | DropSpeaker | SetTargets | AddVoice | CloseMeeting | Ping | Acked
MAX_ACKED = 1000  # seqs in one `Acked`


def command_to_json(command_id: int, command: Command) -> str:
    body: dict[str, Any] = {"id": command_id, "op": command.op, "meeting": command.meeting}
    if isinstance(command, OpenMeeting):
        body["targets"] = list(command.targets)
        body["glossary"] = [t.__dict__ for t in command.glossary]
        body["hotwords"] = command.hotwords
    elif isinstance(command, AddSpeaker):
        body["speaker"] = command.speaker
        body["language"] = command.language
    elif isinstance(command, DropSpeaker):
        body["speaker"] = command.speaker
    elif isinstance(command, SetTargets):
        body["targets"] = list(command.targets)
    elif isinstance(command, AddVoice):
        body.update(language=command.language, host=command.host, port=command.port, ssrc=command.ssrc)
    elif isinstance(command, Acked):
        body["seqs"] = list(command.seqs)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def parse_command(frame: str) -> tuple[int, Command]:
    data = _object(frame)
    command_id = _int(data, "id")
    meeting = _int(data, "meeting")
    op = data.get("op")
    command: Command
    if op == "open":
        raw = data.get("glossary", [])
        if not isinstance(raw, list):
            raise ProtocolError("'glossary' must be a list")
        terms = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise ProtocolError("a glossary entry must be an object")
            terms.append(GlossaryTerm(*(str(_str(entry, k, limit=MAX_TEXT)) for k in
                                        ("source", "target", "term", "translation"))))
        command = OpenMeeting(meeting, _languages(data, "targets"), tuple(terms),
                              str(_str(data, "hotwords", limit=MAX_TEXT) or ""))
    elif op == "speaker":
        command = AddSpeaker(meeting, str(_str(data, "speaker")), _str(data, "language", optional=True, limit=16))
    elif op == "drop":
        command = DropSpeaker(meeting, str(_str(data, "speaker")))
    elif op == "targets":
        command = SetTargets(meeting, _languages(data, "targets"))
    elif op == "voice":
        port = _int(data, "port")
        if not 0 < port < 65536:
            raise ProtocolError("'port' must be a UDP port")
        ssrc = _int(data, "ssrc")
        if not 0 < ssrc < 2**32:
            raise ProtocolError("'ssrc' must be a 32-bit SSRC")
        command = AddVoice(meeting, str(_str(data, "language", limit=16)), str(_str(data, "host", limit=255)), port,
                           ssrc)
    elif op == "close":
        command = CloseMeeting(meeting)
    elif op == "ping":
        command = Ping(meeting)
    elif op == "acked":
        seqs = data.get("seqs")
        if (not isinstance(seqs, list) or len(seqs) > MAX_ACKED
                or not all(isinstance(q, int) and not isinstance(q, bool) for q in seqs)):
            raise ProtocolError(f"'seqs' must be a list of at most {MAX_ACKED} integers")
        command = Acked(tuple(seqs), meeting)
    else:
        raise ProtocolError(f"unknown command {op!r}")
    return command_id, command


# --- worker -> Parley -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """Who the worker is and what its engines can do (shown to organisers as is)."""

    worker: str
    version: int = PROTOCOL_VERSION
    asr: bool = False
    languages: tuple[str, ...] = ()
    voices: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    health: tuple[dict[str, Any], ...] = ()
    # It numbers its finals and keeps them until `Acked` (older workers do not).
    acks: bool = False
    op: Literal["hello"] = "hello"


@dataclass(frozen=True)
class Reply:
    id: int
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    retryable: bool = False
    op: Literal["reply"] = "reply"


@dataclass(frozen=True)
class Event:
    """A pipeline event (`Caption.to_dict()`, `EngineHealth`, speech start/end) of a meeting."""

    meeting: int
    event: dict[str, Any]
    # A final's number (unique for the worker process's life), kept by the worker until `Acked`.
    seq: int | None = None
    op: Literal["event"] = "event"


@dataclass(frozen=True)
class Load:
    """How busy the worker is; Parley places new meetings on the least loaded worker."""

    meetings: int
    speakers: int
    backlog_s: float = 0.0
    op: Literal["load"] = "load"


WorkerMessage = Hello | Reply | Event | Load


def worker_message_to_json(message: WorkerMessage) -> str:
    body = dict(message.__dict__)
    if isinstance(message, Hello):
        body["languages"] = list(message.languages)
        body["voices"] = list(message.voices)
        body["pairs"] = [list(p) for p in message.pairs]
        body["health"] = list(message.health)
    elif isinstance(message, Event) and message.seq is None:
        del body["seq"]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def parse_worker_message(frame: str) -> WorkerMessage:
    data = _object(frame)
    op = data.get("op")
    if op == "hello":
        pairs = data.get("pairs", [])
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
        ):
            raise ProtocolError("'pairs' must be a list of [source, target]")
        health = data.get("health", [])
        if not isinstance(health, list) or not all(isinstance(h, dict) for h in health):
            raise ProtocolError("'health' must be a list of objects")
        version = _int(data, "version")
        if version != PROTOCOL_VERSION:
            raise ProtocolError(f"protocol version {version} is not {PROTOCOL_VERSION}: update the worker")
        return Hello(str(_str(data, "worker", limit=128)), version, bool(data.get("asr")),
                     _languages(data, "languages"), _languages(data, "voices"),
                     tuple((p[0], p[1]) for p in pairs), tuple(health), data.get("acks") is True)
    if op == "reply":
        result = data.get("result", {})
        if not isinstance(result, dict):
            raise ProtocolError("'result' must be an object")
        return Reply(_int(data, "id"), bool(data.get("ok")), result, str(data.get("error", ""))[:500],
                     bool(data.get("retryable")))
    if op == "event":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
            raise ProtocolError("'event' must be an object with a kind")
        seq = data.get("seq")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
            raise ProtocolError("'seq' must be an integer")
        return Event(_int(data, "meeting"), event, seq)
    if op == "load":
        backlog = data.get("backlog_s", 0.0)
        if not isinstance(backlog, int | float):
            raise ProtocolError("'backlog_s' must be a number")
        return Load(_int(data, "meetings"), _int(data, "speakers"), float(backlog))
    raise ProtocolError(f"unknown message {op!r}")


def _object(frame: str) -> dict[str, Any]:
    try:
        data = json.loads(frame)
    except ValueError as exc:
        raise ProtocolError("frame is not JSON") from exc
    if not isinstance(data, dict):
        raise ProtocolError("frame is not a JSON object")
    return data
