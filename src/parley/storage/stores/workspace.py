"""Channels, members, messages and notifications: queries only, no rules.

Callers get values (`ChannelInfo`, `MemberInfo`, `MessageInfo`, `NotificationInfo`, people as
`Account`), never rows: a change is a call here, so nothing is written by setting an attribute.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Select, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import ScalarSelect

from parley.storage.models import (
    STAFF_ROLES,
    Channel,
    ChannelKind,
    ChannelMember,
    Dialogue,
    Message,
    Notification,
    User,
)
from parley.storage.stores.accounts import Account

# --- what callers get: values, not rows ---------------------------------------------------


@dataclass(frozen=True)
class ChannelInfo:
    """A team, dialogue or direct channel."""

    id: int
    kind: ChannelKind
    name: str
    topic: str
    dialogue_id: int | None
    # For direct channels: "<low user id>:<high user id>".
    direct_key: str | None
    created_by_id: int | None
    created_at: datetime
    archived_at: datetime | None

    @classmethod
    def of(cls, row: Channel) -> ChannelInfo:
        return cls(id=row.id, kind=row.kind, name=row.name, topic=row.topic, dialogue_id=row.dialogue_id,
                   direct_key=row.direct_key, created_by_id=row.created_by_id, created_at=row.created_at,
                   archived_at=row.archived_at)


@dataclass(frozen=True)
class MemberInfo:
    """One member of one channel, with the read marker unread counts start from."""

    channel_id: int
    user_id: int
    joined_at: datetime
    last_read_message_id: int

    @classmethod
    def of(cls, row: ChannelMember) -> MemberInfo:
        return cls(channel_id=row.channel_id, user_id=row.user_id, joined_at=row.joined_at,
                   last_read_message_id=row.last_read_message_id)


@dataclass(frozen=True)
class MessageInfo:
    """A message as stored; a deleted one has an empty body and ``deleted_at`` set."""

    id: int
    channel_id: int
    author_id: int | None
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None

    @classmethod
    def of(cls, row: Message) -> MessageInfo:
        return cls(id=row.id, channel_id=row.channel_id, author_id=row.author_id, body=row.body,
                   created_at=row.created_at, edited_at=row.edited_at, deleted_at=row.deleted_at)


@dataclass(frozen=True)
class NotificationInfo:
    """A notification left for one user (a mention), read or not."""

    id: int
    user_id: int
    kind: str
    channel_id: int | None
    message_id: int | None
    actor_id: int | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> NotificationInfo:
        return cls(id=row.id, user_id=row.user_id, kind=row.kind, channel_id=row.channel_id,
                   message_id=row.message_id, actor_id=row.actor_id, created_at=row.created_at,
                   read_at=row.read_at)


@dataclass(frozen=True)
class MembershipRow:
    """One channel as one member sees it."""

    channel: ChannelInfo
    last_read_message_id: int
    unread: int
    last_message_id: int


# --- channels -----------------------------------------------------------------------------


async def add_channel(
    s: AsyncSession,
    *,
    kind: ChannelKind,
    name: str,
    topic: str,
    created_at: datetime,
    dialogue_id: int | None = None,
    direct_key: str | None = None,
    created_by_id: int | None = None,
) -> ChannelInfo:
    """Insert now, so the new channel has its id (and a taken name or direct key fails here)."""
    row = Channel(kind=kind, name=name, topic=topic, dialogue_id=dialogue_id, direct_key=direct_key,
                  created_by_id=created_by_id, created_at=created_at)
    s.add(row)
    await s.flush()
    return ChannelInfo.of(row)


def _channel(row: Channel | None) -> ChannelInfo | None:
    return None if row is None else ChannelInfo.of(row)


async def channel_by_id(s: AsyncSession, channel_id: int) -> ChannelInfo | None:
    return _channel(await s.get(Channel, channel_id))


async def channel_for_dialogue(s: AsyncSession, dialogue_id: int) -> ChannelInfo | None:
    q = select(Channel).where(Channel.dialogue_id == dialogue_id)
    return _channel((await s.execute(q)).scalar_one_or_none())


async def update_channel(
    s: AsyncSession, channel_id: int, *, name: str | None = None, topic: str | None = None
) -> None:
    """Set the name and/or the topic; nothing given, nothing written."""
    values = {k: v for k, v in (("name", name), ("topic", topic)) if v is not None}
    if values:
        await s.execute(update(Channel).where(Channel.id == channel_id).values(**values))


async def dialogue_exists(s: AsyncSession, dialogue_id: int) -> bool:
    return (await s.execute(select(Dialogue.id).where(Dialogue.id == dialogue_id))).first() is not None


async def channel_by_direct_key(s: AsyncSession, key: str) -> ChannelInfo | None:
    q = select(Channel).where(Channel.direct_key == key)
    return _channel((await s.execute(q)).scalar_one_or_none())


async def team_channel_by_name(s: AsyncSession, name: str) -> ChannelInfo | None:
    q = select(Channel).where(Channel.kind == ChannelKind.TEAM, func.lower(Channel.name) == name.lower())
    return _channel((await s.execute(q)).scalars().first())


async def team_channels(s: AsyncSession) -> list[ChannelInfo]:
    q = (
        select(Channel)
        .where(Channel.kind == ChannelKind.TEAM, Channel.archived_at.is_(None))
        .order_by(func.lower(Channel.name), Channel.id)
    )
    return [ChannelInfo.of(c) for c in (await s.execute(q)).scalars()]


async def member_counts(s: AsyncSession, channel_ids: Sequence[int]) -> dict[int, int]:
    if not channel_ids:
        return {}
    q = (
        select(ChannelMember.channel_id, func.count())
        .where(ChannelMember.channel_id.in_(channel_ids))
        .group_by(ChannelMember.channel_id)
    )
    return {int(cid): int(n) for cid, n in (await s.execute(q)).all()}


# --- members ------------------------------------------------------------------------------


async def member(s: AsyncSession, channel_id: int, user_id: int) -> MemberInfo | None:
    row = await s.get(ChannelMember, (channel_id, user_id))
    return None if row is None else MemberInfo.of(row)


async def member_ids(s: AsyncSession, channel_id: int) -> set[int]:
    q = select(ChannelMember.user_id).where(ChannelMember.channel_id == channel_id)
    return {int(uid) for uid in (await s.execute(q)).scalars()}


async def members_with_users(s: AsyncSession, channel_id: int) -> list[Account]:
    q = (
        select(User)
        .join(ChannelMember, ChannelMember.user_id == User.id)
        .where(ChannelMember.channel_id == channel_id)
        .order_by(func.lower(User.display_name), User.id)
    )
    return [Account.of(u) for u in (await s.execute(q)).scalars()]


async def add_member(s: AsyncSession, channel_id: int, user_id: int, now: datetime, last_read: int) -> None:
    """Written with the caller's next flush or commit."""
    s.add(ChannelMember(channel_id=channel_id, user_id=user_id, joined_at=now, last_read_message_id=last_read))


async def remove_members(s: AsyncSession, channel_id: int, user_ids: Iterable[int]) -> None:
    ids = list(user_ids)
    if ids:
        await s.execute(
            delete(ChannelMember).where(ChannelMember.channel_id == channel_id, ChannelMember.user_id.in_(ids))
        )


_CHANNEL_IDS = (
    select(ChannelMember.channel_id)
    .where(ChannelMember.user_id == bindparam("uid", type_=Integer))
    .order_by(ChannelMember.channel_id)
)


async def channel_ids_of(s: AsyncSession, user_id: int) -> list[int]:
    return [int(c) for c in (await s.execute(_CHANNEL_IDS, {"uid": user_id})).scalars()]


def _unread_count(user_id: int | BindParameter[int]) -> ScalarSelect[int]:
    """Correlated count of messages above the member's read marker, not by them, not deleted."""
    return (
        select(func.count(Message.id))
        .where(
            Message.channel_id == ChannelMember.channel_id,
            Message.id > ChannelMember.last_read_message_id,
            Message.deleted_at.is_(None),
            or_(Message.author_id.is_(None), Message.author_id != user_id),
        )
        .correlate(ChannelMember)
        .scalar_subquery()
    )


@functools.cache
def _memberships_query(filtered: bool) -> Select[Channel, int, int, int]:
    """Built once: every WebSocket connection runs it, and building costs more than running."""
    uid = bindparam("uid", type_=Integer)
    last_id = (
        select(func.coalesce(func.max(Message.id), 0))
        .where(Message.channel_id == ChannelMember.channel_id)
        .correlate(ChannelMember)
        .scalar_subquery()
    )
    q = (
        select(Channel, ChannelMember.last_read_message_id, _unread_count(uid), last_id)
        .join(ChannelMember, ChannelMember.channel_id == Channel.id)
        .where(ChannelMember.user_id == uid)
        .order_by(Channel.id)
    )
    if filtered:
        q = q.where(Channel.id.in_(bindparam("cids", expanding=True)))
    return q


async def memberships(s: AsyncSession, user_id: int, channel_ids: Sequence[int] | None = None) -> list[MembershipRow]:
    """Every channel of ``user_id`` with its unread count and newest message id, in one query."""
    params: dict[str, object] = {"uid": user_id}
    if channel_ids is not None:
        params["cids"] = list(channel_ids)
    rows = (await s.execute(_memberships_query(channel_ids is not None), params)).all()
    return [
        MembershipRow(
            channel=ChannelInfo.of(c), last_read_message_id=int(lr), unread=int(n or 0), last_message_id=int(li or 0)
        )
        for c, lr, n, li in rows
    ]


async def direct_partners(s: AsyncSession, user_id: int, channel_ids: Sequence[int]) -> dict[int, Account]:
    """For direct channels: channel id -> the other member."""
    if not channel_ids:
        return {}
    q = (
        select(ChannelMember.channel_id, User)
        .join(User, User.id == ChannelMember.user_id)
        .where(ChannelMember.channel_id.in_(channel_ids), ChannelMember.user_id != user_id)
    )
    return {int(cid): Account.of(user) for cid, user in (await s.execute(q)).all()}


async def set_last_read(s: AsyncSession, channel_id: int, user_id: int, message_id: int) -> None:
    """Move the read marker forward only."""
    await s.execute(
        update(ChannelMember)
        .where(
            ChannelMember.channel_id == channel_id,
            ChannelMember.user_id == user_id,
            ChannelMember.last_read_message_id < message_id,
        )
        .values(last_read_message_id=message_id)
    )


async def unread_in(s: AsyncSession, channel_id: int, user_id: int) -> int:
    q = (
        select(_unread_count(user_id))
        .select_from(ChannelMember)
        .where(ChannelMember.channel_id == channel_id, ChannelMember.user_id == user_id)
    )
    return int((await s.execute(q)).scalar_one_or_none() or 0)


async def total_unread(s: AsyncSession, user_id: int) -> int:
    q = (
        select(func.count(Message.id))
        .join(
            ChannelMember,
            and_(ChannelMember.channel_id == Message.channel_id, ChannelMember.user_id == user_id),
        )
        .where(
            Message.id > ChannelMember.last_read_message_id,
            Message.deleted_at.is_(None),
            or_(Message.author_id.is_(None), Message.author_id != user_id),
        )
    )
    return int((await s.execute(q)).scalar_one())


# --- messages -----------------------------------------------------------------------------


async def message_by_id(s: AsyncSession, message_id: int) -> MessageInfo | None:
    row = await s.get(Message, message_id)
    return None if row is None else MessageInfo.of(row)


async def last_message_id(s: AsyncSession, channel_id: int) -> int:
    q = select(func.coalesce(func.max(Message.id), 0)).where(Message.channel_id == channel_id)
    return int((await s.execute(q)).scalar_one())


async def add_message(s: AsyncSession, channel_id: int, author_id: int, body: str, now: datetime) -> MessageInfo:
    """Insert now, so the new message has its id."""
    row = Message(channel_id=channel_id, author_id=author_id, body=body, created_at=now)
    s.add(row)
    await s.flush()
    return MessageInfo.of(row)


async def edit_message(s: AsyncSession, message_id: int, body: str, now: datetime) -> None:
    await s.execute(update(Message).where(Message.id == message_id).values(body=body, edited_at=now))


async def erase_message(s: AsyncSession, message_id: int, now: datetime) -> None:
    """Mark deleted and erase the body; the message keeps its place."""
    await s.execute(update(Message).where(Message.id == message_id).values(deleted_at=now, body=""))


async def messages_page(
    s: AsyncSession, channel_id: int, *, before: int | None, after: int | None, limit: int
) -> list[tuple[MessageInfo, Account | None]]:
    """Newest first below ``before``, or oldest first above ``after``; ``limit`` rows at most."""
    q = select(Message, User).outerjoin(User, User.id == Message.author_id).where(Message.channel_id == channel_id)
    if after is not None:
        q = q.where(Message.id > after).order_by(Message.id.asc())
    else:
        if before is not None:
            q = q.where(Message.id < before)
        q = q.order_by(Message.id.desc())
    rows = (await s.execute(q.limit(limit))).all()
    return [(MessageInfo.of(m), None if u is None else Account.of(u)) for m, u in rows]


# --- users --------------------------------------------------------------------------------


async def users_by_ids(s: AsyncSession, user_ids: Iterable[int]) -> dict[int, Account]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return {u.id: Account.of(u) for u in (await s.execute(select(User).where(User.id.in_(ids)))).scalars()}


async def staff_users(s: AsyncSession, limit: int = 500) -> list[Account]:
    q = (
        select(User)
        .where(User.role.in_(list(STAFF_ROLES)), User.disabled.is_(False))
        .order_by(func.lower(User.display_name), User.id)
        .limit(limit)
    )
    return [Account.of(u) for u in (await s.execute(q)).scalars()]


# --- notifications ------------------------------------------------------------------------


async def add_notifications(
    s: AsyncSession,
    user_ids: Sequence[int],
    *,
    kind: str,
    channel_id: int,
    message_id: int,
    actor_id: int,
    now: datetime,
) -> list[NotificationInfo]:
    """One notification for each of ``user_ids``, in that order, inserted now (so each has its id)."""
    rows = [
        Notification(user_id=uid, kind=kind, channel_id=channel_id, message_id=message_id, actor_id=actor_id,
                     created_at=now)
        for uid in user_ids
    ]
    s.add_all(rows)
    await s.flush()
    return [NotificationInfo.of(n) for n in rows]


async def notifications_of(
    s: AsyncSession, user_id: int, *, unread_only: bool, limit: int
) -> list[tuple[NotificationInfo, ChannelInfo | None, Account | None]]:
    q = (
        select(Notification, Channel, User)
        .outerjoin(Channel, Channel.id == Notification.channel_id)
        .outerjoin(User, User.id == Notification.actor_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return [
        (NotificationInfo.of(n), _channel(c), None if u is None else Account.of(u))
        for n, c, u in (await s.execute(q)).all()
    ]


async def unread_notification_count(s: AsyncSession, user_id: int) -> int:
    q = select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return int((await s.execute(q)).scalar_one())


async def mark_notifications_read(s: AsyncSession, user_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))
    result = await s.execute(q.values(read_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
