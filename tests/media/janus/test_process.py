"""Supervision logic of `JanusProcess` with a fake process, a fake probe and a fake clock."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from parley.config import JanusConfig
from parley.errors import ConfigError, EngineError
from parley.media.janus.config import GeneratedConfig, JanusOptions
from parley.media.janus.process import Backoff, JanusProcess, JanusState, spawn_process
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit


def state(process: JanusProcess) -> JanusState:
    return process.health.state


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


class FakeProcess:
    def __init__(self, pid: int, *, ignore_term: bool = False) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.signals: list[int] = []
        self.ignore_term = ignore_term
        self._exited = asyncio.Event()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        if sig == signal.SIGKILL or not self.ignore_term:
            self.exit(-sig)


class FakeJanusHost:
    """Launches fake Janus processes; each becomes ready unless told otherwise."""

    def __init__(self) -> None:
        self.launched: list[FakeProcess] = []
        self.argv: list[list[str]] = []
        self.crash_on_start = 0
        self.never_ready = False
        self.ignore_term = False

    async def launch(self, argv: Sequence[str], log_dir: Path) -> FakeProcess:
        proc = FakeProcess(4000 + len(self.launched), ignore_term=self.ignore_term)
        self.launched.append(proc)
        self.argv.append(list(argv))
        if self.crash_on_start > 0:
            self.crash_on_start -= 1
            proc.exit(1)
        return proc

    async def probe(self, generated: GeneratedConfig) -> bool:
        return not self.never_ready and bool(self.launched) and self.launched[-1].returncode is None

    @property
    def current(self) -> FakeProcess:
        return self.launched[-1]


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    root = tmp_path / "system-janus"
    for kind, names in {"plugins": ["videoroom", "audiobridge", "streaming", "textroom"],
                        "transports": ["http", "websockets"], "events": [], "loggers": []}.items():
        (root / kind).mkdir(parents=True)
        for name in names:
            (root / kind / f"libjanus_{name}.so").write_bytes(b"")
    return root


@pytest.fixture
def host() -> FakeJanusHost:
    return FakeJanusHost()


@pytest.fixture
def restarts() -> list[int]:
    return []


@pytest.fixture
async def janus(
    tmp_path: Path, modules: Path, clock: FakeClock, host: FakeJanusHost, restarts: list[int]
) -> AsyncIterator[JanusProcess]:
    async def on_restart() -> None:
        restarts.append(host.current.pid)

    process = JanusProcess(
        JanusConfig(), tmp_path / "work", clock=clock, on_restart=on_restart,
        options=JanusOptions(module_dir=modules), backoff=Backoff(initial=1, factor=2, maximum=8, stable_after=60),
        ready_timeout=2, stop_timeout=0.05, launcher=host.launch, probe=host.probe,
    )
    yield process
    await process.stop()


async def test_start_writes_config_launches_and_is_ready(janus: JanusProcess, host: FakeJanusHost,
                                                         tmp_path: Path) -> None:
    await janus.start()

    assert state(janus) is JanusState.READY and janus.health.ready
    assert janus.health.pid == host.current.pid
    argv = host.argv[0]
    assert argv[:3] == ["janus", "-F", str(tmp_path / "work" / "conf")]
    assert (tmp_path / "work" / "conf" / "janus.jcfg").exists()
    assert (tmp_path / "work" / "janus.pid").read_text().strip() == str(host.current.pid)


async def test_crash_is_restarted_after_backoff_and_on_restart_fires(
    janus: JanusProcess, host: FakeJanusHost, clock: FakeClock, restarts: list[int]
) -> None:
    await janus.start()
    first = host.current

    first.exit(-11)
    await settle()
    assert state(janus) is JanusState.RESTARTING
    assert janus.health.last_exit_code == -11
    assert len(host.launched) == 1
    clock.advance(1)
    await settle()

    assert len(host.launched) == 2
    assert state(janus) is JanusState.READY
    assert janus.health.restarts == 1
    assert restarts == [host.current.pid]
    await asyncio.wait_for(janus.wait_ready(), 1)


async def test_failed_restarts_back_off_exponentially_then_report_failing(
    janus: JanusProcess, host: FakeJanusHost, clock: FakeClock, restarts: list[int]
) -> None:
    await janus.start()
    host.crash_on_start = 4
    host.current.exit(1)
    await settle()

    launches = []
    for delay in (1, 2, 4, 8):
        clock.advance(delay - 0.01)
        await settle()
        launches.append(len(host.launched))
        clock.advance(0.01)
        await settle()
        launches.append(len(host.launched))
    assert launches == [1, 2, 2, 3, 3, 4, 4, 5]
    assert state(janus) is JanusState.FAILING
    assert janus.health.consecutive_failures == 4

    clock.advance(8)
    await settle()
    assert state(janus) is JanusState.READY
    assert janus.health.consecutive_failures == 0
    assert restarts == [host.current.pid]


async def test_backoff_resets_after_a_stable_run(janus: JanusProcess, host: FakeJanusHost, clock: FakeClock) -> None:
    await janus.start()
    host.crash_on_start = 2
    host.current.exit(1)
    await settle()
    for delay in (1, 2, 4):
        clock.advance(delay)
        await settle()
    assert janus.health.ready

    clock.advance(120)  # stayed up longer than stable_after
    host.current.exit(1)
    await settle()
    clock.advance(1)
    await settle()

    assert janus.health.ready
    assert len(host.launched) == 5


async def test_stop_sends_sigterm_and_stops_supervising(
    janus: JanusProcess, host: FakeJanusHost, clock: FakeClock, tmp_path: Path
) -> None:
    await janus.start()
    proc = host.current

    await janus.stop()

    assert proc.signals == [signal.SIGTERM]
    assert state(janus) is JanusState.STOPPED
    assert len(janus._tasks) == 0
    assert not (tmp_path / "work" / "janus.pid").exists()
    clock.advance(100)
    await settle()
    assert len(host.launched) == 1


async def test_stop_kills_a_janus_that_ignores_sigterm(janus: JanusProcess, host: FakeJanusHost) -> None:
    host.ignore_term = True
    await janus.start()

    await janus.stop()

    assert host.current.signals == [signal.SIGTERM, signal.SIGKILL]
    assert host.current.returncode == -signal.SIGKILL


async def test_start_fails_when_janus_exits_at_once(janus: JanusProcess, host: FakeJanusHost) -> None:
    host.crash_on_start = 1

    with pytest.raises(EngineError, match="exited with 1") as caught:
        await janus.start()

    assert caught.value.retryable
    assert state(janus) is JanusState.STOPPED
    assert len(janus._tasks) == 0


async def test_start_gives_up_when_janus_never_answers(
    janus: JanusProcess, host: FakeJanusHost, clock: FakeClock
) -> None:
    host.never_ready = True
    start = asyncio.create_task(janus.start())
    for _ in range(10_000):  # the config is written in a thread, so yield for real
        await asyncio.sleep(0.001)
        clock.advance(0.05)
        if start.done():
            break

    with pytest.raises(EngineError, match="not ready"):
        await start
    assert host.current.signals == [signal.SIGTERM]
    assert state(janus) is JanusState.STOPPED


async def test_a_failing_on_restart_does_not_stop_supervision(
    tmp_path: Path, modules: Path, clock: FakeClock, host: FakeJanusHost
) -> None:
    calls: list[int] = []

    async def on_restart() -> None:
        calls.append(1)
        raise RuntimeError("room recreation failed")

    process = JanusProcess(JanusConfig(), tmp_path / "w", clock=clock, on_restart=on_restart,
                           options=JanusOptions(module_dir=modules), backoff=Backoff(initial=1, factor=1),
                           launcher=host.launch, probe=host.probe, stop_timeout=0.05)
    await process.start()
    try:
        for _ in range(2):
            host.current.exit(1)
            await settle()
            clock.advance(1)
            await settle()
        assert calls == [1, 1]
        assert process.health.ready and process.health.restarts == 2
    finally:
        await process.stop()


async def test_start_twice_is_refused(janus: JanusProcess) -> None:
    await janus.start()
    with pytest.raises(RuntimeError):
        await janus.start()


async def test_a_second_process_on_the_same_work_dir_is_refused(
    janus: JanusProcess, host: FakeJanusHost, tmp_path: Path, modules: Path, clock: FakeClock
) -> None:
    await janus.start()
    second = JanusProcess(JanusConfig(), tmp_path / "work", clock=clock, options=JanusOptions(module_dir=modules),
                          launcher=host.launch, probe=host.probe, ready_timeout=2, stop_timeout=0.05)
    with pytest.raises(ConfigError) as refused:
        await second.start()
    assert refused.value.key == "janus.work_dir"
    assert len(host.launched) == 1 and host.current.returncode is None  # the first Janus is untouched
    await janus.stop()
    await second.start()  # free again once the first one stopped
    await second.stop()


async def test_another_janus_already_on_our_ports_is_refused(
    janus: JanusProcess, host: FakeJanusHost, tmp_path: Path, modules: Path, clock: FakeClock
) -> None:
    other = JanusProcess(JanusConfig(), tmp_path / "elsewhere", clock=clock, options=JanusOptions(module_dir=modules),
                         launcher=host.launch, probe=host.probe, ready_timeout=2, stop_timeout=0.05)
    await other.start()  # same ports, its own folder
    with pytest.raises(ConfigError) as refused:
        await janus.start()
    assert refused.value.key == "janus.http_port"
    assert len(host.launched) == 1
    await other.stop()


async def test_janus_runs_inside_its_work_dir(tmp_path: Path) -> None:
    """So a core file never lands where Parley was started (e.g. a checkout)."""
    script = tmp_path / "fake-janus"
    script.write_text("#!/bin/sh\npwd > cwd.txt\n")
    script.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    proc = await spawn_process([str(script)], work)
    assert await proc.wait() == 0
    assert (work / "cwd.txt").read_text().strip() == str(work)
