"""Schemathesis against the OpenAPI document: no input, however odd, yields a 5xx."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from parley.security import hash_token, new_token
from parley.server import Server
from parley.storage.models import ApiToken, Role

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SCHEMATHESIS = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "schemathesis"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PARTICIPANT, None])
async def test_no_server_errors_for_any_generated_request(
    server: Server, live_url: str, make_user, role: Role | None, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    binary = str(SCHEMATHESIS) if SCHEMATHESIS.exists() else shutil.which("schemathesis")
    if not binary:
        # `make test` in CI must fuzz: a missing fuzzer is a failure there, not a skip.
        if os.environ.get("CI"):
            pytest.fail("schemathesis is not installed (pip install -e .[dev])")
        pytest.skip("schemathesis is not installed (pip install -e .[dev])")
    headers: list[str] = []
    if role is not None:
        user = await make_user(role)
        token = new_token()
        async with server.db.session() as s:
            s.add(ApiToken(user_id=user.id, name="fuzz", token_hash=hash_token(token), created_at=server.clock.now()))
        headers = ["-H", f"Authorization: Bearer {token}"]
    report = tmp_path / "junit.xml"
    proc = await asyncio.create_subprocess_exec(
        binary, "run", f"{live_url}/api/openapi.json", "--checks", "not_a_server_error",
        "--max-examples", os.environ.get("PARLEY_FUZZ_EXAMPLES", "25"), "--workers", "1",
        "--phases", "examples,coverage,fuzzing", "--max-time", os.environ.get("PARLEY_FUZZ_SECONDS", "45"),
        "--request-timeout", "120",
        # Meetings need a running Janus, which this fuzz server has not: they answer 503
        # engine_unavailable by design. tests/meetings fuzz-free covers them with a fake Janus.
        "--exclude-path-regex", "^/api/v1/meetings/",
        "--report", "junit", "--report-junit-path", str(report), *headers,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    start = text.find("FAILURES")
    assert proc.returncode == 0, text[start : start + 8000] if start >= 0 else text[-8000:]
