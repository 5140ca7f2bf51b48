"""Meetings over HTTP: the JSON API under /api/v1/meetings/<dialogue id> for the meeting itself
(starting, joining, admitting, the floor, speaking time). Beside it: its recordings
(`meeting_recordings`), its chat (`meeting_chat`), the meeting socket /ws/meetings/<dialogue id>
(`meeting_socket`), the page /dialogues/<id>/meeting (`parley.web.pages.meetings`) and the Janus
proxy /ws/janus (`janus_proxy`).

The rules live in `parley.handlers.meetings`; routes translate HTTP to its calls.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from parley.handlers.accounts import Account
from parley.handlers.meetings import JoinInput, Meetings
from parley.handlers.meetings.room import TURN_SECONDS_MAX, TURN_SECONDS_MIN
from parley.web.auth import require_user, server_of
from parley.web.schemas import ViewOut, error_docs, rounded

router = APIRouter()

TAGS: list[str | Enum] = ["meetings"]
MAX_ID = 2**31 - 1
DialogueId = Path(ge=1, le=MAX_ID, description="The dialogue whose meeting this is.")


_ERROR_TEXT = {
    401: "Not logged in (`login_required`).",
    403: "Not registered (`not_registered`), not admitted (`not_admitted`), not the host (`not_host`), "
         "or the CSRF token is missing.",
    404: "No such dialogue, meeting (`meeting_not_started`), participant, or recording.",
    409: "Conflicts with the meeting's state: `meeting_locked`, `meeting_ended`, `not_waiting`, "
         "`consent_missing`, `already_recording`, ...",
    422: "Some fields are not valid; `fields` says which.",
    503: "Janus is not available (`engine_unavailable`).",
}


errors = error_docs(_ERROR_TEXT)


COMMON = errors(401, 403, 404, 409, 422)


# --- API models ----------------------------------------------------------------------------------


class ParticipantOut(BaseModel):
    id: int
    display_name: str
    role: Literal["host", "staff", "participant", "observer"]
    status: Literal["waiting", "admitted", "left", "removed", "denied"]
    mode: Literal["video", "audio", "listen"]
    language: str
    presence: Literal["online", "reconnecting", "offline"]
    self_muted: bool
    force_muted: bool
    camera_on: bool
    hand_raised: bool
    talking: bool
    feed_id: int | None = Field(None, description="The VideoRoom publisher id of the current connection.")
    speaking_seconds: float
    turns: int
    consent: bool | None = Field(None, description="Consent to recording (hosts see everyone's, others their own).")


class TurnOut(BaseModel):
    participant_id: int
    started_at: str
    ends_at: str | None = Field(None, description="When a timed turn ends (countdown); null for open turns.")


class RecordingRef(BaseModel):
    id: int
    paused: bool = Field(False, description="Janus writes nothing while someone present has not agreed "
                                            "(someone came in); it resumes when they agree or leave.")


class MeetingOut(BaseModel):
    dialogue_id: int
    title: str
    dialogue_state: str
    status: Literal["not_started", "open", "ended"]
    version: int = Field(description="Grows with every change; a client ignores snapshots older than its own.")
    locked: bool
    turn_seconds: int | None
    turn: TurnOut | None
    recording: RecordingRef | None = Field(None, description="Set while a recording runs (or is paused).")
    can_record: bool = Field(description="Everyone in the meeting agreed to a recording.")
    blockers: list[int] = Field(description="Hosts only: people in the meeting who have not agreed to a recording.")
    queue: list[int] = Field(description="Raised hands, first raised first.")
    participants: list[ParticipantOut]
    waiting: list[ParticipantOut] = Field(description="Hosts only: the waiting room.")
    you: ParticipantOut | None
    is_host: bool
    server_time: str


class JoinIn(BaseModel):
    mode: Literal["video", "audio", "listen"] = "audio"
    language: str = Field("", max_length=16)
    display_name: str = Field("", max_length=120)
    consent: bool = Field(False, description="Agreement, given here in the meeting, that the meeting's audio may "
                                             "be recorded. Off unless sent: consent to a written transcript at "
                                             "registration is not consent to a recording.")

    def to_input(self) -> JoinInput:
        return JoinInput(mode=self.mode, language=self.language, display_name=self.display_name, consent=self.consent)


class ConnectOut(ViewOut):
    # Read off a `ConnectInfo`.
    server: str = Field(description="Janus WebSocket URL; a path means Parley's /ws/janus proxy on this origin.")
    ice_servers: list[dict[str, Any]]
    token: str = Field(description="Your Janus token (send it with every Janus request and in the VideoRoom join).")
    room_id: int
    text_room_id: int
    pin: str = Field(description="The room's pin: send it in every VideoRoom join (it changes when someone is "
                                 "removed; connect again for the new one).")
    feed_id: int = Field(description="Join the VideoRoom with this publisher id.")
    participant_id: int
    mode: Literal["video", "audio", "listen"]


class StatusIn(BaseModel):
    self_muted: bool | None = None
    camera_on: bool | None = None
    presence: Literal["online", "reconnecting"] | None = None


class HandIn(BaseModel):
    raised: bool


class ConsentIn(BaseModel):
    consent: bool


class MuteIn(BaseModel):
    muted: bool = True


class LockIn(BaseModel):
    locked: bool


class FloorIn(BaseModel):
    action: Literal["next", "give", "end", "length"]
    participant_id: int | None = Field(None, ge=1, le=MAX_ID)
    seconds: int | None = Field(None, ge=TURN_SECONDS_MIN, le=TURN_SECONDS_MAX,
                                description="For `length`: seconds per turn, or null for open turns.")


class SpeakingOut(ViewOut):
    participant_id: int
    display_name: str
    role: str
    seconds: Annotated[float, rounded(1)]
    turns: int
    share: Annotated[float, rounded(3)] = Field(description="Share of all speaking time, 0..1.")


class SummaryOut(BaseModel):
    speakers: list[SpeakingOut] = Field(description="Quietest first.")


def meetings_of(request: Request) -> Meetings:
    return server_of(request).meetings


def out(state: dict[str, Any]) -> MeetingOut:
    return MeetingOut.model_validate(state)


# --- API ---------------------------------------------------------------------------------------------


@router.get("/api/v1/meetings/{dialogue_id}", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def get_meeting(request: Request, dialogue_id: int = DialogueId,
                      user: Account = Depends(require_user)) -> MeetingOut:
    """The meeting as you see it (status `not_started` before the facilitator opens it)."""
    return out(await meetings_of(request).state(user, dialogue_id))


@router.post("/api/v1/meetings/{dialogue_id}/start", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def start_meeting(request: Request, dialogue_id: int = DialogueId,
                        user: Account = Depends(require_user)) -> MeetingOut:
    """Open the meeting (the facilitator or organiser); a scheduled dialogue goes live."""
    return out(await meetings_of(request).lifecycle.start_meeting(user, dialogue_id))


@router.post("/api/v1/meetings/{dialogue_id}/end", response_model=SummaryOut, tags=TAGS, responses=COMMON)
async def end_meeting(request: Request, dialogue_id: int = DialogueId,
                      user: Account = Depends(require_user)) -> SummaryOut:
    """End the meeting for everyone; the dialogue ends. Returns speaking time per person."""
    summary = await meetings_of(request).lifecycle.end_meeting(user, dialogue_id)
    return SummaryOut(speakers=[SpeakingOut.of(t) for t in summary])


@router.post("/api/v1/meetings/{dialogue_id}/join", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def join_meeting(body: JoinIn, request: Request, dialogue_id: int = DialogueId,
                       user: Account = Depends(require_user)) -> MeetingOut:
    """Enter from the lobby: the waiting room, or straight in for the dialogue's staff."""
    return out(await meetings_of(request).attendance.join(user, dialogue_id, body.to_input()))


@router.post("/api/v1/meetings/{dialogue_id}/me/connect", response_model=ConnectOut, tags=TAGS,
             responses=errors(401, 403, 404, 409, 503))
async def connect(request: Request, dialogue_id: int = DialogueId, user: Account = Depends(require_user)) -> ConnectOut:
    """Janus credentials for one connection (call again to reconnect): token, room, a fresh feed id."""
    return ConnectOut.of(await meetings_of(request).connections.connect(user, dialogue_id))


@router.post("/api/v1/meetings/{dialogue_id}/me/status", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def report_status(body: StatusIn, request: Request, dialogue_id: int = DialogueId,
                        user: Account = Depends(require_user)) -> MeetingOut:
    """What your browser says: muted, camera, connected or reconnecting."""
    return out(await meetings_of(request).attendance.report(user, dialogue_id, self_muted=body.self_muted,
                                                 camera_on=body.camera_on, presence=body.presence))


@router.post("/api/v1/meetings/{dialogue_id}/me/hand", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def hand(body: HandIn, request: Request, dialogue_id: int = DialogueId,
               user: Account = Depends(require_user)) -> MeetingOut:
    """Raise or lower your hand (the speaker queue)."""
    return out(await meetings_of(request).attendance.raise_hand(user, dialogue_id, body.raised))


@router.post("/api/v1/meetings/{dialogue_id}/me/consent", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def consent(body: ConsentIn, request: Request, dialogue_id: int = DialogueId,
                  user: Account = Depends(require_user)) -> MeetingOut:
    """Give or withdraw consent to recording; withdrawing stops a running recording at once."""
    return out(await meetings_of(request).attendance.set_consent(user, dialogue_id, body.consent))


@router.post("/api/v1/meetings/{dialogue_id}/me/leave", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def leave(request: Request, dialogue_id: int = DialogueId, user: Account = Depends(require_user)) -> MeetingOut:
    """Leave the meeting (you can come back through the lobby)."""
    return out(await meetings_of(request).attendance.leave(user, dialogue_id))


@router.post("/api/v1/meetings/{dialogue_id}/participants/{participant_id}/admit", response_model=MeetingOut,
             tags=TAGS, responses=COMMON)
async def admit(request: Request, dialogue_id: int = DialogueId, participant_id: int = Path(ge=1, le=MAX_ID),
                user: Account = Depends(require_user)) -> MeetingOut:
    """Let someone in from the waiting room (hosts)."""
    return out(await meetings_of(request).facilitation.admit(user, dialogue_id, participant_id))


@router.post("/api/v1/meetings/{dialogue_id}/admit-all", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def admit_all(request: Request, dialogue_id: int = DialogueId,
                    user: Account = Depends(require_user)) -> MeetingOut:
    """Let everyone in the waiting room in (hosts)."""
    return out(await meetings_of(request).facilitation.admit_all(user, dialogue_id))


@router.post("/api/v1/meetings/{dialogue_id}/participants/{participant_id}/deny", response_model=MeetingOut,
             tags=TAGS, responses=COMMON)
async def deny(request: Request, dialogue_id: int = DialogueId, participant_id: int = Path(ge=1, le=MAX_ID),
               user: Account = Depends(require_user)) -> MeetingOut:
    """Turn someone in the waiting room away (hosts)."""
    return out(await meetings_of(request).facilitation.deny(user, dialogue_id, participant_id))


@router.post("/api/v1/meetings/{dialogue_id}/participants/{participant_id}/remove", response_model=MeetingOut,
             tags=TAGS, responses=COMMON)
async def remove(request: Request, dialogue_id: int = DialogueId, participant_id: int = Path(ge=1, le=MAX_ID),
                 user: Account = Depends(require_user)) -> MeetingOut:
    """Remove someone: Janus disconnects them and refuses their token from now on (hosts)."""
    return out(await meetings_of(request).facilitation.remove(user, dialogue_id, participant_id))


@router.post("/api/v1/meetings/{dialogue_id}/participants/{participant_id}/mute", response_model=MeetingOut,
             tags=TAGS, responses=COMMON)
async def mute(body: MuteIn, request: Request, dialogue_id: int = DialogueId,
               participant_id: int = Path(ge=1, le=MAX_ID), user: Account = Depends(require_user)) -> MeetingOut:
    """Block (or release) someone's microphone in Janus (hosts)."""
    return out(await meetings_of(request).facilitation.mute(user, dialogue_id, participant_id, body.muted))


@router.post("/api/v1/meetings/{dialogue_id}/lock", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def lock(body: LockIn, request: Request, dialogue_id: int = DialogueId,
               user: Account = Depends(require_user)) -> MeetingOut:
    """Lock the meeting: nobody new may join (hosts)."""
    return out(await meetings_of(request).facilitation.lock(user, dialogue_id, body.locked))


@router.post("/api/v1/meetings/{dialogue_id}/floor", response_model=MeetingOut, tags=TAGS, responses=COMMON)
async def floor(body: FloorIn, request: Request, dialogue_id: int = DialogueId,
                user: Account = Depends(require_user)) -> MeetingOut:
    """The speaker queue: next, give (someone), end (the turn), length (of timed turns) (hosts)."""
    facilitation = meetings_of(request).facilitation
    return out(await facilitation.floor(user, dialogue_id, body.action, participant_id=body.participant_id,
                                        seconds=body.seconds))


@router.get("/api/v1/meetings/{dialogue_id}/summary", response_model=SummaryOut, tags=TAGS,
            responses=errors(401, 403, 404))
async def summary(request: Request, dialogue_id: int = DialogueId, user: Account = Depends(require_user)) -> SummaryOut:
    """Speaking time per person, quietest first (hosts and staff)."""
    times = await meetings_of(request).changes.summary(user, dialogue_id)
    return SummaryOut(speakers=[SpeakingOut.of(t) for t in times])
