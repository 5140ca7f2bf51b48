"""Janus Admin API (HTTP) and the per-user tokens Parley issues through it.

Janus runs with ``token_auth`` and stored tokens: Parley adds one token per browser user with
``add_token``, limited to the plugins that user needs, and Janus itself checks it on every
request. Stored tokens live in Janus's memory only, so `JanusTokens` remembers what it issued
and re-adds it after a restart (`reinstall`, from `JanusProcess`'s on_restart).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from parley.clock import Clock, SystemClock
from parley.errors import EngineError
from parley.media.janus.client import JanusError, JsonObject
from parley.media.janus.config import PLUGINS

log = logging.getLogger(__name__)


def plugin_package(name: str) -> str:
    """Accept "videoroom" or "janus.plugin.videoroom"."""
    return PLUGINS.get(name, name)


@dataclass(frozen=True)
class TokenInfo:
    token: str
    plugins: tuple[str, ...]

    def __repr__(self) -> str:
        return f"TokenInfo(token=<{len(self.token)} chars>, plugins={self.plugins!r})"


class JanusAdmin:
    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._secret = secret
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> JanusAdmin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, kind: str, body: dict[str, Any] | None = None, *, path: str = "") -> JsonObject:
        message: JsonObject = {"janus": kind, "transaction": secrets.token_hex(12), **(body or {})}
        if self._secret:
            message["admin_secret"] = self._secret
        try:
            response = await self._http.post(self.url + path, json=message)
        except httpx.TimeoutException as exc:
            raise EngineError(f"janus admin {kind}: timed out", retryable=True, engine="janus") from exc
        except httpx.HTTPError as exc:
            raise EngineError(f"janus admin {kind}: {exc}", retryable=True, engine="janus") from exc
        try:
            reply = response.json()
        except ValueError as exc:
            raise EngineError(f"janus admin {kind}: HTTP {response.status_code}, not JSON",
                              retryable=response.status_code >= 500, engine="janus") from exc
        if not isinstance(reply, dict):
            raise EngineError(f"janus admin {kind}: reply is not an object", retryable=False, engine="janus")
        if reply.get("janus") == "error":
            error = reply.get("error") or {}
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "unknown error")))
        return reply

    async def info(self) -> JsonObject:
        return await self._call("info")

    async def add_token(self, token: str, plugins: Iterable[str]) -> tuple[str, ...]:
        """Store ``token`` in Janus, allowed to attach only to ``plugins``; returns them."""
        packages = [plugin_package(p) for p in plugins]
        reply = await self._call("add_token", {"token": token, "plugins": packages})
        return tuple(reply.get("data", {}).get("plugins", packages))

    async def allow_token(self, token: str, plugins: Iterable[str]) -> tuple[str, ...]:
        reply = await self._call("allow_token", {"token": token, "plugins": [plugin_package(p) for p in plugins]})
        return tuple(reply.get("data", {}).get("plugins", ()))

    async def disallow_token(self, token: str, plugins: Iterable[str]) -> tuple[str, ...]:
        reply = await self._call("disallow_token",
                                 {"token": token, "plugins": [plugin_package(p) for p in plugins]})
        return tuple(reply.get("data", {}).get("plugins", ()))

    async def remove_token(self, token: str) -> None:
        await self._call("remove_token", {"token": token})

    async def list_tokens(self) -> list[TokenInfo]:
        reply = await self._call("list_tokens")
        return [
            TokenInfo(token=str(item.get("token", "")), plugins=tuple(item.get("allowed_plugins", ())))
            for item in reply.get("data", {}).get("tokens", [])
        ]

    async def list_sessions(self) -> list[int]:
        reply = await self._call("list_sessions")
        return [int(s) for s in reply.get("sessions", [])]

    async def list_handles(self, session_id: int) -> list[int]:
        reply = await self._call("list_handles", path=f"/{session_id}")
        return [int(h) for h in reply.get("handles", [])]

    async def handle_info(self, session_id: int, handle_id: int) -> JsonObject:
        reply = await self._call("handle_info", path=f"/{session_id}/{handle_id}")
        info = reply.get("info", {})
        return info if isinstance(info, dict) else {}


@dataclass(frozen=True)
class _Issued:
    plugins: tuple[str, ...]
    expires_at: float


class JanusTokens:
    """Per-user Janus tokens with an expiry, re-added after a Janus restart."""

    def __init__(
        self,
        admin: JanusAdmin,
        *,
        clock: Clock | None = None,
        ttl: float = 12 * 3600.0,
        default_plugins: Sequence[str] = ("videoroom", "textroom"),
    ) -> None:
        self._admin = admin
        self._clock = clock or SystemClock()
        self._ttl = ttl
        self._default_plugins = tuple(plugin_package(p) for p in default_plugins)
        self._issued: dict[str, _Issued] = {}

    def __len__(self) -> int:
        return len(self._issued)

    def __contains__(self, token: object) -> bool:
        return token in self._issued

    async def issue(self, *, plugins: Sequence[str] | None = None, ttl: float | None = None) -> str:
        """A new token Janus will accept, for ``plugins`` (default: videoroom + textroom)."""
        await self.expire()
        token = secrets.token_urlsafe(24)
        packages = tuple(plugin_package(p) for p in plugins) if plugins is not None else self._default_plugins
        await self._admin.add_token(token, packages)
        self._issued[token] = _Issued(packages, self._clock.monotonic() + (ttl or self._ttl))
        return token

    async def revoke(self, token: str) -> None:
        """Forget the token; Janus refuses it from now on (existing sessions stay up)."""
        if self._issued.pop(token, None) is None:
            return
        try:
            await self._admin.remove_token(token)
        except JanusError as exc:
            # Janus 1.1 answers 490 "Error removing token" when it no longer knows the token
            # (it restarted since); the goal is reached either way.
            if exc.code not in (470, 490):
                raise

    async def expire(self) -> int:
        now = self._clock.monotonic()
        stale = [token for token, issued in self._issued.items() if issued.expires_at <= now]
        for token in stale:
            await self.revoke(token)
        return len(stale)

    async def reinstall(self) -> None:
        """Re-add every live token (Janus forgets them when it restarts)."""
        await self.expire()
        for token, issued in list(self._issued.items()):
            try:
                await self._admin.add_token(token, issued.plugins)
            except EngineError as exc:
                log.error("could not re-add a janus token: %s", exc)
