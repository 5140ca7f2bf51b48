"""Fixtures for real media nodes: two `parley media-node` processes in the test's namespace,
media-a on 127.0.0.2 (ifb jx0) and media-b on 127.0.0.3 (a second ifb, jx1), sharing one
migrated SQLite file database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.storage.database import upgrade
from tests.media.netns import Netns
from tests.media.nodes.cluster import NodeProcess, add_second_interface, start_two_nodes, stop_node


@pytest.fixture
def second_interface(netns: Netns) -> str:
    """A second ifb in the test's namespace, carrying 127.0.0.3 (set up from the test's thread)."""
    return add_second_interface()


@pytest.fixture
async def two_nodes(netns: Netns, second_interface: str, janus_binary: str,
                    tmp_path: Path) -> AsyncIterator[tuple[str, list[NodeProcess]]]:
    """(the shared database's URL, [media-a, media-b]), both started (not yet registered)."""
    db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    await asyncio.to_thread(upgrade, db_url)
    nodes = await start_two_nodes(tmp_path, db_url, janus_binary, netns.address, second_interface)
    try:
        yield db_url, nodes
    finally:
        for node in nodes:
            with contextlib.suppress(ProcessLookupError):
                await stop_node(node)
