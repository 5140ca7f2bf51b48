"""What the rollups count: the pseudo-questions, the breakdown dimensions and the cuboids
(combinations of dimensions), and which cuboid answers a query. No SQL here."""

from __future__ import annotations

from parley.vocabulary import NO_THEME as NO_THEME  # the option for texts without a theme

RESPONSES = "_n"  # pseudo-question counting responses
ANSWERED = ""  # pseudo-option counting respondents who answered a question
THEMES = "_themes"  # pseudo-question counting the coded free-text answers per theme
NO_DAY = -1
ALL_BITS = (1 << 63) - 1
SLOTS = 8

# Breakdown dimensions and the response columns that hold them.
DIM_COLUMNS: dict[str, str] = {
    "day": "day",
    "week": "week",
    "month": "month",
    "region": "region",
    "country": "country",
    "age": "age_group",
    "gender": "gender",
    "education": "education",
    "language": "language",
}

# Which combinations of dimensions are counted. Cost per submission grows with the number of
# cuboids, so small combinations that a bigger cuboid answers by summing a few thousand rows
# are left out: e.g. (age, gender) and (region) come from 21, (country, age) filters read
# 22's rows for one country. Queries pick the smallest cuboid holding what they need.
# The respondent's language is a breakdown, not a filter: 26 to 28 answer it alone, with
# demographic filters, with a country (or a region, as its countries) and with dates.
# The ids are stored in `survey_rollups.cuboid`: never renumber or reuse, only append.
CUBOIDS: dict[int, tuple[str, ...]] = {
    0: (),
    1: ("day",),
    3: ("country",),
    7: ("day", "region"),
    8: ("day", "country"),
    9: ("day", "age"),
    10: ("day", "gender"),
    11: ("day", "education"),
    15: ("country", "age"),
    16: ("country", "gender"),
    17: ("country", "education"),
    21: ("region", "age", "gender", "education"),
    22: ("country", "age", "gender", "education"),
    # Whole months and weeks: a date range is read as whole months or weeks from these, and
    # the days at either end from a daily cuboid or the responses (see
    # parley.consultation.dashboard.plan).
    23: ("month", "country"),
    24: ("week", "age", "gender", "education"),
    25: ("week", "region", "age", "gender", "education"),
    26: ("language", "age", "gender", "education"),
    27: ("language", "country"),
    28: ("day", "language"),
}
TIME_DIMS = ("day", "week", "month")
VALUE_COLUMNS = ("v1", "v2", "v3", "v4")
FILTER_DIMS = ("region", "country", "age", "gender", "education")
# Rough number of values per dimension, to pick the smallest cuboid that answers a query.
CARDINALITY = {"day": 365, "week": 52, "month": 12, "region": 6, "country": 200, "age": 8, "gender": 4, "education": 5,
               "language": 6}
# Finest first: the coarse cuboids' rows are touched by every submission, so lock them last.
WRITE_ORDER: tuple[int, ...] = tuple(sorted(CUBOIDS, key=lambda c: (-len(CUBOIDS[c]), "day" not in CUBOIDS[c], -c)))


def cuboid_columns(cid: int) -> dict[str, str]:
    """Dimension -> rollup column (v1..v4, or day for the day or month) for one cuboid."""
    out: dict[str, str] = {}
    values = [d for d in CUBOIDS[cid] if d not in TIME_DIMS]
    for dim, col in zip(values, VALUE_COLUMNS, strict=False):
        out[dim] = col
    for dim in TIME_DIMS:
        if dim in CUBOIDS[cid]:
            out[dim] = "day"
    return out


def best_cuboid(dims: set[str]) -> int | None:
    """The smallest cuboid holding at least these dimensions, or None."""
    fits = [cid for cid, have in CUBOIDS.items() if dims <= set(have)]
    if not fits:
        return None

    def size(cid: int) -> int:
        n = 1
        for d in CUBOIDS[cid]:
            n *= CARDINALITY[d]
        return n

    return min(fits, key=lambda cid: (size(cid), len(CUBOIDS[cid])))
