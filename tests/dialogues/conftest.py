"""Fixtures for dialogue and registration tests: people in each role, dialogues in each
state, logged-in clients, and a recording wrapper around the workspace channel sync."""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest

from parley.handlers.dialogues import Action, DialogueInput, DialogueView
from parley.server import Server
from parley.storage.models import Role, User
from parley.web.auth import SESSION_COOKIE

HAVE_WORKSPACE = importlib.util.find_spec("parley.handlers.workspace") is not None


@dataclass
class ChannelSpy:
    """Records every sync call; delegates to the real workspace when it exists."""

    real: Any
    calls: list[tuple[int, str, list[int]]] = field(default_factory=list)
    fail: bool = False

    async def sync_dialogue_channel(self, dialogue_id: int, title: str, member_ids: Iterable[int]) -> int:
        members = sorted(member_ids)
        self.calls.append((dialogue_id, title, members))
        if self.fail:
            raise RuntimeError("workspace down")
        if self.real is not None:
            result: int = await self.real.sync_dialogue_channel(dialogue_id, title, members)
            return result
        return 1000 + dialogue_id

    def last_for(self, dialogue_id: int) -> tuple[int, str, list[int]] | None:
        mine = [c for c in self.calls if c[0] == dialogue_id]
        return mine[-1] if mine else None


@pytest.fixture
def channels(server: Server) -> ChannelSpy:
    real = server.workspace if HAVE_WORKSPACE else None
    spy = ChannelSpy(real)
    # `Server.dialogues` is built lazily from `server.workspace`; hand it the spy instead.
    server.__dict__.pop("dialogues", None)
    server.dialogues.workspace = spy  # type: ignore[assignment]
    return spy


@dataclass
class People:
    organiser: User
    other_organiser: User
    facilitator: User
    other_facilitator: User
    interpreter: User
    participant: User
    admin: User


@pytest.fixture
async def people(make_user: Callable[..., Awaitable[User]], channels: ChannelSpy) -> People:
    # No passwords: these tests log in through sessions directly, and hashing is slow.
    def user(role: Role, name: str) -> Awaitable[User]:
        return make_user(role, name=name, password=None)

    return People(
        organiser=await user(Role.ORGANISER, "Olga Organiser"),
        other_organiser=await user(Role.ORGANISER, "Omar Organiser"),
        facilitator=await user(Role.FACILITATOR, "Fatou Facilitator"),
        other_facilitator=await user(Role.FACILITATOR, "Felix Facilitator"),
        interpreter=await user(Role.INTERPRETER, "Ines Interpreter"),
        participant=await user(Role.PARTICIPANT, "Pat Participant"),
        admin=await user(Role.ADMIN, "Ada Admin"),
    )


async def login_as(server: Server, client: httpx.AsyncClient, user: User) -> str:
    """Log ``client`` in as ``user`` without going through the password form (that is
    the accounts tests' business); returns the CSRF token and sends it on every request."""
    login = await server.accounts.start_session(user)
    client.cookies.set(SESSION_COOKIE, login.token)
    client.headers["X-CSRF-Token"] = login.csrf_token
    return login.csrf_token


@pytest.fixture
def as_user(
    server: Server, make_client: Callable[[], httpx.AsyncClient]
) -> Callable[[User], Awaitable[httpx.AsyncClient]]:
    async def factory(user: User) -> httpx.AsyncClient:
        c = make_client()
        await login_as(server, c, user)
        return c

    return factory


def future_start(server: Server, days: int = 9) -> str:
    """A local start time ``days`` ahead of the fake clock, as a form would send it."""
    return (server.clock.now() + timedelta(days=days)).strftime("%Y-%m-%dT14:00")


@pytest.fixture
def make_dialogue(server: Server, people: People) -> Callable[..., Awaitable[DialogueView]]:
    """A dialogue by ``people.organiser``, moved to ``state`` through the real transitions."""

    async def factory(state: str = "scheduled", *, organiser: User | None = None, **fields: Any) -> DialogueView:
        values: dict[str, Any] = {
            "title": "The future we want",
            "starts_at": future_start(server),
            "time_zone": "Europe/Paris",
            "languages": ["en", "fr"],
            "country": "FR",
            "capacity": 12,
            "facilitator_id": people.facilitator.id,
        }
        values.update(fields)
        owner = organiser or people.organiser
        view = await server.dialogues.create(owner, DialogueInput(**values))
        path = {
            "draft": [],
            "scheduled": [Action.PUBLISH],
            "live": [Action.PUBLISH, Action.START],
            "ended": [Action.PUBLISH, Action.START, Action.END],
            "report_submitted": [Action.PUBLISH, Action.START, Action.END, Action.SUBMIT_REPORT],
        }[state]
        for action in path:
            view = await server.dialogues.transition(owner, view.id, action)
        return view

    return factory


REGISTRATION = {
    "display_name": "Amina Participant",
    "email": "amina@example.org",
    "preferred_language": "fr",
    "country": "SN",
    "age_group": "18-24",
    "gender": "woman",
    "education": "secondary",
    "consent_participate": True,
    "consent_transcript": True,
    "consent_quotes": False,
}


def registration(**overrides: Any) -> dict[str, Any]:
    return {**REGISTRATION, **overrides}
