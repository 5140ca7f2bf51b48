"""The dashboard's world map: participation by country, shaded, as inline SVG.

The shapes are drawn once at build time (`frontend/world-map.mjs`: Natural Earth 1:110m, Equal
Earth projection) into ``static/build/world-map.json`` and a grey base map ``world-map.svg``.
A page inlines only the countries it shades (a few KB), over the cached base image, so it
needs no script (the CSP allows none inline) and prints as it shows. Each shaded country
links to the dashboard filtered to it and names its figures in a <title>; the table next to
the map says the same for screen readers.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

SHAPES = Path(__file__).with_name("static") / "build" / "world-map.json"
BASE_URL = "/static/build/world-map.svg"
LEVELS = 5


class CountryRow(Protocol):
    """One row of the dashboard's country table (survey responses beside dialogue participants)."""

    @property
    def value(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def responses(self) -> int | None: ...
    @property
    def participants(self) -> int | None: ...


@dataclass(frozen=True)
class ShadedCountry:
    code: str
    name: str
    path: str
    level: int  # 1 (few people) .. LEVELS (the most)
    responses: int
    participants: int


@dataclass(frozen=True)
class Legend:
    level: int
    low: int
    high: int


@dataclass(frozen=True)
class WorldMap:
    width: int
    height: int
    base_url: str
    countries: list[ShadedCountry]
    legend: list[Legend]
    unmapped: list[str]  # countries with people but no shape at this scale (small islands)


@functools.cache
def _shapes(path: Path = SHAPES) -> tuple[int, int, dict[str, str]] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("no world map shapes (%s): the dashboard shows the country table only", exc)
        return None
    return int(data["width"]), int(data["height"]), dict(data["countries"])


def level_of(people: int, most: int) -> int:
    """Logarithmic classes: a country with 10 people stays visible next to one with 10,000."""
    if people <= 0 or most <= 0:
        return 0
    return min(LEVELS, 1 + int(LEVELS * math.log1p(people) / math.log1p(most)))


def world_map(rows: Sequence[CountryRow], *, shapes: Path = SHAPES) -> WorldMap | None:
    """The map for these country rows; None when the build has no shapes."""
    loaded = _shapes(shapes)
    if loaded is None:
        return None
    width, height, paths = loaded
    people = {r.value: (r.responses or 0, r.participants or 0) for r in rows}
    most = max((a + b for a, b in people.values()), default=0)
    shaded: list[ShadedCountry] = []
    unmapped: list[str] = []
    for row in rows:
        responses, participants = people[row.value]
        if responses + participants == 0:
            continue
        path = paths.get(row.value)
        if path is None:
            unmapped.append(row.label)
            continue
        shaded.append(ShadedCountry(row.value, row.label, path, level_of(responses + participants, most),
                                    responses, participants))
    legend = _legend(most)
    return WorldMap(width, height, BASE_URL, shaded, legend, unmapped)


def _legend(most: int) -> list[Legend]:
    """The numbers of people each level stands for (the inverse of `level_of`)."""
    out: list[Legend] = []
    if most <= 0:
        return out
    span = math.log1p(most) / LEVELS
    for level in range(1, LEVELS + 1):
        low = 1 if level == 1 else math.ceil(math.expm1((level - 1) * span))
        high = most if level == LEVELS else math.ceil(math.expm1(level * span)) - 1
        while low <= high and level_of(low, most) < level:  # float edges
            low += 1
        while high >= low and level_of(high, most) > level:
            high -= 1
        if low <= high:
            out.append(Legend(level, low, high))
    return out
