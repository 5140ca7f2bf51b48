"""Helpers for the account tests: page requests, CSRF tokens from pages, a dialogue row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from argon2 import PasswordHasher

from parley import security
from parley.server import Server
from parley.storage.models import Dialogue, DialogueState, Visibility

HTML = {"Accept": "text/html"}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with test-sized cost: these tests hash hundreds of passwords on a
    shared machine, and what they check does not depend on the cost."""
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


async def page_csrf(client: httpx.AsyncClient, path: str = "/login") -> str:
    """Open a page like a browser would and return the CSRF token it carries."""
    from tests.conftest import csrf_from

    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, response.text
    return csrf_from(response.text)


@pytest.fixture
def make_dialogue(server: Server) -> Callable[..., Awaitable[Dialogue]]:
    """A bare dialogue row (the dialogues module owns the real creation flow)."""

    async def factory(title: str = "Our future", facilitator_id: int | None = None) -> Dialogue:
        now = server.clock.now()
        dialogue = Dialogue(
            title=title, description="", questions=["What future do you want?"], starts_at=None, time_zone="UTC",
            duration_minutes=90, capacity=12, languages=["en"], country=None, organiser_id=None,
            facilitator_id=facilitator_id, visibility=Visibility.PUBLIC, invite_code="code", state=DialogueState.DRAFT,
            created_at=now, updated_at=now, started_at=None, ended_at=None, report_submitted_at=None,
        )
        async with server.db.session() as s:
            s.add(dialogue)
        return dialogue

    return factory
