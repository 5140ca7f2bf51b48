"""Messages in a channel: the history pages, posting (with the mentions it notifies),
editing one's own, and deleting (authors, and moderators outside direct channels).

A deleted message keeps its place with an empty body. Chat text never reaches a log line.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput
from parley.handlers.workspace.access import member_message, membership, moderates, require_staff
from parley.handlers.workspace.events import channel_topic, user_topic
from parley.handlers.workspace.mentions import MENTION, find_mentions
from parley.handlers.workspace.validation import check_body, check_limit
from parley.handlers.workspace.views import MessagePage, MessageView, NotificationView
from parley.storage.database import Database
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import NotificationInfo
from parley.vocabulary import ChannelKind

log = logging.getLogger(__name__)


class Messages:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def history(
        self, actor: Account, channel_id: int, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> MessagePage:
        """Newest first below ``before`` (or from the newest); oldest first above ``after``."""
        require_staff(actor)
        check_limit(limit)
        if before is not None and after is not None:
            raise InvalidInput("Give before or after, not both.", fields={"before": "conflict"}, code="invalid_cursor")
        if (before is not None and before < 1) or (after is not None and after < 0):
            raise InvalidInput("The cursor is not a message id.", fields={"before": "invalid"}, code="invalid_cursor")
        async with self.db.session() as s:
            await membership(s, actor, channel_id)
            rows = await store.messages_page(s, channel_id, before=before, after=after, limit=limit + 1)
        return MessagePage(messages=[MessageView.of(m, u) for m, u in rows[:limit]], has_more=len(rows) > limit)

    async def message(self, actor: Account, message_id: int) -> MessageView:
        require_staff(actor)
        async with self.db.session() as s:
            message = await member_message(s, actor, message_id)
            author = await store.users_by_ids(s, [message.author_id] if message.author_id else [])
        return MessageView.of(message, author.get(message.author_id or 0))

    async def post(self, actor: Account, channel_id: int, body: str) -> MessageView:
        require_staff(actor)
        text = check_body(body)
        mentioned: list[tuple[int, NotificationInfo]] = []
        async with self.db.session() as s:
            channel, _ = await membership(s, actor, channel_id)
            now = self.clock.now()
            message = await store.add_message(s, channel_id, actor.id, text, now)
            await store.set_last_read(s, channel_id, actor.id, message.id)
            if "@" in text:
                members = await store.members_with_users(s, channel_id)
                uids = sorted(find_mentions(text, members) - {actor.id})
                notes = await store.add_notifications(
                    s, uids, kind=MENTION, channel_id=channel_id, message_id=message.id, actor_id=actor.id, now=now
                )
                mentioned = list(zip(uids, notes, strict=True))
            titles = {}
            if mentioned and channel.kind == ChannelKind.DIRECT:
                titles = {uid: actor.display_name for uid, _ in mentioned}
        view = MessageView.of(message, actor)
        await self.bus.publish(
            channel_topic(channel_id), {"type": "message.new", "channel_id": channel_id, "message": view.to_json()}
        )
        for uid, note in mentioned:
            nv = NotificationView(
                id=note.id,
                kind=note.kind,
                channel_id=channel_id,
                channel_title=titles.get(uid, channel.name),
                message_id=message.id,
                actor_id=actor.id,
                actor_name=actor.display_name,
                created_at=note.created_at,
                read_at=None,
            )
            await self.bus.publish(user_topic(uid), {"type": "notification", "notification": nv.to_json()})
        return view

    async def edit(self, actor: Account, message_id: int, body: str) -> MessageView:
        require_staff(actor)
        text = check_body(body)
        async with self.db.session() as s:
            message = await member_message(s, actor, message_id)
            if message.author_id != actor.id:
                raise Forbidden("You can only edit your own messages.", code="not_author")
            if message.deleted_at is not None:
                raise Conflict("That message was deleted.", code="message_deleted")
            if message.body != text:
                now = self.clock.now()
                await store.edit_message(s, message.id, text, now)
                message = replace(message, body=text, edited_at=now)
        view = MessageView.of(message, actor)
        await self.bus.publish(
            channel_topic(message.channel_id),
            {"type": "message.edited", "channel_id": message.channel_id, "message": view.to_json()},
        )
        return view

    async def delete(self, actor: Account, message_id: int) -> MessageView:
        """Erase the body but keep the message's place; authors, and moderators of the channel."""
        require_staff(actor)
        async with self.db.session() as s:
            message = await member_message(s, actor, message_id)
            channel = await store.channel_by_id(s, message.channel_id)
            assert channel is not None
            if message.author_id != actor.id and not moderates(actor, channel):
                raise Forbidden("You can only delete your own messages.", code="not_author")
            author = (await store.users_by_ids(s, [message.author_id] if message.author_id else [])).get(
                message.author_id or 0
            )
            already = message.deleted_at is not None
            if not already:
                now = self.clock.now()
                await store.erase_message(s, message.id, now)
                message = replace(message, body="", deleted_at=now)
        view = MessageView.of(message, author)
        if not already:
            log.info("message %s deleted by user %s", message.id, actor.id)
            await self.bus.publish(
                channel_topic(message.channel_id),
                {"type": "message.deleted", "channel_id": message.channel_id, "message": view.to_json()},
            )
        return view
