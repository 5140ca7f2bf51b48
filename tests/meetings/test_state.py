"""The meeting rules as a pure state machine: waiting room, lock, queue, timed turns,
speaking time and the recording consent rule, driven by an explicit clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from parley.errors import Conflict, Forbidden, InvalidInput
from parley.handlers.meetings.room import (
    FEED_SHIFT,
    Room,
    feed_for,
    new_meeting,
    new_participant,
    participant_of_feed,
)
from parley.storage.meeting_models import AttendeeRole, AttendeeStatus, MediaMode, MeetingStatus, Presence

pytestmark = pytest.mark.unit

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clocked:
    """A room whose `now` moves only when the test says so."""

    def __init__(self) -> None:
        meeting = new_meeting(dialogue_id=7, room_id=111, text_room_id=222, now=T0, room_pin="pin")
        meeting.id = 1
        self.room = Room(meeting, [], T0)
        self._ids = itertools.count(1)

    def at(self, seconds: float) -> Room:
        self.room.now = T0 + timedelta(seconds=seconds)
        return self.room

    def enter(self, name: str, role: AttendeeRole = AttendeeRole.PARTICIPANT, *, mode: MediaMode = MediaMode.AUDIO,
              consent: bool = True) -> int:
        p = new_participant(self.room.meeting, user_id=next(self._ids) + 100, display_name=name, role=role,
                            mode=mode, language="fr", consent=consent, now=self.room.now)
        p.id = next(self._ids)
        self.room.add(p)
        return p.id


@pytest.fixture
def c() -> Clocked:
    return Clocked()


def test_participants_wait_until_admitted_and_staff_go_straight_in(c: Clocked) -> None:
    host = c.enter("Fatou", AttendeeRole.HOST)
    interpreter = c.enter("Ines", AttendeeRole.STAFF)
    amina = c.enter("Amina")

    assert [p.id for p in c.room.admitted()] == [host, interpreter]
    assert [p.id for p in c.room.waiting()] == [amina]

    c.at(5).admit(amina)
    assert c.room.get(amina).status == AttendeeStatus.ADMITTED
    assert c.room.get(amina).admitted_at == T0 + timedelta(seconds=5)


def test_denied_and_removed_people_cannot_come_back(c: Clocked) -> None:
    amina, bruno = c.enter("Amina"), c.enter("Bruno")
    c.room.deny(amina)
    c.room.admit(bruno)
    c.room.remove(bruno)

    for pid in (amina, bruno):
        with pytest.raises(Forbidden):
            c.room.reenter(c.room.get(pid), mode=MediaMode.AUDIO, language="fr", display_name="x", consent=True)
    with pytest.raises(Conflict):
        c.room.admit(amina)


def test_a_host_cannot_be_removed(c: Clocked) -> None:
    host = c.enter("Fatou", AttendeeRole.HOST)
    with pytest.raises(Forbidden):
        c.room.remove(host)


def test_locked_meeting_refuses_newcomers_but_lets_admitted_people_back(c: Clocked) -> None:
    amina = c.enter("Amina")
    c.room.admit(amina)
    c.room.leave(amina)
    c.room.set_locked(True)

    with pytest.raises(Conflict) as caught:
        c.enter("Bruno")
    assert caught.value.code == "meeting_locked"
    back = c.room.reenter(c.room.get(amina), mode=MediaMode.VIDEO, language="en", display_name="Amina D",
                          consent=True)
    assert back.status == AttendeeStatus.ADMITTED
    assert (back.mode, back.language, back.display_name, back.camera_on) == (MediaMode.VIDEO, "en", "Amina D", True)
    # Staff are never locked out.
    c.enter("Ines", AttendeeRole.STAFF)


def test_queue_is_first_raised_first_and_the_floor_lowers_the_hand(c: Clocked) -> None:
    amina, bruno, chen = (c.enter(n) for n in ("Amina", "Bruno", "Chen"))
    for pid in (amina, bruno, chen):
        c.room.admit(pid)
    c.at(1).raise_hand(bruno, True)
    c.at(2).raise_hand(amina, True)
    c.at(3).raise_hand(chen, True)
    c.at(4).raise_hand(bruno, True)  # raising again keeps the place
    assert [p.id for p in c.room.queue()] == [bruno, amina, chen]

    speaker = c.at(5).give_floor()
    assert speaker is not None and speaker.id == bruno
    assert [p.id for p in c.room.queue()] == [amina, chen]
    c.room.raise_hand(chen, False)
    assert [p.id for p in c.room.queue()] == [amina]
    assert c.room.get(bruno).turns == 1


def test_timed_turn_ends_when_its_time_is_up(c: Clocked) -> None:
    amina = c.enter("Amina")
    c.room.admit(amina)
    c.room.set_turn_seconds(90)
    c.room.raise_hand(amina, True)
    c.at(10).give_floor()
    assert c.room.meeting.turn_ends_at == T0 + timedelta(seconds=100)

    assert c.at(99).tick() is False
    assert c.room.meeting.speaker_id == amina
    assert c.at(100).tick() is True
    assert c.room.meeting.speaker_id is None and c.room.meeting.turn_ends_at is None
    assert c.at(200).tick() is False


def test_a_timed_turn_that_runs_out_passes_to_the_next_raised_hand_with_a_fresh_countdown(c: Clocked) -> None:
    amina, bruno, chen = (c.enter(n) for n in ("Amina", "Bruno", "Chen"))
    for pid in (amina, bruno, chen):
        c.room.admit(pid)
    c.room.set_turn_seconds(60)
    c.at(1).raise_hand(chen, True)
    c.at(2).raise_hand(amina, True)
    c.at(3).raise_hand(bruno, True)
    c.at(10).give_floor()  # Chen: until 70 s

    assert c.at(69).tick() is False
    assert c.at(71).tick() is True  # the ticker came a second late: Amina still gets a full minute
    m = c.room.meeting
    assert (m.speaker_id, m.turn_started_at, m.turn_ends_at) == (amina, T0 + timedelta(seconds=71),
                                                                  T0 + timedelta(seconds=131))
    assert [p.id for p in c.room.queue()] == [bruno] and c.room.get(amina).turns == 1
    assert c.room.get(amina).hand_raised_at is None
    assert c.at(131).tick() is True and m.speaker_id == bruno
    assert c.at(191).tick() is True  # nobody waits: the turn just ends
    assert m.speaker_id is None and m.turn_started_at is None and m.turn_ends_at is None
    assert c.at(500).tick() is False
    assert [c.room.get(pid).turns for pid in (amina, bruno, chen)] == [1, 1, 1]


def test_a_turn_runs_out_into_an_open_turn_once_the_limit_is_lifted(c: Clocked) -> None:
    amina, bruno = c.enter("Amina"), c.enter("Bruno")
    for pid in (amina, bruno):
        c.room.admit(pid)
    c.room.set_turn_seconds(60)
    c.at(1).raise_hand(amina, True)
    c.at(2).raise_hand(bruno, True)
    c.at(3).give_floor()
    c.at(10).set_turn_seconds(None)  # the current turn keeps its end; the next has none

    assert c.at(63).tick() is True
    assert c.room.meeting.speaker_id == bruno and c.room.meeting.turn_ends_at is None
    assert c.at(10_000).tick() is False


def test_switching_to_listening_lowers_the_hand_and_gives_up_the_floor(c: Clocked) -> None:
    amina, bruno = c.enter("Amina"), c.enter("Bruno")
    for pid in (amina, bruno):
        c.room.admit(pid)
    c.at(1).raise_hand(amina, True)
    c.at(2).raise_hand(bruno, True)
    c.room.reenter(c.room.get(amina), mode=MediaMode.LISTEN, language="fr", display_name="Amina", consent=True)
    assert [p.id for p in c.room.queue()] == [bruno]

    c.at(3).give_floor(bruno)
    c.room.reenter(c.room.get(bruno), mode=MediaMode.LISTEN, language="fr", display_name="Bruno", consent=True)
    assert c.room.meeting.speaker_id is None and c.room.meeting.turn_started_at is None


def test_open_turns_never_expire_and_turn_length_is_bounded(c: Clocked) -> None:
    amina = c.enter("Amina")
    c.room.admit(amina)
    c.room.give_floor(amina)
    assert c.at(10_000).tick() is False
    with pytest.raises(InvalidInput):
        c.room.set_turn_seconds(5)


def test_listeners_cannot_take_the_floor(c: Clocked) -> None:
    observer = c.enter("Olu", mode=MediaMode.LISTEN)
    c.room.admit(observer)
    with pytest.raises(Conflict):
        c.room.raise_hand(observer, True)
    with pytest.raises(Conflict):
        c.room.give_floor(observer)


def test_speaking_time_adds_talking_intervals_and_counts_each_once(c: Clocked) -> None:
    amina, bruno = c.enter("Amina"), c.enter("Bruno")
    c.room.admit(amina)
    c.room.admit(bruno)
    assert c.at(0).talking(amina, True) is True
    assert c.at(1).talking(amina, True) is False  # a second process saw the same event
    assert c.at(12).talking(amina, False) is True
    assert c.at(13).talking(amina, False) is False
    c.at(20).talking(bruno, True)
    c.at(23).talking(bruno, False)
    c.at(30).talking(amina, True)

    times = {t.participant_id: t for t in c.at(35).speaking_times()}
    assert times[amina].seconds == pytest.approx(17.0)  # 12 s + 5 s still talking
    assert times[bruno].seconds == pytest.approx(3.0)
    assert times[bruno].share == pytest.approx(3 / 20)
    assert [t.participant_id for t in c.room.speaking_times()] == [bruno, amina]  # quietest first


def test_muting_and_leaving_close_the_talking_interval(c: Clocked) -> None:
    amina, bruno = c.enter("Amina"), c.enter("Bruno")
    c.room.admit(amina)
    c.room.admit(bruno)
    c.at(0).talking(amina, True)
    c.at(4).force_mute(amina, True)
    assert c.at(5).talking(amina, True) is False  # a force-muted person does not talk
    c.at(6).talking(bruno, True)
    c.at(9).leave(bruno)
    times = {t.participant_id: t.seconds for t in c.at(50).speaking_times()}
    assert times == {amina: pytest.approx(4.0), bruno: pytest.approx(3.0)}


def test_recording_needs_consent_of_everyone_present_listeners_and_staff_included(c: Clocked) -> None:
    host = c.enter("Fatou", AttendeeRole.HOST, consent=True)
    amina = c.enter("Amina", consent=True)
    chen = c.enter("Chen", consent=False)
    listener = c.enter("Olu", mode=MediaMode.LISTEN, consent=False)
    c.room.admit(amina)
    assert c.room.can_record()  # Chen and Olu are still waiting: not in the room yet
    c.room.admit(listener)
    assert not c.room.can_record()  # a listener hears the meeting: they must know and agree too
    interpreter = c.enter("Ines", AttendeeRole.STAFF, consent=False)
    c.room.admit(chen)
    assert {p.id for p in c.room.recording_blockers()} == {listener, interpreter, chen}
    for pid in (listener, interpreter, chen):
        c.room.set_consent(pid, True)
    assert c.room.can_record()
    assert host in {p.id for p in c.room.admitted()}


def test_a_recording_pauses_while_someone_present_has_not_agreed(c: Clocked) -> None:
    c.enter("Fatou", AttendeeRole.HOST, consent=True)
    c.room.meeting.recording_id = 5
    assert c.room.recording and c.room.recording_live()
    chen = c.enter("Chen", consent=False)
    c.room.admit(chen)
    assert c.room.recording and not c.room.recording_live()  # paused, not stopped
    c.room.leave(chen)
    assert c.room.recording_live()


def test_connection_loss_shows_reconnecting_until_back(c: Clocked) -> None:
    amina = c.enter("Amina")
    c.room.admit(amina)
    c.room.report(amina, presence=Presence.ONLINE)
    c.at(1).talking(amina, True)
    assert c.at(3).media_lost(amina) is True
    assert c.room.get(amina).presence == Presence.RECONNECTING
    assert c.room.media_lost(amina) is False
    c.at(5).report(amina, presence=Presence.ONLINE)
    assert c.room.get(amina).presence == Presence.ONLINE
    assert c.room.get(amina).speaking_ms == 2000


def test_ending_closes_everything(c: Clocked) -> None:
    host = c.enter("Fatou", AttendeeRole.HOST)
    amina = c.enter("Amina")
    c.room.admit(amina)
    c.room.raise_hand(amina, True)
    c.room.give_floor(amina)
    c.at(2).talking(amina, True)
    c.at(7).end()

    assert c.room.meeting.status == MeetingStatus.ENDED
    assert c.room.meeting.speaker_id is None
    assert all(p.status == AttendeeStatus.LEFT for p in c.room.participants.values())
    assert {t.participant_id: t.seconds for t in c.room.speaking_times()} == {host: 0.0, amina: 5.0}
    with pytest.raises(Conflict):
        c.room.admit(amina)


def test_feed_ids_carry_the_participant_and_stay_javascript_safe() -> None:
    for pid in (1, 42, 2**31 - 1):
        feed = feed_for(pid)
        assert participant_of_feed(feed) == pid
        assert feed < 2**53 and feed >> FEED_SHIFT == pid and feed & ((1 << FEED_SHIFT) - 1) != 0
    assert len({feed_for(42) for _ in range(20)}) > 1


def test_only_people_inside_are_told_the_room_pin() -> None:
    from parley.handlers.meetings import visible_state

    state = {"status": "open", "version": 3, "room_pin": "pin-2", "people": [
        {"user_id": 1, "status": "admitted", "role": "host"},
        {"user_id": 2, "status": "admitted", "role": "participant"},
        {"user_id": 3, "status": "waiting", "role": "participant"},
        {"user_id": 4, "status": "removed", "role": "participant"},
    ]}
    assert visible_state(state, user_id=2, host=False)["room_pin"] == "pin-2"
    assert visible_state(state, user_id=1, host=True)["room_pin"] == "pin-2"
    for outside in (3, 4, 5):
        assert "room_pin" not in visible_state(state, user_id=outside, host=False)
    assert "room_pin" not in visible_state(state, user_id=9, host=True)  # a host who has not joined
