"""A small error taxonomy.

Client errors carry a stable machine-readable ``code`` (what API users match on) and a
human message; the web layer maps them to HTTP statuses. Engine errors say whether retrying
can help, so callers never guess from message text.
"""

from __future__ import annotations

from collections.abc import Mapping


class ParleyError(Exception):
    """Base of every error Parley raises on purpose."""


class ClientError(ParleyError):
    """The caller did something wrong; nothing was written."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields: dict[str, str] = dict(fields or {})


class InvalidInput(ClientError):
    status = 422
    code = "invalid_input"


class Unauthenticated(ClientError):
    status = 401
    code = "unauthenticated"


class Forbidden(ClientError):
    status = 403
    code = "forbidden"


class NotFound(ClientError):
    status = 404
    code = "not_found"


class Conflict(ClientError):
    status = 409
    code = "conflict"


class RateLimited(ClientError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ConfigError(ParleyError):
    """Configuration is invalid; the message names the offending key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config {key}: {problem}")
        self.key = key
        self.problem = problem


class EngineError(ParleyError):
    """An engine (ASR, MT, TTS, Janus, ...) failed.

    ``retryable`` is True when the same call may succeed later (timeouts, overload) and
    False when it cannot (missing model, unsupported language pair, bad input).
    """

    def __init__(self, message: str, *, retryable: bool, engine: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.engine = engine


class ModelMissing(EngineError):
    """The engine's model is not installed; retrying will not help."""

    def __init__(self, message: str, *, engine: str = "") -> None:
        super().__init__(message, retryable=False, engine=engine)
