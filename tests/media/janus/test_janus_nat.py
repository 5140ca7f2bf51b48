"""A real Janus behind 1:1 NAT: the public address from ``janus.nat_1_1_mapping`` is what it
advertises, and ``keep_private_host`` keeps its own address beside it. In a private namespace;
the "public" address is 127.0.0.9 so nothing targets an address outside the machine."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from parley.config import JanusConfig
from parley.media.janus.client import JanusClient
from parley.media.janus.process import JanusProcess
from parley.media.janus.videoroom import VideoRoom
from tests.media.netns import Netns

pytestmark = pytest.mark.media

PUBLIC = "127.0.0.9"


async def janus_candidates(netns: Netns, janus_binary: str, folder: Path, *, keep_private_host: bool) -> set[str]:
    """The addresses of the host candidates in Janus's answer to an aiortc publisher."""
    aiortc = pytest.importorskip("aiortc", reason="aiortc is not installed (pip install -e .[media])")
    from aiortc.mediastreams import AudioStreamTrack

    cfg = JanusConfig(binary=janus_binary, ice_enforce_list=netns.interface, nat_1_1_mapping=PUBLIC,
                      keep_private_host=keep_private_host)
    process = JanusProcess(cfg, folder)
    await process.start()
    pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    try:
        creds = process.credentials
        async with JanusClient.over_websocket(process.generated.ws_url, api_secret=creds.api_secret) as parley:
            session = await parley.create_session()
            room = await (await VideoRoom.attach(session, admin_key=creds.admin_key)).create()
            publisher = await session.attach("janus.plugin.videoroom")
            await publisher.send({"request": "join", "ptype": "publisher", "room": room, "display": "Ada"})
            pc.addTrack(AudioStreamTrack())
            await pc.setLocalDescription(await pc.createOffer())
            async with asyncio.timeout(15):
                answer = await publisher.send({"request": "publish"},
                                              jsep={"type": "offer", "sdp": pc.localDescription.sdp})
            assert answer.jsep is not None
            return set(re.findall(r"a=candidate:\S+ \d \S+ \d+ (\S+) \d+ typ host", answer.jsep["sdp"]))
    finally:
        await pc.close()
        await process.stop()


async def test_janus_advertises_the_mapped_public_address(netns: Netns, janus_binary: str, tmp_path: Path) -> None:
    assert await janus_candidates(netns, janus_binary, tmp_path / "a", keep_private_host=False) == {PUBLIC}
    both = await janus_candidates(netns, janus_binary, tmp_path / "b", keep_private_host=True)
    assert both == {PUBLIC, netns.address}
