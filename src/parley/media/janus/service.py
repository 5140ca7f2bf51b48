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

Rooms are locked down: private, a secret derived from the admin key, ``lock_record``, and an
``allowed`` list holding only the tokens of admitted participants (plus the monitor's), so
Janus itself refuses anyone else. Nothing here logs request bodies (they carry secrets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.clock import Clock
from parley.config import JanusConfig, TurnConfig
from parley.errors import ConfigError, EngineError
from parley.media.janus.admin import JanusAdmin
from parley.media.janus.client import (
    JanusClient,
    JanusError,
    JanusEvent,
    JanusHandle,
    JanusPluginError,
    JsonObject,
    Liveness,
)
from parley.media.janus.config import JanusCredentials
from parley.media.janus.process import Backoff, JanusProcess
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import ForwardTarget, RemotePublisher, RemoteStream, VideoRoom
from parley.media.turn import TurnIssuer
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
# Browsers use the VideoRoom only (captions and chat come through Parley's own socket).
BROWSER_PLUGINS = ("videoroom",)
PROXY_PATH = "/ws/janus"
# Publisher ids below this never belong to a participant (their ids are shifted left by 20).
MONITOR_ID_LIMIT = 1 << 20
TEXTROOM_ROOM_EXISTS = 418
VIDEOROOM_ROOM_EXISTS = 427
NO_SUCH_FEED = 428
NO_SUCH_ROOM = 426
# How a pool's connection to a media node notices the node gone silent (hung, or its machine gone
# without closing the connection, as a crashed VM or a cut network does): a ping every 3 s, 5 s
# for its pong, 1 s for the closing handshake, so within ~9 s rather than the ~50 s of the
# websockets defaults; media.lost_seconds counts from there (a node whose process dies is seen
# at once: its kernel closes the connection). A spurious timeout (a pong 5 s late) costs a
# reconnection, after which the node's meetings are recreated and their browsers reconnect.
NODE_LIVENESS = Liveness(ping_interval=3.0, ping_timeout=5.0, close_timeout=1.0)


@dataclass(frozen=True)
class RoomSpec:
    """What a meeting's rooms must look like in Janus (recreated as-is after a restart)."""

    room_id: int
    text_room_id: int
    description: str = ""
    publishers: int = 16
    # Tokens of the people admitted; Janus refuses publisher joins from anyone else.
    allowed: tuple[str, ...] = ()
    # Asked of every joiner, subscribers included: a token alone opens every room of the plugin.
    pin: str | None = None
    # Where Janus writes this room's .mjr files while it records; None: not recording.
    record_dir: Path | None = None
    # Publisher ids whose audio the facilitator has blocked.
    muted_feeds: tuple[int, ...] = ()
    # Whether this process watches the room (one process per node does: `MediaRooms`).
    monitor: bool = True


@dataclass(frozen=True)
class MediaEvent:
    """Something the monitor saw in a room. kind: talking | stopped-talking | published | left."""

    room_id: int
    kind: str
    feed_id: int
    audio_mids: tuple[str, ...] = ()


@dataclass(frozen=True)
class BrowserConfig:
    """What janus.js needs: the WebSocket URL (a path means Parley's proxy) and ICE servers
    (the configured STUN ones, plus TURN with a credential of this person's own)."""

    server: str
    ice_servers: list[dict[str, Any]] = field(default_factory=list)


EventCallback = Callable[[MediaEvent], Awaitable[None]]
RecoveredCallback = Callable[[], Awaitable[None]]


def ice_servers(cfg: JanusConfig) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for url in cfg.ice_servers:
        entry: dict[str, Any] = {"urls": url}
        if url.startswith(("turn:", "turns:")) and cfg.turn_username:
            entry["username"] = cfg.turn_username
            entry["credential"] = cfg.turn_credential
        out.append(entry)
    return out


def configured(cfg: JanusConfig) -> bool:
    """True when this process has a Janus to talk to: its own, or an external one with secrets."""
    return cfg.enabled or bool(cfg.api_secret and cfg.admin_secret and cfg.admin_key)


@dataclass
class _Monitor:
    handle: JanusHandle
    feed_id: int
    unsubscribe: Callable[[], None]


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
        self._monitors: dict[int, _Monitor] = {}
        self._audio_mids: dict[int, tuple[str, ...]] = {}
        # Each room's current pin, for the monitor's own join.
        self._pins: dict[int, str] = {}
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._lock = asyncio.Lock()
        self._event_callbacks: list[EventCallback] = []
        self._recovered_callbacks: list[RecoveredCallback] = []
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue(maxsize=10_000)
        # Joins the monitor into every room's allowed list; never given to a browser.
        self.monitor_token = secrets.token_urlsafe(24)
        self.recoveries = 0
        self._started = False

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

    # --- lifecycle ------------------------------------------------------------------------------

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
        self._tasks.spawn("events", self._deliver_events())
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
        self._monitors.clear()
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

    def on_event(self, callback: EventCallback) -> None:
        self._event_callbacks.append(callback)

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
        self._monitors.clear()
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

    # --- requests -------------------------------------------------------------------------------

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

    async def open_rooms(self, spec: RoomSpec) -> bool:
        """Create the meeting's rooms, or bring existing ones in line with ``spec`` (idempotent);
        True when the VideoRoom was new (Janus had not got it: any browser in it must rejoin)."""
        videoroom, textroom = self._rooms()
        allowed = [*spec.allowed, self.monitor_token]
        if spec.pin is not None:
            self._pins[spec.room_id] = spec.pin
        async with self._lock:
            body: JsonObject = {
                "request": "create",
                "room": spec.room_id,
                "secret": videoroom.secret(spec.room_id),
                "admin_key": self.credentials.admin_key,
                "permanent": False,
                "description": spec.description[:100] or "meeting",
                "publishers": spec.publishers,
                "is_private": True,
                "allowed": allowed,
                **({"pin": spec.pin} if spec.pin is not None else {}),
                "audiocodec": "opus",
                "videocodec": "vp8",
                "opus_fec": True,
                "notify_joining": True,
                "audiolevel_event": True,
                "audio_active_packets": 50,
                "audio_level_average": 40,
                "lock_record": True,
                "record": spec.record_dir is not None,
            }
            if spec.record_dir is not None:
                body["rec_dir"] = str(spec.record_dir)
            created = True
            try:
                await videoroom.handle.request(body)
            except JanusPluginError as exc:
                if exc.code != VIDEOROOM_ROOM_EXISTS:
                    raise
                created = False
                await videoroom.allowed(spec.room_id, "add", allowed)
                if spec.pin is not None:
                    await self._set_pin(spec.room_id, spec.pin)
                await self._set_recording(spec.room_id, spec.record_dir)
            try:
                await textroom.create(spec.text_room_id, description=spec.description[:100] or "meeting",
                                      allowed=allowed)
            except JanusPluginError as exc:
                if exc.code != TEXTROOM_ROOM_EXISTS:
                    raise
                await textroom.allowed(spec.text_room_id, "add", allowed)
        if spec.monitor:
            await self._ensure_monitor(spec.room_id)
        return created

    async def close_rooms(self, room_id: int, text_room_id: int) -> None:
        videoroom, textroom = self._rooms()
        self._pins.pop(room_id, None)
        monitor = self._monitors.pop(room_id, None)
        if monitor is not None:
            monitor.unsubscribe()
            with contextlib.suppress(EngineError):
                await monitor.handle.detach()
        await videoroom.destroy(room_id)
        await textroom.destroy(text_room_id)

    async def set_pin(self, room_id: int, pin: str) -> None:
        """Change the room's pin; people inside stay, joiners need the new one."""
        async with self._lock:
            await self._set_pin(room_id, pin)

    async def _set_pin(self, room_id: int, pin: str) -> None:
        videoroom, _ = self._rooms()
        self._pins[room_id] = pin
        await videoroom.handle.request({
            "request": "edit", "room": room_id, "secret": videoroom.secret(room_id),
            "admin_key": self.credentials.admin_key, "new_pin": pin,
        })

    async def allow(self, room_id: int, text_room_id: int, token: str, allowed: bool) -> None:
        videoroom, textroom = self._rooms()
        action = "add" if allowed else "remove"
        await videoroom.allowed(room_id, action, [token])
        await textroom.allowed(text_room_id, action, [token])

    async def kick(self, room_id: int, feed_id: int) -> None:
        videoroom, _ = self._rooms()
        try:
            await videoroom.kick(room_id, feed_id)
        except JanusPluginError as exc:
            if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                raise

    async def moderate(self, room_id: int, feed_id: int, mute: bool) -> None:
        """Block (or release) a publisher's audio in Janus, whatever its browser does."""
        videoroom, _ = self._rooms()
        for mid in self._audio_mids.get(feed_id) or ("0",):
            try:
                await videoroom.moderate(room_id, feed_id, mid=mid, mute=mute)
            except JanusPluginError as exc:
                if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                    raise

    # --- interpretation: speaker audio out, synthesized voices in -------------------------------

    async def forward_audio(self, room_id: int, feed_id: int, mid: str, host: str, port: int, ssrc: int) -> int:
        """Forward one publisher's audio as plain RTP (to an interpretation worker); the stream id."""
        videoroom, _ = self._rooms()
        forwarders = await videoroom.rtp_forward(room_id, feed_id, [ForwardTarget(mid=mid, port=port, ssrc=ssrc)],
                                                 host=host)
        if not forwarders:
            raise EngineError(f"janus made no forwarder for feed {feed_id}", retryable=True, engine="janus")
        return forwarders[0].stream_id

    async def stop_forward(self, room_id: int, feed_id: int, stream_id: int) -> None:
        videoroom, _ = self._rooms()
        try:
            await videoroom.stop_rtp_forward(room_id, feed_id, stream_id)
        except JanusPluginError as exc:
            if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                raise

    async def add_voice(self, room_id: int, display: str) -> RemotePublisher:
        """A plain-RTP publisher in the room for a synthesized voice (Opus, one audio stream)."""
        videoroom, _ = self._rooms()
        return await videoroom.add_remote_publisher(room_id, [RemoteStream(type="audio", mid="a0", mindex=0)],
                                                    display=display[:100])

    async def remove_voice(self, room_id: int, publisher_id: int) -> None:
        """Remote publishers outlive every session: whoever adds one must remove it."""
        videoroom, _ = self._rooms()
        await videoroom.remove_remote_publisher(room_id, publisher_id)

    async def clear_interpretation(self, room_id: int, voice_display: str) -> int:
        """Remove what an earlier interpretation owner of the room left behind (it died, or
        handed the meeting over): every RTP forwarder, and the remote publishers whose display
        starts with ``voice_display``. How many were removed."""
        videoroom, _ = self._rooms()
        removed = 0
        for forwarder in await videoroom.list_forwarders(room_id):
            await self.stop_forward(room_id, forwarder.publisher_id, forwarder.stream_id)
            removed += 1
        for participant in await videoroom.list_participants(room_id):
            if (participant.display or "").startswith(voice_display):
                await self.remove_voice(room_id, participant.id)
                removed += 1
        return removed

    async def set_recording(self, room_id: int, record_dir: Path | None) -> None:
        async with self._lock:
            await self._set_recording(room_id, record_dir)

    async def _set_recording(self, room_id: int, record_dir: Path | None) -> None:
        videoroom, _ = self._rooms()
        if record_dir is not None:
            # rec_dir can only be set by editing the room; then recording starts for every publisher.
            await videoroom.handle.request({
                "request": "edit", "room": room_id, "secret": videoroom.secret(room_id),
                "admin_key": self.credentials.admin_key, "new_rec_dir": str(record_dir),
            })
        await videoroom.handle.request({
            "request": "enable_recording", "room": room_id, "secret": videoroom.secret(room_id),
            "admin_key": self.credentials.admin_key, "record": record_dir is not None,
        })

    # --- the monitor ----------------------------------------------------------------------------

    async def _ensure_monitor(self, room_id: int) -> None:
        """Join the room as a silent participant to hear its talking / leaving events."""
        if room_id in self._monitors or self._client is None:
            return
        sessions = list(self._client.sessions.values())
        if not sessions:
            raise EngineError("janus session is gone", retryable=True, engine="janus")
        handle = await sessions[0].attach(VIDEOROOM)
        feed_id = secrets.randbelow(MONITOR_ID_LIMIT - 1) + 1
        unsubscribe = handle.on_event(lambda event: self._monitor_event(room_id, event))
        try:
            join: JsonObject = {"request": "join", "ptype": "publisher", "room": room_id, "id": feed_id,
                                "display": "parley", "token": self.monitor_token}
            if room_id in self._pins:
                join["pin"] = self._pins[room_id]
            await handle.send(join)
        except BaseException:
            unsubscribe()
            with contextlib.suppress(EngineError):
                await handle.detach()
            raise
        self._monitors[room_id] = _Monitor(handle, feed_id, unsubscribe)

    def monitor_handle(self, room_id: int) -> JanusHandle | None:
        monitor = self._monitors.get(room_id)
        return monitor.handle if monitor is not None else None

    def _monitor_event(self, room_id: int, event: JanusEvent) -> None:
        for parsed in parse_room_event(room_id, event):
            if parsed.kind == "published":
                self._audio_mids[parsed.feed_id] = parsed.audio_mids
            elif parsed.kind == "left":
                self._audio_mids.pop(parsed.feed_id, None)
            if parsed.feed_id < MONITOR_ID_LIMIT:
                continue
            try:
                self._events.put_nowait(parsed)
            except asyncio.QueueFull:
                log.warning("janus room events dropped (consumer too slow)")

    async def _deliver_events(self) -> None:
        while True:
            event = await self._events.get()
            for callback in list(self._event_callbacks):
                try:
                    await callback(event)
                except Exception:
                    log.exception("janus room event callback failed")


def _feed(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_room_event(room_id: int, event: JanusEvent) -> list[MediaEvent]:
    """The VideoRoom events Parley cares about, in Janus 1.1 shapes."""
    data = event.data
    kind = data.get("videoroom")
    out: list[MediaEvent] = []
    if kind in ("talking", "stopped-talking"):
        feed = _feed(data.get("id"))
        if feed is not None:
            out.append(MediaEvent(room_id, str(kind), feed))
        return out
    if kind not in ("event", "joined"):
        return out
    for publisher in data.get("publishers") or []:
        if not isinstance(publisher, dict):
            continue
        feed = _feed(publisher.get("id"))
        if feed is None:
            continue
        mids = tuple(
            str(s.get("mid")) for s in publisher.get("streams") or []
            if isinstance(s, dict) and s.get("type") == "audio" and not s.get("disabled")
        )
        out.append(MediaEvent(room_id, "published", feed, mids))
        if publisher.get("talking") is True:
            out.append(MediaEvent(room_id, "talking", feed))
    for key in ("leaving", "unpublished", "kicked"):
        feed = _feed(data.get(key))
        if feed is not None:
            out.append(MediaEvent(room_id, "left", feed))
    return out
