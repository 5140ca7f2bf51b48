"""Files fitted for one embedding model and shipped in ``data/``, found by the model's name.

The alignment, the confidence curve and the theme probe each belong to the model they were
fitted with (``bench/themes_heldout.py fit``); another model finds no file and gets none.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

PACKAGED = "data"  # folder in this package holding the fitted files

T = TypeVar("T")


def file_name(kind: str, model: str, suffix: str) -> str:
    """``<kind>-<model name, made file-safe><suffix>``."""
    return f"{kind}-" + "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model) + suffix


def load_packaged(name: str, load: Callable[[Path], T]) -> T | None:
    """The packaged file ``name`` read by ``load``, None when it is not there."""
    entry = resources.files("parley.consultation.analysis").joinpath(PACKAGED).joinpath(name)
    if not entry.is_file():
        return None
    with resources.as_file(entry) as path:
        return load(Path(path))
