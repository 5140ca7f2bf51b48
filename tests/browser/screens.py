"""Screenshots that browser tests write for a person to review (what the page really showed).

They go to ``$PARLEY_SCREENSHOTS`` when set (e.g. ``bench/results/screenshots``), else into the
test's temporary folder; a test never passes or fails on them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


async def snap(target: Any, tmp_path: Path, name: str, **options: Any) -> Path:
    """Screenshot a page (``full_page=True`` for all of it) or one locator's element."""
    folder = Path(os.environ.get("PARLEY_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one mkdir in a test helper
    path = folder / f"{name}.png"
    await target.screenshot(path=str(path), **options)
    return path
