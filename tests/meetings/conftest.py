"""Fixtures for meeting tests: a server whose Janus is the in-memory fake, the dialogue's
people (organiser, facilitator, interpreter, registered participants), and logged-in
clients for each of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from parley.config import Config
from parley.server import Server
from parley.storage.models import User
from tests.conftest import running_server
from tests.fakes.clock import FakeClock
from tests.meetings.fakes import MeetingJanus, fake_service
from tests.meetings.scenario import MakeUser, Setup, build_setup, logged_in


@pytest.fixture
def janus() -> MeetingJanus:
    return MeetingJanus()


@pytest.fixture
async def server(config: Config, clock: FakeClock, janus: MeetingJanus) -> AsyncIterator[Server]:
    """The shared `server` fixture, with the fake Janus behind `server.janus`."""
    # Tests that interpret bring their own worker.
    parts = {"janus": fake_service(janus, clock), "interpretation_workers": None}
    async with running_server(config, clock, lambda _srv: parts) as srv:
        yield srv


@pytest.fixture
def make_setup(server: Server, make_user: MakeUser) -> Callable[..., Awaitable[Setup]]:
    """A scheduled dialogue (en, fr) with three registered participants; ``live=True`` starts it."""

    async def factory(*, live: bool = False, chen_consents: bool = True) -> Setup:
        return await build_setup(server, make_user, live=live, chen_consents=chen_consents)

    return factory


@pytest.fixture
def as_user(server: Server, make_client: Callable[[], httpx.AsyncClient]) -> Callable[[User],
                                                                                      Awaitable[httpx.AsyncClient]]:
    """A client logged in as ``user`` (session created directly; CSRF header set)."""

    async def factory(user: User) -> httpx.AsyncClient:
        return await logged_in(server, make_client(), user)

    return factory
