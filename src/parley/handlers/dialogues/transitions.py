"""Moving a dialogue through its states (`states.TRANSITIONS`): publish, cancel, start, end,
submit the report.

Publishing needs a start time still to come. Each move is stored with its time, then
announced on ``dialogue:<id>`` as ``dialogue.state``; meetings end when they hear ``ended``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues.access import can_see, manages, runs
from parley.handlers.dialogues.reading import Reader, locked
from parley.handlers.dialogues.states import TRANSITIONS, Action, dialogue_topic
from parley.handlers.dialogues.validation import check_id
from parley.handlers.dialogues.views import DialogueView
from parley.storage.database import Database
from parley.storage.stores import dialogues as store
from parley.storage.stores.accounts import Account

log = logging.getLogger(__name__)


class Transitions:
    def __init__(self, db: Database, clock: Clock, bus: Bus, reader: Reader) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.reader = reader

    async def transition(self, actor: Account, dialogue_id: int, action: Action) -> DialogueView:
        rule = TRANSITIONS[action]
        check_id(dialogue_id)
        now = self.clock.now()
        async with self.db.session() as s:
            d = await locked(s, dialogue_id)
            if not await can_see(s, actor, d):
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            allowed = manages(actor, d) if rule.organiser_only else runs(actor, d)
            if not allowed:
                raise Forbidden("You cannot do this for this dialogue.", code="not_allowed")
            if d.state not in rule.sources:
                raise Conflict("The dialogue's current state does not allow this.", code="invalid_transition")
            stamps: dict[str, datetime | None] = {}  # the times this move records
            if action == Action.PUBLISH:
                if d.starts_at is None:
                    raise InvalidInput(
                        "Set a start time before publishing.", fields={"starts_at": "required"}, code="cannot_publish"
                    )
                if d.starts_at <= now:
                    raise InvalidInput(
                        "The start time has passed; choose a later one before publishing.",
                        fields={"starts_at": "past"},
                        code="cannot_publish",
                    )
                stamps["published_at"] = now
            elif action == Action.CANCEL:
                stamps["published_at"] = None
            elif action == Action.START:
                stamps["started_at"] = now
            elif action == Action.END:
                stamps["ended_at"] = now
            elif action == Action.SUBMIT_REPORT:
                stamps["report_submitted_at"] = now
            previous = d.state
            await store.set_state(s, d.id, rule.target, now, **stamps)
        log.info("dialogue %s: %s -> %s by user %s", dialogue_id, previous.value, rule.target.value, actor.id)
        await self.bus.publish(
            dialogue_topic(dialogue_id),
            {
                "type": "dialogue.state",
                "dialogue_id": dialogue_id,
                "state": rule.target.value,
                "previous": previous.value,
                "action": action.value,
                "at": now.isoformat(),
            },
        )
        return await self.reader.get(actor, dialogue_id)
