"""The contract with dialogues: each dialogue has one channel whose members are exactly its
staff (organiser, facilitator, interpreters), named after its title.

`parley.handlers.dialogues` calls `DialogueChannels.sync` after its own transaction has
committed, whenever the title or the staff change; members cannot join or leave it here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import InvalidInput, NotFound
from parley.handlers.workspace.events import Events
from parley.handlers.workspace.transactions import transact
from parley.storage.database import Database
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import ChannelInfo
from parley.vocabulary import STAFF_ROLES, ChannelKind


class DialogueChannels:
    def __init__(self, db: Database, clock: Clock, events: Events) -> None:
        self.db = db
        self.clock = clock
        self.events = events

    async def sync(self, dialogue_id: int, title: str, member_ids: Iterable[int]) -> int:
        """Create or update the dialogue's channel so its members are exactly ``member_ids``.

        Call it after the dialogue's own transaction has committed (the channel references
        the dialogue row). Members must be staff accounts. Returns the channel id.
        """
        wanted = {int(i) for i in member_ids}
        name = " ".join(title.split())[:120] or f"Dialogue {dialogue_id}"
        added: list[Account] = []
        removed: list[int] = []
        renamed = False

        async def attempt(s: AsyncSession) -> ChannelInfo:
            nonlocal added, removed, renamed
            users = await store.users_by_ids(s, wanted)
            missing = wanted - users.keys()
            if missing:
                raise InvalidInput("Some members do not exist.", fields={"member_ids": "unknown"}, code="unknown_user")
            if any(u.role not in STAFF_ROLES for u in users.values()):
                raise InvalidInput(
                    "Only staff can be members of a dialogue channel.",
                    fields={"member_ids": "not_staff"},
                    code="not_staff",
                )
            now = self.clock.now()
            channel = await store.channel_for_dialogue(s, dialogue_id)
            if channel is None and not await store.dialogue_exists(s, dialogue_id):
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            if channel is None:
                channel = await store.add_channel(
                    s, kind=ChannelKind.DIALOGUE, name=name, topic="", dialogue_id=dialogue_id, created_at=now
                )
                current: set[int] = set()
            else:
                current = await store.member_ids(s, channel.id)
                if channel.name != name:
                    await store.update_channel(s, channel.id, name=name)
                    channel = replace(channel, name=name)
                    renamed = True
            last = await store.last_message_id(s, channel.id) if current else 0
            added = [users[i] for i in sorted(wanted - current)]
            removed = sorted(current - wanted)
            for user in added:
                await store.add_member(s, channel.id, user.id, now, last)
            await store.remove_members(s, channel.id, removed)
            return channel

        channel = await transact(self.db, attempt)
        await self.events.membership(channel, added, removed)
        if renamed:
            await self.events.channel_updated(channel)
        return channel.id
