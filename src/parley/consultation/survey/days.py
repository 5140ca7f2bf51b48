"""Day numbers: the survey counts responses per day since 1970-01-01 (UTC), and its
rollups and dashboard group those days into weeks (starting Monday) and months.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

EPOCH = date(1970, 1, 1)


def day_number(when: datetime) -> int:
    return (when.astimezone(UTC).date() - EPOCH).days


def day_date(day: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + day)


def week_start(day: int) -> int:
    """The Monday starting the week of ``day`` (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


def month_of(day: int) -> int:
    """The day number of the first of the month ``day`` is in."""
    return (day_date(day).replace(day=1) - EPOCH).days
