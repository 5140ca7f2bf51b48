"""CSV that spreadsheet programs cannot be tricked into running.

Excel, LibreOffice and Google Sheets read a cell starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return as a formula, so a glossary term or an answer like
``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` would run on the organiser's machine. Every
CSV Parley writes goes through `writer`, which prefixes such text cells with ``'`` (shown as
text, the quote hidden); numbers stay numbers. Parley's own CSV reader (glossary import)
drops that prefix again with `restore_cell`, so export then import gives back the same text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet will show it, never as a formula; ints and floats as they are."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore_cell(text: str) -> str:
    """Undo `safe_cell` on text read back from a CSV Parley wrote."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


class SafeWriter:
    """`csv.writer` with every cell through `safe_cell`."""

    def __init__(self, out: _Writable, **kwargs: Any) -> None:
        kwargs.setdefault("lineterminator", "\n")
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])


def writer(out: _Writable, **kwargs: Any) -> SafeWriter:
    return SafeWriter(out, **kwargs)
