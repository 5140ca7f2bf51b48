"""The worker protocol: every message survives serialise -> parse unchanged, and malformed
frames are refused with a `ProtocolError` that says what is wrong."""

from __future__ import annotations

import pytest

from parley.interpretation.mt.base import Glossary
from parley.interpretation.protocol import (
    AddSpeaker,
    AddVoice,
    CloseMeeting,
    Command,
    DropSpeaker,
    Event,
    GlossaryTerm,
    Hello,
    Load,
    OpenMeeting,
    ProtocolError,
    Reply,
    SetTargets,
    WorkerMessage,
    command_to_json,
    glossary_from_terms,
    glossary_terms,
    parse_command,
    parse_worker_message,
    worker_message_to_json,
)

pytestmark = pytest.mark.unit

COMMANDS: list[Command] = [
    OpenMeeting(7, ("en", "fr"), (GlossaryTerm("en", "fr", "UN75", "ONU75"),), "UN75, Belt and Road"),
    AddSpeaker(7, "p12", "fr"),
    AddSpeaker(7, "p13", None),
    DropSpeaker(7, "p12"),
    SetTargets(7, ("ar", "zh")),
    AddVoice(7, "es", "127.0.0.1", 10_002, 1000),
    CloseMeeting(7),
]
MESSAGES: list[WorkerMessage] = [
    Hello("w1", asr=True, languages=("en", "fr"), voices=("en",), pairs=(("en", "es"),),
          health=({"stage": "mt", "status": "missing"},)),
    Reply(3, True, {"host": "127.0.0.1", "port": 5004, "ssrc": 42}),
    Reply(4, False, error="worker busy", retryable=True),
    Event(7, {"kind": "caption", "text": "¿Qué futuro queremos?"}),
    Load(2, 5, 0.25),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.op)
def test_commands_round_trip(command: Command) -> None:
    assert parse_command(command_to_json(9, command)) == (9, command)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.op)
def test_worker_messages_round_trip(message: WorkerMessage) -> None:
    assert parse_worker_message(worker_message_to_json(message)) == message


@pytest.mark.parametrize(("frame", "says"), [
    ("not json", "not JSON"),
    ("[1]", "not a JSON object"),
    ('{"id": 1, "meeting": 1, "op": "dance"}', "unknown command"),
    ('{"id": "1", "meeting": 1, "op": "close"}', "'id' must be an integer"),
    ('{"id": 1, "meeting": 1, "op": "voice", "language": "es", "host": "h", "port": 70000, "ssrc": 1}', "UDP port"),
    ('{"id": 1, "meeting": 1, "op": "targets", "targets": "en"}', "list of language codes"),
])
def test_bad_commands_are_refused_clearly(frame: str, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        parse_command(frame)


def test_an_old_worker_is_told_to_update() -> None:
    with pytest.raises(ProtocolError, match="update the worker"):
        parse_worker_message('{"op": "hello", "worker": "w", "version": 0}')


def test_a_glossary_travels_as_terms() -> None:
    glossary = Glossary({("en", "fr"): {"Belt and Road": "la Ceinture et la Route"}, ("en", "es"): {"UN75": "UN75"}})
    again = glossary_from_terms(tuple(glossary_terms(glossary)))
    assert again.protect("the Belt and Road plan", "en", "fr")[1] == {"ZXQ0Z": "la Ceinture et la Route"}
    assert sorted(again.items()) == sorted(glossary.items())
