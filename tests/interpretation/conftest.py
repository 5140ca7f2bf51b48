"""Fixtures shared by the interpretation tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock


@pytest.fixture
async def scheduler(clock: FakeClock) -> AsyncIterator[InferenceScheduler]:
    """One inference worker on the fake clock."""
    s = InferenceScheduler(clock=clock, workers=1)
    await s.start()
    yield s
    await s.stop()
