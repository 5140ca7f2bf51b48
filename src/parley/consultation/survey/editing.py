"""Who may edit the survey and see its results, and saving an edited survey as a new
version (earlier responses keep theirs).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from parley.clock import Clock
from parley.consultation.questionnaire import Codebook, parse_definition
from parley.consultation.survey.loading import Loader
from parley.consultation.survey.views import LoadedSurvey
from parley.errors import Conflict, Forbidden
from parley.reference import N_
from parley.storage.database import Database
from parley.storage.stores import survey as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

log = logging.getLogger(__name__)


EDITORS = frozenset({Role.ADMIN, Role.ORGANISER})
VIEWERS = frozenset({Role.ADMIN, Role.ORGANISER, Role.FACILITATOR})


def check_editor(user: Account) -> None:
    if user.role not in EDITORS:
        raise Forbidden(N_("Only organisers and admins can edit the survey."), code="role_required")


def check_viewer(user: Account) -> None:
    if user.role not in VIEWERS:
        raise Forbidden(N_("Survey results are for organisers, facilitators and admins."),
                        code="role_required")


class Editing:
    """Saves an edited survey as a new version."""

    def __init__(self, db: Database, clock: Clock, loader: Loader, write_lock: asyncio.Lock) -> None:
        self.db = db
        self.clock = clock
        self.loader = loader
        self._write_lock = write_lock

    async def update_definition(self, user: Account, data: Any, *, note: str = "",
                                base_version: int | None = None) -> LoadedSurvey:
        """Save an edited survey as a new version; earlier responses keep their version."""
        check_editor(user)
        definition = parse_definition(data)
        current = await self.loader.current()
        now = self.clock.now()
        try:
            async with self._write_lock, self.db.session() as s:
                survey = await store.survey_by_id(s, current.id)
                assert survey is not None
                latest = await store.latest_version_number(s, survey.id)
                if base_version is not None and base_version != latest:
                    raise Conflict(N_("Someone saved a newer version meanwhile. Reload and edit that one."),
                                   code="version_conflict")
                codebook = Codebook.from_json(survey.codebook).extended(definition)
                version_id = await store.add_version(
                    s, survey_id=survey.id, number=latest + 1, definition=definition.to_json(),
                    note=note.strip()[:200], created_at=now, created_by_id=user.id)
                await store.set_current_version(s, survey.id, version_id, codebook=codebook.to_json(), now=now)
                await store.sync_codes(s, survey.id, codebook.slots, codebook.bits)
        except IntegrityError:
            raise Conflict(N_("Someone saved a newer version meanwhile. Reload and edit that one."),
                           code="version_conflict") from None
        log.info("survey %s: version %d saved by user %d", current.slug, latest + 1, user.id)
        self.loader.expire()
        return await self.loader.current()
