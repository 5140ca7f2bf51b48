"""TextRoom requests Parley makes as the room owner: rooms and caption announcements.

Captions reach browsers as TextRoom ``announcement`` messages on the data channel the browser
opened (< 1 ms on loopback). Like VideoRoom rooms, each room's ``secret`` is derived from the
admin key, so browsers holding a TextRoom token can join and read but not announce or destroy.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.media.janus.client import JanusPluginError
from parley.media.janus.plugin import OwnedPlugin, new_room_id

PLUGIN = "janus.plugin.textroom"

NO_SUCH_ROOM = 417
ROOM_EXISTS = 418


class TextRoom(OwnedPlugin):
    PLUGIN = PLUGIN
    KIND = "textroom"

    async def create(
        self,
        room: int | None = None,
        *,
        description: str = "",
        pin: str | None = None,
        history: int = 0,
        is_private: bool = True,
        allowed: Sequence[str] | None = None,
    ) -> int:
        room = room if room is not None else new_room_id()
        data = await self._request(
            "create", room, permanent=False, description=description or None, pin=pin, history=history,
            is_private=is_private, allowed=list(allowed) if allowed is not None else None,
        )
        return int(data.get("room", room))

    async def destroy(self, room: int, *, missing_ok: bool = True) -> None:
        try:
            await self._request("destroy", room, permanent=False)
        except JanusPluginError as exc:
            if not (missing_ok and exc.code == NO_SUCH_ROOM):
                raise

    async def exists(self, room: int) -> bool:
        data = await self.handle.request({"request": "exists", "room": room})
        return bool(data.get("exists", False))

    async def announcement(self, room: int, text: str) -> None:
        """Send ``text`` to everyone in the room (sender shown as the room itself)."""
        await self._request("announcement", room, text=text)

    async def list_participants(self, room: int) -> list[str]:
        """Usernames currently in the room."""
        data = await self.handle.request({"request": "listparticipants", "room": room})
        return [str(p.get("username", "")) for p in data.get("participants", [])]

    async def allowed(self, room: int, action: str, tokens: Sequence[str] = ()) -> list[str]:
        if action not in ("enable", "disable", "add", "remove"):
            raise ValueError(f"unknown allowed action {action!r}")
        data = await self._request("allowed", room, action=action,
                                   allowed=list(tokens) if action in ("add", "remove") else None)
        return [str(t) for t in data.get("allowed", [])]
