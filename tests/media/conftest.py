"""Fixtures for tests that run real media servers inside a private network namespace."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.media.netns import Netns, private_netns, unavailable_reason


@pytest.fixture
def netns() -> Iterator[Netns]:
    """Run the test (its event loop thread) in a fresh namespace: lo + ifb jx0 with 127.0.0.2/32."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no private network namespace: {reason}")
    with private_netns() as ns:
        yield ns


@pytest.fixture
def janus_binary() -> str:
    path = shutil.which("janus")
    if path is None:
        pytest.skip("janus is not installed (apt-get install -y janus)")
    return path
