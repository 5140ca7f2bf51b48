"""Reading dialogues: the view a viewer may see (with what they may do), the summaries lists
are made of, and the row locked for a change.

Every part that answers with a dialogue ends with `Reader.get`, so what a caller sees after a
change is exactly what a fresh read shows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import NotFound
from parley.handlers.dialogues.access import can_see, manages, runs
from parley.handlers.dialogues.states import EDITABLE_STATES, OPEN_STATES, TRANSITIONS, Action
from parley.handlers.dialogues.validation import check_id
from parley.handlers.dialogues.views import DialogueSummary, DialogueView, InterpreterView, Permissions, Person
from parley.security import same
from parley.storage.database import Database
from parley.storage.stores import dialogues as store
from parley.storage.stores import registration as reg_store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.registration import RegistrationInfo
from parley.vocabulary import Visibility


class Reader:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, viewer: Account | None, dialogue_id: int, *, invite_code: str = "") -> DialogueView:
        """The dialogue as ``viewer`` may see it; NotFound when they may not see it at all."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await store.info(s, dialogue_id)
            if d is None or not await can_see(s, viewer, d, invite_code=invite_code):
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            return await view(s, viewer, d, invite_code=invite_code)


async def locked(s: AsyncSession, dialogue_id: int) -> DialogueInfo:
    """The dialogue, its row locked until the change commits."""
    if not await store.lock(s, dialogue_id):
        raise NotFound("No such dialogue.", code="dialogue_not_found")
    d = await store.info(s, dialogue_id)
    if d is None:  # pragma: no cover - deleted between the two statements
        raise NotFound("No such dialogue.", code="dialogue_not_found")
    return d


async def view(s: AsyncSession, viewer: Account | None, d: DialogueInfo, *, invite_code: str = "") -> DialogueView:
    interpreters = (await store.interpreters(s, [d.id]))[d.id]
    registered = await reg_store.count(s, d.id)
    registration: RegistrationInfo | None = None
    if viewer is not None:
        registration = await reg_store.registration(s, d.id, viewer.id)
    is_manager = manages(viewer, d)
    is_runner = runs(viewer, d)
    interprets = viewer is not None and any(u.id == viewer.id for _, u in interpreters)
    invited = (
        d.visibility == Visibility.PUBLIC or is_manager or bool(invite_code and same(invite_code, d.invite_code))
    )
    state = d.state
    perms = Permissions(
        can_edit=is_manager and state in EDITABLE_STATES,
        can_publish=is_manager and state in TRANSITIONS[Action.PUBLISH].sources,
        can_cancel=is_manager and state in TRANSITIONS[Action.CANCEL].sources,
        can_start=is_runner and state in TRANSITIONS[Action.START].sources,
        can_end=is_runner and state in TRANSITIONS[Action.END].sources,
        can_submit_report=is_runner and state in TRANSITIONS[Action.SUBMIT_REPORT].sources,
        can_see_registrations=is_runner,
        can_see_names=is_manager,
        # Those who run or interpret a dialogue take part as staff, not as registered participants.
        can_register=state in OPEN_STATES and not (is_runner or interprets)
        and (registration is not None or (invited and registered < d.capacity)),
        is_registered=registration is not None,
        runs=is_runner,
        interprets=interprets,
    )
    return DialogueView(
        id=d.id,
        title=d.title,
        description=d.description,
        questions=list(d.questions),
        state=state,
        visibility=d.visibility,
        starts_at=d.starts_at,
        time_zone=d.time_zone,
        duration_minutes=d.duration_minutes,
        capacity=d.capacity,
        registered=registered,
        languages=list(d.languages),
        country=d.country,
        organiser=Person(d.organiser.id, d.organiser.display_name) if d.organiser else None,
        facilitator=Person(d.facilitator.id, d.facilitator.display_name) if d.facilitator else None,
        interpreters=[InterpreterView(u.id, u.display_name, lang) for lang, u in interpreters],
        invite_code=d.invite_code if is_manager else None,
        created_at=d.created_at,
        updated_at=d.updated_at,
        published_at=d.published_at,
        started_at=d.started_at,
        ended_at=d.ended_at,
        report_submitted_at=d.report_submitted_at,
        permissions=perms,
    )


async def summarise(s: AsyncSession, rows: Iterable[DialogueInfo]) -> list[DialogueSummary]:
    unique = {d.id: d for d in rows}
    counts = await store.registration_counts(s, list(unique))
    return [
        DialogueSummary(
            id=d.id,
            title=d.title,
            description=d.description,
            state=d.state,
            visibility=d.visibility,
            starts_at=d.starts_at,
            time_zone=d.time_zone,
            duration_minutes=d.duration_minutes,
            capacity=d.capacity,
            registered=counts.get(d.id, 0),
            languages=list(d.languages),
            country=d.country,
            facilitator_name=d.facilitator.display_name if d.facilitator else None,
            ended_at=d.ended_at,
            report_submitted_at=d.report_submitted_at,
        )
        for d in unique.values()
    ]
