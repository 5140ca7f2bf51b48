"""Meetings: a live dialogue becomes a Janus VideoRoom that participants join from a browser.

The meeting's live state (waiting room, who is in, the speaker queue, timed turns, speaking
time, lock, recording) lives in the database (`parley.storage.meeting_models`) so several
Parley processes can serve one meeting; every change reads it as plain drafts under the
meeting row's lock (`parley.storage.stores.meeting_snapshots`), applies the pure rules in
`room.Room`, writes back what they changed, commits, and is then announced on
``meeting:<dialogue id>``:

    meeting.state  {"dialogue_id", "state"}   the whole state; `visible_state` cuts it per viewer
    meeting.chat   {"dialogue_id", "message"} the participant-visible chat
    meeting.ended  {"dialogue_id", "summary"}

Janus side effects (rooms, tokens, kick, moderate, recording) come after the commit and are
best effort: the database is the truth, and after a Janus restart `rooms.MediaRooms.recover`
rebuilds every open room and reinstalls every live token from it. A token stays in the database until
Janus has let go of it: one that could not be revoked (Janus away, an error) is put back,
and the ticker's sweep revokes it later, with every other token nobody may use any more
(holder gone, meeting over, expired). Chat text never reaches a log line.

Recording consent is given in the meeting (`JoinInput.consent`, `/me/consent`), never taken
from the registration. A recording starts only when everyone admitted agrees (hosts,
interpreters, listeners and observers too); someone who comes in without agreeing pauses it
(Janus stops writing) until they agree or leave; someone present who withdraws stops it.
Who may enter at all comes from `parley.handlers.access.dialogue_role`. `service.Meetings`
lists the parts, one file each.
"""

from parley.handlers.meetings.service import Meetings
from parley.handlers.meetings.views import (
    CHAT_MAX,
    CHAT_PAGE_MAX,
    Access,
    ChatMessage,
    ConnectInfo,
    JoinInput,
    MeetingDialogue,
    RecordingView,
    admitted_in,
    meeting_topic,
    visible_state,
)

__all__ = [
    "CHAT_MAX",
    "CHAT_PAGE_MAX",
    "Access",
    "ChatMessage",
    "ConnectInfo",
    "JoinInput",
    "MeetingDialogue",
    "Meetings",
    "RecordingView",
    "admitted_in",
    "meeting_topic",
    "visible_state",
]
