"""Per-stage latency and error counters.

Bounded (the last ``window`` samples per stage) so a long meeting does not grow memory;
`snapshot` is what health endpoints and benchmarks print.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any


@dataclass
class _Series:
    values: deque[float]
    count: int = 0
    errors: int = 0
    total: float = 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for an empty list."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


class StageMetrics:
    def __init__(self, window: int = 2000) -> None:
        self._window = window
        self._series: dict[str, _Series] = defaultdict(lambda: _Series(deque(maxlen=self._window)))
        self._counters: dict[str, int] = defaultdict(int)

    def observe(self, stage: str, seconds: float) -> None:
        s = self._series[stage]
        s.values.append(seconds)
        s.count += 1
        s.total += seconds

    def error(self, stage: str) -> None:
        self._series[stage].errors += 1

    def count(self, name: str, n: int = 1) -> None:
        self._counters[name] += n

    def values(self, stage: str) -> list[float]:
        return list(self._series[stage].values) if stage in self._series else []

    def snapshot(self) -> dict[str, Any]:
        stages: dict[str, Any] = {}
        for name, s in sorted(self._series.items()):
            vals = list(s.values)
            stages[name] = {
                "count": s.count,
                "errors": s.errors,
                "total_s": round(s.total, 4),
                "p50_s": _r(percentile(vals, 50)),
                "p90_s": _r(percentile(vals, 90)),
                "max_s": _r(max(vals) if vals else math.nan),
            }
        return {"stages": stages, "counters": dict(sorted(self._counters.items()))}


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)
