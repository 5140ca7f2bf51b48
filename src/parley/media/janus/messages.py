"""What Janus sends back: JSON objects, the events it sends on its own, the replies of a
plugin, and its refusals as errors (with the core error codes after which a retry helps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.errors import EngineError

JsonObject = dict[str, Any]


# Janus core error codes after which the same request can succeed later.
_RETRYABLE_CODES = frozenset({450, 472, 490})  # transport specific, not accepting sessions, unknown
SESSION_NOT_FOUND = 458
HANDLE_NOT_FOUND = 459


class JanusError(EngineError):
    """Janus refused a request (``{"janus": "error"}``); ``code`` is Janus's error code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"janus error {code}: {reason}", retryable=code in _RETRYABLE_CODES, engine="janus")
        self.code = code
        self.reason = reason


class JanusPluginError(EngineError):
    """A plugin refused a request (``error_code`` in its reply), e.g. 426 no such room."""

    def __init__(self, plugin: str, code: int, reason: str, data: JsonObject) -> None:
        super().__init__(f"{plugin} error {code}: {reason}", retryable=False, engine="janus")
        self.plugin = plugin
        self.code = code
        self.reason = reason
        self.data = data


@dataclass(frozen=True)
class JanusEvent:
    """A message Janus sent on its own: plugin event, webrtcup, media, hangup, detached, ..."""

    janus: str
    session_id: int | None
    sender: int | None
    plugin: str | None
    data: JsonObject
    jsep: JsonObject | None
    transaction: str | None
    raw: JsonObject = field(repr=False)

    @classmethod
    def parse(cls, message: JsonObject) -> JanusEvent:
        plugindata = message.get("plugindata")
        plugin = data = None
        if isinstance(plugindata, dict):
            plugin = plugindata.get("plugin")
            data = plugindata.get("data")
        jsep = message.get("jsep")
        return cls(
            janus=str(message.get("janus", "")),
            session_id=_int_or_none(message.get("session_id")),
            sender=_int_or_none(message.get("sender")),
            plugin=plugin if isinstance(plugin, str) else None,
            data=data if isinstance(data, dict) else {},
            jsep=jsep if isinstance(jsep, dict) else None,
            transaction=message.get("transaction") if isinstance(message.get("transaction"), str) else None,
            raw=message,
        )


@dataclass(frozen=True)
class PluginResponse:
    data: JsonObject
    jsep: JsonObject | None
    # True when the reply came as an asynchronous event after an ack (join, configure, ...).
    asynchronous: bool


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
