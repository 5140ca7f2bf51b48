"""Facilitator reports: pre-drafted from the transcript, edited, submitted, reopened.

    dialogue ended --start--> draft (pre-drafted) --save (autosave)--> draft --submit--> submitted
                                ^                                                          |
                                +--------------------- reopen (organisers) ----------------+

The pre-draft reads only transcript lines whose speaker allows a transcript. It splits them
into the dialogue's three phases by time (the future people want, whether we are on track,
what action is needed), picks each phase's most representative sentences (closest to the
phase's mean embedding; word overlap when the embedder is missing) and proposes quotes from
speakers who also allow quotes. Sentences and quotes are translated into the report's
language where a translation engine covers the pair, else kept in the original and marked.

Submitting moves the dialogue to ``report_submitted`` through `Dialogues.transition` (which
also checks the actor runs the dialogue) and locks the report; it becomes a source for the
analysis. Reopening unlocks it and withdraws it from the analysis until it is submitted again;
the dialogue stays ``report_submitted`` (the dialogue state machine has no way back).

One module per part, composed by `service.Reports`, the facade routes and pages use:

    views      what a page shows and a save sends      rules     who sees, writes, is quoted
    selection  phases and their representative lines   predraft  the pre-draft (embed, translate)
    editing    a save's checks, applied to the report  service   reading, and the life above
"""

from __future__ import annotations

from parley.consultation.reports.rules import HELD, can_edit, can_reopen, can_view
from parley.consultation.reports.selection import PHASES
from parley.consultation.reports.service import Reports
from parley.consultation.reports.views import (
    DialogueBrief,
    QuoteInput,
    QuoteView,
    ReportInput,
    ReportPermissions,
    ReportSummary,
    ReportView,
    Speaker,
)

__all__ = [
    "HELD",
    "PHASES",
    "DialogueBrief",
    "QuoteInput",
    "QuoteView",
    "ReportInput",
    "ReportPermissions",
    "ReportSummary",
    "ReportView",
    "Reports",
    "Speaker",
    "can_edit",
    "can_reopen",
    "can_view",
]
