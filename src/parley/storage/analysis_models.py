"""Tables for what dialogues produce and what the analysis makes of it.

    live interpretation --> transcript_segments (one row per final utterance)
    facilitator ----------> reports (+ report_quotes)  <-- pre-drafted from consented segments
    analysis job ---------> analysis_codings (+ analysis_coding_themes) <-- survey_texts,
                            submitted report sections, consented transcript segments
                            (+ their counts: survey_rollups' ``_themes``, analysis_speaker_themes)
    analysts -------------> analysis_corrections, analysis_themes

Withdrawal deletes everywhere by construction: every coding, correction and quote points at
its source row with ``ON DELETE CASCADE`` (a withdrawn survey response takes its texts, and
they take their codings; a deleted participant takes their transcript lines, quotes and
codings). Consent that is switched off without a deletion is enforced by the readers and
purged by the analysis job (see ``parley.consultation.themes``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from parley.storage.models import Base, _enum

# The columns' vocabulary lives below storage (parley.vocabulary); re-exported for old importers.
from parley.vocabulary import OnTrack as OnTrack
from parley.vocabulary import ReportStatus as ReportStatus
from parley.vocabulary import SourceType as SourceType
from parley.vocabulary import TranscriptTranslationState as TranscriptTranslationState

# --- transcripts ---------------------------------------------------------------------------


class TranscriptSegment(Base):
    """One finished utterance of a dialogue, as the live interpretation recognised it.

    Written by the interpretation worker (``parley.storage.stores.transcripts.add``) only for
    speakers whose registration allows a transcript; read by the report pre-draft and the
    analysis, which check consent again at read time (consent can be withdrawn later).
    ``translations`` maps a language code to the machine translation shown as captions.
    ``utterance_id`` is the worker's id of the caption line: a final delivered twice (re-sent
    after a lost acknowledgement, or to the meeting's next owner) finds its row instead of
    adding one.
    """

    __tablename__ = "transcript_segments"
    __table_args__ = (Index("ix_transcript_segments_dialogue_started", "dialogue_id", "started_at", "id"),
                      UniqueConstraint("dialogue_id", "utterance_id", name="uq_transcript_segments_utterance"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"))
    # Null for speakers without an account (e.g. a guest on a shared microphone).
    speaker_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    speaker_name: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    # Null for lines written before it was kept, and for imported ones.
    utterance_id: Mapped[str | None] = mapped_column(String(64), default=None)


class TranscriptMachineTranslation(Base):
    """A transcript line translated by machine after the meeting, once per language, kept apart
    from the line's caption translations (``TranscriptSegment.translations``, what listeners
    saw) so neither is ever shown as the other. It goes with its line (``ON DELETE CASCADE``),
    and the line's text changing deletes it (`stores.transcripts.set_text`)."""

    __tablename__ = "transcript_machine_translations"

    segment_id: Mapped[int] = mapped_column(ForeignKey("transcript_segments.id", ondelete="CASCADE"),
                                            primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class TranscriptTranslationJob(Base):
    """Translate a dialogue's transcript into one language, in the background: one row per
    (dialogue, language), found again after a restart while ``pending``. Holds no text: which
    lines are done is what ``transcript_machine_translations`` holds."""

    __tablename__ = "transcript_translation_jobs"
    __table_args__ = (UniqueConstraint("dialogue_id", "language"),
                      Index("ix_transcript_translation_jobs_state", "state", "not_before"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    state: Mapped[TranscriptTranslationState] = mapped_column(_enum(TranscriptTranslationState),
                                                              default=TranscriptTranslationState.PENDING)
    requested_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Not before this time (a retry after an engine failure, or the last lines settling).
    not_before: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Source languages no engine translates into ``language`` (their lines stay marked untranslated).
    unavailable: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The last engine failure: {"source", "engine", "retryable"} (never the engine's message,
    # which can hold server paths, nor any text).
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


# --- facilitator reports -------------------------------------------------------------------


class Report(Base):
    """A facilitator's report on one dialogue: one per dialogue, a draft until submitted.

    The three text sections follow the dialogue's three questions (the future people want,
    whether we are on track, what action is needed); ``version`` grows on every save so an
    autosave from a stale page is refused instead of overwriting newer text.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), unique=True)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.DRAFT, index=True)
    # The language the report is written in (quotes are translated into it where possible).
    language: Mapped[str] = mapped_column(String(16))
    future: Mapped[str] = mapped_column(Text, default="")
    on_track: Mapped[OnTrack | None] = mapped_column(_enum(OnTrack))
    on_track_text: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    participant_count: Mapped[int | None] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # When Parley last pre-drafted it from the transcript (null: never).
    drafted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReportQuote(Base):
    """A quote in a report (``included``) or a candidate the pre-draft proposed.

    Always attributed to a participant account: only people whose registration allows quotes
    can be quoted, and deleting them (or their consent) removes the quote.
    """

    __tablename__ = "report_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    included: Mapped[bool] = mapped_column(Boolean, default=False)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("transcript_segments.id", ondelete="CASCADE"),
                                                   index=True)
    speaker_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    speaker_name: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    translation: Mapped[str | None] = mapped_column(Text)
    translation_language: Mapped[str | None] = mapped_column(String(16))
    # Engine that made the translation, or "" when the facilitator typed it.
    translation_engine: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


# --- analysis ------------------------------------------------------------------------------


class AnalysisCorrection(Base):
    """An analyst's coding of one source item, kept as ``Correction.to_dict()``.

    It holds a copy of the text (the coder learns from it), so it dies with its source.
    """

    __tablename__ = "analysis_corrections"
    __table_args__ = (UniqueConstraint("source_type", "source_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_type: Mapped[SourceType] = mapped_column(_enum(SourceType))
    source_key: Mapped[str] = mapped_column(String(64))
    survey_text_id: Mapped[int | None] = mapped_column(ForeignKey("survey_texts.id", ondelete="CASCADE"),
                                                       index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("transcript_segments.id", ondelete="CASCADE"),
                                                   index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    analyst_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class AnalysisCoding(Base):
    """The coder's (or an analyst's) coding of one source item.

    ``source_key`` identifies the item within its type: the survey text id, ``<report
    id>:<section>``, or the segment id; the matching foreign key column is set so the
    coding disappears with its source. No text is copied here except machine translations.
    """

    __tablename__ = "analysis_codings"
    __table_args__ = (
        UniqueConstraint("source_type", "source_key"),
        Index("ix_analysis_codings_version_id", "coder_version", "id"),
        Index("ix_analysis_codings_confidence", "confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[SourceType] = mapped_column(_enum(SourceType))
    source_key: Mapped[str] = mapped_column(String(64))
    survey_text_id: Mapped[int | None] = mapped_column(ForeignKey("survey_texts.id", ondelete="CASCADE"),
                                                       index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    report_section: Mapped[str | None] = mapped_column(String(16))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("transcript_segments.id", ondelete="CASCADE"),
                                                   index=True)
    dialogue_id: Mapped[int | None] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(16), index=True)
    language_reliable: Mapped[bool] = mapped_column(Boolean, default=False)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The best few themes with their scores, best first: [[theme, score], ...].
    scores: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The best theme's score: low means the coder was unsure (analysts review those first).
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    sentiment: Mapped[str] = mapped_column(String(16), index=True)
    sentiment_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    # model | correction (reused an analyst's coding of the same text) | analyst (corrected)
    origin: Mapped[str] = mapped_column(String(16), default="model")
    correction_id: Mapped[str | None] = mapped_column(ForeignKey("analysis_corrections.id", ondelete="SET NULL"))
    coder_version: Mapped[str] = mapped_column(String(64))
    # Unit embedding as float16 bytes, so re-coding after a correction needs no model call.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    # language -> {"text": ..., "engine": ...}: machine translations made for reviewers.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_created_at: Mapped[datetime]
    coded_at: Mapped[datetime]


class AnalysisCodingTheme(Base):
    """One assigned theme of a coding, as a row, so filters and counts are plain SQL."""

    __tablename__ = "analysis_coding_themes"
    __table_args__ = (Index("ix_analysis_coding_themes_theme", "theme", "coding_id"),)

    coding_id: Mapped[int] = mapped_column(ForeignKey("analysis_codings.id", ondelete="CASCADE"), primary_key=True)
    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)


class AnalysisSpeakerTheme(Base):
    """Coded transcript lines per dialogue, speaker and theme: what the dashboard counts.

    A rollup of ``analysis_codings`` kept by the analysis store: whenever the codings of a
    speaker's lines change (coded, re-coded, corrected, purged) that speaker's counts in that
    dialogue are recounted, and the transcript store drops them with the lines. Theme ``""``
    counts every coded line, ``_other`` those without a theme. Consent is applied when it is
    read, through the speaker's registration, as for the codings themselves.
    """

    __tablename__ = "analysis_speaker_themes"

    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AnalysisTheme(Base):
    """A theme analysts added (adopted from discovery); the seed themes live in code.

    ``examples`` is a list of ``{"text", "source_type", "source_key"}``: the texts make the
    theme's prototype, the references let the analysis job drop an example whose source was
    withdrawn.
    """

    __tablename__ = "analysis_themes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    examples: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    origin: Mapped[str] = mapped_column(String(16), default="discovered")
    # The theme's own cut, calibrated on the cluster it was adopted from (NULL: the coder's).
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
