"""The analysis service: when passes run, and the one object routes and services use.

A pass runs when something is published on the ``analysis`` bus topic (a report was
submitted, a transcript was written), when an analyst asks, and every ``interval_s`` on the
injected clock. Passes are idempotent and safe in several processes at once: a source is
coded once (unique key), a re-code only overwrites the coding version it read.

The coder learns from corrections at once; everything it coded before is then re-coded by
the next pass. Each coding keeps the text's embedding (float16), so re-coding costs no model
call. Texts are never logged; identifiers are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parley.bus.base import Bus
from parley.clock import Clock, wait_set
from parley.consultation.themes import export
from parley.consultation.themes.catalogue import Catalogue
from parley.consultation.themes.discovery import Discovering
from parley.consultation.themes.model import CoderModel
from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.passes import Passes
from parley.consultation.themes.review import Review
from parley.consultation.themes.status import EngineStatus, RunResult
from parley.consultation.themes.translation import (
    ModelHints,
    TextTranslator,
    Translations,
    TranslatorFactory,
    no_translator,
)
from parley.consultation.themes.vectors import RememberingEmbedder
from parley.consultation.themes.views import CodingView, DiscoveryView, PreviewView, ReviewPage, ThemeCount, ThemeInfo
from parley.errors import EngineError
from parley.handlers.leases import Once, run_here
from parley.storage.database import Database
from parley.storage.stores.accounts import Account
from parley.storage.stores.analysis import CodingFilter
from parley.tasks import TaskOwner

if TYPE_CHECKING:
    from parley.consultation.analysis import LanguageIdentifier, ThemeCoder
    from parley.consultation.analysis.embeddings import Embedder, FloatArray

log = logging.getLogger(__name__)

ANALYSIS_TOPIC = "analysis"


class Analysis:
    """The analysis service: schedules passes (`Passes`) and composes the coder (`CoderModel`),
    the themes (`Catalogue`), the review (`Review`), translations and the export."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        *,
        embedder_factory: Callable[[], Embedder] | None = None,
        translator_factory: TranslatorFactory | None = None,
        translation_models: ModelHints | None = None,
        languages: LanguageIdentifier | None = None,
        options: AnalysisOptions | None = None,
    ) -> None:
        """``translator_factory`` (from the composition root) builds the translator on first
        need; without it the analysis shows no translations. ``translation_models`` names the
        catalogue models that would translate a pair no engine covers (shown to staff)."""
        self.db = db
        self.clock = clock
        self.bus = bus
        self.options = options or AnalysisOptions()
        self.model = CoderModel(db, self.options, embedder_factory=embedder_factory, languages=languages)
        self.translations = Translations(db, translator_factory or no_translator, models=translation_models)
        self.passes = Passes(db, clock, self.model, self.options)
        self.catalogue = Catalogue(db, clock, self.model, self.options, self.announce)
        self.discovering = Discovering(db, clock, self.model, self.options, self.announce)
        self.reviewing = Review(db, clock, self.model, self.translations, self.announce)
        self._kick = asyncio.Event()
        self._tasks: TaskOwner | None = None
        self._own_tasks: TaskOwner | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, tasks: TaskOwner, *, once: Once = run_here) -> None:
        """Start the background worker (never blocks: preparing the coder takes seconds);
        ``once`` runs it in one process at a time (the server's `Leases`)."""
        self._tasks = tasks
        if self.options.background:
            tasks.spawn("analysis:worker", once("analysis.worker", self._worker))

    async def stop(self) -> None:
        if self._own_tasks is not None:
            await self._own_tasks.stop()
        await self.translations.aclose()

    def kick(self) -> None:
        """Ask the worker for a pass soon (this process)."""
        self._kick.set()

    async def announce(self, event: Mapping[str, Any]) -> None:
        """Tell every process's worker that sources changed."""
        self.kick()
        await self.bus.publish(ANALYSIS_TOPIC, dict(event))

    def request_run(self) -> bool:
        """Run a pass now in the background; False when one is already running."""
        self.passes.asked()
        if self.options.background and self._tasks is not None:
            self.kick()  # and the worker's process, which may be another one
            self._tasks.spawn("analysis:ask", self.bus.publish(ANALYSIS_TOPIC, {"type": "analysis.run"}))
            return True
        if self.passes.running:
            return False
        owner = self._tasks
        if owner is None:
            owner = self._tasks = self._own_tasks = TaskOwner("analysis")
        owner.spawn("analysis:run", self._safe_run())
        return True

    async def _safe_run(self) -> None:
        """A pass that never takes the worker down; the error's type only (SQL errors can
        quote parameters, and parameters can be answers)."""
        try:
            await self.run_once()
        except EngineError as exc:
            log.warning("analysis pass skipped: %s", exc)
        except Exception as exc:
            log.error("analysis pass failed: %s", type(exc).__name__)

    async def _worker(self) -> None:
        sub = await self.bus.subscribe([ANALYSIS_TOPIC])
        listener = asyncio.create_task(self._listen(sub), name="analysis:listen")
        try:
            if self.options.prepare_at_start:
                with contextlib.suppress(EngineError):
                    await self.ensure_coder()
            while True:
                self._kick.clear()
                await self._safe_run()
                await self._wait()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await sub.close()

    async def _listen(self, sub: Any) -> None:
        async for _topic, _event in sub:
            self._kick.set()

    async def _wait(self) -> None:
        """Until kicked or ``interval_s`` passes on the clock."""
        await wait_set(self.clock, self._kick, self.options.interval_s)

    # --- passes ------------------------------------------------------------------------------

    async def run_once(self) -> RunResult:
        """One pass now (see `Passes.run_once`)."""
        return await self.passes.run_once()

    @property
    def last_run_at(self) -> datetime | None:
        return self.passes.last_run_at

    @property
    def last_result(self) -> RunResult | None:
        return self.passes.last_result

    # --- engine -----------------------------------------------------------------------------

    def status(self) -> EngineStatus:
        coder = self.model.coder
        sentiment = self.model.sentiment_check()
        state, message = self.model.engine_state()
        return EngineStatus(
            state=state, message=message,
            embedder=self.model.embedder_name,
            themes=len(coder.themes) if coder else 0, corrections=len(coder.corrections) if coder else 0,
            version=self.model.version, last_run_at=self.last_run_at, last_result=self.last_result,
            translation=self.translations.available,
            sentiment_shown=sentiment is not None and sentiment.shown,
            sentiment_note=sentiment.reason if sentiment is not None else "",
            progress=self.passes.progress(),
        )

    def embedder(self) -> RememberingEmbedder:
        return self.model.embedder()

    async def embed(self, texts: Sequence[str]) -> FloatArray | None:
        """Embed off the event loop; None when the engine is missing (callers fall back)."""
        return await self.model.embed(texts)

    async def translator(self) -> TextTranslator | None:
        """The translator (built on first use), None where there is none."""
        return await self.translations.translator()

    async def ensure_coder(self) -> ThemeCoder:
        return await self.model.ensure_coder()

    @property
    def version(self) -> str:
        return self.model.version

    # --- themes, review, export ----------------------------------------------------------------

    async def themes(self) -> list[ThemeInfo]:
        return await self.catalogue.themes()

    async def theme_counts(self, actor: Account) -> list[ThemeCount]:
        return await self.catalogue.theme_counts(actor)

    async def discover(self, actor: Account, *, granularity: str = "medium", scope: str = "all",
                       reader_language: str = "en", limit: int | None = None) -> DiscoveryView:
        return await self.discovering.discover(actor, granularity=granularity, scope=scope,
                                               reader_language=reader_language, limit=limit)

    async def preview(self, actor: Account, *, theme_id: str, name: str, refs: Sequence[str], granularity: str = "",
                      scope: str = "all", language: str | None = None, limit: int | None = None) -> PreviewView:
        return await self.discovering.preview(actor, theme_id=theme_id, name=name, refs=refs,
                                              granularity=granularity, scope=scope, language=language, limit=limit)

    async def adopt(self, actor: Account, *, theme_id: str, name: str, refs: Sequence[str],
                    language: str | None = None, granularity: str = "", scope: str = "all",
                    confirm: bool = False, limit: int | None = None) -> ThemeInfo:
        return await self.discovering.adopt(actor, theme_id=theme_id, name=name, refs=refs, language=language,
                                            granularity=granularity, scope=scope, confirm=confirm, limit=limit)

    async def review(self, actor: Account, f: CodingFilter, *, page: int = 1, per_page: int = 25,
                     reader_language: str = "en") -> ReviewPage:
        return await self.reviewing.review(actor, f, page=page, per_page=per_page, reader_language=reader_language)

    async def item(self, actor: Account, coding_id: int, *, reader_language: str = "en") -> CodingView:
        return await self.reviewing.item(actor, coding_id, reader_language=reader_language)

    async def source(self, actor: Account, ref: str, *, reader_language: str = "en") -> CodingView:
        return await self.reviewing.source(actor, ref, reader_language=reader_language)

    async def correct(self, actor: Account, coding_id: int, *, themes: Sequence[str],
                      sentiment: str | None = None) -> CodingView:
        return await self.reviewing.correct(actor, coding_id, themes=themes, sentiment=sentiment)

    def export_rows(self, actor: Account, *, page: int = 2000) -> AsyncIterator[dict[str, Any]]:
        """Codings without text or personal data (see `export.export_rows`)."""
        return export.export_rows(self.db, actor, page=page)

