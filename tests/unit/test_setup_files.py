"""The setup as a newcomer meets it (issue 13): a build that keeps working after setuptools
drops the license table, `make run` installing only what running needs, and a README that
says how to get back in and how long the tests take."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
