"""The organisers' workspace: team channels, one channel per dialogue, direct messages.

Only staff (admin, organiser, facilitator, interpreter) take part; participants are refused
everywhere. Everything is stored first, then announced on the bus so every Parley process
can push it to its WebSocket clients:

    channel:<id>  message.new | message.edited | message.deleted   {"channel_id", "message"}
                  member.joined {"channel_id", "user"} | member.left {"channel_id", "user_id"}
                  channel.updated {"channel_id", "name", "title", "topic"}
    user:<id>     channel.added {"channel"} | channel.removed {"channel_id"}
                  unread {"channel_id", "count", "last_read_message_id"}
                  notification {"notification"} | notifications.read {"unread"}

Unread counts are derived from each member's ``last_read_message_id``: messages above it,
not deleted, written by someone else. Chat text never reaches a log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus
from parley.clock import Clock, iso
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.storage.database import Database
from parley.storage.models import STAFF_ROLES, Channel, ChannelKind, ChannelMember, Message, Notification, Role, User
from parley.storage.stores import workspace as store

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BODY = 4000
MAX_PAGE = 100
MAX_NAME = 80
MAX_TOPIC = 500
MODERATORS = frozenset({Role.ADMIN, Role.ORGANISER})
MENTION = "mention"


def channel_topic(channel_id: int) -> str:
    return f"channel:{channel_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


# --- views: what callers (API, pages, WebSocket) see ----------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    display_name: str
    role: str

    @classmethod
    def of(cls, user: User) -> Person:
        return cls(id=user.id, display_name=user.display_name, role=user.role.value)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.display_name, "role": self.role}


@dataclass(frozen=True)
class MessageView:
    id: int
    channel_id: int
    author_id: int | None
    author_name: str
    # Empty once deleted.
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @classmethod
    def of(cls, message: Message, author: User | None) -> MessageView:
        return cls(
            id=message.id,
            channel_id=message.channel_id,
            author_id=message.author_id,
            author_name=author.display_name if author is not None else "",
            body="" if message.deleted_at is not None else message.body,
            created_at=message.created_at,
            edited_at=message.edited_at,
            deleted_at=message.deleted_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel_id": self.channel_id,
            "author_id": self.author_id,
            "author_name": self.author_name,
            "body": self.body,
            "created_at": iso(self.created_at),
            "edited_at": iso(self.edited_at),
            "deleted_at": iso(self.deleted_at),
        }


@dataclass(frozen=True)
class ChannelView:
    id: int
    kind: str
    name: str
    # What to show: the name, or for a direct channel the other person's name.
    title: str
    topic: str
    dialogue_id: int | None
    direct_user_id: int | None
    is_member: bool
    last_read_message_id: int
    last_message_id: int
    unread: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "topic": self.topic,
            "dialogue_id": self.dialogue_id,
            "direct_user_id": self.direct_user_id,
            "is_member": self.is_member,
            "last_read_message_id": self.last_read_message_id,
            "last_message_id": self.last_message_id,
            "unread": self.unread,
        }


@dataclass(frozen=True)
class ChannelDetail:
    channel: ChannelView
    members: list[Person]
    can_moderate: bool
    can_leave: bool
    can_manage: bool


@dataclass(frozen=True)
class MessagePage:
    messages: list[MessageView]
    has_more: bool


@dataclass(frozen=True)
class ReadState:
    channel_id: int
    last_read_message_id: int
    unread: int
    total_unread: int


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    channel_id: int | None
    channel_title: str
    message_id: int | None
    actor_id: int | None
    actor_name: str
    created_at: datetime
    read_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "channel_id": self.channel_id,
            "channel_title": self.channel_title,
            "message_id": self.message_id,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "created_at": iso(self.created_at),
            "read_at": iso(self.read_at),
        }


# --- input rules ----------------------------------------------------------------------------


# Control characters, and lone surrogates (which no database can store as UTF-8).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_body(body: str) -> str:
    """Plain text of 1..4000 characters; line ends normalised, control characters refused."""
    if not isinstance(body, str):
        raise InvalidInput("The message must be text.", fields={"body": "invalid"}, code="body_invalid")
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InvalidInput("Write a message first.", fields={"body": "empty"}, code="body_empty")
    if len(text) > MAX_BODY:
        raise InvalidInput(
            "Messages can be at most 4000 characters.", fields={"body": "too_long"}, code="body_too_long"
        )
    if _CONTROL.search(text):
        raise InvalidInput(
            "The message contains characters that cannot be sent.", fields={"body": "invalid"}, code="body_invalid"
        )
    return text


def check_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= MAX_NAME:
        raise InvalidInput(
            "Give the channel a name of 1 to 80 characters.",
            fields={"name": "length"},
            code="invalid_channel_name",
        )
    if _CONTROL.search(value):
        raise InvalidInput(
            "The name contains characters that cannot be used.", fields={"name": "invalid"}, code="invalid_channel_name"
        )
    return value


def check_topic(topic: str) -> str:
    value = " ".join(topic.split())
    if len(value) > MAX_TOPIC or _CONTROL.search(value):
        raise InvalidInput(
            "The topic can be at most 500 characters.",
            fields={"topic": "length"},
            code="invalid_channel_topic",
        )
    return value


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit must be between 1 and 100.", fields={"limit": "range"}, code="invalid_limit")
    return limit


def direct_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


def _mention_keys(user: User) -> set[str]:
    keys = {user.display_name.casefold(), user.email.split("@", 1)[0].casefold()}
    return {k for k in keys if k}


def _mentioned_at(text: str, key: str) -> bool:
    """``@key`` as a whole word: not inside an email address, not the start of a longer name."""
    needle = "@" + key
    start = text.find(needle)
    while start != -1:
        before = text[start - 1] if start > 0 else " "
        end = start + len(needle)
        after = text[end] if end < len(text) else " "
        after2 = text[end + 1] if end + 1 < len(text) else " "
        word_before = before.isalnum() or before in "_.-+"
        word_after = after.isalnum() or after in "_-" or (after == "." and (after2.isalnum() or after2 == "_"))
        if not word_before and not word_after:
            return True
        start = text.find(needle, start + 1)
    return False


def find_mentions(body: str, members: Iterable[User]) -> set[int]:
    """Members named as ``@Display Name`` or ``@email-local-part`` (case-insensitive)."""
    if "@" not in body:
        return set()
    text = body.casefold()
    return {m.id for m in members if any(_mentioned_at(text, key) for key in _mention_keys(m))}


# --- the handler ----------------------------------------------------------------------------


class Workspace:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # --- the contract with dialogues --------------------------------------------------------

    async def sync_dialogue_channel(self, dialogue_id: int, title: str, member_ids: Iterable[int]) -> int:
        """Create or update the dialogue's channel so its members are exactly ``member_ids``.

        Call it after the dialogue's own transaction has committed (the channel references
        the dialogue row). Members must be staff accounts. Returns the channel id.
        """
        wanted = {int(i) for i in member_ids}
        name = " ".join(title.split())[:120] or f"Dialogue {dialogue_id}"
        added: list[User] = []
        removed: list[int] = []
        renamed = False

        async def attempt(s: AsyncSession) -> Channel:
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
                channel = await store.add_channel(s, Channel(
                    kind=ChannelKind.DIALOGUE, name=name, topic="", dialogue_id=dialogue_id, created_at=now
                ))
                current: set[int] = set()
            else:
                current = await store.member_ids(s, channel.id)
                if channel.name != name:
                    channel.name = name
                    renamed = True
            last = await store.last_message_id(s, channel.id) if current else 0
            added = [users[i] for i in sorted(wanted - current)]
            removed = sorted(current - wanted)
            for user in added:
                await store.add_member(s, channel.id, user.id, now, last)
            await store.remove_members(s, channel.id, removed)
            return channel

        channel = await self._transact(attempt)
        await self._announce_membership(channel, added, removed)
        if renamed:
            await self._publish_channel_updated(channel)
        return channel.id

    # --- channels ---------------------------------------------------------------------------

    async def list_channels(self, actor: User) -> tuple[list[ChannelView], int]:
        """The actor's channels (team, dialogue, direct) with unread counts, and the total."""
        _require_staff(actor)
        async with self.db.session() as s:
            views = await self._membership_views(s, actor.id)
        order = {ChannelKind.TEAM.value: 0, ChannelKind.DIALOGUE.value: 1, ChannelKind.DIRECT.value: 2}
        views.sort(key=lambda v: (order.get(v.kind, 3), v.title.casefold(), v.id))
        return views, sum(v.unread for v in views)

    async def channel_ids(self, actor: User) -> list[int]:
        _require_staff(actor)
        async with self.db.session() as s:
            return await store.channel_ids_of(s, actor.id)

    async def unread_snapshot(self, actor: User) -> list[ChannelView]:
        """Per-channel read state, for a WebSocket connection's greeting."""
        _require_staff(actor)
        async with self.db.session() as s:
            return await self._membership_views(s, actor.id)

    async def browse_team_channels(self, actor: User) -> list[ChannelView]:
        """Every team channel, joined or not (team channels are open to all staff)."""
        _require_staff(actor)
        async with self.db.session() as s:
            channels = await store.team_channels(s)
            mine = {v.id: v for v in await self._membership_views(s, actor.id)}
        return [mine.get(c.id) or _channel_view(c, title=c.name, member=False) for c in channels]

    async def channel(self, actor: User, channel_id: int) -> ChannelDetail:
        _require_staff(actor)
        async with self.db.session() as s:
            channel, _ = await self._membership(s, actor, channel_id)
            views = await self._membership_views(s, actor.id, [channel_id])
            members = await store.members_with_users(s, channel_id)
        return ChannelDetail(
            channel=views[0],
            members=[Person.of(u) for u in members],
            can_moderate=_moderates(actor, channel),
            can_leave=channel.kind == ChannelKind.TEAM,
            can_manage=channel.kind == ChannelKind.TEAM and actor.role in MODERATORS,
        )

    async def create_team_channel(
        self, actor: User, name: str, topic: str = "", member_ids: Iterable[int] = ()
    ) -> ChannelView:
        _require_staff(actor)
        if actor.role not in MODERATORS:
            raise Forbidden("Only organisers can create team channels.", code="organisers_only")
        clean_name, clean_topic = check_name(name), check_topic(topic)
        wanted = {int(i) for i in member_ids} - {actor.id}
        added: list[User] = []

        async def attempt(s: AsyncSession) -> Channel:
            nonlocal added
            if await store.team_channel_by_name(s, clean_name) is not None:
                raise Conflict(
                    "A team channel with that name exists.", fields={"name": "taken"}, code="channel_name_taken"
                )
            added = [actor, *await self._staff_targets(s, wanted)]
            now = self.clock.now()
            channel = await store.add_channel(s, Channel(
                kind=ChannelKind.TEAM, name=clean_name, topic=clean_topic, created_by_id=actor.id, created_at=now
            ))
            for user in added:
                await store.add_member(s, channel.id, user.id, now, 0)
            return channel

        channel = await self._transact(attempt)
        log.info("team channel %s created by user %s", channel.id, actor.id)
        await self._announce_membership(channel, added, [])
        return _channel_view(channel, title=channel.name, member=True)

    async def update_team_channel(
        self, actor: User, channel_id: int, *, name: str | None = None, topic: str | None = None
    ) -> ChannelView:
        _require_staff(actor)
        if actor.role not in MODERATORS:
            raise Forbidden("Only organisers can change team channels.", code="organisers_only")
        async with self.db.session() as s:
            channel = await self._team_channel(s, channel_id)
            if name is not None:
                clean = check_name(name)
                other = await store.team_channel_by_name(s, clean)
                if other is not None and other.id != channel.id:
                    raise Conflict(
                        "A team channel with that name exists.", fields={"name": "taken"}, code="channel_name_taken"
                    )
                channel.name = clean
            if topic is not None:
                channel.topic = check_topic(topic)
            member = await store.member(s, channel.id, actor.id)
            views = await self._membership_views(s, actor.id, [channel.id]) if member else []
        await self._publish_channel_updated(channel)
        return views[0] if views else _channel_view(channel, title=channel.name, member=False)

    async def join(self, actor: User, channel_id: int) -> ChannelView:
        _require_staff(actor)
        joined = False

        async def attempt(s: AsyncSession) -> Channel:
            nonlocal joined
            channel = await self._team_channel(s, channel_id)
            if await store.member(s, channel.id, actor.id) is None:
                last = await store.last_message_id(s, channel.id)
                await store.add_member(s, channel.id, actor.id, self.clock.now(), last)
                joined = True
            return channel

        channel = await self._transact(attempt)
        if joined:
            await self._announce_membership(channel, [actor], [])
        async with self.db.session() as s:
            return (await self._membership_views(s, actor.id, [channel.id]))[0]

    async def leave(self, actor: User, channel_id: int) -> None:
        _require_staff(actor)
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
        await self._announce_membership(channel, [], [actor.id])

    async def add_members(self, actor: User, channel_id: int, user_ids: Iterable[int]) -> list[Person]:
        """Organisers add staff to a team channel; returns who was newly added."""
        _require_staff(actor)
        if actor.role not in MODERATORS:
            raise Forbidden("Only organisers can add members.", code="organisers_only")
        wanted = {int(i) for i in user_ids}
        if not wanted:
            raise InvalidInput("Choose someone to add.", fields={"user_ids": "empty"}, code="no_members")
        added: list[User] = []

        async def attempt(s: AsyncSession) -> Channel:
            nonlocal added
            channel = await self._team_channel(s, channel_id)
            targets = await self._staff_targets(s, wanted)
            current = await store.member_ids(s, channel.id)
            added = [u for u in targets if u.id not in current]
            last = await store.last_message_id(s, channel.id)
            now = self.clock.now()
            for user in added:
                await store.add_member(s, channel.id, user.id, now, last)
            return channel

        channel = await self._transact(attempt)
        await self._announce_membership(channel, added, [])
        return [Person.of(u) for u in added]

    async def open_direct(self, actor: User, other_id: int) -> ChannelView:
        """The one direct channel between the actor and another staff member, made on first use."""
        _require_staff(actor)
        if other_id == actor.id:
            raise InvalidInput("Choose someone else.", fields={"user_id": "self"}, code="direct_self")
        key = direct_key(actor.id, other_id)
        created = False
        other: User | None = None

        async def attempt(s: AsyncSession) -> Channel:
            nonlocal created, other
            found = await self._staff_targets(s, {other_id})
            other = found[0]
            channel = await store.channel_by_direct_key(s, key)
            if channel is not None:
                return channel
            now = self.clock.now()
            channel = await store.add_channel(s, Channel(
                kind=ChannelKind.DIRECT, name="direct", topic="", direct_key=key, created_by_id=actor.id, created_at=now
            ))
            await store.add_member(s, channel.id, actor.id, now, 0)
            await store.add_member(s, channel.id, other_id, now, 0)
            created = True
            return channel

        channel = await self._transact(attempt)
        if created and other is not None:
            await self.bus.publish(
                user_topic(actor.id),
                {
                    "type": "channel.added",
                    "channel": _channel_view(
                        channel, title=other.display_name, member=True, direct_user_id=other.id
                    ).to_json(),
                },
            )
            await self.bus.publish(
                user_topic(other.id),
                {
                    "type": "channel.added",
                    "channel": _channel_view(
                        channel, title=actor.display_name, member=True, direct_user_id=actor.id
                    ).to_json(),
                },
            )
        async with self.db.session() as s:
            return (await self._membership_views(s, actor.id, [channel.id]))[0]

    async def people(self, actor: User) -> list[Person]:
        """Staff one can message or add to a channel."""
        _require_staff(actor)
        async with self.db.session() as s:
            return [Person.of(u) for u in await store.staff_users(s)]

    # --- messages ---------------------------------------------------------------------------

    async def history(
        self, actor: User, channel_id: int, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> MessagePage:
        """Newest first below ``before`` (or from the newest); oldest first above ``after``."""
        _require_staff(actor)
        check_limit(limit)
        if before is not None and after is not None:
            raise InvalidInput("Give before or after, not both.", fields={"before": "conflict"}, code="invalid_cursor")
        if (before is not None and before < 1) or (after is not None and after < 0):
            raise InvalidInput("The cursor is not a message id.", fields={"before": "invalid"}, code="invalid_cursor")
        async with self.db.session() as s:
            await self._membership(s, actor, channel_id)
            rows = await store.messages_page(s, channel_id, before=before, after=after, limit=limit + 1)
        return MessagePage(messages=[MessageView.of(m, u) for m, u in rows[:limit]], has_more=len(rows) > limit)

    async def message(self, actor: User, message_id: int) -> MessageView:
        _require_staff(actor)
        async with self.db.session() as s:
            message = await self._message(s, actor, message_id)
            author = await store.users_by_ids(s, [message.author_id] if message.author_id else [])
        return MessageView.of(message, author.get(message.author_id or 0))

    async def post(self, actor: User, channel_id: int, body: str) -> MessageView:
        _require_staff(actor)
        text = check_body(body)
        mentioned: list[tuple[int, Notification]] = []
        async with self.db.session() as s:
            channel, _ = await self._membership(s, actor, channel_id)
            now = self.clock.now()
            message = await store.add_message(s, channel_id, actor.id, text, now)
            await store.set_last_read(s, channel_id, actor.id, message.id)
            if "@" in text:
                members = await store.members_with_users(s, channel_id)
                for uid in sorted(find_mentions(text, members) - {actor.id}):
                    note = await store.add_notification(
                        s,
                        user_id=uid,
                        kind=MENTION,
                        channel_id=channel_id,
                        message_id=message.id,
                        actor_id=actor.id,
                        now=now,
                    )
                    mentioned.append((uid, note))
                await s.flush()
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

    async def edit(self, actor: User, message_id: int, body: str) -> MessageView:
        _require_staff(actor)
        text = check_body(body)
        async with self.db.session() as s:
            message = await self._message(s, actor, message_id)
            if message.author_id != actor.id:
                raise Forbidden("You can only edit your own messages.", code="not_author")
            if message.deleted_at is not None:
                raise Conflict("That message was deleted.", code="message_deleted")
            if message.body != text:
                message.body = text
                message.edited_at = self.clock.now()
        view = MessageView.of(message, actor)
        await self.bus.publish(
            channel_topic(message.channel_id),
            {"type": "message.edited", "channel_id": message.channel_id, "message": view.to_json()},
        )
        return view

    async def delete(self, actor: User, message_id: int) -> MessageView:
        """Erase the body but keep the message's place; authors, and moderators of the channel."""
        _require_staff(actor)
        async with self.db.session() as s:
            message = await self._message(s, actor, message_id)
            channel = await store.channel_by_id(s, message.channel_id)
            assert channel is not None
            if message.author_id != actor.id and not _moderates(actor, channel):
                raise Forbidden("You can only delete your own messages.", code="not_author")
            author = (await store.users_by_ids(s, [message.author_id] if message.author_id else [])).get(
                message.author_id or 0
            )
            already = message.deleted_at is not None
            if not already:
                message.deleted_at = self.clock.now()
                message.body = ""
        view = MessageView.of(message, author)
        if not already:
            log.info("message %s deleted by user %s", message.id, actor.id)
            await self.bus.publish(
                channel_topic(message.channel_id),
                {"type": "message.deleted", "channel_id": message.channel_id, "message": view.to_json()},
            )
        return view

    # --- read state and notifications -------------------------------------------------------

    async def mark_read(self, actor: User, channel_id: int, message_id: int | None = None) -> ReadState:
        """Move the read marker up to ``message_id`` (default: the newest); never backwards."""
        _require_staff(actor)
        async with self.db.session() as s:
            _, member = await self._membership(s, actor, channel_id)
            last = await store.last_message_id(s, channel_id)
            target = last if message_id is None else min(max(0, message_id), last)
            if target > member.last_read_message_id:
                member.last_read_message_id = target
            await s.flush()
            unread = await store.unread_in(s, channel_id, actor.id)
            total = await store.total_unread(s, actor.id)
            state = ReadState(
                channel_id=channel_id,
                last_read_message_id=member.last_read_message_id,
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

    async def total_unread(self, actor: User) -> int:
        _require_staff(actor)
        async with self.db.session() as s:
            return await store.total_unread(s, actor.id)

    async def notifications(
        self, actor: User, *, unread_only: bool = False, limit: int = 50
    ) -> tuple[list[NotificationView], int]:
        _require_staff(actor)
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

    async def mark_notifications_read(self, actor: User, ids: Sequence[int] | None = None) -> int:
        """Mark some (or all) notifications read; returns how many stay unread."""
        _require_staff(actor)
        async with self.db.session() as s:
            await store.mark_notifications_read(
                s, actor.id, None if ids is None else [int(i) for i in ids], self.clock.now()
            )
            unread = await store.unread_notification_count(s, actor.id)
        await self.bus.publish(user_topic(actor.id), {"type": "notifications.read", "unread": unread})
        return unread

    # --- internals --------------------------------------------------------------------------

    async def _transact(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction, once more if a concurrent writer won a unique race."""
        for attempt in range(2):
            try:
                async with self.db.session() as s:
                    return await work(s)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _membership(self, s: AsyncSession, actor: User, channel_id: int) -> tuple[Channel, ChannelMember]:
        channel = await store.channel_by_id(s, channel_id)
        if channel is None:
            raise NotFound("No such channel.", code="channel_not_found")
        member = await store.member(s, channel_id, actor.id)
        if member is None:
            raise Forbidden("You are not a member of this channel.", code="not_member")
        return channel, member

    async def _message(self, s: AsyncSession, actor: User, message_id: int) -> Message:
        message = await store.message_by_id(s, message_id)
        if message is None:
            raise NotFound("No such message.", code="message_not_found")
        await self._membership(s, actor, message.channel_id)
        return message

    async def _team_channel(self, s: AsyncSession, channel_id: int) -> Channel:
        channel = await store.channel_by_id(s, channel_id)
        if channel is None:
            raise NotFound("No such channel.", code="channel_not_found")
        if channel.kind != ChannelKind.TEAM:
            raise Conflict("Members of this channel are managed elsewhere.", code="not_team_channel")
        return channel

    async def _staff_targets(self, s: AsyncSession, ids: set[int]) -> list[User]:
        users = await store.users_by_ids(s, ids)
        if ids - users.keys():
            raise InvalidInput("Someone you chose does not exist.", fields={"user_ids": "unknown"}, code="unknown_user")
        if any(u.role not in STAFF_ROLES or u.disabled for u in users.values()):
            raise InvalidInput(
                "Only staff can take part in the workspace.", fields={"user_ids": "not_staff"}, code="not_staff"
            )
        return [users[i] for i in sorted(ids)]

    async def _membership_views(
        self, s: AsyncSession, user_id: int, channel_ids: Sequence[int] | None = None
    ) -> list[ChannelView]:
        rows = await store.memberships(s, user_id, channel_ids)
        direct = [r.channel.id for r in rows if r.channel.kind == ChannelKind.DIRECT]
        partners = await store.direct_partners(s, user_id, direct)
        views = []
        for r in rows:
            partner = partners.get(r.channel.id)
            views.append(
                _channel_view(
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

    async def _announce_membership(self, channel: Channel, added: Sequence[User], removed: Sequence[int]) -> None:
        for user in added:
            await self.bus.publish(
                channel_topic(channel.id),
                {"type": "member.joined", "channel_id": channel.id, "user": Person.of(user).to_json()},
            )
            await self.bus.publish(
                user_topic(user.id),
                {"type": "channel.added", "channel": _channel_view(channel, title=channel.name, member=True).to_json()},
            )
        for uid in removed:
            await self.bus.publish(
                channel_topic(channel.id), {"type": "member.left", "channel_id": channel.id, "user_id": uid}
            )
            await self.bus.publish(user_topic(uid), {"type": "channel.removed", "channel_id": channel.id})

    async def _publish_channel_updated(self, channel: Channel) -> None:
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


def _require_staff(actor: User) -> None:
    if actor.role not in STAFF_ROLES or actor.disabled:
        raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")


def _moderates(actor: User, channel: Channel) -> bool:
    return channel.kind != ChannelKind.DIRECT and actor.role in MODERATORS


def _channel_view(
    channel: Channel,
    *,
    title: str,
    member: bool,
    direct_user_id: int | None = None,
    last_read: int = 0,
    last_message: int = 0,
    unread: int = 0,
) -> ChannelView:
    return ChannelView(
        id=channel.id,
        kind=channel.kind.value,
        name=channel.name,
        title=title,
        topic=channel.topic,
        dialogue_id=channel.dialogue_id,
        direct_user_id=direct_user_id,
        is_member=member,
        last_read_message_id=last_read,
        last_message_id=last_message,
        unread=unread,
    )
