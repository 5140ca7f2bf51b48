"""Private network namespaces for media tests.

Janus skips loopback interfaces when gathering ICE candidates, so on a machine with no usable
network a WebRTC test needs a namespace holding ``lo`` plus an ``ifb`` interface that carries
127.0.0.2/32 (see notes/janus-on-loopback.md). A namespace also removes every port clash with
other Janus instances on the machine.

Two ways in, both needing root (CAP_SYS_ADMIN) and iproute2:

* `private_netns()` moves the *calling thread* into a fresh namespace and back. Sockets opened
  and processes started from this thread meanwhile live in the namespace (and stay there after
  the switch back), so an asyncio test can start Janus and talk to it on 127.0.0.1. Threads
  started before the switch (an already-running executor) stay outside: create sockets on the
  event loop thread. The `netns` pytest fixture in this folder's conftest uses it.
* `netns_argv()` / `run_in_netns()` wrap a command with ``unshare -n`` for a whole separate
  process (a scenario script, a browser, a benchmark).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

CLONE_NEWNET = 0x40000000
IFB_NAME = "jx0"
IFB_ADDRESS = "127.0.0.2"

_SETUP = (
    f"ip link set lo up && ip link add {IFB_NAME} type ifb"
    f" && ip addr add {IFB_ADDRESS}/32 dev {IFB_NAME} && ip link set {IFB_NAME} up"
)


@dataclass(frozen=True)
class Netns:
    """The namespace a test runs in: ICE should use ``interface`` / ``address``."""

    interface: str = IFB_NAME
    address: str = IFB_ADDRESS


@functools.cache
def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None when they can (checked once per run)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (util-linux / iproute2)"
    try:
        probe = subprocess.run(
            ["unshare", "-n", "--", "sh", "-c", _SETUP],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`unshare -n` failed: {exc}"
    if probe.returncode != 0:
        detail = (probe.stderr or probe.stdout).strip().splitlines()
        return f"cannot create a network namespace with an ifb interface (needs root): {detail[-1] if detail else ''}"
    return None


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


@contextlib.contextmanager
def private_netns() -> Iterator[Netns]:
    """Run the calling thread in a fresh namespace (lo up, ifb with 127.0.0.2/32), then return."""
    libc = _libc()
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        try:
            # Children inherit the forking thread's namespace, so `ip` configures this one.
            subprocess.run(["sh", "-c", _SETUP], check=True, capture_output=True, timeout=10)
            yield Netns()
        finally:
            _check(libc.setns(original, CLONE_NEWNET), "setns(original)")
    finally:
        os.close(original)


def netns_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` wrapped so it runs in its own namespace (lo + ifb 127.0.0.2/32)."""
    return ["unshare", "-n", "--", "sh", "-c", f'{_SETUP} && exec "$@"', "netns", *argv]


def run_in_netns(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """`subprocess.run` of ``argv`` inside a fresh namespace."""
    return subprocess.run(netns_argv(argv), **kwargs)
