"""Who the client is, for every route and socket: the TCP peer, or, when that peer is one of
``server.trusted_proxies``, the address those proxies say they were connected from.

``X-Forwarded-For`` is a list each proxy appends its own peer to, so only its right end can
be believed: walking from the right, entries written by trusted proxies are skipped and the
first address that is not a trusted proxy is the client. Anything to its left was written
by the client itself and is ignored. With no trusted proxies the header is never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

from parley.web.auth import server_of

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


def client_address(conn: HTTPConnection) -> str:
    """The client's IP address as text (``unknown`` when the server gives none)."""
    peer = conn.client.host if conn.client else UNKNOWN
    trusted = trusted_networks(server_of(conn).config.server.trusted_proxies)
    if not trusted:
        return peer
    return forwarded_client(peer, conn.headers.getlist("x-forwarded-for"), trusted)


def forwarded_client(peer: str, headers: Sequence[str], trusted: Sequence[Network]) -> str:
    """The right-most address of ``peer`` then ``X-Forwarded-For`` (read right to left) that
    is not a trusted proxy; the left-most trusted one when all are."""
    current = peer
    hops = [hop.strip() for header in headers for hop in header.split(",")]
    for hop in [peer, *reversed(hops)]:
        address = _parse(hop)
        if address is None:
            return current  # garbage the last trusted proxy passed on: stop at that proxy
        current = str(address)
        if not any(address in network for network in trusted):
            return current
    return current


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``server.trusted_proxies`` parsed once (config validation already refused bad ones)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(hop: str) -> Address | None:
    """An address, also written with a port (``192.0.2.1:4711``, ``[2001:db8::1]:4711``)."""
    text = hop
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
