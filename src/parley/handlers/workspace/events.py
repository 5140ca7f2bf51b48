"""What the workspace announces on the bus, so every Parley process can push it to its
WebSocket clients:

    channel:<id>  message.new | message.edited | message.deleted   {"channel_id", "message"}
                  member.joined {"channel_id", "user"} | member.left {"channel_id", "user_id"}
                  channel.updated {"channel_id", "name", "title", "topic"}
    user:<id>     channel.added {"channel"} | channel.removed {"channel_id"}
                  unread {"channel_id", "count", "last_read_message_id"}
                  notification {"notification"} | notifications.read {"unread"}

`Events` sends the membership and channel changes several parts share; messages and read
state publish their own frames on these topics. Events go out after commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.bus.base import Bus
from parley.handlers.workspace.views import Person, channel_view
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import ChannelInfo


def channel_topic(channel_id: int) -> str:
    return f"channel:{channel_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


class Events:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def membership(self, channel: ChannelInfo, added: Sequence[Account], removed: Sequence[int]) -> None:
        """Tell the channel who joined and left, and each of them that it was added or removed."""
        for user in added:
            await self.bus.publish(
                channel_topic(channel.id),
                {"type": "member.joined", "channel_id": channel.id, "user": Person.of(user).to_json()},
            )
            await self.bus.publish(
                user_topic(user.id),
                {"type": "channel.added", "channel": channel_view(channel, title=channel.name, member=True).to_json()},
            )
        for uid in removed:
            await self.bus.publish(
                channel_topic(channel.id), {"type": "member.left", "channel_id": channel.id, "user_id": uid}
            )
            await self.bus.publish(user_topic(uid), {"type": "channel.removed", "channel_id": channel.id})

    async def channel_updated(self, channel: ChannelInfo) -> None:
        await self.bus.publish(
            channel_topic(channel.id),
            {
                "type": "channel.updated",
                "channel_id": channel.id,
                "name": channel.name,
                "title": channel.name,
                "topic": channel.topic,
            },
        )
