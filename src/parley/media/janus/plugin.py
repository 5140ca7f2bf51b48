"""What every owner-side plugin wrapper shares: one attached handle, the admin key Janus asks
of room owners, and a per-room ``secret`` derived from a key so only Parley can change or
destroy a room (browsers never see it). VideoRoom, TextRoom and AudioBridge each name their
plugin and add their requests on top.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, ClassVar, Self

from parley.media.janus.client import JanusHandle, JanusSession, JsonObject


def new_room_id() -> int:
    """A random room id that JavaScript numbers hold exactly (janus.js uses plain numbers)."""
    return secrets.randbelow(2**53 - 1) + 1


def derive_secret(key: str, kind: str, room: int) -> str:
    return hmac.new(key.encode(), f"{kind}:{room}".encode(), hashlib.sha256).hexdigest()[:32]


class OwnedPlugin:
    """Requests made as a room's owner on one handle attached to ``PLUGIN``."""

    PLUGIN: ClassVar[str]
    # The kind mixed into each room's derived secret ("videoroom", "textroom", ...).
    KIND: ClassVar[str]

    def __init__(self, handle: JanusHandle, *, admin_key: str, secret_key: str | None = None) -> None:
        if handle.plugin != self.PLUGIN:
            raise ValueError(f"handle is attached to {handle.plugin}, not {self.PLUGIN}")
        self.handle = handle
        self._admin_key = admin_key
        self._secret_key = secret_key or admin_key

    @classmethod
    async def attach(cls, session: JanusSession, *, admin_key: str, secret_key: str | None = None) -> Self:
        return cls(await session.attach(cls.PLUGIN), admin_key=admin_key, secret_key=secret_key)

    async def detach(self) -> None:
        await self.handle.detach()

    def secret(self, room: int) -> str:
        return derive_secret(self._secret_key, self.KIND, room)

    async def _request(self, request: str, room: int | None = None, **fields: Any) -> JsonObject:
        """One owner request: the room's secret and the admin key added, unset (None) fields left out."""
        body: JsonObject = {"request": request}
        if room is not None:
            body["room"] = room
            body["secret"] = self.secret(room)
        body["admin_key"] = self._admin_key
        body.update({k: v for k, v in fields.items() if v is not None})
        return await self.handle.request(body)
