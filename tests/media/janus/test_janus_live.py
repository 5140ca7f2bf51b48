"""A real Janus, started from the generated config inside a private network namespace.

Each test gets its own namespace and Janus (start to ready takes ~0.1 s), so nothing clashes
with other Janus instances on the machine. Skips when `janus`, root or `unshare` is missing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parley.config import JanusConfig
from parley.media.janus.admin import JanusAdmin, JanusTokens
from parley.media.janus.audiobridge import AudioBridge
from parley.media.janus.client import JanusClient, JanusError, JanusHandle, JanusPluginError
from parley.media.janus.process import Backoff, JanusProcess, JanusState
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import ForwardTarget, RemotePublisher, RemoteStream, VideoRoom
from tests.media.netns import Netns

pytestmark = pytest.mark.media

VIDEOROOM = "janus.plugin.videoroom"
TEXTROOM = "janus.plugin.textroom"
OPUS_SILENCE = b"\xf8\xff\xfe"  # one 20 ms Opus frame (CELT, silence)


@dataclass
class LiveJanus:
    process: JanusProcess
    restarted: asyncio.Event = field(default_factory=asyncio.Event)
    restarts: int = 0

    @property
    def api_secret(self) -> str:
        return self.process.credentials.api_secret

    @property
    def admin_key(self) -> str:
        return self.process.credentials.admin_key

    def client(self, **kwargs: object) -> JanusClient:
        return JanusClient.over_websocket(self.process.generated.ws_url, **kwargs)

    def admin(self) -> JanusAdmin:
        return JanusAdmin(self.process.generated.admin_url, self.process.credentials.admin_secret)


@pytest.fixture
async def janus(netns: Netns, janus_binary: str, tmp_path: Path) -> AsyncIterator[LiveJanus]:
    cfg = JanusConfig(binary=janus_binary, ice_enforce_list=netns.interface)
    live: LiveJanus

    async def on_restart() -> None:
        live.restarts += 1
        live.restarted.set()

    process = JanusProcess(cfg, tmp_path / "janus", on_restart=on_restart,
                           backoff=Backoff(initial=0.1, maximum=1.0))
    live = LiveJanus(process)
    await process.start()
    try:
        yield live
    finally:
        await process.stop()


@pytest.fixture
async def parley(janus: LiveJanus) -> AsyncIterator[JanusClient]:
    """Parley's own connection: the API secret."""
    async with janus.client(api_secret=janus.api_secret) as client:
        yield client


@pytest.fixture
async def videoroom(janus: LiveJanus, parley: JanusClient) -> VideoRoom:
    session = await parley.create_session()
    return await VideoRoom.attach(session, admin_key=janus.admin_key)


class UdpSink(asyncio.DatagramProtocol):
    """A local UDP port collecting datagrams (where interpretation would read forwarded RTP)."""

    def __init__(self) -> None:
        self.packets: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.put_nowait(data)


@pytest.fixture
async def udp_sink() -> AsyncIterator[tuple[UdpSink, int]]:
    loop = asyncio.get_running_loop()
    transport, sink = await loop.create_datagram_endpoint(UdpSink, local_addr=("127.0.0.1", 0))
    yield sink, transport.get_extra_info("sockname")[1]
    transport.close()


async def wait_for_event(handle: JanusHandle, kind: str) -> None:
    while (await handle.next_event()).janus != kind:
        pass


async def test_janus_starts_from_the_generated_config_and_is_ready(janus: LiveJanus, parley: JanusClient) -> None:
    info = await parley.info()

    assert janus.process.health.state is JanusState.READY
    assert info["version_string"] == "1.1.2"
    assert info["server-name"] == "parley"
    assert sorted(info["plugins"]) == sorted(
        ["janus.plugin.videoroom", "janus.plugin.audiobridge", "janus.plugin.streaming", "janus.plugin.textroom"]
    )
    assert sorted(info["transports"]) == ["janus.transport.http", "janus.transport.websockets"]
    assert info.get("events", {}) == {}
    assert info["api_secret"] is True and info["auth_token"] is True


async def test_requests_without_valid_credentials_are_refused(janus: LiveJanus) -> None:
    for credentials in ({}, {"token": "made-up"}, {"api_secret": "wrong"}):
        async with janus.client(**credentials) as client:
            with pytest.raises(JanusError) as caught:
                await client.create_session()
            assert caught.value.code == 403


async def test_an_issued_token_opens_only_its_plugins(janus: LiveJanus) -> None:
    async with janus.admin() as admin:
        tokens = JanusTokens(admin)
        captions_only = await tokens.issue(plugins=["textroom"])
        async with janus.client(token=captions_only) as browser:
            session = await browser.create_session()
            await session.attach(TEXTROOM)
            with pytest.raises(JanusError) as caught:
                await session.attach(VIDEOROOM)
        assert caught.value.code == 405

        await tokens.revoke(captions_only)
        async with janus.client(token=captions_only) as browser:
            with pytest.raises(JanusError) as refused:
                await browser.create_session()
        assert refused.value.code == 403


async def test_token_holder_can_use_but_not_create_rooms_without_the_admin_key(
    janus: LiveJanus, videoroom: VideoRoom
) -> None:
    room = await videoroom.create()
    async with janus.admin() as admin:
        token = await JanusTokens(admin).issue()
    async with janus.client(token=token) as browser:
        session = await browser.create_session()
        handle = await session.attach(VIDEOROOM)
        assert (await handle.request({"request": "exists", "room": room}))["exists"] is True
        with pytest.raises(JanusPluginError):
            await handle.request({"request": "create", "permanent": False})
        with pytest.raises(JanusPluginError):
            await handle.request({"request": "destroy", "room": room})

        with_key = VideoRoom(handle, admin_key=janus.admin_key)
        own = await with_key.create()
        await with_key.destroy(own)
        assert not await with_key.exists(own)
    assert await videoroom.exists(room)


async def test_videoroom_create_edit_destroy(videoroom: VideoRoom) -> None:
    room = await videoroom.create()
    assert await videoroom.exists(room)
    await videoroom.edit(room, description="renamed", pin="2468")
    assert room in await videoroom.list_rooms()
    assert await videoroom.allowed(room, "add", ["tok-1"]) == ["tok-1"]

    await videoroom.destroy(room)

    assert not await videoroom.exists(room)
    await videoroom.destroy(room)  # gone already: fine
    with pytest.raises(JanusPluginError) as caught:
        await videoroom.destroy(room, missing_ok=False)
    assert caught.value.code == 426


async def test_rtp_forward_listforwarders_stop_and_remote_publisher_round_trip(videoroom: VideoRoom) -> None:
    room = await videoroom.create()
    remote = await videoroom.add_remote_publisher(
        room, [RemoteStream(type="audio", mid="0", mindex=0, codec="opus")], display="Voice (fr)"
    )
    assert [(p.id, p.publisher) for p in await videoroom.list_participants(room)] == [(remote.id, True)]

    forwarders = await videoroom.rtp_forward(room, remote.id, [ForwardTarget(mid="0", port=40000, ssrc=4242)])
    assert [(f.type, f.port, f.ssrc) for f in forwarders] == [("audio", 40000, 4242)]
    assert await videoroom.list_forwarders(room) == forwarders

    await videoroom.stop_rtp_forward(room, remote.id, forwarders[0].stream_id)
    assert await videoroom.list_forwarders(room) == []

    await videoroom.remove_remote_publisher(room, remote.id)
    assert await videoroom.list_participants(room) == []
    await videoroom.destroy(room)


async def test_forwarding_needs_the_admin_key(janus: LiveJanus, videoroom: VideoRoom) -> None:
    room = await videoroom.create()
    remote = await videoroom.add_remote_publisher(room, [RemoteStream(type="audio", mid="0", mindex=0)])
    keyless = VideoRoom(videoroom.handle, admin_key="wrong", secret_key=janus.admin_key)

    with pytest.raises(JanusPluginError):
        await keyless.rtp_forward(room, remote.id, [ForwardTarget(mid="0", port=40002)])
    assert await videoroom.list_forwarders(room) == []


async def test_rtp_sent_to_a_remote_publisher_comes_out_of_its_forwarder(
    videoroom: VideoRoom, udp_sink: tuple[UdpSink, int]
) -> None:
    sink, port = udp_sink
    room = await videoroom.create()
    remote = await videoroom.add_remote_publisher(room, [RemoteStream(type="audio", mid="0", mindex=0, codec="opus")])
    await videoroom.rtp_forward(room, remote.id, [ForwardTarget(mid="0", port=port, pt=111)])
    loop = asyncio.get_running_loop()
    sender, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=(remote.ip, remote.port))
    try:
        ssrc = RemotePublisher.ssrc_for(0)
        async with asyncio.timeout(10):
            seq = 0
            while sink.packets.qsize() < 10:
                sender.sendto(struct.pack("!BBHII", 0x80, 111, seq, seq * 960, ssrc) + OPUS_SILENCE)
                seq += 1
                await asyncio.sleep(0.02)
    finally:
        sender.close()
    packet = await sink.packets.get()
    version, payload_type = packet[0] >> 6, packet[1] & 0x7F
    assert (version, payload_type) == (2, 111)
    assert packet[12:] == OPUS_SILENCE


async def test_webrtc_publisher_audio_reaches_an_rtp_forwarder(
    janus: LiveJanus, parley: JanusClient, videoroom: VideoRoom, udp_sink: tuple[UdpSink, int]
) -> None:
    aiortc = pytest.importorskip("aiortc", reason="aiortc is not installed (pip install -e .[media])")
    from aiortc.mediastreams import AudioStreamTrack

    sink, port = udp_sink
    room = await videoroom.create()
    publisher = await (await parley.create_session()).attach(VIDEOROOM)
    joined = await publisher.send({"request": "join", "ptype": "publisher", "room": room, "display": "Ada"})
    publisher_id = int(joined.data["id"])
    # Inside the namespace the only non-loopback address aioice sees is 127.0.0.2 on jx0.
    pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    try:
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        answer = await publisher.send({"request": "publish"},
                                      jsep={"type": "offer", "sdp": pc.localDescription.sdp})
        assert answer.asynchronous and answer.data.get("configured") == "ok" and answer.jsep is not None
        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=answer.jsep["sdp"], type="answer"))
        async with asyncio.timeout(15):
            await wait_for_event(publisher, "webrtcup")

        forwarders = await videoroom.rtp_forward(room, publisher_id, [ForwardTarget(mid="0", port=port)])
        async with asyncio.timeout(10):
            packets = [await sink.packets.get() for _ in range(10)]
        await videoroom.stop_rtp_forward(room, publisher_id, forwarders[0].stream_id)
    finally:
        await pc.close()

    assert all(p[0] >> 6 == 2 for p in packets)
    assert len({p[8:12] for p in packets}) == 1  # one SSRC
    sequence = [struct.unpack("!H", p[2:4])[0] for p in packets]
    assert len(set(sequence)) == len(sequence)


async def test_textroom_create_announce_destroy(janus: LiveJanus, parley: JanusClient) -> None:
    textroom = await TextRoom.attach(await parley.create_session(), admin_key=janus.admin_key)

    room = await textroom.create(description="captions")
    await textroom.announcement(room, "caption")
    assert await textroom.list_participants(room) == []
    await textroom.destroy(room)

    assert not await textroom.exists(room)
    with pytest.raises(JanusPluginError) as caught:
        await textroom.destroy(room, missing_ok=False)
    assert caught.value.code == 417


async def test_audiobridge_mix_forwarder_sends_rtp_and_stops(
    janus: LiveJanus, parley: JanusClient, udp_sink: tuple[UdpSink, int]
) -> None:
    sink, port = udp_sink
    bridge = await AudioBridge.attach(await parley.create_session(), admin_key=janus.admin_key)
    room = await bridge.create(description="floor")
    assert await bridge.exists(room) and await bridge.list_participants(room) == []

    forwarder = await bridge.rtp_forward(room, port, ptype=100, always_on=True)
    async with asyncio.timeout(10):
        packet = await sink.packets.get()
    listed = await bridge.list_forwarders(room)
    await bridge.stop_rtp_forward(room, forwarder.stream_id)

    assert (packet[0] >> 6, packet[1] & 0x7F) == (2, 100)
    assert [(f.stream_id, f.port, f.codec, f.always_on) for f in listed] == [(forwarder.stream_id, port, "opus", True)]
    assert await bridge.list_forwarders(room) == []
    await bridge.destroy(room)
    with pytest.raises(JanusPluginError) as caught:
        await bridge.destroy(room, missing_ok=False)
    assert caught.value.code == 485


async def test_admin_sees_our_session_and_handle(janus: LiveJanus, parley: JanusClient) -> None:
    session = await parley.create_session()
    handle = await session.attach(TEXTROOM)
    async with janus.admin() as admin:
        assert session.id in await admin.list_sessions()
        assert await admin.list_handles(session.id) == [handle.id]
        info = await admin.handle_info(session.id, handle.id)
    assert info["plugin"] == TEXTROOM


async def test_killed_janus_is_restarted_and_on_restart_fires(janus: LiveJanus) -> None:
    lost = asyncio.Event()
    async with janus.client(api_secret=janus.api_secret) as before:
        before.on_disconnect(lost.set)
        await before.create_session()
        old_pid = janus.process.health.pid
        assert old_pid is not None

        os.kill(old_pid, signal.SIGKILL)
        async with asyncio.timeout(15):
            await lost.wait()
            await janus.restarted.wait()
            await janus.process.wait_ready()

    health = janus.process.health
    assert health.state is JanusState.READY
    assert health.restarts == janus.restarts == 1
    assert health.pid not in (None, old_pid)
    assert health.last_exit_code == -signal.SIGKILL
    async with janus.client(api_secret=janus.api_secret) as after:
        assert (await after.info())["janus"] == "server_info"


async def test_stop_leaves_no_janus_behind(netns: Netns, janus_binary: str, tmp_path: Path) -> None:
    process = JanusProcess(JanusConfig(binary=janus_binary, ice_enforce_list=netns.interface), tmp_path / "j")
    await process.start()
    pid = process.health.pid
    assert pid is not None

    await process.stop()

    assert process.health.state is JanusState.STOPPED
    assert not _alive(pid)


async def test_start_replaces_a_janus_left_behind_on_the_same_work_dir(
    netns: Netns, janus_binary: str, tmp_path: Path
) -> None:
    cfg = JanusConfig(binary=janus_binary, ice_enforce_list=netns.interface)
    orphan = JanusProcess(cfg, tmp_path / "j")
    await orphan.start()
    orphan_pid = orphan.health.pid
    orphan_proc = orphan._proc
    assert orphan_pid is not None and orphan_proc is not None
    await orphan._tasks.stop()  # a Parley that crashed: nobody supervises or stops this Janus,
    orphan._release_work_dir()  # and its lock on the folder died with it

    successor = JanusProcess(cfg, tmp_path / "j")
    try:
        await successor.start()  # would fail to bind its ports if the orphan still ran
        assert successor.health.ready and successor.health.pid != orphan_pid
        async with asyncio.timeout(5):
            assert await orphan_proc.wait() == -signal.SIGKILL
    finally:
        await successor.stop()
        await orphan.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone once reaped.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()

