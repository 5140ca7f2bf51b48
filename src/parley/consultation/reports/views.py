"""What a report page shows and what a save sends: plain data, no rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parley.consultation.drafting import DraftProgress
from parley.vocabulary import DialogueState, OnTrack, ReportStatus


@dataclass
class QuoteInput:
    """A change to one quote (``id``) or a new one typed by the facilitator (no ``id``)."""

    id: int | None = None
    included: bool | None = None
    translation: str | None = None
    remove: bool = False
    speaker_user_id: int | None = None
    text: str | None = None
    language: str | None = None


@dataclass
class ReportInput:
    """What a save changes; None leaves a field as it is."""

    version: int | None = None
    language: str | None = None
    future: str | None = None
    on_track: str | None = None  # "" clears it
    on_track_text: str | None = None
    actions: str | None = None
    notes: str | None = None
    participant_count: int | str | None = None
    languages: list[str] | None = None
    quotes: list[QuoteInput] = field(default_factory=list)


@dataclass(frozen=True)
class DialogueBrief:
    id: int
    title: str
    questions: list[str]
    state: DialogueState
    country: str | None
    time_zone: str
    languages: list[str]
    started_at: datetime | None
    ended_at: datetime | None
    facilitator_name: str | None


@dataclass(frozen=True)
class QuoteView:
    id: int
    included: bool
    speaker_user_id: int
    speaker_name: str
    text: str
    language: str
    translation: str | None
    translation_language: str | None
    translation_engine: str | None
    segment_id: int | None
    started_at: datetime | None
    # The speaker's registration allows quotes (always true: others are never shown).
    consent_quotes: bool = True

    @property
    def link(self) -> str | None:
        return f"#segment-{self.segment_id}" if self.segment_id else None


@dataclass(frozen=True)
class Speaker:
    user_id: int
    name: str
    language: str


@dataclass(frozen=True)
class ReportPermissions:
    can_edit: bool = False
    can_start: bool = False
    can_submit: bool = False
    can_reopen: bool = False


@dataclass(frozen=True)
class ReportView:
    dialogue: DialogueBrief
    permissions: ReportPermissions
    id: int | None = None
    status: ReportStatus | None = None
    language: str = "en"
    future: str = ""
    on_track: OnTrack | None = None
    on_track_text: str = ""
    actions: str = ""
    notes: str = ""
    participant_count: int | None = None
    languages: list[str] = field(default_factory=list)
    version: int = 0
    drafted_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    reopened_at: datetime | None = None
    quotes: list[QuoteView] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)
    # Codes about the last pre-draft: no_transcript, engine_missing, translation_unavailable:fr-en
    notices: list[str] = field(default_factory=list)
    drafting: DraftProgress | None = None  # a pre-draft running in this process

    @property
    def exists(self) -> bool:
        return self.id is not None

    @property
    def locked(self) -> bool:
        return self.status == ReportStatus.SUBMITTED


@dataclass(frozen=True)
class ReportSummary:
    dialogue_id: int
    title: str
    state: DialogueState
    ended_at: datetime | None
    facilitator_name: str | None
    status: ReportStatus | None
    submitted_at: datetime | None
    updated_at: datetime | None
