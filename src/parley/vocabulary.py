"""The words the domain stores: roles, states and kinds, below storage and everything above it.

Each enum's values are what the database columns hold (the tables in `parley.storage` import
them from here), so the web layer, the domain and the CLI name a role or a state without
reaching for the ORM. Changing a value is a migration; adding one needs none (the columns are
plain strings, ``native_enum=False``).
"""

from __future__ import annotations

import enum

# --- accounts -----------------------------------------------------------------------------


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    FACILITATOR = "facilitator"
    INTERPRETER = "interpreter"
    PARTICIPANT = "participant"


STAFF_ROLES = frozenset({Role.ADMIN, Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER})

# --- dialogues and the workspace ------------------------------------------------------------


class DialogueState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    REPORT_SUBMITTED = "report_submitted"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INVITE_ONLY = "invite_only"


class ChannelKind(enum.StrEnum):
    TEAM = "team"
    DIALOGUE = "dialogue"
    DIRECT = "direct"


class AuditAction(enum.StrEnum):
    GRANT = "observer_granted"
    REVOKE = "observer_revoked"
    READ_TRANSCRIPT = "transcript_read"
    READ_REPORT = "report_read"
    JOIN_MEETING = "meeting_joined"


# --- meetings ---------------------------------------------------------------------------------


class MeetingStatus(enum.StrEnum):
    OPEN = "open"
    ENDED = "ended"


class AttendeeRole(enum.StrEnum):
    # The dialogue's facilitator, organiser or an admin: runs the meeting.
    HOST = "host"
    # The dialogue's interpreters: admitted directly.
    STAFF = "staff"
    PARTICIPANT = "participant"
    # Holds an observer grant for the dialogue: admitted directly, listens only, and shown to
    # everyone as an observer (people must know who is listening).
    OBSERVER = "observer"


class AttendeeStatus(enum.StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    LEFT = "left"
    REMOVED = "removed"
    DENIED = "denied"


class MediaMode(enum.StrEnum):
    VIDEO = "video"
    # Audio both ways, no video sent or received (slow links).
    AUDIO = "audio"
    # Observers: receive audio only, send nothing.
    LISTEN = "listen"


class Presence(enum.StrEnum):
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class RecordingStatus(enum.StrEnum):
    RECORDING = "recording"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class NodeState(enum.StrEnum):
    # Takes new meetings (when alive and not full).
    ACTIVE = "active"
    # Takes no new meetings; the running ones finish there.
    DRAINING = "draining"
    # Gone for good (kept so past meetings still name it); `register` brings it back.
    REMOVED = "removed"


# --- reports and the analysis -----------------------------------------------------------------


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class OnTrack(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    UNSURE = "unsure"


class SourceType(enum.StrEnum):
    SURVEY = "survey"  # a free-text survey answer (survey_texts)
    REPORT = "report"  # one section of a submitted report
    TRANSCRIPT = "transcript"  # one transcript segment of a consenting speaker


class TranscriptTranslationState(enum.StrEnum):
    PENDING = "pending"  # lines wait (not started, running, or waiting until ``not_before`` to retry)
    DONE = "done"  # every line it found was translated, or no engine covers its language
    FAILED = "failed"  # the engine failed in a way a retry does not fix: someone must act


# The theme of coded texts no theme fits: the survey rollups' option and the analysis' filter.
NO_THEME = "_other"
OTHER = NO_THEME
