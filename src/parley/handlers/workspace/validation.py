"""The checks on what staff type into the workspace: message bodies, channel names and
topics, page sizes. Pure functions; each refusal carries a stable code and the field.
"""

from __future__ import annotations

import re

from parley.errors import InvalidInput

MAX_BODY = 4000
MAX_PAGE = 100
MAX_NAME = 80
MAX_TOPIC = 500


# Control characters, and lone surrogates (which no database can store as UTF-8).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_body(body: str) -> str:
    """Plain text of 1..4000 characters; line ends normalised, control characters refused."""
    if not isinstance(body, str):
        raise InvalidInput("The message must be text.", fields={"body": "invalid"}, code="body_invalid")
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InvalidInput("Write a message first.", fields={"body": "empty"}, code="body_empty")
    if len(text) > MAX_BODY:
        raise InvalidInput(
            "Messages can be at most 4000 characters.", fields={"body": "too_long"}, code="body_too_long"
        )
    if _CONTROL.search(text):
        raise InvalidInput(
            "The message contains characters that cannot be sent.", fields={"body": "invalid"}, code="body_invalid"
        )
    return text


def check_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= MAX_NAME:
        raise InvalidInput(
            "Give the channel a name of 1 to 80 characters.",
            fields={"name": "length"},
            code="invalid_channel_name",
        )
    if _CONTROL.search(value):
        raise InvalidInput(
            "The name contains characters that cannot be used.", fields={"name": "invalid"}, code="invalid_channel_name"
        )
    return value


def check_topic(topic: str) -> str:
    value = " ".join(topic.split())
    if len(value) > MAX_TOPIC or _CONTROL.search(value):
        raise InvalidInput(
            "The topic can be at most 500 characters.",
            fields={"topic": "length"},
            code="invalid_channel_topic",
        )
    return value


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit must be between 1 and 100.", fields={"limit": "range"}, code="invalid_limit")
    return limit
