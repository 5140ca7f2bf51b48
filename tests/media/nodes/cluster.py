"""Real media nodes for tests and benchmarks: `parley media-node` processes (each supervising
its own Janus) in the caller's network namespace, stopped cleanly or killed like a dead machine.

Plain helpers (no pytest) so that bench/node_failover.py runs the same nodes as the tests;
the fixtures built on them live in this folder's conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"
SECOND_ADDRESS = "127.0.0.3"
SECOND_INTERFACE = "jx1"
# Each node's own RTP range, so that a kill of one leaves the other's ports alone.
RTP_RANGES = {"media-a": (20000, 20999), "media-b": (21000, 21999)}
NODE_SECRET_KEY = "live-test-secret"


@dataclass
class NodeProcess:
    name: str
    address: str
    process: asyncio.subprocess.Process
    log: Path
    # Processes stopped by `kill_node(freeze=True)`: killed for good by `stop_node`.
    frozen: list[int] = field(default_factory=list)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    """Poll ``check`` until it holds (bounded: a hung node fails the test instead of hanging it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"gave up waiting: {what}")


def add_second_interface() -> str:
    """A second ifb in the calling thread's namespace, carrying 127.0.0.3; its address."""
    # A second ifb rather than a second address on the first: Janus's WebSocket transport binds
    # the *interface* its ws_ip belongs to, at that interface's first address (seen with Janus
    # 1.1.2: ws_ip 127.0.0.3 on jx0 listened on 127.0.0.2), so each node needs its own interface.
    subprocess.run(["sh", "-c", f"ip link add {SECOND_INTERFACE} type ifb && ip addr add {SECOND_ADDRESS}/32 dev "
                    f"{SECOND_INTERFACE} && ip link set {SECOND_INTERFACE} up"], check=True, capture_output=True,
                   timeout=10)
    return SECOND_ADDRESS


async def start_node(tmp_path: Path, db_url: str, name: str, address: str, janus_binary: str,
                     rtp: tuple[int, int]) -> NodeProcess:
    data = tmp_path / name
    data.mkdir()
    log = tmp_path / f"{name}.log"
    env = {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), "PARLEY_DATA_DIR": str(data),
        "PARLEY_DATABASE_URL": db_url, "PARLEY_JANUS_BINARY": janus_binary, "PARLEY_JANUS_BIND_HOST": address,
        "PARLEY_JANUS_ICE_ENFORCE_LIST": address, "PARLEY_JANUS_RTP_PORT_MIN": str(rtp[0]),
        "PARLEY_JANUS_RTP_PORT_MAX": str(rtp[1]), "PARLEY_MEDIA_NODE_NAME": name,
        "PARLEY_MEDIA_MAX_ROOMS": "10", "PARLEY_MEDIA_HEARTBEAT_SECONDS": "1", "PARLEY_MEDIA_STALE_SECONDS": "5",
        "PARLEY_SERVER_SECRET_KEY": NODE_SECRET_KEY,
    }
    out = await asyncio.to_thread(open, log, "wb")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "parley.cli", "media-node", env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT)
    finally:
        out.close()
    return NodeProcess(name, address, process, log)


async def start_two_nodes(tmp_path: Path, db_url: str, janus_binary: str, first: str,
                          second: str) -> list[NodeProcess]:
    """media-a on ``first`` and media-b on ``second``, registering into ``db_url`` (migrated)."""
    return [await start_node(tmp_path, db_url, "media-a", first, janus_binary, RTP_RANGES["media-a"]),
            await start_node(tmp_path, db_url, "media-b", second, janus_binary, RTP_RANGES["media-b"])]


async def end_frozen(node: NodeProcess) -> None:
    """A node stopped by `kill_node(freeze=True)` dies for good (its connections then drop)."""
    for pid in node.frozen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if node.frozen:
        node.frozen = []
        await node.process.wait()


async def stop_node(node: NodeProcess) -> int:
    await end_frozen(node)
    if node.process.returncode is None:
        node.process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(node.process.wait(), 30)
    except TimeoutError:
        node.process.kill()
        return await node.process.wait()


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


async def kill_node(node: NodeProcess, *, freeze: bool = False) -> list[int]:
    """A dead machine: SIGKILL the node's agent and its Janus at once (nobody departs, nobody
    restarts anything; the kernel closes their sockets, so peers see the connections drop).
    ``freeze``: SIGSTOP instead, a machine that hangs or drops off the network: its
    connections stay open and silent. The pids signalled."""
    pids = [node.process.pid, *children(node.process.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP if freeze else signal.SIGKILL)
    if freeze:
        node.frozen = pids
    else:
        await node.process.wait()
    return pids


MODELS = SRC.parent / "data" / "models"
WORKER_SECRET = "live-test-worker-secret"


@dataclass
class WorkerProcess:
    name: str
    process: asyncio.subprocess.Process
    log: Path


async def start_worker(tmp_path: Path, server_url: str, name: str, *more_urls: str) -> WorkerProcess:
    """A `parley worker` process (Whisper base from data/models, one inference at a time)
    connecting to ``server_url`` (the web process's base URL; ``more_urls`` next, in turn, when
    it fails) with `WORKER_SECRET`."""
    data = tmp_path / name
    data.mkdir()
    log = tmp_path / f"{name}.log"
    env = {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), "PARLEY_DATA_DIR": str(data),
        "PARLEY_WORKER_SECRET": WORKER_SECRET, "PARLEY_INTERPRETATION_MODELS_DIR": str(MODELS),
        "PARLEY_INTERPRETATION_ASR_THREADS": "1", "PARLEY_INTERPRETATION_ASR_WORKERS": "1",
        "PARLEY_INTERPRETATION_DEVICE": "cpu",
    }
    ws_url = ",".join(u.replace("http://", "ws://", 1) + "/ws/interpretation/worker" for u in (server_url, *more_urls))
    out = await asyncio.to_thread(open, log, "wb")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "parley.cli", "worker", "--server", ws_url, "--name", name,
            "--rtp-bind", "127.0.0.1", env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    finally:
        out.close()
    return WorkerProcess(name, process, log)


async def stop_worker(worker: WorkerProcess) -> None:
    if worker.process.returncode is None:
        worker.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(worker.process.wait(), 20)
    except TimeoutError:
        worker.process.kill()
        await worker.process.wait()


@dataclass
class ServiceProcess:
    """A plain server process: a `parley serve` web process, or Redis."""

    name: str
    url: str
    process: asyncio.subprocess.Process
    log: Path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _spawn(name: str, url: str, log: Path, *argv: str, env: dict[str, str] | None = None) -> ServiceProcess:
    out = await asyncio.to_thread(open, log, "wb")
    try:
        process = await asyncio.create_subprocess_exec(*argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                                       stderr=subprocess.STDOUT)
    finally:
        out.close()
    return ServiceProcess(name, url, process, log)


async def start_redis(tmp_path: Path) -> ServiceProcess:
    """A throwaway redis-server on 127.0.0.1 in the caller's namespace (no persistence),
    accepting connections when this returns (a web process started at once could not reach it)."""
    port = free_port()
    service = await _spawn("redis", f"redis://127.0.0.1:{port}/0", tmp_path / "redis.log", "redis-server", "--port",
                           str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                           str(tmp_path))

    async def listening() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    await eventually(listening, "redis-server accepts connections", 30)
    return service


async def start_web(tmp_path: Path, name: str, db_url: str, redis_url: str, *,
                    interpretation: bool = False) -> ServiceProcess:
    """A `parley serve` web process with no Janus of its own, sharing the nodes' database and
    ``redis_url``'s bus (settings as `failover.web_config`); ``interpretation``: workers connect
    to it with `WORKER_SECRET` (it runs none itself), else it has none."""
    data = tmp_path / name
    data.mkdir()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), "PARLEY_DATA_DIR": str(data),
        "PARLEY_DATABASE_URL": db_url, "PARLEY_REDIS_URL": redis_url, "PARLEY_SERVER_SECRET_KEY": NODE_SECRET_KEY,
        "PARLEY_JANUS_ENABLED": "false", "PARLEY_INTERPRETATION_ENABLED": "false",
        "PARLEY_ANALYSIS_ENABLED": "false", "PARLEY_MEDIA_HEARTBEAT_SECONDS": "1",
        "PARLEY_MEDIA_STALE_SECONDS": "5", "PARLEY_MEDIA_LOST_SECONDS": "3",
        "PARLEY_MEDIA_MAX_CPU_PERCENT": "100000",
    }
    if interpretation:
        env.update({"PARLEY_INTERPRETATION_ENABLED": "true", "PARLEY_INTERPRETATION_RUN_WORKERS": "false",
                    "PARLEY_INTERPRETATION_WORKER_SECRET": WORKER_SECRET})
    return await _spawn(name, f"http://127.0.0.1:{port}", tmp_path / f"{name}.log", sys.executable, "-m",
                        "parley.cli", "serve", "--host", "127.0.0.1", "--port", str(port), env=env)


async def stop_service(service: ServiceProcess) -> None:
    if service.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            service.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(service.process.wait(), 20)
    except TimeoutError:
        service.process.kill()
        await service.process.wait()
