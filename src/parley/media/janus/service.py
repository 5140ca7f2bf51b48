"""The Parley side of Janus: one service per Parley process, started and stopped by `Server`.

    JanusProcess (supervised `janus`, when janus.enabled)   or   an external Janus (secrets configured)
         ^ admin API: per-participant tokens                     ^ WebSocket API: api_secret
         |                                                       |
    JanusService: rooms (one VideoRoom + one TextRoom per live meeting), tokens, kick / moderate,
                  room recording, and a silent "monitor" participant per room whose events
                  (talking, leaving, published) go to `on_event` subscribers
         |
    on_recovered: after Janus restarts (or the connection to it drops and comes back) the
                  service reconnects and calls back, and `Meetings` recreates every open room
                  and reinstalls every live token from the database.

The service keeps the connection (start, stop, reconnect, readiness) and the tokens, and hands
out the calls of its parts:

    rooms.py        RoomSpec, RoomControl: create / close rooms, pin, allowed list, kick, mute, recording
    monitor.py      RoomMonitor: the silent participant per room and its events (room_events.py)
    forwarding.py   AudioForwarding: speaker audio out as RTP, synthesized voices in
    browser.py      BrowserConfig: the URL and ICE servers a browser gets

Nothing here logs request bodies (they carry secrets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from parley.clock import Clock
from parley.config import JanusConfig, TurnConfig
from parley.errors import ConfigError, EngineError
from parley.media.janus.admin import JanusAdmin
from parley.media.janus.browser import PROXY_PATH, BrowserConfig, ice_servers
from parley.media.janus.client import JanusClient, JanusError, Liveness
from parley.media.janus.config import JanusCredentials
from parley.media.janus.forwarding import AudioForwarding
from parley.media.janus.monitor import VIDEOROOM, RoomMonitor
from parley.media.janus.process import Backoff, JanusProcess
from parley.media.janus.room_events import MONITOR_ID_LIMIT, EventCallback, MediaEvent, parse_room_event
from parley.media.janus.rooms import (
    NO_SUCH_FEED,
    NO_SUCH_ROOM,
    TEXTROOM_ROOM_EXISTS,
    VIDEOROOM_ROOM_EXISTS,
    RoomControl,
    RoomSpec,
)
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import VideoRoom
from parley.media.turn import TurnIssuer
from parley.tasks import TaskOwner

__all__ = [
    "BROWSER_PLUGINS",
    "MONITOR_ID_LIMIT",
    "NODE_LIVENESS",
    "NO_SUCH_FEED",
    "NO_SUCH_ROOM",
    "PROXY_PATH",
    "TEXTROOM_ROOM_EXISTS",
    "VIDEOROOM",
    "VIDEOROOM_ROOM_EXISTS",
    "BrowserConfig",
    "EventCallback",
    "JanusService",
    "MediaEvent",
    "RecoveredCallback",
    "RoomSpec",
    "configured",
    "ice_servers",
    "parse_room_event",
]

log = logging.getLogger(__name__)

# Browsers use the VideoRoom only (captions and chat come through Parley's own socket).
BROWSER_PLUGINS = ("videoroom",)

# How a pool's connection to a media node notices the node gone silent (hung, or its machine gone
# without closing the connection, as a crashed VM or a cut network does): a ping every 3 s, 5 s
# for its pong, 1 s for the closing handshake, so within ~9 s rather than the ~50 s of the
# websockets defaults; media.lost_seconds counts from there (a node whose process dies is seen
# at once: its kernel closes the connection). A spurious timeout (a pong 5 s late) costs a
# reconnection, after which the node's meetings are recreated and their browsers reconnect.
NODE_LIVENESS = Liveness(ping_interval=3.0, ping_timeout=5.0, close_timeout=1.0)


RecoveredCallback = Callable[[], Awaitable[None]]


def configured(cfg: JanusConfig) -> bool:
    """True when this process has a Janus to talk to: its own, or an external one with secrets."""
    return cfg.enabled or bool(cfg.api_secret and cfg.admin_secret and cfg.admin_key)


class JanusService:
    def __init__(
        self,
        cfg: JanusConfig,
        clock: Clock,
        *,
        credentials: JanusCredentials,
        connect: Callable[[str], JanusClient],
        admin: Callable[[str], JanusAdmin],
        process: JanusProcess | None = None,
        ws_url: str = "",
        admin_url: str = "",
        reconnect: Backoff = Backoff(initial=0.2, factor=2.0, maximum=5.0),
        request_timeout: float = 10.0,
        turn: TurnIssuer | None = None,
    ) -> None:
        self.cfg = cfg
        self.turn = turn
        self.clock = clock
        self.credentials = credentials
        self._connect_client = connect
        self._make_admin = admin
        self.process = process
        self._ws_url = ws_url or cfg.ws_url
        self._admin_url = admin_url or cfg.admin_url
        self._reconnect = reconnect
        self._request_timeout = request_timeout
        self._tasks = TaskOwner("janus-service")
        self._client: JanusClient | None = None
        self._admin: JanusAdmin | None = None
        self._videoroom: VideoRoom | None = None
        self._textroom: TextRoom | None = None
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._recovered_callbacks: list[RecoveredCallback] = []
        self.recoveries = 0
        self._started = False
        self.monitor = RoomMonitor(lambda: self._client)
        # Joins the monitor into every room's allowed list; never given to a browser.
        self.monitor_token = self.monitor.token
        self.rooms = RoomControl(self._rooms, credentials.admin_key, self.monitor)
        self.forwarding = AudioForwarding(self._rooms)
        # What meetings, interpretation and the node pool call.
        self.on_event = self.monitor.on_event
        self.monitor_handle = self.monitor.handle
        self.open_rooms = self.rooms.open_rooms
        self.close_rooms = self.rooms.close_rooms
        self.set_pin = self.rooms.set_pin
        self.allow = self.rooms.allow
        self.kick = self.rooms.kick
        self.moderate = self.rooms.moderate
        self.set_recording = self.rooms.set_recording
        self.forward_audio = self.forwarding.forward_audio
        self.stop_forward = self.forwarding.stop_forward
        self.add_voice = self.forwarding.add_voice
        self.remove_voice = self.forwarding.remove_voice
        self.clear_interpretation = self.forwarding.clear_interpretation

    @classmethod
    def from_config(cls, cfg: JanusConfig, data_dir: Path, clock: Clock, *,
                    turn: TurnConfig | None = None) -> JanusService:
        """The service `Server` runs: supervising its own Janus, or using an external one."""
        credentials = JanusCredentials.resolve(cfg)
        process: JanusProcess | None = None
        if cfg.enabled:
            work_dir = Path(cfg.work_dir).expanduser() if cfg.work_dir else data_dir / "janus"
            process = JanusProcess(cfg, work_dir, clock=clock, credentials=credentials)
        return cls(
            cfg,
            clock,
            credentials=credentials,
            process=process,
            connect=lambda url: JanusClient.over_websocket(url, clock=clock, api_secret=credentials.api_secret),
            admin=lambda url: JanusAdmin(url, credentials.admin_secret),
            turn=TurnIssuer(turn, clock) if turn is not None else None,
        )

    @classmethod
    def for_node(cls, cfg: JanusConfig, clock: Clock, *, ws_url: str, admin_url: str,
                 credentials: JanusCredentials, turn: TurnConfig | None = None) -> JanusService:
        """A service for one media node of a pool: its URLs and secrets come from the registry."""
        return cls(
            cfg,
            clock,
            credentials=credentials,
            ws_url=ws_url,
            admin_url=admin_url,
            connect=lambda url: JanusClient.over_websocket(url, clock=clock, api_secret=credentials.api_secret,
                                                           liveness=NODE_LIVENESS),
            admin=lambda url: JanusAdmin(url, credentials.admin_secret),
            turn=TurnIssuer(turn, clock) if turn is not None else None,
        )

    async def start(self) -> None:
        """Start (or find) Janus and connect; an unreachable external Janus is retried in the background."""
        if self._started:
            return
        self._started = True
        if self.process is not None:
            try:
                await self.process.start()
            except (ConfigError, EngineError, OSError) as exc:
                # The rest of Parley keeps working; meetings answer "media unavailable".
                log.error("janus could not be started, meetings have no media: %s", exc)
                return
            self._ws_url = self.process.generated.ws_url
            self._admin_url = self.process.generated.admin_url
        self._admin = self._make_admin(self._admin_url)
        self._tasks.spawn("events", self.monitor.deliver())
        try:
            await self._connect()
        except EngineError as exc:
            log.warning("janus not reachable yet (%s); retrying in the background", exc)
            self._lost.set()
        self._tasks.spawn("watch", self._watch())

    async def stop(self) -> None:
        self._started = False
        await self._tasks.stop()
        client, self._client = self._client, None
        self._ready.clear()
        self.monitor.clear()
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5)
        if self._admin is not None:
            await self._admin.aclose()
            self._admin = None
        if self.process is not None:
            await self.process.stop()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    @property
    def upstream_url(self) -> str:
        """Janus's WebSocket API, for Parley's browser proxy."""
        return self._ws_url

    @property
    def admin_url(self) -> str:
        """Janus's Admin API (known once started, for a supervised Janus)."""
        return self._admin_url

    async def load(self) -> tuple[int, int]:
        """(rooms, participants) in the VideoRoom now; each room's one monitor (whichever Parley
        process joined it) is not counted."""
        videoroom, _ = self._rooms()
        reply = await videoroom.handle.request({"request": "list", "admin_key": self.credentials.admin_key})
        rooms = [r for r in reply.get("list") or [] if isinstance(r, dict)]
        people = 0
        for room in rooms:
            count = room.get("num_participants")
            if isinstance(count, int) and not isinstance(count, bool):
                people += max(0, count - 1)
        return len(rooms), people

    def browser_config(self, person: str | int | None = None) -> BrowserConfig:
        """Asked on every connect: the TURN credential in it is fresh and names ``person``."""
        servers = ice_servers(self.cfg)
        relay = self.turn.ice_server(person) if self.turn is not None else None
        if relay is not None:
            servers.append(relay)
        return BrowserConfig(server=self.cfg.browser_ws_url or PROXY_PATH, ice_servers=servers)

    def on_recovered(self, callback: RecoveredCallback) -> None:
        """Called after every reconnection to Janus (it may have forgotten every room and token)."""
        self._recovered_callbacks.append(callback)

    async def _connect(self) -> None:
        client = self._connect_client(self._ws_url)
        client.request_timeout = self._request_timeout
        await client.connect()
        try:
            session = await client.create_session()
            key = self.credentials.admin_key
            videoroom = await VideoRoom.attach(session, admin_key=key, clock=self.clock)
            textroom = await TextRoom.attach(session, admin_key=key)
        except BaseException:
            await client.close()
            raise
        client.on_disconnect(self._lost.set)
        self._client, self._videoroom, self._textroom = client, videoroom, textroom
        self.monitor.clear()
        self._lost.clear()
        self._ready.set()
        log.info("connected to janus")

    async def _watch(self) -> None:
        """Reconnect whenever the connection drops, then let the owners rebuild their rooms."""
        while True:
            await self._lost.wait()
            self._ready.clear()
            old, self._client = self._client, None
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close()
            attempt = 0
            while True:
                if self.process is not None:
                    await self.process.wait_ready()
                try:
                    await self._connect()
                    break
                except EngineError as exc:
                    log.warning("reconnecting to janus failed: %s", exc)
                    await self.clock.sleep(self._reconnect.delay(attempt))
                    attempt += 1
            self.recoveries += 1
            for callback in list(self._recovered_callbacks):
                try:
                    await callback()
                except Exception:
                    log.exception("janus recovery callback failed")

    def _rooms(self) -> tuple[VideoRoom, TextRoom]:
        if self._videoroom is None or self._textroom is None or not self._ready.is_set():
            raise EngineError("janus is not connected", retryable=True, engine="janus")
        return self._videoroom, self._textroom

    def _admin_api(self) -> JanusAdmin:
        if self._admin is None:
            raise EngineError("janus is not started", retryable=True, engine="janus")
        return self._admin

    async def issue_token(self) -> str:
        """A new token Janus accepts for the VideoRoom and TextRoom plugins only."""
        token = secrets.token_urlsafe(24)
        await self._admin_api().add_token(token, BROWSER_PLUGINS)
        return token

    async def install_tokens(self, tokens: Sequence[str]) -> None:
        """Re-add tokens Janus forgot (after a restart)."""
        admin = self._admin_api()
        for token in tokens:
            await admin.add_token(token, BROWSER_PLUGINS)

    async def revoke_token(self, token: str) -> None:
        try:
            await self._admin_api().remove_token(token)
        except JanusError as exc:
            # 470/490: Janus does not know the token (restarted since): the goal is reached.
            if exc.code not in (470, 490):
                raise

