"""Workers die with the server that started them: a real parent process is killed with
SIGKILL (no chance to stop anything) and its child, holding a lifeline, exits by itself;
then the same with `parley serve`'s own supervisor and a real `parley worker`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = str(Path(__file__).resolve().parents[2] / "src")

CHILD = textwrap.dedent("""
    import asyncio, sys
    from parley.lifeline import watch_lifeline

    async def main() -> None:
        gone = asyncio.Event()
        assert watch_lifeline(gone.set, grace_s=5.0)
        print("watching", flush=True)
        await gone.wait()
        sys.exit(0)

    asyncio.run(main())
""")

# The parent starts the child the way `WorkerProcesses` does, prints its pid, and waits forever.
PARENT = textwrap.dedent("""
    import os, subprocess, sys, time
    from parley.lifeline import ENV, open_lifeline, close_lifeline

    child_end, keep = open_lifeline()
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], pass_fds=(child_end,),
                             env={**os.environ, ENV: str(child_end)}, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    close_lifeline(child_end)
    assert child.stdout.readline().strip() == "watching"
    print(child.pid, flush=True)
    time.sleep(600)
""")


async def exited(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` (not ours to wait for) exits within ``seconds``: woken by its
    pidfd, no polling."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(fd, lambda: done.done() or done.set_result(None))
    try:
        await asyncio.wait_for(done, seconds)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def start_parent(*args: str, env: dict[str, str] | None = None) -> tuple[asyncio.subprocess.Process, int]:
    parent = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE,
        env={**(env or os.environ), "PYTHONPATH": SRC}, start_new_session=True)
    assert parent.stdout is not None
    async with asyncio.timeout(120):
        line = await parent.stdout.readline()
    return parent, int(line)


async def kill_parent_and_expect_the_child_to_exit(parent: asyncio.subprocess.Process, child: int,
                                                   within: float) -> None:
    try:
        assert not await exited(child, 0.2)  # alive while its parent is
        parent.send_signal(signal.SIGKILL)
        assert await exited(parent.pid, 10)
        assert await exited(child, within), "the child outlived its parent"
    finally:
        for pid in (child, parent.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await parent.wait()  # its output pipe closes once the child is gone too


async def test_a_child_with_a_lifeline_exits_when_its_parent_is_killed() -> None:
    parent, child = await start_parent("-c", PARENT, CHILD)
    await kill_parent_and_expect_the_child_to_exit(parent, child, within=10)


def test_without_a_lifeline_nothing_is_watched() -> None:
    from parley.lifeline import watch_lifeline

    async def run() -> bool:
        return watch_lifeline(lambda: None, environ={})

    assert asyncio.run(run()) is False


# `parley serve`'s supervisor with a real `parley worker`, which loads Whisper meanwhile (the
# lifeline is watched from the start; stopping mid-load ends at the latest after its grace).
SERVE = textwrap.dedent("""
    import asyncio, sys
    from parley.clock import SystemClock
    from parley.handlers.interpretation_workers import WorkerProcesses

    async def main() -> None:
        procs = WorkerProcesses(1, url="ws://127.0.0.1:9/ws/interpretation/worker", secret="s",
                                clock=SystemClock())
        procs.start()
        while not procs._procs:
            await asyncio.sleep(0.05)
        print(procs._procs[1].pid, flush=True)
        await asyncio.sleep(600)

    asyncio.run(main())
""")


@pytest.mark.slow
async def test_parley_workers_exit_when_the_server_is_killed(tmp_path: Path) -> None:
    models = Path(os.environ.get("PARLEY_MODELS_DIR", "")) if os.environ.get("PARLEY_MODELS_DIR") else \
        tmp_path / "models"
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path / "data"),
           "PARLEY_INTERPRETATION_MODELS_DIR": str(models)}
    parent, worker = await start_parent("-c", SERVE, env=env)
    await asyncio.sleep(1.0)  # let it get going (loading its models)
    await kill_parent_and_expect_the_child_to_exit(parent, worker, within=60)
