"""A member's channels as they see them: the title (a direct channel shows the other
person's name), the read marker, the newest message and the unread count.

Unread counts are derived from each member's ``last_read_message_id``: messages above it,
not deleted, written by someone else (`storage.stores.workspace.memberships` counts them).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from parley.handlers.workspace.views import ChannelView, channel_view
from parley.storage.stores import workspace as store
from parley.vocabulary import ChannelKind


async def membership_views(
    s: AsyncSession, user_id: int, channel_ids: Sequence[int] | None = None
) -> list[ChannelView]:
    rows = await store.memberships(s, user_id, channel_ids)
    direct = [r.channel.id for r in rows if r.channel.kind == ChannelKind.DIRECT]
    partners = await store.direct_partners(s, user_id, direct)
    views = []
    for r in rows:
        partner = partners.get(r.channel.id)
        views.append(
            channel_view(
                r.channel,
                title=partner.display_name if partner is not None else r.channel.name,
                member=True,
                direct_user_id=partner.id if partner is not None else None,
                last_read=r.last_read_message_id,
                last_message=r.last_message_id,
                unread=r.unread,
            )
        )
    return views
