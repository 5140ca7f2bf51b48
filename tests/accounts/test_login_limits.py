"""Login limits behind a reverse proxy, and limits an attacker cannot turn against everyone
(`parley.handlers.login_limits`, `parley.web.client`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.server import Server
from parley.storage.models import User
from tests.conftest import PASSWORD, behind_proxy, trust_proxies
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]
From = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def via(app: Any, server: Server) -> AsyncIterator[From]:
    """Clients behind the trusted proxy 10.0.0.0/8, each with its own forwarded address."""
    trust_proxies(server, "10.0.0.0/8", "fd00::/8")
    clients: list[httpx.AsyncClient] = []

    def factory(forwarded_for: str, peer: str = "10.0.0.2") -> httpx.AsyncClient:
        clients.append(behind_proxy(app, forwarded_for, peer))
        return clients[-1]

    yield factory
    for c in clients:
        await c.aclose()


async def log_in(c: httpx.AsyncClient, user: User, password: str = PASSWORD) -> int:
    c.cookies.clear()  # each attempt as a fresh browser: a logged-in one would need its CSRF token
    return (await c.post("/api/v1/session", json={"email": user.email, "password": password})).status_code


async def test_one_client_behind_the_proxy_does_not_lock_out_the_others(
    server: Server, via: From, make_user: MakeUser
) -> None:
    victim, other = await make_user(), await make_user()
    attacker = via("198.51.100.7")
    for _ in range(server.config.auth.login_attempts_per_minute):
        assert await log_in(attacker, victim, "guess guess") == 401
    assert await log_in(attacker, victim) == 429
    assert await log_in(via("198.51.100.8"), other) == 200
    assert await log_in(via("198.51.100.9"), victim) == 200  # the owner, from their own client


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    server: Server, via: From, make_user: MakeUser
) -> None:
    user = await make_user()
    for n in range(server.config.auth.login_attempts_per_minute):
        assert await log_in(via(f"198.51.100.{n}", peer="203.0.113.5"), user, "guess guess") == 401
    assert await log_in(via("198.51.100.200", peer="203.0.113.5"), user) == 429


async def test_addresses_the_client_writes_itself_are_ignored(
    server: Server, via: From, make_user: MakeUser
) -> None:
    """Only the right-most untrusted address counts: a client cannot pose as many."""
    user = await make_user()
    for n in range(server.config.auth.login_attempts_per_minute):
        assert await log_in(via(f"192.0.2.{n}, 198.51.100.7, 10.1.1.1"), user, "guess guess") == 401
    assert await log_in(via("192.0.2.200, 198.51.100.7"), user) == 429
    assert await log_in(via("198.51.100.7, 198.51.100.8"), user) == 200


async def test_failures_per_account_and_client_outlast_the_minute_and_a_success_clears_them(
    server: Server, via: From, make_user: MakeUser, clock: FakeClock
) -> None:
    user, other = await make_user(), await make_user()
    guesser = via("198.51.100.7")
    per_pair = server.config.auth.login_failures_per_client
    for n in range(per_pair):
        if n and n % 5 == 0:
            clock.advance(61)  # stay under the per-minute limit of the client
        assert await log_in(guesser, user, "guess guess") == 401
    clock.advance(61)
    assert await log_in(guesser, user) == 429
    assert await log_in(guesser, other) == 200  # the same client, another account
    clock.advance(15 * 60)
    assert await log_in(guesser, user) == 200

    for _ in range(per_pair - 1):
        clock.advance(61)
        assert await log_in(guesser, user, "my typo") == 401
    assert await log_in(guesser, user) == 200
    assert await log_in(guesser, user, "another typo") == 401  # counting starts again


async def test_many_clients_guessing_one_account_get_a_bounded_number_of_tries(
    server: Server, via: From, make_user: MakeUser, clock: FakeClock
) -> None:
    user = await make_user()
    cap = server.config.auth.login_failures_per_account
    for n in range(cap):
        assert await log_in(via(f"198.51.{n // 200}.{n % 200 + 1}"), user, "guess guess") == 401
    assert await log_in(via("192.0.2.77"), user) == 429
    assert await log_in(via("192.0.2.78"), await make_user()) == 200  # other accounts are not touched
    clock.advance(15 * 60 + 1)  # the owner is let in soon after the guessing stops
    assert await log_in(via("192.0.2.77"), user) == 200


async def test_an_ipv6_client_is_its_slash_64(server: Server, via: From, make_user: MakeUser) -> None:
    user = await make_user()
    for n in range(server.config.auth.login_attempts_per_minute):
        assert await log_in(via(f"2001:db8:1:2::{n + 1:x}"), user, "guess guess") == 401
    assert await log_in(via("2001:db8:1:2:ffff::1"), user) == 429
    assert await log_in(via("2001:db8:1:3::1"), user) == 200
