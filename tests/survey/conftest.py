"""Survey test helpers: logged-in staff clients, gateway tokens and a standard answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.security import hash_token, new_token
from parley.server import Server
from parley.storage.models import ApiToken, Role, User
from parley.web.auth import SESSION_COOKIE

StaffFactory = Callable[..., Awaitable[tuple[httpx.AsyncClient, User]]]


@pytest.fixture
def staff(server: Server, make_user: Callable[..., Awaitable[User]],
          make_client: Callable[[], httpx.AsyncClient]) -> StaffFactory:
    """A client logged in (through a real session) as a new user with ``role``."""

    async def factory(role: Role = Role.ORGANISER) -> tuple[httpx.AsyncClient, User]:
        user = await make_user(role)
        session = await server.accounts.start_session(user)
        client = make_client()
        client.cookies.set(SESSION_COOKIE, session.token)
        client.headers["X-CSRF-Token"] = session.csrf_token
        return client, user

    return factory


@pytest.fixture
def gateway_token(server: Server, make_user: Callable[..., Awaitable[User]]) -> Callable[[], Awaitable[str]]:
    """A bearer token for an SMS/partner gateway (an organiser's API token)."""

    async def factory() -> str:
        user = await make_user(Role.ORGANISER)
        token = new_token()
        async with server.db.session() as s:
            s.add(ApiToken(user_id=user.id, name="sms gateway", token_hash=hash_token(token),
                           created_at=server.clock.now()))
        return token

    return factory


def answer(**changes: Any) -> dict[str, Any]:
    """A complete, valid API submission; keyword arguments replace fields."""
    body: dict[str, Any] = {
        "language": "en",
        "answers": {
            "future": "better",
            "priorities": ["less_conflict", "environment"],
            "trends": ["climate", "health_risks", "terrorism"],
            "cooperation": "essential",
            "advice": "Listen to young people.",
        },
        "age_group": "18-24",
        "gender": "female",
        "country": "FR",
        "education": "university",
        "consent_analysis": True,
        "consent_quotes": True,
    }
    answers = changes.pop("answers", None)
    if answers is not None:
        body["answers"] = {**body["answers"], **answers}
    body.update(changes)
    return body


async def submit(client: httpx.AsyncClient, key: str, **changes: Any) -> httpx.Response:
    return await client.post("/api/v1/survey/responses", json=answer(**changes), headers={"Idempotency-Key": key})
