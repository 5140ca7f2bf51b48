"""Meeting tables: the live state of a dialogue's meeting, kept in the database so every
Parley process (scale setup) sees the same waiting room, queue, turns and recording.

One `Meeting` per dialogue (created when the facilitator opens it or the first person
joins a live dialogue), one `MeetingParticipant` per person who entered the lobby, the
participant-visible chat, and the recordings kept with the dialogue. ``version`` grows on
every change so clients can tell a stale snapshot from a fresh one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from parley.storage.models import Base, _enum

# The columns' vocabulary lives below storage (parley.vocabulary); re-exported for old importers.
from parley.vocabulary import AttendeeRole as AttendeeRole
from parley.vocabulary import AttendeeStatus as AttendeeStatus
from parley.vocabulary import MediaMode as MediaMode
from parley.vocabulary import MeetingStatus as MeetingStatus
from parley.vocabulary import Presence as Presence
from parley.vocabulary import RecordingStatus as RecordingStatus


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus), default=MeetingStatus.OPEN, index=True)
    # Janus ids (53-bit, JavaScript-safe); the rooms are recreated with them after a Janus restart.
    room_id: Mapped[int] = mapped_column(BigInteger)
    text_room_id: Mapped[int] = mapped_column(BigInteger)
    # The VideoRoom's pin (Janus asks it of every joiner); a new one whenever someone is removed.
    # Null only for meetings opened before pins existed: one is made when the rooms open.
    room_pin: Mapped[str | None] = mapped_column(String(64))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Timed turns: seconds per turn, or null for open-ended turns.
    turn_seconds: Mapped[int | None] = mapped_column(Integer)
    speaker_id: Mapped[int | None] = mapped_column(Integer)
    turn_started_at: Mapped[datetime | None]
    turn_ends_at: Mapped[datetime | None]
    recording_id: Mapped[int | None] = mapped_column(Integer)
    # The media node hosting the rooms; null until placed (or when its node row is deleted).
    media_node_id: Mapped[int | None] = mapped_column(ForeignKey("media_nodes.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class MeetingParticipant(Base):
    __tablename__ = "meeting_participants"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[AttendeeRole] = mapped_column(_enum(AttendeeRole))
    status: Mapped[AttendeeStatus] = mapped_column(_enum(AttendeeStatus))
    mode: Mapped[MediaMode] = mapped_column(_enum(MediaMode), default=MediaMode.AUDIO)
    language: Mapped[str] = mapped_column(String(16))
    presence: Mapped[Presence] = mapped_column(_enum(Presence), default=Presence.OFFLINE)
    # The VideoRoom publisher id this person joins with (a new one per connection).
    feed_id: Mapped[int | None] = mapped_column(BigInteger)
    # The Janus token issued at admission; stored so any process can reinstall it after a
    # Janus restart, and revoke it on removal. Never sent to anyone but its owner.
    janus_token: Mapped[str | None] = mapped_column(String(64))
    token_expires_at: Mapped[datetime | None]
    self_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    camera_on: Mapped[bool] = mapped_column(Boolean, default=False)
    force_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Interpretation choices: captions in this language (null: the participant's own
    # `language`), and what they listen to: null = the floor, "voice:xx" = the synthesized
    # voice in xx, "interpreter:xx" = the human interpreter's channel in xx.
    caption_language: Mapped[str | None] = mapped_column(String(16))
    listen_channel: Mapped[str | None] = mapped_column(String(32))
    hand_raised_at: Mapped[datetime | None]
    talking_since: Mapped[datetime | None]
    speaking_ms: Mapped[int] = mapped_column(Integer, default=0)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    # Consent to the audio being recorded (from the registration, or given in the meeting).
    recording_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime]
    admitted_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CaptionFinal(Base):
    """A final caption line of a meeting, claimed by an interpretation owner to be shown
    (published on its bus topic), and whether it was: identifiers only, never text. A meeting's
    next owner, after a take-over, does not show again what an earlier one showed, and shows
    what one claimed and died before showing (see `handlers.interpretation.shown`); deleted
    when the meeting's interpretation ends (and with the meeting)."""

    __tablename__ = "caption_finals"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    speaker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    utterance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    # the final shown: a later revision, or a real final after a forced one, replaces it
    revision: Mapped[int] = mapped_column(Integer)
    forced: Mapped[bool] = mapped_column(Boolean)
    # the owner lease's generation that claimed it: a later owner may take over an unpublished
    # claim, an earlier one (it lost its lease) never takes back a later one's
    tenure: Mapped[int] = mapped_column(Integer, server_default="0")
    # set once it is on the bus (rows from before this column: shown)
    published: Mapped[bool] = mapped_column(Boolean, server_default=true())


class MeetingMessage(Base):
    """The participant-visible meeting chat (participants are not workspace members)."""

    __tablename__ = "meeting_messages"
    __table_args__ = (Index("ix_meeting_messages_meeting_id_id", "meeting_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_participants.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class MeetingRecording(Base):
    """The audio of a meeting (one Ogg Opus file per speaker, and the whole meeting mixed),
    kept with the dialogue."""

    __tablename__ = "meeting_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), index=True)
    status: Mapped[RecordingStatus] = mapped_column(_enum(RecordingStatus))
    # Folder relative to the data folder; holds Janus's .mjr files, then the .opus files.
    directory: Mapped[str] = mapped_column(String(255))
    # [{"participant_id" (None for the mix), "display_name", "kind" ("speaker" | "mix"), "file",
    #   "download" (the name offered), "bytes", "seconds", "starts_at"}]; recordings made before
    #   files were named after people have only the first five, with speaker-<id>.opus files.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
