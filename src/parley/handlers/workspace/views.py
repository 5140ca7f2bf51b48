"""What callers (API, pages, WebSocket frames) see of the workspace: people, channels,
messages, read state and notifications, each with the JSON the bus and the sockets carry.

Plain frozen values: a deleted message keeps its place with an empty body, so no view ever
carries erased text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.clock import iso
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import ChannelInfo, MessageInfo


@dataclass(frozen=True)
class Person:
    id: int
    display_name: str
    role: str

    @classmethod
    def of(cls, user: Account) -> Person:
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
    def of(cls, message: MessageInfo, author: Account | None) -> MessageView:
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


def channel_view(
    channel: ChannelInfo,
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
