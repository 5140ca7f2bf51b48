"""The setup as a newcomer meets it (issue 13): a build that keeps working after setuptools
drops the license table, `make run` installing only what running needs, a README that says
how to get back in and how long the tests take, and a setup that shows its progress in
numbered steps (a long first run never looks stuck)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_license_is_an_spdx_string_not_the_table_setuptools_will_refuse() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str) and project["license"] == "AGPL-3.0-or-later"


def test_running_installs_no_test_tooling() -> None:
    lines = [x.strip() for x in (ROOT / "scripts" / "apt-packages.txt").read_text().splitlines()]
    packages = [x for x in lines if x and not x.startswith("#")]
    run, test = packages[:packages.index("[test]")], packages[packages.index("[test]") + 1:]
    assert {"chromium", "postgresql", "redis-server"} <= set(test)
    assert not {"chromium", "postgresql", "redis-server", "coturn"} & set(run)
    assert {"janus", "ffmpeg"} <= set(run)
    setup = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: setup$", setup, re.M) and "scripts/setup run" in setup


def test_the_readme_says_how_to_reset_a_lost_password_and_how_long_the_tests_take() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "parley admin reset-password" in readme
    assert re.search(r"`make test` takes about \d+ minutes", readme)


def _not_set_up() -> str | None:
    """Why ``scripts/setup test`` would install something here (it must not, from a test: it
    would run apt, pip into a shared environment, or join a 145 MB model), or None."""
    stamps = ROOT / ".venv" / ".parley-setup"
    pip = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    if not (stamps / f"pip-{pip}-test").is_file():
        return "the Python packages for the tests are not installed (run scripts/setup test)"
    front = b"".join((ROOT / "frontend" / n).read_bytes() for n in ("package.json", "package-lock.json")
                     if (ROOT / "frontend" / n).is_file())
    if not (stamps / f"npm-{hashlib.sha256(front).hexdigest()[:16]}").is_file() or not (
            ROOT / "frontend" / "node_modules").is_dir():
        return "the front end's npm packages are not installed (run scripts/setup test)"
    if shutil.which("dpkg-query") is None or shutil.which("npm") is None:
        return "not a Debian machine with npm: scripts/setup would install them"
    listed = (ROOT / "scripts" / "apt-packages.txt").read_text().splitlines()
    wanted = [x.split()[0] for x in listed if x.strip() and not x.lstrip().startswith(("#", "["))]
    shown = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", *wanted],
                           capture_output=True, text=True, check=False).stdout
    installed = {line.split()[0] for line in shown.splitlines() if line.endswith("install ok installed")}
    if missing := [p for p in wanted if p not in installed]:
        return f"Debian packages are missing: {', '.join(missing)} (run scripts/setup test)"
    from parley.cli.models import models_dir
    from parley.config import Config
    from parley.interpretation.asr.whisper.models import MODEL_FILES

    whisper = models_dir(Config.load()) / "whisper" / "base"
    if not all((whisper / name).is_file() for name in MODEL_FILES):
        return f"the speech recognition model is not prepared in {whisper} (run scripts/setup test)"
    return None


@pytest.mark.slow
def test_the_setup_shows_its_progress_in_numbered_steps_that_end_ready() -> None:
    """Re-run on a checkout already set up (a few seconds): every step announced, numbered,
    in order and none missing, then the line that says it is done."""
    if (reason := _not_set_up()) is not None:
        pytest.skip(f"this checkout is not set up: {reason}")
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["bash", "scripts/setup", "test"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    numbered = (re.fullmatch(r"setup \[(\d+)/(\d+)\] (\S.*)", line) for line in lines)
    steps = [(int(m[1]), int(m[2]), m[3]) for m in numbered if m]
    assert steps, done.stdout
    total = steps[0][1]
    assert [(n, of) for n, of, _ in steps] == [(n, total) for n in range(1, total + 1)], steps
    assert [what for *_, what in steps] == ["Debian packages", "Python packages", "front end",
                                           "speech recognition model"]
    assert lines[-1] == f"setup: ready ({ROOT})", lines[-3:]  # after every step, last
