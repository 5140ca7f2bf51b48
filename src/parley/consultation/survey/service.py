"""`Surveys` builds the survey's parts once and hands out their calls.

    loader       Loader       the current version (cached per process) and every version
    validator    Validator    answers as typed -> a validated `Submission`
    submitter    Submitter    idempotent storing, concurrent submissions committed together
    withdrawals  Withdrawals  deleting what a withdrawal code stands for
    editing      Editing      saving an edited survey as a new version
    reading      Texts        consented free text for theme coding

The parts that write share one lock: one survey write at a time per process.
"""

from __future__ import annotations

import asyncio

from parley.clock import Clock
from parley.consultation.survey.editing import Editing, check_editor, check_viewer
from parley.consultation.survey.loading import Loader
from parley.consultation.survey.options import SurveyOptions
from parley.consultation.survey.submitting import Submitter
from parley.consultation.survey.texts import Texts
from parley.consultation.survey.validation import Validator
from parley.consultation.survey.withdrawal import WithdrawalCodes, Withdrawals
from parley.storage.database import Database
from parley.storage.stores import survey as store


class Surveys:
    def __init__(self, db: Database, clock: Clock, secret: str, options: SurveyOptions | None = None) -> None:
        self.db = db
        self.clock = clock
        self.options = options or SurveyOptions()
        self.codes = WithdrawalCodes(secret)
        # One survey write at a time per process: SQLite has one writer anyway (better to
        # queue here than to sleep in its busy handler), and on both databases the queue lets
        # `submit` commit concurrent submissions together.
        self._write_lock = asyncio.Lock()
        self.loader = Loader(db, clock, self.options)
        self.validator = Validator(self.loader)
        self.submitter = Submitter(db, clock, self.codes, self.loader, self._write_lock)
        self.withdrawals = Withdrawals(db, clock, self.codes, self.loader, self._write_lock)
        self.editing = Editing(db, clock, self.loader, self._write_lock)
        self.reading = Texts(db, self.loader)
        # What routes, pages and the rest of consultation call.
        self.current = self.loader.current
        self.versions = self.loader.versions
        self.labels = self.loader.labels
        self.question_order = self.loader.question_order
        self.validate = self.validator.validate
        self.submit = self.submitter.submit
        self.submit_many = self.submitter.submit_many
        self.withdraw = self.withdrawals.withdraw
        self.update_definition = self.editing.update_definition
        self.texts = self.reading.texts
        self.iter_texts = self.reading.iter_texts

    check_editor = staticmethod(check_editor)
    check_viewer = staticmethod(check_viewer)

    async def rebuild_rollups(self) -> None:
        survey = await self.current()
        async with self._write_lock, self.db.session() as s:
            await store.rebuild_rollups(s, survey.id)
