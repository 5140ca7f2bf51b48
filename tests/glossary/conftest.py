"""Fixtures for the glossary tests: people in each role, one dialogue they work on, and
logged-in API clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from parley.handlers.dialogues import DialogueInput, DialogueView
from parley.server import Server
from parley.storage.models import Role, User
from parley.web.auth import SESSION_COOKIE

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]


@dataclass
class Cast:
    admin: User
    organiser: User
    other_organiser: User
    facilitator: User
    other_facilitator: User
    interpreter: User
    other_interpreter: User
    participant: User
    dialogue: DialogueView


@pytest.fixture
async def cast(server: Server, make_user: Callable[..., Awaitable[User]]) -> Cast:
    def user(role: Role, name: str) -> Awaitable[User]:
        return make_user(role, name=name, password=None)  # sessions are started directly: no hashing

    organiser = await user(Role.ORGANISER, "Olga Organiser")
    facilitator = await user(Role.FACILITATOR, "Fatou Facilitator")
    interpreter = await user(Role.INTERPRETER, "Ines Interpreter")
    start = (server.clock.now() + timedelta(days=9)).strftime("%Y-%m-%dT14:00")
    dialogue = await server.dialogues.create(organiser, DialogueInput(
        title="Connectivity for all", starts_at=start, time_zone="Europe/Paris", languages=["en", "fr", "es"],
        facilitator_id=facilitator.id, interpreters=[(interpreter.id, "fr")],
    ))
    return Cast(
        admin=await user(Role.ADMIN, "Ada Admin"),
        organiser=organiser,
        other_organiser=await user(Role.ORGANISER, "Omar Organiser"),
        facilitator=facilitator,
        other_facilitator=await user(Role.FACILITATOR, "Felix Facilitator"),
        interpreter=interpreter,
        other_interpreter=await user(Role.INTERPRETER, "Ivo Interpreter"),
        participant=await user(Role.PARTICIPANT, "Pat Participant"),
        dialogue=dialogue,
    )


@pytest.fixture
def as_user(server: Server, make_client: Callable[[], httpx.AsyncClient]) -> AsUser:
    async def factory(user: User) -> httpx.AsyncClient:
        c = make_client()
        login = await server.accounts.start_session(user)
        c.cookies.set(SESSION_COOKIE, login.token)
        c.headers["X-CSRF-Token"] = login.csrf_token
        return c

    return factory
