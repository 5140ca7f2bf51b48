"""`parley nodes list|add|drain|undrain|remove` against the test database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from parley.cli.__main__ import main
from parley.config import Config
from parley.handlers.media_nodes import MediaNodes
from parley.storage.media_node_models import NodeState
from tests.media_nodes.conftest import MakeMeeting, registration
from tests.media_nodes.fakes import CREDS

pytestmark = pytest.mark.integration

Cli = Callable[..., Awaitable[int]]


@pytest.fixture
def cli(config: Config, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setattr(Config, "load", classmethod(lambda cls, *a, **k: config))

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    return run


async def test_an_operator_adds_lists_drains_and_removes_nodes(
        cli: Cli, media_nodes: MediaNodes, make_meeting: MakeMeeting, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("nodes", "add", "ext", "--ws-url", "ws://127.0.0.9:8188",
                     "--admin-url", "http://127.0.0.9:7088/admin") == 2
    assert "PARLEY_NODE_API_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("PARLEY_NODE_API_SECRET", CREDS.api_secret)
    monkeypatch.setenv("PARLEY_NODE_ADMIN_SECRET", CREDS.admin_secret)
    monkeypatch.setenv("PARLEY_NODE_ADMIN_KEY", CREDS.admin_key)
    assert await cli("nodes", "add", "ext", "--ws-url", "ws://127.0.0.9:8188",
                     "--admin-url", "http://127.0.0.9:7088/admin", "--max-rooms", "20") == 0
    assert "added media node ext" in capsys.readouterr().out
    assert await cli("nodes", "add", "ext", "--ws-url", "ws://127.0.0.9:8188", "--admin-url", "http://x/admin") == 2
    assert "exists" in capsys.readouterr().err
    supervised = await media_nodes.register(registration("media-1"))
    meeting = await make_meeting()
    assert (await media_nodes.place(meeting)).id == supervised.id

    assert await cli("nodes", "list") == 0
    out = capsys.readouterr().out
    header, ext_line, media_line = out.strip().splitlines()
    assert header.split()[:4] == ["id", "name", "state", "takes"]
    assert ext_line.split()[1:5] == ["ext", "active", "stale", "0/20"] and "offline" in ext_line
    # (the command reads the real clock, the test wrote fake times: media-1 looks stale to it)
    assert media_line.split()[1:3] == ["media-1", "active"] and media_line.endswith(str(meeting))
    for secret in (CREDS.api_secret, CREDS.admin_secret, CREDS.admin_key):
        assert secret not in out

    assert await cli("nodes", "drain", "media-1") == 0
    assert capsys.readouterr().out.strip() == "media node media-1 is draining"
    assert (await media_nodes.get(None, supervised.id)).state is NodeState.DRAINING
    assert await cli("nodes", "undrain", "media-1") == 0
    assert await cli("nodes", "remove", "media-1") == 2
    assert "Drain the node" in capsys.readouterr().err
    assert await cli("nodes", "remove", "media-1", "--force") == 0
    assert await cli("nodes", "drain", "nowhere") == 2
    assert "No such media node" in capsys.readouterr().err
    assert await cli("nodes", "list", "--all") == 0
    assert "removed" in capsys.readouterr().out
