"""Loading the survey: the version new respondents see (created from the default
questionnaire on first use; another process's edit shows up after at most
``version_check_seconds``), and every version ever saved, so old answers stay readable
after edits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.consultation.questionnaire import Codebook, Definition, parse_definition
from parley.consultation.survey.options import SurveyOptions
from parley.consultation.survey.views import LoadedSurvey
from parley.consultation.survey_content import default_definition
from parley.storage.database import Database
from parley.storage.stores import survey as store

log = logging.getLogger(__name__)


class Loader:
    """The current version, cached per process, and every version ever saved."""

    def __init__(self, db: Database, clock: Clock, options: SurveyOptions) -> None:
        self.db = db
        self.clock = clock
        self.options = options
        self._current: LoadedSurvey | None = None
        self._checked_at = float("-inf")
        self._versions: dict[int, tuple[int, Definition]] = {}

    def expire(self) -> None:
        """Read the current version again on the next call (this process saved a new one)."""
        self._checked_at = float("-inf")

    async def current(self) -> LoadedSurvey:
        """The survey as new respondents see it (created from the default on first use)."""
        now = self.clock.monotonic()
        if self._current is not None and now - self._checked_at < self.options.version_check_seconds:
            return self._current
        self._checked_at = now
        async with self.db.session() as s:
            state = await store.survey_state(s, self.options.slug)
            if state is not None and state[1] is not None:
                if self._current is not None and self._current.version_id == state[1]:
                    return self._current
                return await self._load(s, state[0])
        try:
            async with self.db.session() as s:
                await self._create_default(s)
        except IntegrityError:
            # Another process created it first.
            pass
        async with self.db.session() as s:
            state = await store.survey_state(s, self.options.slug)
            assert state is not None
            return await self._load(s, state[0])

    async def _create_default(self, s: AsyncSession) -> None:
        now = self.clock.now()
        definition = parse_definition(default_definition())
        codebook = Codebook.from_json(None).extended(definition)
        survey_id = await store.add_survey(s, slug=self.options.slug, codebook=codebook.to_json(), now=now)
        version_id = await store.add_version(s, survey_id=survey_id, number=1, definition=definition.to_json(),
                                             note="UN75 default questionnaire", created_at=now)
        await store.set_current_version(s, survey_id, version_id)
        await store.sync_codes(s, survey_id, codebook.slots, codebook.bits)
        log.info("survey %s created with its default questionnaire", self.options.slug)

    async def _load(self, s: AsyncSession, survey_id: int) -> LoadedSurvey:
        survey = await store.survey_by_id(s, survey_id)
        assert survey is not None and survey.current_version_id is not None
        version = await store.version_by_id(s, survey.current_version_id)
        assert version is not None
        loaded = LoadedSurvey(
            id=survey.id, slug=survey.slug, version_id=version.id, version_number=version.number,
            definition=parse_definition(version.definition), codebook=Codebook.from_json(survey.codebook),
        )
        self._current = loaded
        return loaded

    async def versions(self) -> list[tuple[int, int, Definition, datetime, str]]:
        """(version id, number, definition, created at, note) newest first."""
        survey = await self.current()
        async with self.db.session() as s:
            rows = await store.versions(s, survey.id)
        out = []
        for v in rows:
            cached = self._versions.get(v.id)
            if cached is None:
                cached = self._versions[v.id] = (v.number, parse_definition(v.definition))
            out.append((v.id, v.number, cached[1], v.created_at, v.note))
        return out

    async def labels(self, lang: str) -> dict[tuple[str, str], str]:
        """(question, option) -> label, and (question, "") -> question text, in ``lang``, from
        the newest version that has each key: old answers stay readable after edits."""
        out: dict[tuple[str, str], str] = {}
        for _vid, _n, definition, _at, _note in await self.versions():
            for q in definition.questions:
                out.setdefault((q.key, ""), definition.pick(q.text, lang))
                for o in q.options:
                    out.setdefault((q.key, o.key), definition.pick(o.text, lang))
        return out

    async def question_order(self) -> list[tuple[str, list[str], str]]:
        """Every choice question ever asked, (key, option keys, kind): current ones first, in
        their current order, then retired ones."""
        seen: dict[str, tuple[list[str], str]] = {}
        for _vid, _n, definition, _at, _note in await self.versions():
            for q in definition.choice_questions:
                opts, _kind = seen.setdefault(q.key, ([], q.kind))
                opts.extend(o.key for o in q.options if o.key not in opts)
        return [(k, opts, kind) for k, (opts, kind) in seen.items()]
