"""Meetings over HTTP: the JSON API under /api/v1/meetings/<dialogue id>, the meeting socket
/ws/meetings/<dialogue id> (pushes state and chat), (the page /dialogues/<id>/meeting is
`parley.web.pages.meetings`, the Janus proxy /ws/janus is `janus_proxy`).

The rules live in `parley.handlers.meetings`; routes translate HTTP to its calls.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from enum import Enum
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, WebSocket
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from parley.errors import ClientError
from parley.handlers.accounts import Account
from parley.handlers.interpretation import CaptionLine
from parley.handlers.meetings import (
    CHAT_MAX,
    CHAT_PAGE_MAX,
    ChatMessage,
    ConnectInfo,
    JoinInput,
    Meetings,
    RecordingView,
    meeting_topic,
    visible_state,
)
from parley.handlers.meetings.room import TURN_SECONDS_MAX, TURN_SECONDS_MIN, SpeakingTime
from parley.media.janus.recording import FILE_NAME
from parley.vocabulary import AttendeeRole
from parley.web.auth import require_user, server_of
from parley.web.downloads import attachment
from parley.web.schemas import error_docs
from parley.web.socket import CloseCode, CloseSocket, InFrame, SocketEndpoint

log = logging.getLogger(__name__)
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


class ConnectOut(BaseModel):
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

    @classmethod
    def of(cls, info: ConnectInfo) -> ConnectOut:
        return cls(server=info.server, ice_servers=info.ice_servers, token=info.token, room_id=info.room_id,
                   text_room_id=info.text_room_id, pin=info.pin, feed_id=info.feed_id,
                   participant_id=info.participant_id, mode=info.mode.value)


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


class RecordingIn(BaseModel):
    on: bool


class SpeakingOut(BaseModel):
    participant_id: int
    display_name: str
    role: str
    seconds: float
    turns: int
    share: float = Field(description="Share of all speaking time, 0..1.")

    @classmethod
    def of(cls, t: SpeakingTime) -> SpeakingOut:
        return cls(participant_id=t.participant_id, display_name=t.display_name, role=t.role.value,
                   seconds=round(t.seconds, 1), turns=t.turns, share=round(t.share, 3))


class SummaryOut(BaseModel):
    speakers: list[SpeakingOut] = Field(description="Quietest first.")


class RecordingFileOut(BaseModel):
    participant_id: int | None = None
    display_name: str = ""
    kind: Literal["speaker", "mix"] = "speaker"
    file: str
    download: str = ""
    bytes: int
    seconds: float
    starts_at: float = 0.0


class RecordingOut(BaseModel):
    id: int
    status: Literal["recording", "processing", "ready", "failed"]
    started_at: str
    stopped_at: str | None
    files: list[RecordingFileOut]
    error: str | None

    @classmethod
    def of(cls, r: RecordingView) -> RecordingOut:
        return cls(id=r.id, status=r.status.value, started_at=r.started_at.isoformat(),
                   stopped_at=r.stopped_at.isoformat() if r.stopped_at else None,
                   files=[RecordingFileOut.model_validate(f) for f in r.files], error=r.error)


class RecordingList(BaseModel):
    recordings: list[RecordingOut]


class ChatIn(BaseModel):
    body: str = Field(max_length=CHAT_MAX * 2)


class ChatOut(BaseModel):
    id: int
    participant_id: int | None
    author_name: str
    body: str
    created_at: str

    @classmethod
    def of(cls, m: ChatMessage) -> ChatOut:
        return cls.model_validate(m.to_json())


class ChatPage(BaseModel):
    messages: list[ChatOut]


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


@router.post("/api/v1/meetings/{dialogue_id}/recording", response_model=MeetingOut, tags=TAGS,
             responses=errors(401, 403, 404, 409, 503))
async def recording(body: RecordingIn, request: Request, dialogue_id: int = DialogueId,
                    user: Account = Depends(require_user)) -> MeetingOut:
    """Start recording the audio (everyone in the meeting, the host included, must have agreed) or stop it
    (hosts)."""
    return out(await meetings_of(request).recordings.set_recording(user, dialogue_id, body.on))


@router.get("/api/v1/meetings/{dialogue_id}/recordings", response_model=RecordingList, tags=TAGS,
            responses=errors(401, 403, 404))
async def recordings(request: Request, dialogue_id: int = DialogueId,
                     user: Account = Depends(require_user)) -> RecordingList:
    """The dialogue's recordings: the whole meeting mixed, then one Ogg Opus file per speaker (hosts)."""
    return RecordingList(recordings=[RecordingOut.of(r) for r in await meetings_of(request).recordings.recordings(user,
                                                                                                     dialogue_id)])


@router.get("/api/v1/meetings/{dialogue_id}/recordings/{recording_id}/files/{name}", tags=TAGS,
            responses={200: {"content": {"audio/ogg": {}}, "description": "The audio."}, **errors(401, 403, 404)},
            response_class=FileResponse)
async def recording_file(request: Request, dialogue_id: int = DialogueId, recording_id: int = Path(ge=1, le=MAX_ID),
                         name: str = Path(max_length=64, pattern=FILE_NAME.pattern),
                         user: Account = Depends(require_user)) -> FileResponse:
    """Download one speaker's audio, or the whole meeting mixed (hosts), under the person's name."""
    path, download = await meetings_of(request).recordings.recording_file(user, dialogue_id, recording_id, name)
    return FileResponse(path, media_type="audio/ogg", headers={"Content-Disposition": attachment(name, download)})


@router.delete("/api/v1/meetings/{dialogue_id}/recordings/{recording_id}", status_code=204, tags=TAGS,
               responses=errors(401, 403, 404, 409), response_class=Response)
async def delete_recording(request: Request, dialogue_id: int = DialogueId,
                           recording_id: int = Path(ge=1, le=MAX_ID),
                           user: Account = Depends(require_user)) -> Response:
    """Delete a recording and its files for good (hosts)."""
    await meetings_of(request).recordings.delete_recording(user, dialogue_id, recording_id)
    return Response(status_code=204)


@router.get("/api/v1/meetings/{dialogue_id}/summary", response_model=SummaryOut, tags=TAGS,
            responses=errors(401, 403, 404))
async def summary(request: Request, dialogue_id: int = DialogueId, user: Account = Depends(require_user)) -> SummaryOut:
    """Speaking time per person, quietest first (hosts and staff)."""
    times = await meetings_of(request).changes.summary(user, dialogue_id)
    return SummaryOut(speakers=[SpeakingOut.of(t) for t in times])


@router.get("/api/v1/meetings/{dialogue_id}/chat", response_model=ChatPage, tags=TAGS, responses=COMMON)
async def chat_history(request: Request, dialogue_id: int = DialogueId,
                       before: int | None = Query(None, ge=1, le=MAX_ID),
                       limit: int = Query(50, ge=1, le=CHAT_PAGE_MAX),
                       user: Account = Depends(require_user)) -> ChatPage:
    """The meeting chat, oldest first (people in the meeting)."""
    messages = await meetings_of(request).chat.history(user, dialogue_id, before=before, limit=limit)
    return ChatPage(messages=[ChatOut.of(m) for m in messages])


@router.post("/api/v1/meetings/{dialogue_id}/chat", response_model=ChatOut, status_code=201, tags=TAGS,
             responses=COMMON)
async def post_chat(body: ChatIn, request: Request, dialogue_id: int = DialogueId,
                    user: Account = Depends(require_user)) -> ChatOut:
    """Write to the meeting chat (people in the meeting)."""
    return ChatOut.of(await meetings_of(request).chat.post(user, dialogue_id, body.body))


# --- the meeting socket ------------------------------------------------------------------------------


class CaptionsIn(InFrame):
    """The one language this page reads captions in (null: originals only)."""

    type: Literal["captions"]
    language: str | None = Field(None, min_length=1, max_length=16)


class MeetingSocket(SocketEndpoint):
    """Pushes ``state`` (the meeting as this viewer sees it), ``chat``, ``ended``, ``media_restarted``,
    ``caption`` and ``interpretation`` (engine health) to the people inside; reads ``ping`` and
    ``captions``."""

    name = "meeting-socket"
    frame_max = 1024
    frames = {"captions": CaptionsIn}

    def __init__(self, websocket: WebSocket, dialogue_id: int) -> None:
        super().__init__(websocket)
        self.dialogue_id = dialogue_id
        self.meetings = self.server.meetings

    async def on_connect(self) -> None:
        user = await self.user()
        if user is None:
            raise CloseSocket(CloseCode.UNAUTHENTICATED)
        try:
            access = await self.meetings.access(user, self.dialogue_id)
            self.state = await self.meetings.state(user, self.dialogue_id)
        except ClientError as exc:
            raise CloseSocket(CloseCode.FORBIDDEN,
                              frame={"type": "error", "code": exc.code, "message": exc.message}) from None
        self.viewer = user
        self.host = access.role == AttendeeRole.HOST
        self.sub = await self.server.bus.subscribe([meeting_topic(self.dialogue_id)])
        self.version: int = self.state["version"]
        self.you: dict[str, Any] | None = self.state["you"]
        # Captions: every original line, and translations into the one language this page reads.
        self.reading: str | None = None

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        return {f"push:{self.dialogue_id}": self._push()}

    async def on_frame(self, frame: InFrame) -> None:
        if isinstance(frame, CaptionsIn):
            self.reading = frame.language

    async def on_disconnect(self) -> None:
        await self.sub.close()
        if self.you is not None and self.you.get("status") == "admitted":
            await self.meetings.attendance.socket_closed(self.viewer, self.dialogue_id)

    def _inside(self) -> bool:
        return self.host or (self.you is not None and self.you.get("status") == "admitted")

    async def _fresh_state(self) -> None:
        fresh = await self.meetings.state(self.viewer, self.dialogue_id)
        self.version, self.you = fresh["version"], fresh["you"]
        await self.send({"type": "state", "state": fresh})

    async def _push(self) -> None:
        await self.send({"type": "state", "state": self.state})
        dropped = 0
        async for _topic, event in self.sub:
            kind = event.get("type")
            if self.sub.dropped != dropped:  # we lagged: start again from the database
                dropped = self.sub.dropped
                await self._fresh_state()
            if kind == "meeting.state":
                view = visible_state(event["state"], user_id=self.viewer.id, host=self.host)
                if view["version"] < self.version:
                    continue
                self.version, self.you = view["version"], view["you"]
                await self.send({"type": "state", "state": view})
            elif kind == "meeting.opened":
                await self._fresh_state()
            elif kind == "meeting.chat" and self._inside():
                await self.send({"type": "chat", "message": event["message"]})
            elif kind == "meeting.ended":
                await self.send({"type": "ended", "summary": event["summary"] if self.host else []})
            elif kind == "meeting.media_restarted":
                await self.send({"type": "media_restarted"})
            elif kind == "meeting.recording" and self.host:
                await self.send({"type": "recordings"})
            elif kind == "caption" and self._inside():
                line = CaptionLine.from_dict(event["caption"])
                if line.visible_to(self.reading):
                    await self.send({"type": "caption", "caption": line.to_dict()})
            elif kind == "interpretation" and self._inside():
                await self.send({"type": "interpretation", "health": event["health"]})


@router.websocket("/ws/meetings/{dialogue_id}")
async def meeting_socket(websocket: WebSocket, dialogue_id: int) -> None:
    await MeetingSocket(websocket, dialogue_id).serve()
