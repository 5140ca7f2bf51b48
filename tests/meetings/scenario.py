"""The people and dialogue a meeting test needs, built through the real handlers (shared by
the fake-Janus tests here and the real-Janus tests in tests/media/meetings)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx

from parley.handlers.dialogues import Action, DialogueInput, DialogueView
from parley.handlers.registration import RegistrationInput
from parley.server import Server
from parley.storage.models import Role, User
from parley.web.auth import SESSION_COOKIE

MakeUser = Callable[..., Awaitable[User]]


@dataclass
class People:
    organiser: User
    facilitator: User
    interpreter: User
    admin: User
    outsider: User
    amina: User
    bruno: User
    chen: User


@dataclass
class Setup:
    dialogue: DialogueView
    people: People


async def register(server: Server, dialogue_id: int, name: str, email: str, *, language: str = "fr",
                   consent: bool = True) -> User:
    outcome = await server.registrations.register(dialogue_id, RegistrationInput(
        display_name=name, email=email, preferred_language=language, country="SN", age_group="18-24",
        gender="woman", education="secondary", consent_participate=True, consent_transcript=consent,
        consent_quotes=False,
    ), None)
    return outcome.user


async def build_setup(server: Server, make_user: MakeUser, *, live: bool = False, chen_consents: bool = True) -> Setup:
    """A scheduled dialogue (en, fr) with staff and three registered participants."""

    def staff(role: Role, name: str) -> Awaitable[User]:
        return make_user(role, name=name, password=None)

    organiser = await staff(Role.ORGANISER, "Olga Organiser")
    facilitator = await staff(Role.FACILITATOR, "Fatou Facilitator")
    interpreter = await staff(Role.INTERPRETER, "Ines Interpreter")
    admin = await staff(Role.ADMIN, "Ada Admin")
    outsider = await make_user(Role.PARTICIPANT, name="Otto Outsider", password=None)
    starts = (server.clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT14:00")
    view = await server.dialogues.create(organiser, DialogueInput(
        title="The future we want", starts_at=starts, time_zone="Europe/Paris", languages=["en", "fr"],
        country="FR", capacity=12, facilitator_id=facilitator.id, interpreters=[(interpreter.id, "fr")],
    ))
    view = await server.dialogues.transition(organiser, view.id, Action.PUBLISH)
    amina = await register(server, view.id, "Amina Diallo", "amina@example.org")
    bruno = await register(server, view.id, "Bruno Silva", "bruno@example.org", language="en")
    chen = await register(server, view.id, "Chen Wei", "chen@example.org", language="en", consent=chen_consents)
    if live:
        view = await server.dialogues.transition(facilitator, view.id, Action.START)
    return Setup(view, People(organiser, facilitator, interpreter, admin, outsider, amina, bruno, chen))


async def logged_in(server: Server, client: httpx.AsyncClient, user: User) -> httpx.AsyncClient:
    """``client`` with a session for ``user`` (created directly) and its CSRF header."""
    login = await server.accounts.start_session(user)
    client.cookies.set(SESSION_COOKIE, login.token)
    client.headers["X-CSRF-Token"] = login.csrf_token
    return client
