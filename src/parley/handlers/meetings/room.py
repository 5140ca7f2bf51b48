"""The meeting's rules as a pure state machine over the meeting's values.

`Room` wraps one meeting and its participants as plain drafts (`MeetingDraft`,
`ParticipantDraft`: read by `stores.meeting_snapshots`, or built in memory by the unit tests)
and applies one command at a time with an explicit ``now``, so waiting room, queue, timed turns
and speaking time are deterministic under a fake clock. It never does I/O;
`meetings.changes.MeetingChanges` reads the drafts under a lock, calls one method, bumps
``version``, writes back what changed, commits, then does the Janus side effects.

    enter -> waiting --admit--> admitted --leave--> left --enter--> admitted (no new admission)
                 \\--deny--> denied        \\--remove--> removed (cannot come back)

Hosts, staff and observers skip the waiting room. A recording runs only while everyone
admitted agreed to it (`recording_live`); otherwise it is paused. A locked meeting admits nobody new (people already
admitted may reconnect or come back). Speaking time is the sum of Janus "talking" intervals.
The speaker queue is first raised, first served; a timed turn that runs out passes the floor
to the head of the queue with a fresh countdown (`tick`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.storage.stores.meeting_snapshots import MeetingDraft, ParticipantDraft
from parley.vocabulary import AttendeeRole, AttendeeStatus, MediaMode, MeetingStatus, Presence

TURN_SECONDS_MIN, TURN_SECONDS_MAX = 10, 1800
DISPLAY_NAME_MAX = 120
# Feed ids carry the participant id in their high bits, so a recording file (named by feed)
# maps back to its speaker after any number of reconnects.
FEED_SHIFT = 20


def feed_for(participant_id: int) -> int:
    """A fresh VideoRoom publisher id for this participant (JavaScript-safe, < 2**53)."""
    return (participant_id << FEED_SHIFT) | (secrets.randbelow((1 << FEED_SHIFT) - 1) + 1)


def participant_of_feed(feed_id: int) -> int:
    return feed_id >> FEED_SHIFT


def token_live(meeting: MeetingDraft, p: ParticipantDraft, now: datetime) -> bool:
    """Whether ``p``'s Janus token may still be used: admitted to an open meeting, not expired.
    Any other token is revoked (`meetings.tokens.Tokens.sweep`); `stores.meetings` says the same in SQL."""
    return (
        p.janus_token is not None
        and meeting.status == MeetingStatus.OPEN
        and p.status == AttendeeStatus.ADMITTED
        and p.token_expires_at is not None
        and p.token_expires_at > now
    )


@dataclass(frozen=True)
class SpeakingTime:
    participant_id: int
    display_name: str
    role: AttendeeRole
    seconds: float
    turns: int
    share: float


def new_meeting(dialogue_id: int, room_id: int, text_room_id: int, now: datetime, *,
                room_pin: str) -> MeetingDraft:
    return MeetingDraft(
        dialogue_id=dialogue_id,
        status=MeetingStatus.OPEN,
        room_id=room_id,
        text_room_id=text_room_id,
        room_pin=room_pin,
        locked=False,
        turn_seconds=None,
        speaker_id=None,
        turn_started_at=None,
        turn_ends_at=None,
        recording_id=None,
        media_node_id=None,
        version=1,
        created_at=now,
        updated_at=now,
        ended_at=None,
    )


def new_participant(
    meeting: MeetingDraft,
    *,
    user_id: int,
    display_name: str,
    role: AttendeeRole,
    mode: MediaMode,
    language: str,
    consent: bool,
    now: datetime,
) -> ParticipantDraft:
    return ParticipantDraft(
        meeting_id=meeting.id,
        user_id=user_id,
        display_name=display_name,
        role=role,
        status=AttendeeStatus.WAITING,
        mode=mode,
        language=language,
        presence=Presence.OFFLINE,
        feed_id=None,
        janus_token=None,
        token_expires_at=None,
        self_muted=False,
        camera_on=mode == MediaMode.VIDEO,
        force_muted=False,
        caption_language=None,
        listen_channel=None,
        hand_raised_at=None,
        talking_since=None,
        speaking_ms=0,
        turns=0,
        recording_consent=consent,
        joined_at=now,
        admitted_at=None,
        left_at=None,
        updated_at=now,
    )


class Room:
    def __init__(self, meeting: MeetingDraft, participants: Iterable[ParticipantDraft], now: datetime) -> None:
        self.meeting = meeting
        self.participants = {p.id: p for p in participants}
        self.now = now

    # --- reading ------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        return self.meeting.status == MeetingStatus.OPEN

    def get(self, participant_id: int) -> ParticipantDraft:
        p = self.participants.get(participant_id)
        if p is None:
            raise NotFound("No such participant in this meeting.", code="participant_not_found")
        return p

    def of_user(self, user_id: int) -> ParticipantDraft | None:
        return next((p for p in self.participants.values() if p.user_id == user_id), None)

    def admitted(self) -> list[ParticipantDraft]:
        return sorted((p for p in self.participants.values() if p.status == AttendeeStatus.ADMITTED),
                      key=lambda p: (p.admitted_at or p.joined_at, p.id))

    def waiting(self) -> list[ParticipantDraft]:
        return sorted((p for p in self.participants.values() if p.status == AttendeeStatus.WAITING),
                      key=lambda p: (p.joined_at, p.id))

    def queue(self) -> list[ParticipantDraft]:
        """Raised hands, first raised first."""
        raised = [p for p in self.participants.values()
                  if p.status == AttendeeStatus.ADMITTED and p.hand_raised_at is not None]
        return sorted(raised, key=lambda p: (p.hand_raised_at, p.id))

    def speaker(self) -> ParticipantDraft | None:
        sid = self.meeting.speaker_id
        return self.participants.get(sid) if sid is not None else None

    def recording_blockers(self) -> list[ParticipantDraft]:
        """Everyone in the room who has not agreed to a recording: staff, interpreters,
        listeners and observers too (people present must know and agree, speaking or not)."""
        return [p for p in self.admitted() if not p.recording_consent]

    def can_record(self) -> bool:
        return self.open and not self.recording_blockers() and any(
            p.mode != MediaMode.LISTEN for p in self.admitted()
        )

    @property
    def recording(self) -> bool:
        """A recording was started and not stopped (it may be paused)."""
        return self.meeting.recording_id is not None

    def recording_live(self) -> bool:
        """Janus writes audio only while everyone present agrees; otherwise the recording is
        paused (someone came in without consent) until they agree or leave."""
        return self.recording and self.can_record()

    def speaking_times(self) -> list[SpeakingTime]:
        """Speaking time per person who was ever admitted, quietest first (to give them room)."""
        people = [p for p in self.participants.values() if p.admitted_at is not None]
        totals = {p.id: self._speaking_ms(p) for p in people}
        overall = sum(totals.values())
        out = [
            SpeakingTime(
                participant_id=p.id,
                display_name=p.display_name,
                role=p.role,
                seconds=totals[p.id] / 1000,
                turns=p.turns,
                share=(totals[p.id] / overall) if overall else 0.0,
            )
            for p in people
        ]
        return sorted(out, key=lambda s: (s.seconds, s.display_name, s.participant_id))

    def _speaking_ms(self, p: ParticipantDraft) -> int:
        extra = 0
        if p.talking_since is not None:
            extra = max(0, int((self.now - p.talking_since) / timedelta(milliseconds=1)))
        return p.speaking_ms + extra

    # --- entering and leaving -------------------------------------------------------------

    def _check_open(self) -> None:
        if not self.open:
            raise Conflict("This meeting has ended.", code="meeting_ended")

    def add(self, p: ParticipantDraft) -> ParticipantDraft:
        """A newcomer (from `new_participant`, already given an id): waiting, or admitted if staff."""
        self._check_open()
        if self.meeting.locked and p.role == AttendeeRole.PARTICIPANT:
            raise Conflict("The meeting is locked: nobody new can join.", code="meeting_locked")
        self.participants[p.id] = p
        if p.role != AttendeeRole.PARTICIPANT:
            self._admit(p)
        return p

    def reenter(self, p: ParticipantDraft, *, mode: MediaMode, language: str, display_name: str,
                consent: bool) -> ParticipantDraft:
        """Someone already known comes back through the lobby (after leaving or a reload)."""
        self._check_open()
        if p.status in (AttendeeStatus.REMOVED, AttendeeStatus.DENIED):
            raise Forbidden("The facilitator has not let you into this meeting.", code="not_admitted")
        if p.status != AttendeeStatus.ADMITTED or mode != MediaMode.VIDEO:
            p.camera_on = mode == MediaMode.VIDEO
        if mode == MediaMode.LISTEN:
            # A listener sends no audio: out of the queue, and off the floor.
            p.hand_raised_at = None
            if self.meeting.speaker_id == p.id:
                self._clear_turn()
        p.mode = mode
        p.language = language
        p.display_name = display_name
        p.recording_consent = consent
        if p.status == AttendeeStatus.LEFT:
            if p.admitted_at is not None:
                # Someone admitted before comes straight back, even into a locked meeting.
                p.status = AttendeeStatus.ADMITTED
                p.left_at = None
            elif self.meeting.locked and p.role == AttendeeRole.PARTICIPANT:
                raise Conflict("The meeting is locked: nobody new can join.", code="meeting_locked")
            else:
                p.status = AttendeeStatus.WAITING
        self._touch(p)
        return p

    def admit(self, participant_id: int) -> ParticipantDraft:
        self._check_open()
        p = self.get(participant_id)
        if p.status == AttendeeStatus.ADMITTED:
            return p
        if p.status != AttendeeStatus.WAITING:
            raise Conflict("Only people in the waiting room can be admitted.", code="not_waiting")
        self._admit(p)
        return p

    def _admit(self, p: ParticipantDraft) -> None:
        p.status = AttendeeStatus.ADMITTED
        p.admitted_at = p.admitted_at or self.now
        p.left_at = None
        self._touch(p)

    def deny(self, participant_id: int) -> ParticipantDraft:
        self._check_open()
        p = self.get(participant_id)
        if p.status != AttendeeStatus.WAITING:
            raise Conflict("Only people in the waiting room can be turned away.", code="not_waiting")
        p.status = AttendeeStatus.DENIED
        self._touch(p)
        return p

    def remove(self, participant_id: int) -> ParticipantDraft:
        """The facilitator removes someone; they cannot come back into this meeting."""
        self._check_open()
        p = self.get(participant_id)
        if p.role == AttendeeRole.HOST:
            raise Forbidden("A host cannot be removed.", code="cannot_remove_host")
        self._depart(p, AttendeeStatus.REMOVED)
        return p

    def leave(self, participant_id: int) -> ParticipantDraft:
        p = self.get(participant_id)
        if p.status in (AttendeeStatus.ADMITTED, AttendeeStatus.WAITING):
            self._depart(p, AttendeeStatus.LEFT)
        return p

    def _depart(self, p: ParticipantDraft, status: AttendeeStatus) -> None:
        self._stop_talking(p)
        p.status = status
        p.presence = Presence.OFFLINE
        p.hand_raised_at = None
        p.left_at = self.now
        if self.meeting.speaker_id == p.id:
            self._clear_turn()
        self._touch(p)

    # --- moderation -------------------------------------------------------------------------

    def set_locked(self, locked: bool) -> None:
        self._check_open()
        self.meeting.locked = locked

    def force_mute(self, participant_id: int, muted: bool) -> ParticipantDraft:
        self._check_open()
        p = self.get(participant_id)
        if p.status != AttendeeStatus.ADMITTED:
            raise Conflict("This person is not in the meeting.", code="not_admitted")
        p.force_muted = muted
        if muted:
            self._stop_talking(p)
        self._touch(p)
        return p

    def report(self, participant_id: int, *, self_muted: bool | None = None, camera_on: bool | None = None,
               presence: Presence | None = None) -> ParticipantDraft:
        """What a participant's browser says about itself."""
        p = self.get(participant_id)
        if p.status != AttendeeStatus.ADMITTED:
            raise Conflict("You are not in the meeting.", code="not_admitted")
        if self_muted is not None:
            p.self_muted = self_muted
            if self_muted:
                self._stop_talking(p)
        if camera_on is not None:
            p.camera_on = camera_on and p.mode == MediaMode.VIDEO
        if presence is not None:
            p.presence = presence
            if presence != Presence.ONLINE:
                self._stop_talking(p)
        self._touch(p)
        return p

    def set_consent(self, participant_id: int, consent: bool) -> ParticipantDraft:
        p = self.get(participant_id)
        p.recording_consent = consent
        self._touch(p)
        return p

    # --- speaker queue and turns --------------------------------------------------------------

    def raise_hand(self, participant_id: int, raised: bool) -> ParticipantDraft:
        self._check_open()
        p = self.get(participant_id)
        if p.status != AttendeeStatus.ADMITTED:
            raise Conflict("You are not in the meeting.", code="not_admitted")
        if raised and p.mode == MediaMode.LISTEN:
            raise Conflict("Listeners cannot take the floor; join with audio to speak.", code="listen_only")
        if raised and p.hand_raised_at is None and self.meeting.speaker_id != p.id:
            p.hand_raised_at = self.now
        elif not raised:
            p.hand_raised_at = None
        self._touch(p)
        return p

    def set_turn_seconds(self, seconds: int | None) -> None:
        self._check_open()
        if seconds is not None and not TURN_SECONDS_MIN <= seconds <= TURN_SECONDS_MAX:
            raise InvalidInput("Choose a turn length between 10 seconds and 30 minutes.",
                               fields={"seconds": "range"}, code="invalid_turn_length")
        self.meeting.turn_seconds = seconds

    def give_floor(self, participant_id: int | None = None) -> ParticipantDraft | None:
        """Give the floor to someone (default: the head of the queue); None when nobody waits."""
        self._check_open()
        if participant_id is None:
            queue = self.queue()
            if not queue:
                self._clear_turn()
                return None
            p = queue[0]
        else:
            p = self.get(participant_id)
            if p.status != AttendeeStatus.ADMITTED:
                raise Conflict("This person is not in the meeting.", code="not_admitted")
            if p.mode == MediaMode.LISTEN:
                raise Conflict("A listener cannot take the floor.", code="listen_only")
        p.hand_raised_at = None
        p.turns += 1
        m = self.meeting
        m.speaker_id = p.id
        m.turn_started_at = self.now
        m.turn_ends_at = self.now + timedelta(seconds=m.turn_seconds) if m.turn_seconds else None
        self._touch(p)
        return p

    def end_turn(self) -> None:
        self._clear_turn()

    def _clear_turn(self) -> None:
        m = self.meeting
        m.speaker_id = None
        m.turn_started_at = None
        m.turn_ends_at = None

    def tick(self) -> bool:
        """A timed turn whose time is up passes the floor to the next raised hand, with a fresh
        countdown, or just ends when nobody waits; True when something changed."""
        m = self.meeting
        if not self.open or m.turn_ends_at is None or self.now < m.turn_ends_at:
            return False
        self.give_floor()
        return True

    # --- talking (from Janus) -----------------------------------------------------------------

    def talking(self, participant_id: int, talking: bool) -> bool:
        """Janus says this person started/stopped talking; True when it changed anything.

        Idempotent, so several Parley processes watching the same room count each interval once.
        """
        p = self.participants.get(participant_id)
        if p is None or p.status != AttendeeStatus.ADMITTED:
            return False
        if talking:
            if p.talking_since is not None or p.force_muted:
                return False
            p.talking_since = self.now
            return True
        if p.talking_since is None:
            return False
        self._stop_talking(p)
        return True

    def _stop_talking(self, p: ParticipantDraft) -> None:
        if p.talking_since is not None:
            p.speaking_ms += max(0, int((self.now - p.talking_since) / timedelta(milliseconds=1)))
            p.talking_since = None

    def media_lost(self, participant_id: int) -> bool:
        """Janus saw this person's connection go: they show as reconnecting until it returns."""
        p = self.participants.get(participant_id)
        if p is None or p.status != AttendeeStatus.ADMITTED or p.presence != Presence.ONLINE:
            return False
        p.presence = Presence.RECONNECTING
        self._stop_talking(p)
        self._touch(p)
        return True

    # --- ending -------------------------------------------------------------------------------

    def end(self) -> None:
        if not self.open:
            return
        for p in self.participants.values():
            self._stop_talking(p)
            p.hand_raised_at = None
            if p.status in (AttendeeStatus.ADMITTED, AttendeeStatus.WAITING):
                p.status = AttendeeStatus.LEFT
                p.left_at = self.now
            p.presence = Presence.OFFLINE
        self._clear_turn()
        self.meeting.locked = False
        self.meeting.status = MeetingStatus.ENDED
        self.meeting.ended_at = self.now

    def _touch(self, p: ParticipantDraft) -> None:
        p.updated_at = self.now
