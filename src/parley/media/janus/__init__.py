"""The Janus adapter.

    config.py     JanusConfig -> a locked-down config folder (only the transports and plugins Parley uses)
    process.py    start `janus`, wait until /info answers, restart it with backoff, fire on_restart
    client.py     Janus API over WebSocket: transactions, sessions + keepalive, handles + events
                  (session.py, handle.py, events.py, transport.py, messages.py: one module per object)
    admin.py      Admin API over HTTP; per-user stored tokens (issued, expired, re-added after restarts)
    videoroom.py  rooms, participants, moderation, rtp_forward (audio out), remote publishers (audio in)
    textroom.py   caption rooms and announcements
    audiobridge.py  mixed rooms and their RTP forwarders
    service.py    JanusService, one per process: connection, tokens; rooms.py, monitor.py (room_events.py),
                  forwarding.py and browser.py hold its parts

Browsers talk to Janus with a stored token that only opens the plugins they need; Parley itself
uses the API secret and the plugins' admin key, so only Parley can create rooms or forward media.
"""

from parley.media.janus.admin import JanusAdmin, JanusTokens, TokenInfo
from parley.media.janus.audiobridge import AudioBridge
from parley.media.janus.client import (
    JanusClient,
    JanusError,
    JanusEvent,
    JanusHandle,
    JanusPluginError,
    JanusSession,
    JanusTransport,
    PluginResponse,
    TransportClosed,
    WebSocketTransport,
)
from parley.media.janus.config import GeneratedConfig, JanusCredentials, JanusOptions, write_config
from parley.media.janus.plugin import new_room_id
from parley.media.janus.process import Backoff, JanusHealth, JanusProcess, JanusState
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import (
    Forwarder,
    ForwardTarget,
    Participant,
    RemotePublisher,
    RemoteStream,
    RoomSettings,
    VideoRoom,
)

__all__ = [
    "AudioBridge",
    "Backoff",
    "ForwardTarget",
    "Forwarder",
    "GeneratedConfig",
    "JanusAdmin",
    "JanusClient",
    "JanusCredentials",
    "JanusError",
    "JanusEvent",
    "JanusHandle",
    "JanusHealth",
    "JanusOptions",
    "JanusPluginError",
    "JanusProcess",
    "JanusSession",
    "JanusState",
    "JanusTokens",
    "JanusTransport",
    "Participant",
    "PluginResponse",
    "RemotePublisher",
    "RemoteStream",
    "RoomSettings",
    "TextRoom",
    "TokenInfo",
    "TransportClosed",
    "VideoRoom",
    "WebSocketTransport",
    "new_room_id",
    "write_config",
]
