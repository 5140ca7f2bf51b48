"""A glossary as CSV: written for download, read back from an upload or a paste from a
spreadsheet (all or nothing, every bad line reported).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from parley import spreadsheet
from parley.errors import InvalidInput
from parley.handlers.glossary.rules import CSV_MAX_CHARS, ENTRIES_MAX
from parley.handlers.glossary.validation import CleanEntry, EntryInput, format_translations, validate_entry
from parley.handlers.glossary.views import EntryView

CSV_HEADER = ("term", "language", "translations", "note")


def to_csv(entries: Iterable[EntryView]) -> str:
    buf = io.StringIO()
    writer = spreadsheet.writer(buf)
    writer.writerow(CSV_HEADER)
    for e in entries:
        writer.writerow([e.term, e.language, format_translations(e.translations, sep=";"), e.note])
    return buf.getvalue()


def parse_csv(text: str) -> list[CleanEntry]:
    """Rows of ``term,language,translations[,note]`` (a header row is optional; a blank
    language means "*"; tab-separated text pasted from a spreadsheet works too). Every
    problem is reported at once as ``line.<n>.<field>``; nothing is partially read."""
    if len(text) > CSV_MAX_CHARS:
        raise InvalidInput("The list is too long.", fields={"csv": "length"}, code="invalid_csv")
    text = text.lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    dialect = "excel-tab" if "\t" in first and "," not in first else "excel"
    errors: dict[str, str] = {}
    out: list[CleanEntry] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    except csv.Error:
        raise InvalidInput("The list is not valid CSV.", fields={"csv": "syntax"}, code="invalid_csv") from None
    for n, row in enumerate(rows, start=1):
        cells = [spreadsheet.restore_cell(c.strip()) for c in row]
        if not any(cells):
            continue
        if not out and not errors and tuple(c.lower() for c in cells[:3]) == CSV_HEADER[:3]:
            continue
        if len(cells) > len(CSV_HEADER):
            errors[f"line.{n}"] = "columns"
            continue
        cells += [""] * (len(CSV_HEADER) - len(cells))
        try:
            clean = validate_entry(EntryInput(term=cells[0], language=cells[1], translations=cells[2], note=cells[3]))
        except InvalidInput as exc:
            for name, code in exc.fields.items():
                errors[f"line.{n}.{name}"] = code
            continue
        key = (clean.language, clean.term_key)
        if key in seen:
            errors[f"line.{n}.term"] = "duplicate"
            continue
        seen[key] = n
        out.append(clean)
    if not out and not errors:
        errors["csv"] = "required"  # an empty paste, with "replace", would wipe the glossary
    if len(out) > ENTRIES_MAX:
        errors["csv"] = "count"
    if errors:
        raise InvalidInput("Some lines of the list need attention.", fields=errors, code="invalid_csv")
    return out
