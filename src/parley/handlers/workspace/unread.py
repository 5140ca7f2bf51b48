"""Read state and notifications: moving a member's read marker (never backwards), the total
unread, and the mention notifications with their read marks.

Each change is pushed to the member's own ``user:<id>`` topic, so their other tabs follow.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.workspace.access import membership, require_staff
from parley.handlers.workspace.events import user_topic
from parley.handlers.workspace.validation import check_limit
from parley.handlers.workspace.views import NotificationView, ReadState
from parley.storage.database import Database
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import ChannelKind


class Unread:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def mark_read(self, actor: Account, channel_id: int, message_id: int | None = None) -> ReadState:
        """Move the read marker up to ``message_id`` (default: the newest); never backwards."""
        require_staff(actor)
        async with self.db.session() as s:
            _, member = await membership(s, actor, channel_id)
            last = await store.last_message_id(s, channel_id)
            target = last if message_id is None else min(max(0, message_id), last)
            if target > member.last_read_message_id:
                await store.set_last_read(s, channel_id, actor.id, target)
            unread = await store.unread_in(s, channel_id, actor.id)
            total = await store.total_unread(s, actor.id)
            state = ReadState(
                channel_id=channel_id,
                last_read_message_id=max(target, member.last_read_message_id),
                unread=unread,
                total_unread=total,
            )
        await self.bus.publish(
            user_topic(actor.id),
            {
                "type": "unread",
                "channel_id": channel_id,
                "count": state.unread,
                "last_read_message_id": state.last_read_message_id,
            },
        )
        return state

    async def total_unread(self, actor: Account) -> int:
        require_staff(actor)
        async with self.db.session() as s:
            return await store.total_unread(s, actor.id)

    async def notifications(
        self, actor: Account, *, unread_only: bool = False, limit: int = 50
    ) -> tuple[list[NotificationView], int]:
        require_staff(actor)
        check_limit(limit)
        async with self.db.session() as s:
            rows = await store.notifications_of(s, actor.id, unread_only=unread_only, limit=limit)
            direct = [c.id for _, c, _ in rows if c is not None and c.kind == ChannelKind.DIRECT]
            partners = await store.direct_partners(s, actor.id, direct)
            unread = await store.unread_notification_count(s, actor.id)
        views = [
            NotificationView(
                id=n.id,
                kind=n.kind,
                channel_id=n.channel_id,
                channel_title=(
                    partners[c.id].display_name
                    if c is not None and c.id in partners
                    else c.name
                    if c is not None
                    else ""
                ),
                message_id=n.message_id,
                actor_id=n.actor_id,
                actor_name=u.display_name if u is not None else "",
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n, c, u in rows
        ]
        return views, unread

    async def mark_notifications_read(self, actor: Account, ids: Sequence[int] | None = None) -> int:
        """Mark some (or all) notifications read; returns how many stay unread."""
        require_staff(actor)
        async with self.db.session() as s:
            await store.mark_notifications_read(
                s, actor.id, None if ids is None else [int(i) for i in ids], self.clock.now()
            )
            unread = await store.unread_notification_count(s, actor.id)
        await self.bus.publish(user_topic(actor.id), {"type": "notifications.read", "unread": unread})
        return unread
