"""The meeting's chat: for the people inside, published on the meeting's topic, never logged."""

from __future__ import annotations

from parley.errors import Conflict, Forbidden, InvalidInput
from parley.handlers.meetings.changes import MeetingChanges
from parley.handlers.meetings.views import CHAT_PAGE_MAX, ChatMessage, chat_json, check_body, meeting_topic
from parley.storage.stores import meetings as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import AttendeeRole, AttendeeStatus, MeetingStatus


class Chat:
    def __init__(self, changes: MeetingChanges) -> None:
        self.changes = changes

    async def history(self, actor: Account, dialogue_id: int, *, before: int | None = None,
                      limit: int = 50) -> list[ChatMessage]:
        if not 1 <= limit <= CHAT_PAGE_MAX:
            raise InvalidInput("Ask for 1 to 100 messages.", fields={"limit": "range"}, code="invalid_limit")
        async with self.changes.db.session() as s:
            meeting, p = await self.changes.mine_in(s, actor, dialogue_id)
            if p.status != AttendeeStatus.ADMITTED and p.role != AttendeeRole.HOST:
                raise Forbidden("The chat is for people in the meeting.", code="not_admitted")
            return await store.messages(s, meeting.id, limit=limit, before=before)

    async def post(self, actor: Account, dialogue_id: int, body: str) -> ChatMessage:
        text = check_body(body)
        async with self.changes.db.session() as s:
            meeting, p = await self.changes.mine_in(s, actor, dialogue_id)
            if meeting.status != MeetingStatus.OPEN:
                raise Conflict("This meeting has ended.", code="meeting_ended")
            if p.status != AttendeeStatus.ADMITTED:
                raise Forbidden("The chat is for people in the meeting.", code="not_admitted")
            view = await store.add_message(s, meeting.id, p.id, p.display_name, text, self.changes.clock.now())
        await self.changes.bus.publish(meeting_topic(dialogue_id),
                                       {"type": "meeting.chat", "dialogue_id": dialogue_id, "message": chat_json(view)})
        return view
