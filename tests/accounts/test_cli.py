"""`parley admin reset-password` and `parley admin list`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from parley.cli.__main__ import main
from parley.config import Config
from parley.storage.database import Database
from parley.storage.models import Role, User
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def cli(config: Config, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Awaitable[int]]:
    """Run the CLI against the test database (schema from the models, so no migration)."""
    monkeypatch.setattr(Config, "load", classmethod(lambda cls, *a, **k: config))
    monkeypatch.setattr(Database, "migrate", Database.create_all)

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    return run


async def test_reset_password_prints_a_working_password_and_ends_sessions(
    cli: Callable[..., Awaitable[int]], capsys: pytest.CaptureFixture[str], client: httpx.AsyncClient,
    make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser,
) -> None:
    user = await make_user(Role.ORGANISER, email="forgetful@example.org")
    await login(client, user)
    assert await cli("admin", "reset-password", "--email", "Forgetful@Example.org") == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("new password for forgetful@example.org (organiser, id ")
    password = line.rsplit(": ", 1)[1]
    assert len(password) >= 10
    assert (await client.get("/api/v1/me")).status_code == 401
    fresh = make_client()
    refused = await fresh.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 401
    await login(fresh, user, password)


async def test_reset_password_revokes_api_tokens(
    cli: Callable[..., Awaitable[int]], client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient],
    make_user: MakeUser,
) -> None:
    user = await make_user(Role.ORGANISER, email="leaked@example.org")
    await login(client, user)
    secret = (await client.post("/api/v1/me/tokens", json={"name": "Integration"})).json()["secret"]
    integration = make_client()
    integration.headers["Authorization"] = f"Bearer {secret}"
    assert (await integration.get("/api/v1/me")).status_code == 200
    assert await cli("admin", "reset-password", "--email", user.email) == 0
    assert (await integration.get("/api/v1/me")).status_code == 401


async def test_reset_password_for_an_unknown_email_fails_clearly(
    cli: Callable[..., Awaitable[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("admin", "reset-password", "--email", "ghost@example.org") == 2
    assert capsys.readouterr().err.strip() == "error: There is no account with that email."
    assert await cli("admin", "reset-password", "--email", "not-an-email") == 2


async def test_admin_list(cli: Callable[..., Awaitable[int]], capsys: pytest.CaptureFixture[str],
                          make_user: MakeUser) -> None:
    await make_user(Role.ADMIN, email="boss@example.org", name="The Boss")
    await make_user(Role.FACILITATOR, email="fac@example.org", name="Fatou Diallo")
    for n in range(120):  # more than one page of the underlying query
        await make_user(Role.PARTICIPANT, email=f"p{n:03}@example.org", password=None)
    assert await cli("admin", "list") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "role", "status", "email", "name"]
    assert out[-1] == "(122 accounts)"
    assert any("facilitator" in line and "fac@example.org" in line and "Fatou Diallo" in line for line in out)
    assert await cli("admin", "list", "--role", "facilitator") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "(1 account)" and "fac@example.org" in out[1]
    assert await cli("admin", "list", "--search", "BOSS") == 0
    assert "boss@example.org" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_end_to_end_on_a_fresh_database(tmp_path: Path) -> None:
    """The installed entry point, migrations included, as an operator would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(PARLEY_DATA_DIR=str(tmp_path), PARLEY_SERVER_SECRET_KEY="cli-test", PARLEY_SERVER_LOG_LEVEL="warning")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "parley.cli", *argv], env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    created = run("admin", "create", "--email", "ops@example.org", "--name", "Ops", "--password", "long password 1")
    assert created.returncode == 0, created.stderr
    reset = run("admin", "reset-password", "--email", "ops@example.org")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith("new password for ops@example.org (admin, id 1): ")
    listed = run("admin", "list")
    assert listed.returncode == 0 and "ops@example.org" in listed.stdout and "(1 account)" in listed.stdout
