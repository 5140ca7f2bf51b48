"""A child process's lifeline to the process that started it.

`parley serve` starts its interpretation workers as processes. When the server dies without
stopping them (``kill -9``, a crash, the OOM killer), they must not live on: an orphan holds
its models' memory and reconnects to the next server as a duplicate. Signals cannot tell a
child that its parent died portably, but a pipe can: the parent keeps the write end (never
written to, never inherited by anyone else), the child watches the read end, and when the
parent is gone, however it went, the kernel closes the write end and the child reads
end-of-file.

    parent: read_fd, write_fd = open_lifeline()  -> start child with read_fd (pass_fds), env
            close_lifeline(write_fd) once the child has exited
    child:  watch_lifeline(on_gone)              -> on_gone() when the parent is gone, and a
                                                    hard exit if stopping takes too long
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

ENV = "PARLEY_LIFELINE_FD"


def open_lifeline() -> tuple[int, int]:
    """(read end for the child, write end the parent keeps); both close-on-exec, so no other
    child inherits them (pass the read end with ``pass_fds``)."""
    return os.pipe()


def close_lifeline(fd: int) -> None:
    with contextlib.suppress(OSError):  # already closed
        os.close(fd)


def watch_lifeline(on_gone: Callable[[], None], *, grace_s: float = 15.0,
                   environ: dict[str, str] | None = None) -> bool:
    """In the child: call ``on_gone`` (on the running loop) once the parent is gone; if the
    process is still alive ``grace_s`` later, exit it. False when no lifeline was given
    (started by hand: nothing to watch)."""
    value = (os.environ if environ is None else environ).get(ENV, "")
    if not value.isdigit():
        return False
    fd = int(value)
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            if os.read(fd, 512):
                return  # the parent never writes; nothing to do
        except BlockingIOError:
            return
        except OSError:
            pass  # a broken lifeline is a gone parent too
        loop.remove_reader(fd)
        close_lifeline(fd)
        log.warning("the process that started this one is gone: stopping")
        timer = threading.Timer(grace_s, _exit_now)
        timer.daemon = True
        timer.start()
        on_gone()

    loop.add_reader(fd, readable)
    return True


def _exit_now() -> None:
    log.error("still running after its parent died: exiting now")
    logging.shutdown()
    os._exit(70)
