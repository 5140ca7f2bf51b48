"""The organisers' workspace: team channels, one channel per dialogue, direct messages.

Only staff (admin, organiser, facilitator, interpreter) take part; participants are refused
everywhere. Everything is stored first, then announced on the bus so every Parley process
can push it to its WebSocket clients (`events` lists the frames).

Unread counts are derived from each member's ``last_read_message_id``: messages above it,
not deleted, written by someone else. Chat text never reaches a log line. `service.Workspace`
lists the parts, one file each; the names below are what the rest of Parley imports.
"""

from parley.handlers.workspace.access import MODERATORS
from parley.handlers.workspace.direct import direct_key
from parley.handlers.workspace.events import channel_topic, user_topic
from parley.handlers.workspace.mentions import MENTION, find_mentions
from parley.handlers.workspace.service import Workspace
from parley.handlers.workspace.validation import (
    MAX_BODY,
    MAX_NAME,
    MAX_PAGE,
    MAX_TOPIC,
    check_body,
    check_limit,
    check_name,
    check_topic,
)
from parley.handlers.workspace.views import (
    ChannelDetail,
    ChannelView,
    MessagePage,
    MessageView,
    NotificationView,
    Person,
    ReadState,
)

__all__ = [
    "MAX_BODY",
    "MAX_NAME",
    "MAX_PAGE",
    "MAX_TOPIC",
    "MENTION",
    "MODERATORS",
    "ChannelDetail",
    "ChannelView",
    "MessagePage",
    "MessageView",
    "NotificationView",
    "Person",
    "ReadState",
    "Workspace",
    "channel_topic",
    "check_body",
    "check_limit",
    "check_name",
    "check_topic",
    "direct_key",
    "find_mentions",
    "user_topic",
]
