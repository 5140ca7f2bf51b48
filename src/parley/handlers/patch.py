"""A partial update (HTTP PATCH, an edit form) applied to a frozen input dataclass: every
handler with an edit takes the same shape, and a field it does not know is refused by name
rather than ignored."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from parley.errors import InvalidInput

D = TypeVar("D")


def merged(current: D, changes: Mapping[str, Any]) -> D:
    """``current`` with ``changes`` applied; InvalidInput names each unknown field."""
    known = {f.name for f in dataclasses.fields(current)}  # type: ignore[arg-type]
    unknown = set(changes) - known
    if unknown:
        raise InvalidInput("Unknown fields.", fields=dict.fromkeys(sorted(unknown), "unknown"))
    return dataclasses.replace(current, **changes)  # type: ignore[type-var]
