"""Chinese script for captions: Simplified, whatever the recogniser wrote.

Whisper base often writes Mandarin in Traditional characters; Parley's Chinese captions (and
the translations made from them) are Simplified, as at the UN. Conversion is OpenCC's
``t2s`` through its Python binding (the ``opencc`` wheel, in the interpretation extra), or the
Debian ``opencc`` command when only that is installed; with neither, text passes unchanged
and this is logged once.
"""

from __future__ import annotations

import functools
import importlib
import logging
import shutil
import subprocess
from collections.abc import Callable

log = logging.getLogger(__name__)

Converter = Callable[[str], str]


def _binding() -> Converter | None:
    try:
        opencc = importlib.import_module("opencc")
        converter = opencc.OpenCC("t2s")
    except Exception:  # absent, or a build without its dictionaries
        return None
    convert: Converter = converter.convert
    return convert


def _command() -> Converter | None:
    tool = shutil.which("opencc")
    if tool is None:
        return None

    def convert(text: str) -> str:
        done = subprocess.run([tool, "-c", "t2s"], input=text.encode(), capture_output=True, timeout=10,
                              check=False)
        return done.stdout.decode().rstrip("\n") if done.returncode == 0 else text

    return convert


@functools.lru_cache(maxsize=1)
def simplified_converter() -> Converter | None:
    """The best available Traditional -> Simplified converter, or None."""
    convert = _binding() or _command()
    if convert is None:
        log.warning("OpenCC is not installed: Chinese captions keep the script the recogniser wrote "
                    "(pip install opencc, or apt-get install opencc)")
    return convert


def to_simplified(text: str) -> str:
    """``text`` in Simplified characters (unchanged when OpenCC is missing)."""
    convert = simplified_converter()
    if convert is None or not text:
        return text
    return convert(text)
