"""Real meetings: Parley with its supervised Janus, uvicorn, aiortc bots and Debian Chromium,
all inside one private network namespace (lo + ifb jx0 127.0.0.2, see notes/janus-on-loopback.md).

The `netns` fixture moves the test's event-loop thread into the namespace before anything
opens a socket or starts a process, so Janus, the web server, the bots and the browser
(launched from this thread) all share it. SQLite only: PostgreSQL and Redis live outside.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.clock import SystemClock
from parley.config import Config
from parley.server import Server
from parley.storage.models import User
from parley.web.auth import SESSION_COOKIE
from tests.browser.limits import PAGE_TIMEOUT_MS, configure_expect
from tests.media.meetings.bots import make_speech_wav
from tests.media.meetings.room import Room
from tests.media.netns import Netns
from tests.meetings.scenario import MakeUser, Setup, build_setup, logged_in

CHROMIUM = "/usr/bin/chromium"
configure_expect()
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-features=WebRtcHideLocalIpsWithMdns", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture
def clock() -> SystemClock:
    """Real time: Janus, ICE and the browser do not run on a fake clock."""
    return SystemClock()


@pytest.fixture
def config(tmp_path: Path, netns: Netns, janus_binary: str) -> Config:
    return Config.load(env={}, overrides={
        "server": {"data_dir": str(tmp_path / "data"), "secret_key": "test-secret-key"},
        "database": {"url": f"sqlite:///{tmp_path / 'data' / 'parley.sqlite3'}"},
        "janus": {"enabled": True, "binary": janus_binary, "ice_enforce_list": netns.interface,
                  "work_dir": str(tmp_path / "janus")},
        "interpretation": {"enabled": False},
    })


@pytest.fixture
async def server(config: Config, clock: SystemClock) -> AsyncIterator[Server]:
    srv = Server(config, clock=clock, schema="create")
    await srv.start()
    try:
        assert srv.janus is not None and srv.janus.ready
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def setup(server: Server, make_user: MakeUser) -> Setup:
    return await build_setup(server, make_user, live=True)


@pytest.fixture
def as_user(server: Server, make_client: Callable[[], httpx.AsyncClient]) -> Callable[[User],
                                                                                      Awaitable[httpx.AsyncClient]]:
    async def factory(user: User) -> httpx.AsyncClient:
        return await logged_in(server, make_client(), user)

    return factory


@pytest.fixture
async def room(server: Server, setup: Setup, as_user: Callable[[User], Awaitable[httpx.AsyncClient]]) -> Room:
    """The setup's meeting, started by its facilitator."""
    return await Room.start(server, setup, as_user)


@pytest.fixture(scope="session")
def speech_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="parley-speech-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def speech(speech_dir: Path) -> Path:
    """What the browser's fake microphone says."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to make test speech")
    return make_speech_wav(speech_dir / "browser.wav")


@pytest.fixture(scope="session")
def other_speech(speech_dir: Path) -> Path:
    """What the bots say (different words and voice, so the two directions cannot be confused)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to make test speech")
    return make_speech_wav(speech_dir / "bot.wav", "Bonjour a tous, nous parlons de l'eau et des ecoles.",
                           voice="fr")


@pytest.fixture
async def chromium(tmp_path: Path, live_url: str, server: Server) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``page = await open_page(user, fake_audio)``: a logged-in Chromium page in the namespace."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e .[dev])")
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before the browser starts
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    contexts: list[Any] = []
    async with async_playwright() as pw:

        async def open_page(user: User, fake_audio: Path) -> Any:
            user_dir = tempfile.mkdtemp(prefix="parley-chromium-", dir=tmp_path)
            ctx = await pw.chromium.launch_persistent_context(
                user_dir, executable_path=CHROMIUM, headless=True, locale="en-GB",
                args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={fake_audio}"],
                ignore_default_args=["--headless=new"],
            )
            ctx.set_default_timeout(PAGE_TIMEOUT_MS)
            contexts.append(ctx)
            login = await server.accounts.start_session(user)
            await ctx.add_cookies([{"name": SESSION_COOKIE, "value": login.token, "url": live_url}])
            page = ctx.pages[0] if ctx.pages else await ctx.new_page()
            # Shown by pytest when a test fails: what the page said about itself.
            page.on("console", lambda message: print(f"[{user.display_name} console] {message.text}"))
            page.on("pageerror", lambda error: print(f"[{user.display_name} error] {error}"))
            return page

        yield open_page
        for ctx in contexts:
            await ctx.close()
