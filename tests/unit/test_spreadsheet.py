"""Every CSV Parley writes neutralises formulas (`parley.spreadsheet`)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from parley import spreadsheet

pytestmark = pytest.mark.unit

SRC = Path(spreadsheet.__file__).parent


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_become_text_and_read_back(text: str) -> None:
    cell = spreadsheet.safe_cell(text)
    assert cell == "'" + text
    assert spreadsheet.restore_cell(str(cell)) == text


def test_other_cells_are_unchanged() -> None:
    assert [spreadsheet.safe_cell(v) for v in ("UN75", "'quoted", "", -1.5, 3, None)] == \
        ["UN75", "'quoted", "", -1.5, 3, None]
    assert spreadsheet.restore_cell("'quoted") == "'quoted"


def test_the_writer_writes_safe_rows() -> None:
    buf = io.StringIO()
    spreadsheet.writer(buf).writerow(["=1+1", "ok", -4])
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["'=1+1", "ok", "-4"]


def test_no_module_writes_csv_around_the_safe_writer() -> None:
    """A new export must use `spreadsheet.writer`, not `csv.writer` / `csv.DictWriter`."""
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p != Path(spreadsheet.__file__)
                 and re.search(r"\bcsv\.(writer|DictWriter)\b", p.read_text(encoding="utf-8"))]
    assert offenders == []
