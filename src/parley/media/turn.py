"""Time-limited TURN credentials: coturn's shared-secret scheme ("TURN REST API").

    username = "<unix expiry time>:<id>"        password = base64(HMAC-SHA1(secret, username))

coturn, run with ``use-auth-secret`` and ``static-auth-secret=SECRET`` (`parley turn config`
writes that file), recomputes the password from the username and refuses it once the expiry
has passed. Parley and coturn share only the secret; each browser gets its own credential when
it connects to a meeting, and no lasting password ever reaches one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parley.clock import Clock
from parley.config import TurnConfig

# What the <id> part may hold: coturn logs it, and ':' separates it from the expiry.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def turn_password(secret: str, username: str) -> str:
    """The password coturn expects for ``username`` under ``static-auth-secret=secret``."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class TurnCredential:
    username: str
    password: str = field(repr=False)
    expires_at: datetime


class TurnIssuer:
    """Issues credentials for the configured TURN URLs, valid ``ttl_seconds`` from the clock's now."""

    def __init__(self, cfg: TurnConfig, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return bool(self.cfg.urls and self.cfg.secret)

    def issue(self, person: str | int | None = None) -> TurnCredential:
        """A credential naming ``person`` (an identifier, never a name; random when None)."""
        ident = _UNSAFE.sub("-", str(person))[:64] if person is not None else secrets.token_hex(8)
        expiry = int(self.clock.now().timestamp()) + self.cfg.ttl_seconds
        username = f"{expiry}:{ident}"
        return TurnCredential(username=username, password=turn_password(self.cfg.secret, username),
                              expires_at=datetime.fromtimestamp(expiry, UTC))

    def ice_server(self, person: str | int | None = None) -> dict[str, Any] | None:
        """One RTCIceServer entry (every TURN URL, a fresh credential), or None without TURN."""
        if not self.enabled:
            return None
        credential = self.issue(person)
        return {"urls": list(self.cfg.urls), "username": credential.username, "credential": credential.password}
