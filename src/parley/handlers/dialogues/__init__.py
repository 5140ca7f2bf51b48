"""Dialogues: creation and editing, the state machine, the public listing and the
organisers' overview.

    draft --publish--> scheduled --start--> live --end--> ended --submit-report--> report_submitted
      ^                    |
      +------cancel--------+

Every change is stored first, then announced on ``dialogue:<id>``
(``dialogue.created`` / ``dialogue.updated`` / ``dialogue.state``). The dialogue's workspace
channel is re-synced after commit whenever its title or staff change, so its members are
always the organiser, the facilitator and the interpreters. `service.Dialogues` lists the
parts, one file each; the names below are what the rest of Parley imports.
"""

from parley.handlers.dialogues.access import can_see, manages, runs, sees_everything
from parley.handlers.dialogues.listing import PAGE_MAX, PER_PAGE_MAX, CountryCount, Listing, ListingQuery
from parley.handlers.dialogues.overview import OVERVIEW_LIST_MAX, REPORT_DUE_DAYS, Overview, OwedReport
from parley.handlers.dialogues.service import Dialogues
from parley.handlers.dialogues.states import (
    EDITABLE_STATES,
    HELD_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    dialogue_topic,
)
from parley.handlers.dialogues.validation import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    DEFAULT_QUESTIONS,
    DESCRIPTION_MAX,
    DURATION_MAX,
    DURATION_MIN,
    ID_MAX,
    INTERPRETERS_MAX,
    LANGUAGES_MAX,
    QUESTION_MAX,
    QUESTION_MIN,
    QUESTIONS_MAX,
    TITLE_MAX,
    TITLE_MIN,
    CleanDialogue,
    DialogueInput,
    check_id,
    clean_text,
    parse_starts_at,
    validate,
)
from parley.handlers.dialogues.views import (
    DialogueSummary,
    DialogueView,
    InterpreterView,
    Permissions,
    Person,
    StaffChoices,
)

__all__ = [
    "CAPACITY_MAX",
    "CAPACITY_MIN",
    "DEFAULT_QUESTIONS",
    "DESCRIPTION_MAX",
    "DURATION_MAX",
    "DURATION_MIN",
    "EDITABLE_STATES",
    "HELD_STATES",
    "ID_MAX",
    "INTERPRETERS_MAX",
    "LANGUAGES_MAX",
    "OPEN_STATES",
    "OVERVIEW_LIST_MAX",
    "PAGE_MAX",
    "PER_PAGE_MAX",
    "QUESTIONS_MAX",
    "QUESTION_MAX",
    "QUESTION_MIN",
    "REPORT_DUE_DAYS",
    "TITLE_MAX",
    "TITLE_MIN",
    "TRANSITIONS",
    "Action",
    "CleanDialogue",
    "CountryCount",
    "DialogueInput",
    "DialogueSummary",
    "DialogueView",
    "Dialogues",
    "InterpreterView",
    "Listing",
    "ListingQuery",
    "OwedReport",
    "Overview",
    "Permissions",
    "Person",
    "StaffChoices",
    "can_see",
    "check_id",
    "clean_text",
    "dialogue_topic",
    "manages",
    "parse_starts_at",
    "runs",
    "sees_everything",
    "validate",
]
