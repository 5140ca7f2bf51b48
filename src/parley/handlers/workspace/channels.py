"""A staff member's channels: the list with unread counts, one channel with its members, the
team channels one may join, and the people one may write to.

Reading only; what changes channels lives in `team`, `direct` and `dialogue_channels`.
"""

from __future__ import annotations

from parley.handlers.workspace.access import MODERATORS, membership, moderates, require_staff
from parley.handlers.workspace.reading import membership_views
from parley.handlers.workspace.views import ChannelDetail, ChannelView, Person, channel_view
from parley.storage.database import Database
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import ChannelKind


class Channels:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_channels(self, actor: Account) -> tuple[list[ChannelView], int]:
        """The actor's channels (team, dialogue, direct) with unread counts, and the total."""
        require_staff(actor)
        async with self.db.session() as s:
            views = await membership_views(s, actor.id)
        order = {ChannelKind.TEAM.value: 0, ChannelKind.DIALOGUE.value: 1, ChannelKind.DIRECT.value: 2}
        views.sort(key=lambda v: (order.get(v.kind, 3), v.title.casefold(), v.id))
        return views, sum(v.unread for v in views)

    async def channel_ids(self, actor: Account) -> list[int]:
        require_staff(actor)
        async with self.db.session() as s:
            return await store.channel_ids_of(s, actor.id)

    async def unread_snapshot(self, actor: Account) -> list[ChannelView]:
        """Per-channel read state, for a WebSocket connection's greeting."""
        require_staff(actor)
        async with self.db.session() as s:
            return await membership_views(s, actor.id)

    async def browse_team_channels(self, actor: Account) -> list[ChannelView]:
        """Every team channel, joined or not (team channels are open to all staff)."""
        require_staff(actor)
        async with self.db.session() as s:
            channels = await store.team_channels(s)
            mine = {v.id: v for v in await membership_views(s, actor.id)}
        return [mine.get(c.id) or channel_view(c, title=c.name, member=False) for c in channels]

    async def channel(self, actor: Account, channel_id: int) -> ChannelDetail:
        require_staff(actor)
        async with self.db.session() as s:
            channel, _ = await membership(s, actor, channel_id)
            views = await membership_views(s, actor.id, [channel_id])
            members = await store.members_with_users(s, channel_id)
        return ChannelDetail(
            channel=views[0],
            members=[Person.of(u) for u in members],
            can_moderate=moderates(actor, channel),
            can_leave=channel.kind == ChannelKind.TEAM,
            can_manage=channel.kind == ChannelKind.TEAM and actor.role in MODERATORS,
        )

    async def people(self, actor: Account) -> list[Person]:
        """Staff one can message or add to a channel."""
        require_staff(actor)
        async with self.db.session() as s:
            return [Person.of(u) for u in await store.staff_users(s)]
