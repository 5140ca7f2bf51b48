"""Direct channels: exactly one between two staff members, made on first use and keyed by
the pair (``low:high``), so both find the same one whoever writes first.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import InvalidInput
from parley.handlers.workspace.access import require_staff, staff_targets
from parley.handlers.workspace.events import user_topic
from parley.handlers.workspace.reading import membership_views
from parley.handlers.workspace.transactions import transact
from parley.handlers.workspace.views import ChannelView, channel_view
from parley.storage.database import Database
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import ChannelInfo
from parley.vocabulary import ChannelKind


def direct_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


class DirectChannels:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def open(self, actor: Account, other_id: int) -> ChannelView:
        """The one direct channel between the actor and another staff member, made on first use."""
        require_staff(actor)
        if other_id == actor.id:
            raise InvalidInput("Choose someone else.", fields={"user_id": "self"}, code="direct_self")
        key = direct_key(actor.id, other_id)
        created = False
        other: Account | None = None

        async def attempt(s: AsyncSession) -> ChannelInfo:
            nonlocal created, other
            found = await staff_targets(s, {other_id})
            other = found[0]
            channel = await store.channel_by_direct_key(s, key)
            if channel is not None:
                return channel
            now = self.clock.now()
            channel = await store.add_channel(
                s,
                kind=ChannelKind.DIRECT,
                name="direct",
                topic="",
                direct_key=key,
                created_by_id=actor.id,
                created_at=now,
            )
            await store.add_member(s, channel.id, actor.id, now, 0)
            await store.add_member(s, channel.id, other_id, now, 0)
            created = True
            return channel

        channel = await transact(self.db, attempt)
        if created and other is not None:
            await self.bus.publish(
                user_topic(actor.id),
                {
                    "type": "channel.added",
                    "channel": channel_view(
                        channel, title=other.display_name, member=True, direct_user_id=other.id
                    ).to_json(),
                },
            )
            await self.bus.publish(
                user_topic(other.id),
                {
                    "type": "channel.added",
                    "channel": channel_view(
                        channel, title=actor.display_name, member=True, direct_user_id=actor.id
                    ).to_json(),
                },
            )
        async with self.db.session() as s:
            return (await membership_views(s, actor.id, [channel.id]))[0]
