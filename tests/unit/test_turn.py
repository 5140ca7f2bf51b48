"""TURN for browsers behind NAT: coturn's shared-secret credentials, the [turn] config section,
the ICE servers a browser gets, and the turnserver.conf `parley turn config` prints."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from tests.fakes.clock import FakeClock

from parley.config import Config, JanusConfig, TurnConfig
from parley.errors import ConfigError
from parley.media.coturn import render_turnserver_conf
from parley.media.janus.config import JanusCredentials
from parley.media.janus.service import JanusService
from parley.media.turn import TurnIssuer, turn_password

pytestmark = pytest.mark.unit

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
URLS = ("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp")
TURN = TurnConfig(urls=URLS, secret="north", ttl_seconds=3600)


def test_the_password_is_base64_of_hmac_sha1_of_the_username() -> None:
    expected = base64.b64encode(hmac.new(b"north", b"1780318800:p7", hashlib.sha1).digest()).decode()
    assert turn_password("north", "1780318800:p7") == expected
    # 20 bytes of SHA-1 in base64; another secret signs something else (coturn's live check:
    # tests/media/test_turn_relay.py).
    assert len(expected) == 28 and turn_password("other", "1780318800:p7") != expected


def test_a_credential_expires_ttl_seconds_after_the_clocks_now_and_names_the_person() -> None:
    clock = FakeClock(START)
    credential = TurnIssuer(TURN, clock).issue(7)
    expiry = int(START.timestamp()) + 3600
    assert credential.username == f"{expiry}:7"
    assert credential.password == turn_password("north", credential.username)
    assert credential.expires_at == datetime.fromtimestamp(expiry, UTC)
    assert "north" not in repr(credential) and credential.password not in repr(credential)

    clock.advance(600)
    later = TurnIssuer(TURN, clock).issue(7)
    assert later.username == f"{expiry + 600}:7" and later.password != credential.password


def test_the_id_part_holds_only_safe_characters_and_is_random_when_not_given() -> None:
    issuer = TurnIssuer(TURN, FakeClock(START))
    assert issuer.issue("a:b c\n").username.split(":", 1)[1] == "a-b-c-"
    one, two = issuer.issue().username, issuer.issue().username
    assert one != two and one.count(":") == 1


def test_without_urls_or_secret_no_turn_server_is_offered() -> None:
    assert TurnIssuer(TurnConfig(), FakeClock(START)).ice_server(1) is None
    assert TurnIssuer(TurnConfig(secret="north"), FakeClock(START)).ice_server(1) is None


def service(janus: JanusConfig, turn: TurnConfig | None, clock: FakeClock) -> JanusService:
    def unused(url: str) -> object:
        raise AssertionError("no connection in this test")

    return JanusService(
        janus, clock, credentials=JanusCredentials("a", "b", "c"), connect=unused, admin=unused,  # type: ignore[arg-type]
        turn=TurnIssuer(turn, clock) if turn is not None else None,
    )


def test_a_browser_gets_the_static_stun_servers_and_turn_with_its_own_fresh_credential() -> None:
    clock = FakeClock(START)
    janus = service(JanusConfig(ice_servers=("stun:stun.example.org:3478",)), TURN, clock)

    first = janus.browser_config(7).ice_servers
    assert first[0] == {"urls": "stun:stun.example.org:3478"}
    relay = first[1]
    assert relay["urls"] == list(URLS)
    assert relay["username"] == f"{int(START.timestamp()) + 3600}:7"
    assert relay["credential"] == turn_password("north", relay["username"])

    clock.advance(60)
    other = janus.browser_config(8).ice_servers[1]
    assert other["username"] == f"{int(START.timestamp()) + 3660}:8" and other["credential"] != relay["credential"]


def test_without_turn_the_ice_servers_are_as_before() -> None:
    clock = FakeClock(START)
    stun_only = JanusConfig(ice_servers=("stun:stun.example.org:3478",))
    assert service(stun_only, None, clock).browser_config(1).ice_servers == [{"urls": "stun:stun.example.org:3478"}]
    assert service(JanusConfig(), TurnConfig(), clock).browser_config().ice_servers == []


def test_the_turn_section_comes_from_the_environment_and_hides_its_secret() -> None:
    config = Config.load(env={"PARLEY_TURN_URLS": ",".join(URLS), "PARLEY_TURN_SECRET": "north",
                              "PARLEY_TURN_TTL_SECONDS": "600"})
    assert config.turn.urls == URLS and config.turn.ttl_seconds == 600
    assert "north" not in repr(config.turn)
    assert config.redacted()["turn"]["secret"] == "***"


@pytest.mark.parametrize(
    ("turn", "key"),
    [
        ({"urls": ["stun:stun.example.org"], "secret": "s"}, "turn.urls"),
        ({"urls": ["turn:turn.example.org"]}, "turn.secret"),
        ({"ttl_seconds": 10}, "turn.ttl_seconds"),
        ({"realm": "two words"}, "turn.realm"),
        ({"min_port": 50000, "max_port": 40000}, "turn.min_port"),
        ({"relay_ip": "turn.example.org"}, "turn.relay_ip"),
        ({"allowed_peer_ips": ["10.0.0.5", "janus"]}, "turn.allowed_peer_ips"),
        ({"external_ip": "203.0.113.9/ten"}, "turn.external_ip"),
        ({"cert_file": "/etc/turn/cert.pem"}, "turn.cert_file"),
    ],
)
def test_a_bad_turn_setting_names_its_key(turn: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.load(env={}, overrides={"turn": turn})
    assert refused.value.key == key


def conf_lines(turn: TurnConfig, **kwargs: str) -> list[str]:
    return render_turnserver_conf(turn, **kwargs).splitlines()


def test_the_coturn_config_accepts_only_shared_secret_credentials() -> None:
    lines = conf_lines(TurnConfig(urls=URLS, secret="north", realm="parley.example.org"))
    assert "use-auth-secret" in lines and "static-auth-secret=north" in lines
    assert "realm=parley.example.org" in lines
    assert "no-cli" in lines and "no-tcp-relay" in lines and "no-multicast-peers" in lines
    assert "allow-loopback-peers" not in lines
    assert not any(line.startswith(("user=", "lt-cred-mech", "cli-password")) for line in lines)


def test_the_coturn_config_listens_relays_and_serves_tls_on_443() -> None:
    lines = conf_lines(TurnConfig(
        secret="north", listening_ips=("10.0.0.4",), relay_ip="10.0.0.4", external_ip="203.0.113.9/10.0.0.4",
        cert_file="/etc/letsencrypt/live/turn/fullchain.pem", key_file="/etc/letsencrypt/live/turn/privkey.pem",
        min_port=40000, max_port=49999,
    ))
    for line in ("listening-ip=10.0.0.4", "relay-ip=10.0.0.4", "external-ip=203.0.113.9/10.0.0.4",
                 "listening-port=3478", "tls-listening-port=443", "min-port=40000", "max-port=49999",
                 'cert="/etc/letsencrypt/live/turn/fullchain.pem"', 'pkey="/etc/letsencrypt/live/turn/privkey.pem"',
                 "no-tlsv1", "no-tlsv1_1", "syslog"):
        assert line in lines
    assert "no-tls" not in lines
    assert "no-tls" in conf_lines(TURN) and not any(line.startswith("tls-listening-port") for line in conf_lines(TURN))


def test_private_peers_are_refused_except_janus() -> None:
    lines = conf_lines(TurnConfig(secret="north", allowed_peer_ips=("10.0.0.7",)))
    denied = [line.removeprefix("denied-peer-ip=") for line in lines if line.startswith("denied-peer-ip=")]
    for span in ("10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255",
                 "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255", "100.64.0.0-100.127.255.255",
                 "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1-::1"):
        assert span in denied
    assert "allowed-peer-ip=10.0.0.7" in lines


def test_the_coturn_config_needs_the_secret_and_refuses_injected_lines() -> None:
    with pytest.raises(ConfigError) as empty:
        render_turnserver_conf(TurnConfig())
    assert empty.value.key == "turn.secret"
    with pytest.raises(ConfigError) as injected:
        render_turnserver_conf(TurnConfig(secret="north\nallow-loopback-peers"))
    assert injected.value.key == "turn.secret"


def test_parley_turn_config_prints_the_file_and_turn_credential_one_credential(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from parley.cli.__main__ import main

    config = Config.load(env={"PARLEY_TURN_SECRET": "north", "PARLEY_TURN_REALM": "turn.example.org"})
    monkeypatch.setattr(Config, "load", classmethod(lambda cls, *a, **k: config))
    assert main(["turn", "config", "--log-file", "stdout"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "static-auth-secret=north" in printed and "realm=turn.example.org" in printed
    assert 'log-file="stdout"' in printed

    assert main(["turn", "credential", "--id", "ops"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    username, password = lines["username"].strip(), lines["password"].strip()
    assert username.endswith(":ops") and password == turn_password("north", username)


def test_parley_turn_config_without_a_secret_says_which_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from parley.cli.__main__ import main

    config = Config.load(env={})
    monkeypatch.setattr(Config, "load", classmethod(lambda cls, *a, **k: config))
    assert main(["turn", "config"]) == 2
    assert "turn.secret" in capsys.readouterr().err
