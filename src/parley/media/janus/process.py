"""Run and supervise a local Janus.

`JanusProcess.start()` writes the config folder, launches ``janus``, and returns once
``GET <http_url>/info`` answers. A supervisor task then waits on the process: if Janus dies,
it is relaunched after an exponential backoff (reset once an instance has stayed up for a
while) and ``on_restart`` is awaited so Parley can recreate its rooms, tokens and forwarders,
which all live only in Janus's memory. ``stop()`` sends SIGTERM, then SIGKILL.

The launcher and the readiness probe are injectable so the supervision logic runs in unit
tests against a fake process and a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import httpx

from parley.clock import Clock, SystemClock
from parley.config import JanusConfig
from parley.errors import ConfigError, EngineError
from parley.media.janus.config import GeneratedConfig, JanusCredentials, JanusOptions, write_config
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)


class ProcessLike(Protocol):
    """The part of `asyncio.subprocess.Process` the supervisor uses."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    def send_signal(self, sig: int) -> None: ...


Launcher = Callable[[Sequence[str], Path], Awaitable[ProcessLike]]
Probe = Callable[[GeneratedConfig], Awaitable[bool]]
RestartCallback = Callable[[], Awaitable[None]]


class JanusState(enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"
    # Several launches in a row failed; the supervisor keeps trying with the longest backoff.
    FAILING = "failing"


@dataclass(frozen=True)
class JanusHealth:
    state: JanusState
    pid: int | None = None
    restarts: int = 0
    consecutive_failures: int = 0
    last_exit_code: int | None = None

    @property
    def ready(self) -> bool:
        return self.state is JanusState.READY


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    # An instance that stayed up this long resets the backoff to ``initial``.
    stable_after: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * self.factor**attempt))


async def spawn_process(argv: Sequence[str], log_dir: Path) -> ProcessLike:
    """Launch Janus in its own session (terminal signals stay with Parley), inside its work
    folder (where a core file would go); stdout is dropped."""
    stderr = await asyncio.to_thread(open, log_dir / "janus.stderr", "ab")
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            cwd=log_dir,
        )
    finally:
        stderr.close()


async def probe_info(generated: GeneratedConfig) -> bool:
    """True once the Janus API answers ``info`` (no credentials needed for it)."""
    try:
        async with httpx.AsyncClient(timeout=1.0, trust_env=False) as http:
            response = await http.get(generated.info_url)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    try:
        return bool(response.json().get("janus") == "server_info")
    except ValueError:
        return False


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    """Until a killed process no longer holds its ports (gone, or a zombie); blocking, off the loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if status.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            return
        time.sleep(0.02)


class JanusProcess:
    def __init__(
        self,
        cfg: JanusConfig,
        work_dir: Path,
        *,
        clock: Clock | None = None,
        on_restart: RestartCallback | None = None,
        options: JanusOptions = JanusOptions(),
        credentials: JanusCredentials | None = None,
        backoff: Backoff = Backoff(),
        ready_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        launcher: Launcher = spawn_process,
        probe: Probe = probe_info,
    ) -> None:
        self._cfg = cfg
        self._work_dir = work_dir
        self._clock = clock or SystemClock()
        self._on_restart = on_restart
        self._options = options
        self._credentials = credentials or JanusCredentials.resolve(cfg)
        self._backoff = backoff
        self._ready_timeout = ready_timeout
        self._stop_timeout = stop_timeout
        self._launcher = launcher
        self._probe = probe
        self._tasks = TaskOwner("janus-process")
        self._proc: ProcessLike | None = None
        self._generated: GeneratedConfig | None = None
        self._health = JanusHealth(JanusState.STOPPED)
        self._stopping = False
        self._started_at = 0.0
        self._ready_event = asyncio.Event()
        self._lock_fd: int | None = None

    # --- public ----------------------------------------------------------------------------

    @property
    def health(self) -> JanusHealth:
        return self._health

    @property
    def generated(self) -> GeneratedConfig:
        """Paths, URLs and credentials of the running instance (after `start`)."""
        if self._generated is None:
            raise RuntimeError("JanusProcess.start() has not run")
        return self._generated

    @property
    def credentials(self) -> JanusCredentials:
        return self._credentials

    async def start(self) -> None:
        """Write the config, launch Janus and wait until it answers; then supervise it."""
        if self._health.state is not JanusState.STOPPED:
            raise RuntimeError("Janus is already started")
        self._stopping = False
        await asyncio.to_thread(self._take_work_dir)
        try:
            self._generated = await asyncio.to_thread(
                write_config, self._cfg, self._work_dir, credentials=self._credentials, options=self._options
            )
            await asyncio.to_thread(self._kill_stale)
            if await self._probe(self._generated):
                raise ConfigError("janus.http_port", f"another Janus already answers at {self._generated.http_url}; "
                                  "give this process other janus ports (or janus.enabled = false)")
            self._set(state=JanusState.STARTING)
            await self._launch()
        except BaseException:
            await self._terminate()
            self._set(state=JanusState.STOPPED, pid=None)
            self._release_work_dir()
            raise
        self._tasks.spawn("supervise", self._supervise())

    async def wait_ready(self) -> None:
        """Wait until the current instance answers (e.g. after a restart); bound it with asyncio.timeout."""
        await self._ready_event.wait()

    async def stop(self) -> None:
        """Stop supervising, then SIGTERM Janus and SIGKILL it if it lingers."""
        self._stopping = True
        await self._tasks.stop()
        await self._terminate()
        self._ready_event.clear()
        self._set(state=JanusState.STOPPED, pid=None)
        self._release_work_dir()

    # --- internals -------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        self._health = replace(self._health, **changes)

    @property
    def _pid_file(self) -> Path:
        return self._work_dir / "janus.pid"

    def _take_work_dir(self) -> None:
        """Hold the work folder for this process's lifetime (the lock dies with the process)."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._work_dir / "janus.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError("janus.work_dir", f"{self._work_dir} is in use by another running Parley process; "
                              "give each process its own data folder or janus.work_dir") from None
        self._lock_fd = fd

    def _release_work_dir(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock

    def _kill_stale(self) -> None:
        """Kill a Janus left behind by a crashed Parley on this work dir (it would hold our ports)."""
        try:
            pid = int(self._pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.generated.config_file).encode() in cmdline:
            log.warning("killing stale janus pid=%d", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)

    async def _launch(self) -> None:
        """Start one instance and wait for readiness; raises EngineError (process killed) if not."""
        generated = self.generated
        argv = generated.command(self._cfg.binary)
        self._proc = None
        try:
            proc = await self._launcher(argv, generated.root)
        except OSError as exc:
            raise EngineError(f"cannot start janus: {exc}", retryable=True, engine="janus") from exc
        self._proc = proc
        # A few bytes, written inline so supervision never waits on a thread.
        self._pid_file.write_text(f"{proc.pid}\n")
        self._set(pid=proc.pid)
        deadline = self._clock.monotonic() + self._ready_timeout
        while True:
            if proc.returncode is not None:
                self._set(last_exit_code=proc.returncode)
                raise EngineError(
                    f"janus exited with {proc.returncode} during start (see {generated.log_file})",
                    retryable=True,
                    engine="janus",
                )
            if await self._probe(generated):
                break
            if self._clock.monotonic() >= deadline:
                await self._terminate()
                raise EngineError(
                    f"janus not ready after {self._ready_timeout:.0f}s (see {generated.log_file})",
                    retryable=True,
                    engine="janus",
                )
            await self._clock.sleep(0.05)
        self._started_at = self._clock.monotonic()
        self._set(state=JanusState.READY, consecutive_failures=0)
        self._ready_event.set()
        log.info("janus ready pid=%d", proc.pid)

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            proc = self._proc
            if proc is not None:
                code = await proc.wait()
                if self._stopping:
                    return
                self._ready_event.clear()
                self._set(last_exit_code=code, pid=None)
                if self._health.state is JanusState.READY:
                    log.warning("janus exited unexpectedly code=%s", code)
                    if self._clock.monotonic() - self._started_at >= self._backoff.stable_after:
                        attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            failing = self._health.consecutive_failures >= 3
            self._set(state=JanusState.FAILING if failing else JanusState.RESTARTING)
            await self._clock.sleep(delay)
            try:
                await self._launch()
            except EngineError as exc:
                self._set(consecutive_failures=self._health.consecutive_failures + 1)
                log.error("janus restart failed: %s", exc)
                continue
            self._set(restarts=self._health.restarts + 1)
            if self._on_restart is not None:
                try:
                    await self._on_restart()
                except Exception:
                    log.exception("janus on_restart callback failed")

    async def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        for sig, timeout in ((signal.SIGTERM, self._stop_timeout), (signal.SIGKILL, self._stop_timeout)):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
                break
            except TimeoutError:
                log.warning("janus pid=%d ignored %s", proc.pid, signal.Signals(sig).name)
        with contextlib.suppress(OSError):
            self._pid_file.unlink(missing_ok=True)
