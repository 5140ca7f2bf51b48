"""Browser tests: Debian Chromium driven by Playwright, against the app served on loopback.

Each test gets a fresh browser (own --user-data-dir); `new_page()` opens an isolated
context, so two people can use the app side by side. Fake media come from a wav file.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.limits import PAGE_TIMEOUT_MS, configure_expect

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

pytestmark = pytest.mark.browser
configure_expect()


def _playwright() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e .[dev])")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return async_playwright


@pytest.fixture
async def browser_context_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Open isolated browser contexts: ``page = await new_context(locale="ar")``.

    ``fake_audio`` may name a wav file that the fake microphone plays.
    """
    async_playwright = _playwright()
    contexts: list[Any] = []
    dirs: list[str] = []
    async with async_playwright() as pw:

        async def factory(*, locale: str = "en-GB", fake_audio: Path | None = None, **kwargs: Any) -> Any:
            user_dir = tempfile.mkdtemp(prefix="parley-chromium-", dir=tmp_path)
            dirs.append(user_dir)
            args = list(FLAGS)
            if fake_audio is not None:
                args.append(f"--use-file-for-fake-audio-capture={fake_audio}")
            ctx = await pw.chromium.launch_persistent_context(
                user_dir, executable_path=CHROMIUM, headless=True, args=args, locale=locale,
                ignore_default_args=["--headless=new"], **kwargs,
            )
            # Bounds for a stuck page, generous for a busy shared machine: tests never
            # pass or fail on its speed.
            ctx.set_default_timeout(PAGE_TIMEOUT_MS)
            contexts.append(ctx)
            return ctx

        yield factory
        for ctx in contexts:
            await ctx.close()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
