"""Fixtures for the analysis tests: the people, and an analysis on the fake embedder."""

from __future__ import annotations

import pytest

from parley.server import Server
from tests.analysis.helpers import Cast, make_cast


@pytest.fixture
async def cast(server: Server) -> Cast:
    return await make_cast(server)
