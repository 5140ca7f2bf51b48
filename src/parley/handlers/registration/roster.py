"""A dialogue's registrations as its staff see them: the organiser (and admins) see who
registered; the facilitator sees the demographics aggregated, never a name or address.
"""

from __future__ import annotations

from collections import Counter

from parley.errors import Forbidden, NotFound
from parley.handlers.accounts import contact_email
from parley.handlers.dialogues import can_see, check_id, manages, runs
from parley.handlers.registration.views import Attendee, DialogueRegistrations
from parley.reference import UNSTATED
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as store
from parley.storage.stores.accounts import Account


def counts(values: list[str]) -> dict[str, int]:
    """How often each value occurs, the most frequent first (ties alphabetical)."""
    return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


class Roster:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def for_dialogue(self, actor: Account, dialogue_id: int) -> DialogueRegistrations:
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await dialogue_store.info(s, dialogue_id)
            if d is None:
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            if not runs(actor, d):
                if await can_see(s, actor, d):
                    raise Forbidden(
                        "Only the dialogue's organiser and facilitator see who registered.", code="not_allowed"
                    )
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            people = await store.of_dialogue(s, d.id)
        rows = [r for r, _ in people]
        attendees = None
        if manages(actor, d):
            attendees = [
                Attendee(
                    user_id=u.id,
                    display_name=u.display_name,
                    email=contact_email(u.email),
                    preferred_language=r.preferred_language,
                    consent_transcript=r.consent_transcript,
                    consent_quotes=r.consent_quotes,
                    registered_at=r.created_at,
                )
                for r, u in people
            ]
        return DialogueRegistrations(
            dialogue_id=d.id,
            title=d.title,
            capacity=d.capacity,
            total=len(rows),
            by_language=counts([r.preferred_language for r in rows]),
            by_country=counts([r.country for r in rows]),
            by_age_group=counts([r.age_group or UNSTATED for r in rows]),
            by_gender=counts([r.gender for r in rows]),
            by_education=counts([r.education or UNSTATED for r in rows]),
            consent_transcript=sum(1 for r in rows if r.consent_transcript),
            consent_quotes=sum(1 for r in rows if r.consent_quotes),
            attendees=attendees,
        )
