"""Survey results for staff: counts per question option, broken down and filtered by region,
country, age group, gender, education and date, and broken down by the respondent's language.

Every view is answered by a *plan*: the dimensions it needs (its breakdown, its filters, and
the day when dates are filtered). Rollup cuboids hold counts for the day with each other
dimension, and for all four demographics with the region or the country; when one of them
covers the view, the answer is a sum over at most some thousands of rows, whatever the
number of responses. Other combinations (a date range with two or more other filters, e.g.
``?country=FR&age=18-24&from=...``) count the responses themselves through the (survey,
country, day) or (survey, day) index, so their cost grows with the slice, not the survey.
The themes of the open answers are counted the same way (`Dashboard.themes`).

Dialogue results (registrations, reports and themes of the held dialogues) plug in through
`DialogueResultsSource`, and `side_by_side` lines them up with the survey's participation.

    filters.py     the dimensions and `Filters`
    planning.py    `plan`: which cuboid (or the responses) counts a view
    views.py       what the survey's views return
    dialogues.py   the dialogues' side and `side_by_side`
    labels.py      labels of breakdown values, filter choices
    service.py     Dashboard: counting and the views
"""

from parley.consultation.dashboard.dialogues import (
    DialogueBucket,
    DialogueResults,
    DialogueResultsSource,
    SideBySide,
    SideBySideRow,
    ThemeRow,
    side_by_side,
)
from parley.consultation.dashboard.filters import BREAKDOWNS, BY_DIMENSIONS, DIMENSION_VALUES, DIMENSIONS, Filters
from parley.consultation.dashboard.labels import LABEL_PREFIX, dimension_choices, value_label
from parley.consultation.dashboard.planning import (
    Part,
    Plan,
    day_number_of,
    next_month,
    plan,
    read_cost,
    week_of,
    whole_units,
)
from parley.consultation.dashboard.service import MAX_TREND_DAYS, Dashboard
from parley.consultation.dashboard.views import (
    Breakdown,
    Bucket,
    Counts,
    OptionCount,
    QuestionResult,
    Summary,
    Trend,
    TrendPoint,
)

__all__ = [
    "BREAKDOWNS",
    "BY_DIMENSIONS",
    "Breakdown",
    "Bucket",
    "Counts",
    "DIMENSIONS",
    "DIMENSION_VALUES",
    "Dashboard",
    "DialogueBucket",
    "DialogueResults",
    "DialogueResultsSource",
    "Filters",
    "LABEL_PREFIX",
    "MAX_TREND_DAYS",
    "OptionCount",
    "Part",
    "Plan",
    "QuestionResult",
    "SideBySide",
    "SideBySideRow",
    "Summary",
    "ThemeRow",
    "Trend",
    "TrendPoint",
    "day_number_of",
    "dimension_choices",
    "next_month",
    "plan",
    "read_cost",
    "side_by_side",
    "value_label",
    "week_of",
    "whole_units",
]
