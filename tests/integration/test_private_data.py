"""The data folder is private: nobody else on the machine reads the database or the secrets."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes.clock import FakeClock

from parley.config import Config
from parley.server import Server
from parley.storage.models import Role

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give services (0022: new files world-readable)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_config(data: Path) -> Config:
    return Config.load(env={}, overrides={
        "server": {"data_dir": str(data)}, "analysis": {"enabled": False}, "janus": {"enabled": False},
        "interpretation": {"enabled": False},
    })


async def run_once(config: Config) -> None:
    server = Server(config, clock=FakeClock(), schema="create")
    await server.start()
    try:
        assert server.secret and server.worker_secret
        await server.accounts.create_user(email="a@example.org", display_name="A", role=Role.ADMIN, password=None)
        wal = config.data_path / "parley.sqlite3-wal"
        assert wal.exists()
        assert mode(wal) == 0o600
        assert mode(config.data_path / "parley.sqlite3-shm") == 0o600
    finally:
        await server.stop()


async def test_a_new_data_folder_is_owner_only(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path / "data")
    await run_once(config)
    assert mode(config.data_path) == 0o700
    for name in ("parley.sqlite3", "secret_key", "worker_secret"):
        assert mode(config.data_path / name) == 0o600, name


async def test_an_existing_readable_data_folder_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "parley.sqlite3").touch(mode=0o644)
    os.chmod(data, 0o755)
    os.chmod(data / "parley.sqlite3", 0o644)
    await run_once(sqlite_config(data))
    assert mode(data) == 0o700
    assert mode(data / "parley.sqlite3") == 0o600
