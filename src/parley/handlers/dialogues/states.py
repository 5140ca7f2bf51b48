"""The dialogue's state machine: which action moves it from which states to which, who may
take it, and the states the listing and results group together.

    draft --publish--> scheduled --start--> live --end--> ended --submit-report--> report_submitted
      ^                    |
      +------cancel--------+

Every change is announced on ``dialogue:<id>``; meetings and interpretation follow that
topic and the glossary and observer access publish on it too, so it is named here, next to
the states it carries.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from parley.vocabulary import DialogueState

OPEN_STATES = frozenset({DialogueState.SCHEDULED, DialogueState.LIVE})
HELD_STATES = frozenset({DialogueState.ENDED, DialogueState.REPORT_SUBMITTED})
EDITABLE_STATES = frozenset({DialogueState.DRAFT, DialogueState.SCHEDULED, DialogueState.LIVE})


def dialogue_topic(dialogue_id: int) -> str:
    return f"dialogue:{dialogue_id}"


class Action(enum.StrEnum):
    PUBLISH = "publish"
    CANCEL = "cancel"
    START = "start"
    END = "end"
    SUBMIT_REPORT = "submit-report"


@dataclass(frozen=True)
class _Transition:
    sources: frozenset[DialogueState]
    target: DialogueState
    # Publishing and cancelling belong to the organiser; running the dialogue also to its facilitator.
    organiser_only: bool


TRANSITIONS: dict[Action, _Transition] = {
    Action.PUBLISH: _Transition(frozenset({DialogueState.DRAFT}), DialogueState.SCHEDULED, True),
    Action.CANCEL: _Transition(frozenset({DialogueState.SCHEDULED}), DialogueState.DRAFT, True),
    Action.START: _Transition(frozenset({DialogueState.SCHEDULED}), DialogueState.LIVE, False),
    Action.END: _Transition(frozenset({DialogueState.LIVE}), DialogueState.ENDED, False),
    Action.SUBMIT_REPORT: _Transition(frozenset({DialogueState.ENDED}), DialogueState.REPORT_SUBMITTED, False),
}
