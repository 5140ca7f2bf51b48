"""Team channels: open to all staff, created, renamed and filled by organisers (and admins);
anyone on the staff may join or leave one.

A new or renamed team channel may not take another's name, compared without case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.workspace.access import MODERATORS, require_staff, staff_targets, team_channel
from parley.handlers.workspace.events import Events
from parley.handlers.workspace.reading import membership_views
from parley.handlers.workspace.transactions import transact
from parley.handlers.workspace.validation import check_name, check_topic
from parley.handlers.workspace.views import ChannelView, Person, channel_view
from parley.storage.database import Database
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import ChannelInfo
from parley.vocabulary import ChannelKind

log = logging.getLogger(__name__)


class TeamChannels:
    def __init__(self, db: Database, clock: Clock, events: Events) -> None:
        self.db = db
        self.clock = clock
        self.events = events

    async def create(
        self, actor: Account, name: str, topic: str = "", member_ids: Iterable[int] = ()
    ) -> ChannelView:
        require_staff(actor)
        if actor.role not in MODERATORS:
            raise Forbidden("Only organisers can create team channels.", code="organisers_only")
        clean_name, clean_topic = check_name(name), check_topic(topic)
        wanted = {int(i) for i in member_ids} - {actor.id}
        added: list[Account] = []

        async def attempt(s: AsyncSession) -> ChannelInfo:
            nonlocal added
            if await store.team_channel_by_name(s, clean_name) is not None:
                raise Conflict(
                    "A team channel with that name exists.", fields={"name": "taken"}, code="channel_name_taken"
                )
            added = [actor, *await staff_targets(s, wanted)]
            now = self.clock.now()
            channel = await store.add_channel(
                s, kind=ChannelKind.TEAM, name=clean_name, topic=clean_topic, created_by_id=actor.id, created_at=now
            )
            for user in added:
                await store.add_member(s, channel.id, user.id, now, 0)
            return channel

        channel = await transact(self.db, attempt)
        log.info("team channel %s created by user %s", channel.id, actor.id)
        await self.events.membership(channel, added, [])
        return channel_view(channel, title=channel.name, member=True)

    async def update(
        self, actor: Account, channel_id: int, *, name: str | None = None, topic: str | None = None
    ) -> ChannelView:
        require_staff(actor)
        if actor.role not in MODERATORS:
            raise Forbidden("Only organisers can change team channels.", code="organisers_only")
        async with self.db.session() as s:
            channel = await team_channel(s, channel_id)
            new_name = channel.name
            if name is not None:
                new_name = check_name(name)
                other = await store.team_channel_by_name(s, new_name)
                if other is not None and other.id != channel.id:
                    raise Conflict(
                        "A team channel with that name exists.", fields={"name": "taken"}, code="channel_name_taken"
                    )
            new_topic = channel.topic if topic is None else check_topic(topic)
            # Only what changes is written.
            await store.update_channel(
                s,
                channel.id,
                name=new_name if new_name != channel.name else None,
                topic=new_topic if new_topic != channel.topic else None,
            )
            channel = replace(channel, name=new_name, topic=new_topic)
            member = await store.member(s, channel.id, actor.id)
            views = await membership_views(s, actor.id, [channel.id]) if member else []
        await self.events.channel_updated(channel)
        return views[0] if views else channel_view(channel, title=channel.name, member=False)

    async def join(self, actor: Account, channel_id: int) -> ChannelView:
        require_staff(actor)
        joined = False

        async def attempt(s: AsyncSession) -> ChannelInfo:
            nonlocal joined
            channel = await team_channel(s, channel_id)
            if await store.member(s, channel.id, actor.id) is None:
                last = await store.last_message_id(s, channel.id)
                await store.add_member(s, channel.id, actor.id, self.clock.now(), last)
                joined = True
            return channel

        channel = await transact(self.db, attempt)
        if joined:
            await self.events.membership(channel, [actor], [])
        async with self.db.session() as s:
            return (await membership_views(s, actor.id, [channel.id]))[0]

    async def leave(self, actor: Account, channel_id: int) -> None:
        require_staff(actor)
        async with self.db.session() as s:
            channel = await store.channel_by_id(s, channel_id)
            if channel is None:
                raise NotFound("No such channel.", code="channel_not_found")
            if channel.kind != ChannelKind.TEAM:
                raise Conflict("You cannot leave this channel.", code="cannot_leave")
            member = await store.member(s, channel.id, actor.id)
            if member is None:
                return
            await store.remove_members(s, channel.id, [actor.id])
        await self.events.membership(channel, [], [actor.id])

    async def add_members(self, actor: Account, channel_id: int, user_ids: Iterable[int]) -> list[Person]:
        """Organisers add staff to a team channel; returns who was newly added."""
        require_staff(actor)
        if actor.role not in MODERATORS:
            raise Forbidden("Only organisers can add members.", code="organisers_only")
        wanted = {int(i) for i in user_ids}
        if not wanted:
            raise InvalidInput("Choose someone to add.", fields={"user_ids": "empty"}, code="no_members")
        added: list[Account] = []

        async def attempt(s: AsyncSession) -> ChannelInfo:
            nonlocal added
            channel = await team_channel(s, channel_id)
            targets = await staff_targets(s, wanted)
            current = await store.member_ids(s, channel.id)
            added = [u for u in targets if u.id not in current]
            last = await store.last_message_id(s, channel.id)
            now = self.clock.now()
            for user in added:
                await store.add_member(s, channel.id, user.id, now, last)
            return channel

        channel = await transact(self.db, attempt)
        await self.events.membership(channel, added, [])
        return [Person.of(u) for u in added]

