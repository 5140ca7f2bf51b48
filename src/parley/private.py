"""Owner-only files: the data folder holds the database, the signing and worker secrets and
Janus' generated config, so nobody else on the machine may read it (folders 0700, files
0600). Existing installations are tightened at start, never loosened."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only, or take group and other rights away."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and owner-only if missing, or take group and other rights away.

    SQLite creates a database's ``-wal`` and ``-shm`` files with the database file's mode, so
    creating the database this way keeps those private too; existing ones are tightened."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    _tighten(path)
    return path


def tighten_sqlite(database: Path) -> None:
    """Make a SQLite database and its journal files owner-only. A missing folder is created
    owner-only; an existing one is left as it is (it may be any folder the admin chose)."""
    database.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            _tighten(companion)


def _tighten(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        with contextlib.suppress(PermissionError):  # not ours (a shared mount): leave it
            os.chmod(path, mode & ~0o077)
