"""Bounds for browser tests: long enough that a busy shared 2-core machine never fails a test
that a quiet one passes; they catch a stuck page, they do not measure speed."""

from __future__ import annotations

PAGE_TIMEOUT_MS = 120_000
EXPECT_TIMEOUT_MS = 60_000


def configure_expect() -> None:
    """Playwright's `expect` waits 5 s by default: too tight under load."""
    try:
        from playwright.async_api import expect
    except ImportError:
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
