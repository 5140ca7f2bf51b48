"""One function decides the client address (`parley.web.client`), for routes and sockets."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import HTTPConnection

from parley.config import Config
from parley.errors import ConfigError
from parley.handlers.ratelimit import client_key
from parley.web.client import client_address, forwarded_client, trusted_networks

pytestmark = pytest.mark.unit

TRUSTED = trusted_networks(("10.0.0.0/8", "2001:db8:ffff::/48", "127.0.0.1"))


@pytest.mark.parametrize(("peer", "header", "client"), [
    ("203.0.113.5", "198.51.100.7", "203.0.113.5"),             # untrusted peer: header ignored
    ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),      # the client's own entries do not count
    ("10.0.0.2", "198.51.100.7, 10.9.9.9", "198.51.100.7"),     # a chain of trusted proxies
    ("10.0.0.2", "198.51.100.7:4711", "198.51.100.7"),
    ("10.0.0.2", "[2001:db8::1]:4711", "2001:db8::1"),
    ("10.0.0.2", "::ffff:198.51.100.7", "198.51.100.7"),
    ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),             # all trusted: the left-most
    ("10.0.0.2", "nonsense, 10.2.2.2", "10.2.2.2"),             # garbage: stop at the proxy that passed it
    ("10.0.0.2", "", "10.0.0.2"),
])
def test_the_right_most_untrusted_address_is_the_client(peer: str, header: str, client: str) -> None:
    assert forwarded_client(peer, [header] if header else [], TRUSTED) == client


def test_several_headers_read_as_one_list() -> None:
    assert forwarded_client("10.0.0.2", ["6.6.6.6", "198.51.100.7"], TRUSTED) == "198.51.100.7"


def connection(kind: str, headers: list[tuple[bytes, bytes]], trusted: tuple[str, ...]) -> HTTPConnection:
    config = Config.load(env={}, overrides={"server": {"trusted_proxies": list(trusted)}})
    app = SimpleNamespace(state=SimpleNamespace(server=SimpleNamespace(config=config)))
    return HTTPConnection({"type": kind, "path": "/", "headers": headers, "client": ("10.0.0.2", 5000), "app": app})


@pytest.mark.parametrize("kind", ["http", "websocket"])
def test_routes_and_sockets_get_the_same_answer(kind: str) -> None:
    headers = [(b"x-forwarded-for", b"198.51.100.7")]
    assert client_address(connection(kind, headers, ("10.0.0.0/8",))) == "198.51.100.7"
    assert client_address(connection(kind, headers, ())) == "10.0.0.2"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert Config.load(env={"PARLEY_SERVER_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}).server.trusted_proxies == (
        "127.0.0.1", "10.0.0.0/8")
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies"):
        Config.load(env={"PARLEY_SERVER_TRUSTED_PROXIES": "proxy.example.org"})


def test_limits_key_ipv6_clients_by_their_slash_64() -> None:
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert client_key("198.51.100.7") == "198.51.100.7" and client_key("unknown") == "unknown"
