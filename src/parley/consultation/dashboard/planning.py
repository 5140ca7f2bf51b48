"""How a view is counted with the least reading: the rollup cuboid (or the responses)
that covers its dimensions, and for date ranges whole months or weeks from a coarse cuboid
with the days at either end from a daily one, whichever reads fewer rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from parley.consultation.dashboard.filters import Filters
from parley.consultation.regions import countries_in, region_of
from parley.consultation.survey import month_of, week_start
from parley.storage.stores import survey as store


@dataclass(frozen=True)
class Part:
    """One read: a rollup cuboid (or the responses, when None) over one slice."""

    cuboid: int | None
    slice: store.Slice


@dataclass(frozen=True)
class Plan:
    parts: tuple[Part, ...]
    group: tuple[str, ...]  # dimensions grouped in storage
    region_from_country: bool = False
    empty: bool = False

    @property
    def source(self) -> str:
        if self.empty:
            return "empty"
        return "+".join(dict.fromkeys(f"rollup:{p.cuboid}" if p.cuboid is not None else "responses"
                                      for p in self.parts))


def plan(filters: Filters, by: str | None, span: tuple[int, int] | None = None) -> Plan:
    """How to count a view exactly with the least reading.

    Without dates: the smallest cuboid holding the view's dimensions, else the responses.
    With dates (and a breakdown other than time): whole months or weeks inside the range from
    a monthly or weekly cuboid, the days at either end from a daily cuboid or the responses.
    ``span`` is the first and last day with responses (for open-ended ranges)."""
    where: dict[str, tuple[str, ...]] = {}
    empty = False
    if filters.country:
        where["country"] = (filters.country,)
        empty = filters.region is not None and region_of(filters.country) != filters.region
    elif filters.region:
        where["region"] = (filters.region,)
    for dim in ("age", "gender", "education"):
        value = getattr(filters, dim)
        if value:
            where[dim] = (value,)
    group_dim = {"week": "day"}.get(by or "", by)
    region_from_country = False
    if group_dim == "region" and "country" in where:
        group_dim, region_from_country = "country", True
    if group_dim == "country" and "region" in where:
        where["country"] = countries_in(where.pop("region")[0])
    group = (group_dim,) if group_dim else ()
    dims = set(where) | set(group)
    first, last = day_number_of(filters.date_from), day_number_of(filters.date_to)
    if span is not None:
        # Bounds outside the data select nothing less: drop them.
        first = None if first is not None and first <= span[0] else first
        last = None if last is not None and last >= span[1] else last
    dated = {"day"} if first is not None or last is not None else set()
    if "region" in where and store.best_cuboid(dims | dated) is None:
        # A region is its countries: a cuboid with the country may hold the view (e.g. by
        # language in one region).
        by_country = dims - {"region"} | {"country"}
        if store.best_cuboid(by_country | dated) is not None:
            where["country"] = countries_in(where.pop("region")[0])
            dims = by_country

    def done(*parts: Part) -> Plan:
        return Plan(tuple(parts), group, region_from_country, empty)

    if first is None and last is None:
        return done(Part(store.best_cuboid(dims), store.Slice(where)))
    daily = store.best_cuboid(dims | {"day"})
    whole = store.Slice(where, first, last)
    if "day" in dims or span is None:
        return done(Part(daily, whole))
    lo = span[0] if first is None else first
    hi = span[1] if last is None else last
    options: list[tuple[float, tuple[Part, ...]]] = [(read_cost(daily, where, hi - lo + 1), (Part(daily, whole),))]
    for grain in ("month", "week"):
        coarse = store.best_cuboid(dims | {grain})
        units = whole_units(grain, lo, hi) if coarse is not None else None
        if coarse is None or units is None:
            continue
        start, last_unit, end = units
        parts = [Part(coarse, store.Slice(where, start, last_unit))]
        count = (last_unit - start) // 7 + 1 if grain == "week" else (last_unit - start) // 28 + 1
        cost = read_cost(coarse, where, count)
        if lo < start:
            parts.append(Part(daily, store.Slice(where, lo, start - 1)))
            cost += read_cost(daily, where, start - lo)
        if end < hi:
            parts.append(Part(daily, store.Slice(where, end + 1, hi)))
            cost += read_cost(daily, where, hi - end)
        options.append((cost, tuple(parts)))
    return done(*min(options, key=lambda option: option[0])[1])


def read_cost(cuboid: int | None, where: Mapping[str, tuple[str, ...]], units: int) -> float:
    """Rough rows read for ``units`` days (weeks, months) of a cuboid, or of the responses."""
    if cuboid is None:
        # Responses per day, once per question, narrowed by the country index if filtered.
        return units * 20_000 / (50 if "country" in where else 1)
    rows = float(units)
    for dim in store.CUBOIDS[cuboid]:
        if dim not in store.TIME_DIMS and len(where.get(dim, ())) != 1:
            rows *= store.CARDINALITY[dim]
    return rows


def whole_units(grain: str, lo: int, hi: int) -> tuple[int, int, int] | None:
    """(first unit start, last unit start, last day covered) of the whole weeks or months
    inside [lo, hi], or None when there is none."""
    if grain == "week":
        start = lo if week_of(lo) == lo else week_of(lo) + 7
        last_unit = week_of(hi) if week_of(hi + 1) == hi + 1 else week_of(hi) - 7
        if start > last_unit:
            return None
        return start, last_unit, last_unit + 6
    start = lo if month_of(lo) == lo else next_month(lo)
    last_unit = month_of(hi) if month_of(hi + 1) == hi + 1 else month_of(month_of(hi) - 1)
    if start > last_unit:
        return None
    return start, last_unit, next_month(last_unit) - 1


def next_month(day: int) -> int:
    return month_of(month_of(day) + 31)


def day_number_of(value: date | None) -> int | None:
    return None if value is None else (value - date(1970, 1, 1)).days


def week_of(day: int) -> int:
    """The Monday starting the week of ``day``."""
    return week_start(day)
