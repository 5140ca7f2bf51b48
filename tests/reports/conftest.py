"""Fixtures for the report tests: the people (the analysis on fakes comes from tests.analysis.helpers)."""

from __future__ import annotations

import pytest

from parley.server import Server
from tests.analysis.helpers import Cast, make_cast


@pytest.fixture
async def cast(server: Server) -> Cast:
    return await make_cast(server)
