"""The meeting chat over HTTP: its history, page by page, and writing to it (people in the
meeting). New messages reach the pages through the meeting socket (`meeting_socket`).

The rules live in `parley.handlers.meetings.chat`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from parley.handlers.accounts import Account
from parley.handlers.meetings import CHAT_MAX, CHAT_PAGE_MAX
from parley.web.auth import require_user
from parley.web.routes.meetings import COMMON, MAX_ID, TAGS, DialogueId, meetings_of
from parley.web.schemas import IsoTime, ViewOut

router = APIRouter()


class ChatIn(BaseModel):
    body: str = Field(max_length=CHAT_MAX * 2)


class ChatOut(ViewOut):
    id: int
    participant_id: int | None
    author_name: str
    body: str
    created_at: IsoTime


class ChatPage(BaseModel):
    messages: list[ChatOut]


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
