"""A meeting's recordings over HTTP: starting and stopping one, the list, each file's download
(the whole meeting mixed, one Ogg Opus file per speaker, named by person) and deletion.

The rules (who may record, whose consent it needs, who may download) live in
`parley.handlers.meetings.recordings`; the meeting's own API is `parley.web.routes.meetings`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from parley.handlers.accounts import Account
from parley.media.janus.recording import FILE_NAME
from parley.web.auth import require_user
from parley.web.downloads import attachment
from parley.web.routes.meetings import MAX_ID, TAGS, DialogueId, MeetingOut, errors, meetings_of, out
from parley.web.schemas import OffsetTime, ViewOut

router = APIRouter()


class RecordingIn(BaseModel):
    on: bool


class RecordingFileOut(BaseModel):
    participant_id: int | None = None
    display_name: str = ""
    kind: Literal["speaker", "mix"] = "speaker"
    file: str
    download: str = ""
    bytes: int
    seconds: float
    starts_at: float = 0.0


class RecordingOut(ViewOut):
    id: int
    status: Literal["recording", "processing", "ready", "failed"]
    started_at: OffsetTime
    stopped_at: OffsetTime | None
    files: list[RecordingFileOut]
    error: str | None


class RecordingList(BaseModel):
    recordings: list[RecordingOut]


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
