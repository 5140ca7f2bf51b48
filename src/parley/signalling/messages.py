"""The workspace WebSocket protocol: one JSON object per text frame, ``type`` first.

Client -> server (``ref`` is the client's own id, echoed in the ``ack`` or ``error``):

    post   {ref, channel_id, body}           edit   {ref, message_id, body}
    delete {ref, message_id}                 read   {ref, channel_id, message_id|null}
    fetch  {ref, channel_id, before|null, after|null, limit}      ping {ref}

Server -> client:

    hello {user_id, channels: [{channel_id, unread, last_read_message_id, last_message_id}], total_unread}
    ack {ref, message|null}   error {ref, code, message}   pong {ref}
    messages {ref, channel_id, messages, has_more}                       (answer to fetch)
    message.new / message.deleted {channel_id, message, unread, total_unread}
    message.edited {channel_id, message}
    member.joined {channel_id, user}   member.left {channel_id, user_id}
    channel.added {channel, total_unread}   channel.removed {channel_id, total_unread}
    channel.updated {channel_id, name, title, topic}
    unread {channel_id, count, last_read_message_id, total}
    notification {notification}   notifications.read {unread}

``unread`` is the receiving connection's count for that channel after the event, so a client
never has to compute it. Bus events (see `parley.handlers.workspace`) are these frames
without the per-connection counts. Every frame type is a frozen dataclass; `parse_client` /
`parse_server` validate strictly and `serialise` writes the canonical form, so
``serialise(parse(text)) == text``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar, Union

from parley.clock import iso
from parley.handlers.workspace import ChannelView, MessageView, NotificationView, Person

MAX_FRAME = 16_384
MAX_REF = 64

T = TypeVar("T")


class ProtocolError(Exception):
    """A frame that does not follow the protocol; ``code`` is stable, ``ref`` echoed if known."""

    def __init__(self, code: str, message: str, ref: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


# --- client -> server ------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    type: ClassVar[str] = "post"
    ref: str
    channel_id: int
    body: str


@dataclass(frozen=True)
class Edit:
    type: ClassVar[str] = "edit"
    ref: str
    message_id: int
    body: str


@dataclass(frozen=True)
class Delete:
    type: ClassVar[str] = "delete"
    ref: str
    message_id: int


@dataclass(frozen=True)
class Read:
    type: ClassVar[str] = "read"
    ref: str
    channel_id: int
    message_id: int | None = None


@dataclass(frozen=True)
class Fetch:
    type: ClassVar[str] = "fetch"
    ref: str
    channel_id: int
    before: int | None = None
    after: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class Ping:
    type: ClassVar[str] = "ping"
    ref: str = ""


ClientMessage = Post | Edit | Delete | Read | Fetch | Ping
CLIENT_TYPES: dict[str, type[Any]] = {c.type: c for c in (Post, Edit, Delete, Read, Fetch, Ping)}


# --- server -> client ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadMark:
    channel_id: int
    unread: int
    last_read_message_id: int
    last_message_id: int


@dataclass(frozen=True)
class Hello:
    type: ClassVar[str] = "hello"
    user_id: int
    channels: tuple[ReadMark, ...]
    total_unread: int


@dataclass(frozen=True)
class Ack:
    type: ClassVar[str] = "ack"
    ref: str
    message: MessageView | None = None


@dataclass(frozen=True)
class Error:
    type: ClassVar[str] = "error"
    ref: str
    code: str
    message: str


@dataclass(frozen=True)
class Pong:
    type: ClassVar[str] = "pong"
    ref: str = ""


@dataclass(frozen=True)
class Messages:
    type: ClassVar[str] = "messages"
    ref: str
    channel_id: int
    messages: tuple[MessageView, ...]
    has_more: bool


@dataclass(frozen=True)
class MessageNew:
    type: ClassVar[str] = "message.new"
    channel_id: int
    message: MessageView
    # Per connection; the last two fields so the shared prefix is serialised once.
    unread: int = 0
    total_unread: int = 0


@dataclass(frozen=True)
class MessageEdited:
    type: ClassVar[str] = "message.edited"
    channel_id: int
    message: MessageView


@dataclass(frozen=True)
class MessageDeleted:
    type: ClassVar[str] = "message.deleted"
    channel_id: int
    message: MessageView
    unread: int = 0
    total_unread: int = 0


@dataclass(frozen=True)
class MemberJoined:
    type: ClassVar[str] = "member.joined"
    channel_id: int
    user: Person


@dataclass(frozen=True)
class MemberLeft:
    type: ClassVar[str] = "member.left"
    channel_id: int
    user_id: int


@dataclass(frozen=True)
class ChannelAdded:
    type: ClassVar[str] = "channel.added"
    channel: ChannelView
    total_unread: int = 0


@dataclass(frozen=True)
class ChannelRemoved:
    type: ClassVar[str] = "channel.removed"
    channel_id: int
    total_unread: int = 0


@dataclass(frozen=True)
class ChannelUpdated:
    type: ClassVar[str] = "channel.updated"
    channel_id: int
    name: str
    title: str
    topic: str


@dataclass(frozen=True)
class Unread:
    type: ClassVar[str] = "unread"
    channel_id: int
    count: int
    last_read_message_id: int
    total: int = 0


@dataclass(frozen=True)
class NotificationFrame:
    type: ClassVar[str] = "notification"
    notification: NotificationView


@dataclass(frozen=True)
class NotificationsRead:
    type: ClassVar[str] = "notifications.read"
    unread: int


ServerMessage = (
    Hello
    | Ack
    | Error
    | Pong
    | Messages
    | MessageNew
    | MessageEdited
    | MessageDeleted
    | MemberJoined
    | MemberLeft
    | ChannelAdded
    | ChannelRemoved
    | ChannelUpdated
    | Unread
    | NotificationFrame
    | NotificationsRead
)
SERVER_TYPES: dict[str, type[Any]] = {
    c.type: c
    for c in (
        Hello,
        Ack,
        Error,
        Pong,
        Messages,
        MessageNew,
        MessageEdited,
        MessageDeleted,
        MemberJoined,
        MemberLeft,
        ChannelAdded,
        ChannelRemoved,
        ChannelUpdated,
        Unread,
        NotificationFrame,
        NotificationsRead,
    )
}


# --- encoding ---------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def to_dict(frame: ClientMessage | ServerMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"type": frame.type}
    out.update(_encode(frame))
    return out


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def serialise(frame: ClientMessage | ServerMessage) -> str:
    """The canonical text of a frame."""
    return dumps(to_dict(frame))


def counted_prefix(frame: MessageNew | MessageDeleted) -> str:
    """The frame's text without its per-connection counts, to finish with `with_counts`."""
    data = to_dict(frame)
    del data["unread"], data["total_unread"]
    return dumps(data)[:-1]


def with_counts(prefix: str, unread: int, total_unread: int) -> str:
    return f'{prefix},"unread":{unread},"total_unread":{total_unread}}}'


# --- decoding ---------------------------------------------------------------------------------


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _decode(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], value, path)
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError("bad_frame", f"{path} must be a list")
        item = typing.get_args(hint)[0]
        return tuple(_decode(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ProtocolError("bad_frame", f"{path} must be true or false")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
            raise ProtocolError("bad_frame", f"{path} must be an integer")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ProtocolError("bad_frame", f"{path} must be a string")
        return value
    if hint is datetime:
        if not isinstance(value, str):
            raise ProtocolError("bad_frame", f"{path} must be a timestamp")
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ProtocolError("bad_frame", f"{path} must be a timestamp") from None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ProtocolError("bad_frame", f"{path} must be an object")
        return _build(hint, value, path)
    raise ProtocolError("bad_frame", f"{path} has an unsupported type")  # pragma: no cover


def _build(cls: type[T], data: Mapping[str, Any], path: str) -> T:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = f"{path}.{f.name}" if path else f.name
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name], name)
        elif f.default is dataclasses.MISSING:
            raise ProtocolError("bad_frame", f"{name} is missing")
    return cls(**kwargs)


def _load(text: str | bytes, limit: int | None = MAX_FRAME) -> dict[str, Any]:
    if limit is not None and len(text) > limit:
        raise ProtocolError("frame_too_large", f"frames are limited to {MAX_FRAME} bytes")
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError("bad_json", "the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "the frame must be a JSON object")
    return data


def _ref_of(data: Mapping[str, Any]) -> str:
    ref = data.get("ref", "")
    return ref if isinstance(ref, str) and len(ref) <= MAX_REF else ""


def parse_client(text: str | bytes) -> ClientMessage:
    """A client frame, or `ProtocolError` saying what is wrong with it."""
    data = _load(text)
    ref = _ref_of(data)
    if "ref" in data and (not isinstance(data["ref"], str) or len(data["ref"]) > MAX_REF):
        raise ProtocolError("bad_frame", f"ref must be a string of at most {MAX_REF} characters")
    cls = CLIENT_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise ProtocolError("unknown_type", "unknown frame type", ref)
    unknown = set(data) - {"type"} - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ProtocolError("bad_frame", f"unexpected fields: {', '.join(sorted(unknown))}", ref)
    try:
        frame: ClientMessage = _build(cls, data, "")
    except ProtocolError as exc:
        exc.ref = ref
        raise
    return frame


def server_frame(data: Mapping[str, Any]) -> ServerMessage:
    """A server frame from its decoded JSON (a bus event is one without the counts)."""
    cls = SERVER_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise ProtocolError("unknown_type", "unknown frame type")
    frame: ServerMessage = _build(cls, data, "")
    return frame


def parse_server(text: str | bytes) -> ServerMessage:
    """A server frame from its text (no size limit: history pages can be large)."""
    return server_frame(_load(text, None))
