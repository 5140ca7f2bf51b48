"""bench/control_plane.py at its smallest (2 meetings of 8 for a few seconds), so the benchmark
and its fake media node keep working as the meeting code changes (the real sweep is in
bench/README.md). Needs PostgreSQL and Redis on loopback (`scripts/services` starts them)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _server_of(database_url: str) -> str:
    """postgresql://user@host:port/name -> postgresql://user@host:port (the bench makes its own database)."""
    parts = urlsplit(database_url.replace("postgresql+psycopg:", "postgresql:"))
    return f"{parts.scheme}://{parts.netloc}"


def test_two_meetings_of_eight_deliver_every_change_to_every_other_socket(tmp_path: Path) -> None:
    database = _server_of(os.environ.get("PARLEY_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/x")
    redis = os.environ.get("PARLEY_TEST_REDIS_URL") or "redis://127.0.0.1:6379/13"
    if not (_reachable(database, 5432) and _reachable(redis, 6379)):
        pytest.skip("needs PostgreSQL and Redis (scripts/services)")
    out = tmp_path / "result.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "control_plane.py"), "--quick", "--duration", "6",
         "--database", database, "--redis", redis, "--db-name", f"parley_bench_smoke_{os.getpid()}",
         "--out", str(out)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=600,
        capture_output=True, text=True,
    )
    assert run.returncode == 0, f"the bench exited {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    [result] = json.loads(out.read_text())["results"]
    assert result["meetings_up"] == 2 and result["meetings_failed"] == 0
    assert result["errors"] == {} and result["deliveries_missing"] == 0
    assert result["changes"] > 0 and result["deliveries"] == 7 * result["changes"]
    assert sum(result["statements"].values()) > 0 and result["media_node"]["connections"] >= 16
