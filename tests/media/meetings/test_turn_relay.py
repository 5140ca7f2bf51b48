"""Participants behind NAT and firewalls: media through the TURN relay.

In the private namespace: Parley's supervised Janus on jx0 (127.0.0.2, plus 127.0.0.3), a real
coturn listening and relaying on 127.0.0.3 from the turnserver.conf `parley turn config`
writes (shared secret, private peers denied except Janus's addresses, TLS on 443 with a
self-signed certificate), and an nftables rule that drops every UDP datagram to Janus's RTP
ports unless it comes from coturn's relay ports. aiortc bots get their ICE servers, TURN
credentials included, from /me/connect as a browser does, and must hear each other anyway.
Skips without root/namespaces, janus, coturn (turnserver), nftables, openssl, espeak-ng or sox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.config import Config
from parley.media.coturn import render_turnserver_conf
from parley.media.turn import TurnIssuer
from tests.fakes.clock import FakeClock
from tests.media.meetings.bots import Bot, best_correlation, hear_each_other, read_wav
from tests.media.meetings.room import Room
from tests.media.netns import Netns
from tests.meetings.scenario import Setup

pytestmark = [pytest.mark.media, pytest.mark.slow]

TURN_IP = "127.0.0.3"
TLS_PORT = 443
# coturn relays from these ports: above the namespace's ephemeral ports (32768-60999), so a bot
# sending straight to Janus never uses one and the firewall can tell relayed media apart.
RELAY_PORTS = (61000, 61999)
JANUS_RTP = (20000, 20999)
SECRET = "relay-test-secret"
# Speech through Opus and back, compared at 8 kHz (as in test_meeting_media).
SAME_AUDIO = 0.45
FIREWALL = "parley_turn_test"


@pytest.fixture
def tls_cert(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "turn-cert.pem", tmp_path / "turn-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=turn.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def config(tmp_path: Path, netns: Netns, janus_binary: str, tls_cert: tuple[Path, Path]) -> Config:
    """The media tests' config plus a [turn] section for a coturn on 127.0.0.3."""
    for tool, package in (("turnserver", "coturn"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install -y {package})")
    # On jx0 beside Janus's address: Janus's sockets are bound to jx0 and answer 127.0.0.3 through it.
    subprocess.run(["ip", "addr", "add", f"{TURN_IP}/32", "dev", netns.interface], check=True, timeout=10)
    cert, key = tls_cert
    return Config.load(env={}, overrides={
        "server": {"data_dir": str(tmp_path / "data"), "secret_key": "test-secret-key"},
        "database": {"url": f"sqlite:///{tmp_path / 'data' / 'parley.sqlite3'}"},
        "janus": {"enabled": True, "binary": janus_binary, "ice_enforce_list": netns.interface,
                  "work_dir": str(tmp_path / "janus"), "rtp_port_min": JANUS_RTP[0], "rtp_port_max": JANUS_RTP[1]},
        "interpretation": {"enabled": False},
        "turn": {
            "urls": [f"turn:{TURN_IP}:3478?transport=udp", f"turn:{TURN_IP}:3478?transport=tcp",
                     f"turns:{TURN_IP}:{TLS_PORT}?transport=tcp"],
            "secret": SECRET, "ttl_seconds": 600, "listening_ips": [TURN_IP], "relay_ip": TURN_IP,
            "min_port": RELAY_PORTS[0], "max_port": RELAY_PORTS[1], "tls_port": TLS_PORT,
            "cert_file": str(cert), "key_file": str(key),
            # Janus's addresses in the namespace; 127.x peers need the loopback switch as well.
            "allowed_peer_ips": ["127.0.0.2", TURN_IP], "allow_loopback_peers": True,
        },
    })


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((TURN_IP, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def coturn(config: Config, tmp_path: Path) -> Iterator[Path]:
    """A real turnserver on the generated config; its folder (log in turn.log)."""
    folder = tmp_path / "coturn"
    folder.mkdir()
    conf = folder / "turnserver.conf"
    conf.write_text(render_turnserver_conf(config.turn, log_file=str(folder / "turn.log"),
                                           pid_file=str(folder / "turn.pid")))
    conf.chmod(0o600)
    proc = subprocess.Popen(["turnserver", "-c", str(conf), "--userdb", str(folder / "turndb")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (_listening(3478) and _listening(TLS_PORT)):
            assert proc.poll() is None, f"turnserver exited: {(folder / 'turn.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "turnserver did not start listening within 30 s"
            time.sleep(0.05)
        yield folder
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def direct_udp_dropped(config: Config) -> Iterator[Callable[[], int]]:
    """Drop UDP to Janus's RTP ports from anything but coturn's relay ports; returns a counter."""
    rules = (f"table inet {FIREWALL} {{ chain input {{ type filter hook input priority 0; policy accept; "
             f"udp dport {JANUS_RTP[0]}-{JANUS_RTP[1]} udp sport != {RELAY_PORTS[0]}-{RELAY_PORTS[1]} "
             f"counter drop; }}; }}")
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, capture_output=True, timeout=10)

    def dropped() -> int:
        listing = subprocess.run(["nft", "list", "table", "inet", FIREWALL], text=True, check=True,
                                 capture_output=True, timeout=10).stdout
        match = re.search(r"counter packets (\d+)", listing)
        assert match is not None, listing
        return int(match.group(1))

    yield dropped
    subprocess.run(["nft", "delete", "table", "inet", FIREWALL], capture_output=True, timeout=10)


def relay_over(info: dict[str, Any], transport: str) -> list[dict[str, Any]]:
    """The TURN entry Parley gave this participant, narrowed to one transport (aiortc uses the
    first TURN URL only)."""
    [relay] = [s for s in info["ice_servers"] if any(u.startswith("turn") for u in s["urls"])]
    urls = [u for u in relay["urls"] if u.startswith("turn:") and u.endswith(f"transport={transport}")]
    return [{**relay, "urls": urls}]


def nominated_types(bot: Bot) -> set[str]:
    """The local candidate type of every peer connection's chosen pair (aioice internals)."""
    types = set()
    for pc in bot.pcs:
        ice = pc.getTransceivers()[0].receiver.transport.transport
        types |= {pair.local_candidate.type for pair in ice._connection._nominated.values()}
    return types


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_media_flows_through_the_relay_when_direct_udp_to_janus_is_dropped(
    room: Room, setup: Setup, coturn: Path, direct_udp_dropped: Callable[[], int], speech: Path,
    other_speech: Path, transport: str,
) -> None:
    bruno = await room.bot(setup.people.bruno, "Bruno Silva")
    chen = await room.bot(setup.people.chen, "Chen Wei")
    for bot in (bruno, chen):
        # Each person's own time-limited credential, named after them.
        [relay] = relay_over(bot.info, transport)
        expiry, _, ident = relay["username"].partition(":")
        assert ident == str(bot.info["participant_id"]) and int(expiry) > time.time()
        bot.ice_servers = [relay]
    assert bruno.ice_servers[0]["credential"] != chen.ice_servers[0]["credential"]
    try:
        heard_by_chen, heard_by_bruno = await hear_each_other(bruno, other_speech, chen, speech)

        assert best_correlation(read_wav(other_speech), heard_by_chen.audio(6)) > SAME_AUDIO
        assert best_correlation(read_wav(speech), heard_by_bruno.audio(6)) > SAME_AUDIO
        # Every path goes through coturn; the direct attempts hit the firewall.
        assert nominated_types(bruno) == nominated_types(chen) == {"relay"}
        assert direct_udp_dropped() > 0
    except BaseException:
        print((coturn / "turn.log").read_text()[-4000:])
        raise
    finally:
        await bruno.close()
        await chen.close()


class _Relayed(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.errors: asyncio.Queue[Exception] = asyncio.Queue()

    def error_received(self, exc: Exception) -> None:
        self.errors.put_nowait(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def allocate(username: str, password: str, *, transport: str = "udp", port: int = 3478,
                   tls: ssl.SSLContext | None = None, peer: tuple[str, int] | None = None) -> tuple[str, int]:
    """A TURN allocation on coturn with these credentials; returns the relayed address. With
    ``peer``: sending there must be refused (the error is raised)."""
    from aioice.turn import create_turn_endpoint

    async with asyncio.timeout(30):
        relayed, protocol = await create_turn_endpoint(_Relayed, (TURN_IP, port), username, password,
                                                       transport=transport, ssl=tls)
        address: tuple[str, int] = relayed.get_extra_info("sockname")
        try:
            if peer is not None:
                relayed.sendto(b"hello", peer)
                raise await protocol.errors.get()
        finally:
            relayed.close()
            await protocol.closed.wait()
    return address


async def refused(username: str, password: str) -> int:
    from aioice.stun import TransactionFailed

    with pytest.raises(TransactionFailed) as failure:
        await allocate(username, password)
    code: int = failure.value.response.attributes["ERROR-CODE"][0]
    return code


async def test_coturn_takes_parleys_credentials_over_udp_tcp_and_tls_and_refuses_expired_or_forged_ones(
    config: Config, coturn: Path,
) -> None:
    # A fake clock set to real time: coturn checks the expiry against its own clock.
    clock = FakeClock(datetime.now(UTC))
    good = TurnIssuer(config.turn, clock).issue("amina")
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # the test's self-signed certificate
    for transport, port, context in (("udp", 3478, None), ("tcp", 3478, None), ("tcp", TLS_PORT, tls)):
        host, relay_port = await allocate(good.username, good.password, transport=transport, port=port, tls=context)
        assert host == TURN_IP and RELAY_PORTS[0] <= relay_port <= RELAY_PORTS[1]

    # The relay reaches Janus's addresses only, not other local or private ones.
    from aioice.stun import TransactionFailed

    with pytest.raises(TransactionFailed) as denied:
        await allocate(good.username, good.password, peer=("127.0.0.1", 9))
    assert denied.value.response.attributes["ERROR-CODE"][0] == 403

    # Issued two TTLs ago: expired a TTL ago, although correctly signed.
    past = FakeClock(datetime.now(UTC) - timedelta(seconds=2 * config.turn.ttl_seconds))
    expired = TurnIssuer(config.turn, past).issue("amina")
    assert await refused(expired.username, expired.password) == 401
    # Signed with a guessed secret; a longer expiry with the old signature; no signature at all.
    forged = TurnIssuer(dataclasses.replace(config.turn, secret="guessed"), clock).issue("amina")
    assert await refused(forged.username, forged.password) == 401
    expiry, _, ident = good.username.partition(":")
    assert await refused(f"{int(expiry) + 86400}:{ident}", good.password) == 401
    assert await refused("amina", SECRET) == 401
