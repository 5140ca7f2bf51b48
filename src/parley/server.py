"""The composition root.

`Server` builds every long-lived object once, lazily, from one `Config`, and owns their
start and stop. The ASGI lifespan (web/app.py) and the CLI create exactly one; tests
create one with fakes (a fake clock, a local bus, a throwaway database).
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from parley.bus.base import Bus
from parley.clock import Clock, SystemClock
from parley.config import Config, ensure_secret
from parley.errors import EngineError
from parley.i18n import Catalogues
from parley.private import private_dir
from parley.security import LinkSigner
from parley.storage.database import Database
from parley.tasks import TaskOwner

if TYPE_CHECKING:
    from parley.consultation.dashboard import Dashboard
    from parley.consultation.reports import Reports
    from parley.consultation.survey import Surveys
    from parley.consultation.themes import Analysis, ModelHint, TextTranslator
    from parley.handlers.access import Observers
    from parley.handlers.accounts import Accounts
    from parley.handlers.dialogues import Dialogues
    from parley.handlers.glossary import Glossaries
    from parley.handlers.interpretation import Interpretation
    from parley.handlers.interpretation_workers import LocalWorker, WorkerProcesses
    from parley.handlers.leases import Leases
    from parley.handlers.media_nodes import MediaNodes
    from parley.handlers.meetings import Meetings
    from parley.handlers.ratelimit import RateLimiter
    from parley.handlers.registration import Registrations
    from parley.handlers.transcript_translations import TranscriptTranslations
    from parley.handlers.transcripts import Transcripts
    from parley.handlers.workspace import Workspace
    from parley.interpretation.mt.base import Glossary
    from parley.media.janus.pool import JanusPool
    from parley.media.janus.service import JanusService
    from parley.signalling.hub import Hub

log = logging.getLogger(__name__)

Schema = Literal["migrate", "create", "none"]


class Server:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        bus: Bus | None = None,
        schema: Schema = "migrate",
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._bus = bus
        self._schema = schema
        self.tasks = TaskOwner("server")
        self.started = False

    # --- infrastructure -------------------------------------------------------------

    @cached_property
    def db(self) -> Database:
        return Database(self.config.database_url, echo=self.config.database.echo)

    @cached_property
    def bus(self) -> Bus:
        if self._bus is not None:
            return self._bus
        if self.config.bus.redis_url:
            from parley.bus.redis import RedisBus

            return RedisBus(self.config.bus.redis_url, prefix=self.config.bus.redis_prefix)
        from parley.bus.local import LocalBus

        return LocalBus()

    @cached_property
    def secret(self) -> str:
        return ensure_secret(self.config)

    @cached_property
    def signer(self) -> LinkSigner:
        return LinkSigner(self.secret, self.clock)

    @cached_property
    def catalogues(self) -> Catalogues:
        return Catalogues(self.config.i18n.locales, self.config.i18n.default_locale)

    @cached_property
    def leases(self) -> Leases:
        """Runs the jobs that must run once across every process on this database (sweeps, the
        analysis worker): ``self.tasks.spawn(name, self.leases(name, job))``."""
        from parley.handlers.leases import Leases

        # SQLite with nothing shared (no Redis, no bus handed in) is one process by design.
        alone = self.db.is_sqlite and self._bus is None and not self.config.bus.redis_url
        return Leases(self.db, self.clock, local=alone)

    # --- domain handlers ------------------------------------------------------------

    @cached_property
    def accounts(self) -> Accounts:
        from parley.handlers.accounts import Accounts

        # An accepted invitation that adds a dialogue's facilitator or interpreter re-syncs
        # that dialogue's staff channel (read lazily: dialogues are built when first needed).
        return Accounts(self.db, self.clock, self.config.auth,
                        staff_changed=lambda dialogue_id: self.dialogues.staff.sync_channel(dialogue_id))

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from parley.handlers.ratelimit import RateLimiter

        return RateLimiter(self.clock)

    @cached_property
    def dialogues(self) -> Dialogues:
        from parley.handlers.dialogues import Dialogues

        return Dialogues(self.db, self.clock, self.bus, self.workspace)

    @cached_property
    def observers(self) -> Observers:
        from parley.handlers.access import Observers

        return Observers(self.db, self.clock, self.bus)

    @cached_property
    def glossary(self) -> Glossaries:
        from parley.handlers.glossary import Glossaries

        return Glossaries(self.db, self.clock, self.bus)

    @cached_property
    def registrations(self) -> Registrations:
        from parley.handlers.registration import Registrations

        return Registrations(self.db, self.clock, self.signer, self.accounts, self.config.auth)

    @cached_property
    def workspace(self) -> Workspace:
        from parley.handlers.workspace import Workspace

        return Workspace(self.db, self.clock, self.bus)

    @cached_property
    def workspace_hub(self) -> Hub:
        """Fans workspace events out to this process's sockets (it starts with the first one)."""
        from parley.signalling.hub import Hub

        return Hub(self.bus)

    @cached_property
    def survey(self) -> Surveys:
        from parley.consultation.survey import Surveys

        return Surveys(self.db, self.clock, self.secret)

    @cached_property
    def dashboard(self) -> Dashboard:
        """Survey results beside the dialogues' (participants, reports, transcript themes)."""
        from parley.consultation.dashboard import Dashboard
        from parley.consultation.dialogue_results import DialogueResultsReader

        reader = DialogueResultsReader(self.db, self.survey, self.catalogues, lambda: self.analysis.themes(),
                                       survey_themes=lambda filters: self.dashboard.themes(filters))
        return Dashboard(self.survey, dialogue_results=reader)

    @cached_property
    def analysis(self) -> Analysis:
        from parley.consultation.themes import Analysis, AnalysisOptions

        return Analysis(self.db, self.clock, self.bus, translator_factory=self._analysis_translator,
                        translation_models=self._translation_models,
                        options=AnalysisOptions.from_config(self.config))

    async def _analysis_translator(self) -> TextTranslator | None:
        """The interpretation's engines (installed CTranslate2 models, Bergamot, Apertium), if
        interpretation is installed; else None. The analysis builds it on first need (reviewing,
        a report, a transcript's translation), so Portuguese goes through Bergamot's pt->en
        rather than Apertium via Spanish, and a model an operator installs is used at once."""
        try:
            from parley.interpretation.factory import text_translator
        except ImportError:
            return None
        from parley.consultation.themes import RegistryTranslator

        try:
            translator = await text_translator(self.models_path, clock=self.clock,
                                               names=self.config.interpretation.mt_engines)
        except EngineError as exc:
            log.warning("analysis translation unavailable: %s", exc)
            return None
        if not translator.engines:
            await translator.aclose()
            return None
        return RegistryTranslator(translator)

    @staticmethod
    def _translation_models(source: str, target: str) -> list[ModelHint]:
        """Catalogue models that would translate the pair, for the staff's review pages."""
        from parley.consultation.themes import ModelHint
        from parley.interpretation.models.catalogue import covering

        return [ModelHint(name=e.name, licence=e.licence, size_mb=e.size_mb, installable=e.repo is not None)
                for e in covering(source, target)]

    @cached_property
    def reports(self) -> Reports:
        from parley.consultation.reports import Reports

        return Reports(self.db, self.clock, self.bus, self.dialogues, self.analysis, tasks=self.tasks)

    @cached_property
    def transcript_translations(self) -> TranscriptTranslations:
        """Transcripts translate in the background through the analysis's translator (built
        once, on first use)."""
        from parley.handlers.transcript_translations import TranscriptTranslations, TranslationOptions

        return TranscriptTranslations(self.db, self.clock, self.bus, translator=self.analysis.translator,
                                      options=TranslationOptions.from_config(self.config))

    @cached_property
    def transcripts(self) -> Transcripts:
        from parley.handlers.transcripts import Transcripts

        return Transcripts(self.db, self.clock, self.transcript_translations)

    @cached_property
    def janus(self) -> JanusService | None:
        """Parley's Janus (supervised when janus.enabled, else an external one with secrets), or None."""
        from parley.media.janus.service import JanusService, configured

        if not configured(self.config.janus):
            return None
        return JanusService.from_config(self.config.janus, self.config.data_path, self.clock, turn=self.config.turn)

    @cached_property
    def janus_pool(self) -> JanusPool:
        """Every media node this process reaches; the embedded Janus joins it as node "local"."""
        from parley.media.janus.pool import JanusPool, remote_services

        return JanusPool(self.clock, remote_services(self.config.janus, self.clock, turn=self.config.turn),
                         lost_after=self.config.media.lost_seconds)

    @cached_property
    def media_nodes(self) -> MediaNodes:
        from parley.handlers.media_nodes import MediaNodes
        from parley.media.placement import PlacementPolicy

        cfg = self.config.media
        policy = PlacementPolicy(stale_after=cfg.stale_seconds, max_cpu=cfg.max_cpu_percent / 100)
        return MediaNodes(self.db, self.clock, policy=policy, pool=self.janus_pool,
                          heartbeat_seconds=cfg.heartbeat_seconds)

    @cached_property
    def meetings(self) -> Meetings:
        from parley.handlers.meetings import Meetings

        async def ended(dialogue_id: int) -> None:
            await self.transcript_translations.meeting_ended(dialogue_id)

        return Meetings(self.db, self.clock, self.bus, self.dialogues, self.media_nodes, data_dir=self.config.data_path,
                        token_ttl=self.config.janus.token_ttl_seconds, leases=self.leases, on_ended=ended)

    @cached_property
    def interpretation(self) -> Interpretation:
        from parley.handlers.interpretation import Interpretation

        async def transcript_changed(dialogue_id: int) -> None:
            await self.analysis.announce({"type": "analysis.sources", "source": "transcript",
                                          "dialogue_id": dialogue_id})

        async def glossary(dialogue_id: int) -> tuple[Glossary, str]:
            from parley.handlers.glossary import hotwords

            effective = await self.glossary.effective(dialogue_id)
            return effective, hotwords(effective, None)

        return Interpretation(self.db, self.clock, self.bus, self.meetings.rooms,
                              enabled=self.config.interpretation.enabled, on_transcript=transcript_changed,
                              access=self.meetings.access, glossary=glossary, leases=self.leases)

    @cached_property
    def worker_secret(self) -> str:
        from parley.config import ensure_worker_secret

        return ensure_worker_secret(self.config)

    @cached_property
    def interpretation_workers(self) -> LocalWorker | WorkerProcesses | None:
        """The workers `parley serve` runs: none when interpretation is off, else in-process or N processes."""
        cfg = self.config.interpretation
        if not cfg.enabled or not cfg.run_workers:
            return None
        from parley.handlers.interpretation_workers import LocalWorker, WorkerProcesses

        if cfg.workers == 0:
            from parley.interpretation.factory import EngineOptions
            from parley.interpretation.worker_link import local_engines

            options = EngineOptions(models_dir=self.models_path, asr_threads=cfg.asr_threads,
                                    asr_workers=cfg.asr_workers, device=cfg.device, mt_engines=cfg.mt_engines,
                                    tts_engines=cfg.tts_engines)
            return LocalWorker(self.interpretation, lambda: local_engines(options, clock=self.clock, name="local"),
                               clock=self.clock, rtp_bind=cfg.rtp_bind, rtp_advertise=cfg.rtp_advertise or None)
        host = self.config.server.host
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
        if ":" in host:
            host = f"[{host}]"
        return WorkerProcesses(cfg.workers, url=f"ws://{host}:{self.config.server.port}/ws/interpretation/worker",
                               secret=self.worker_secret, clock=self.clock)

    @property
    def models_path(self) -> Path:
        cfg = self.config.interpretation
        return Path(cfg.models_dir).expanduser() if cfg.models_dir else self.config.data_path / "models"

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        private_dir(self.config.data_path)
        if self._schema == "migrate":
            await self.db.migrate()
        elif self._schema == "create":
            await self.db.create_all()
        await self.bus.start()
        # Jobs that run in one process at a time, whichever holds their lease.
        self.analysis.start(self.tasks, once=self.leases)  # prepares the coder, codes new sources
        self.tasks.spawn("session-sweep", self.leases("accounts.session-sweep", self.accounts.sweep_sessions_forever))
        self.transcript_translations.start(self.tasks, once=self.leases)  # pending work, after a restart too
        if self.janus is not None:
            await self.janus.start()
        await self._start_media_nodes()
        await self.meetings.start()
        await self.interpretation.start()
        if self.interpretation_workers is not None:
            self.interpretation_workers.start()
        self.started = True
        log.info("parley started (database %s)", "sqlite" if self.db.is_sqlite else "postgresql")

    async def _start_media_nodes(self) -> None:
        """The pool of media nodes, with this process's own Janus (if any) as node "local"."""
        from parley.errors import ClientError

        if self.janus is not None:
            try:
                await self.media_nodes.register_local(self.janus, max_rooms=self.config.media.max_rooms,
                                                      max_participants=self.config.media.max_participants)
            except ClientError as exc:
                log.error("the embedded janus could not join the media nodes: %s", exc.message)
        self.janus_pool.start()
        self.tasks.spawn("media-nodes", self.media_nodes.run())

    async def stop(self) -> None:
        if not self.started:
            return
        await self.tasks.stop()
        if "janus_pool" in self.__dict__:
            await self.janus_pool.stop()
        if "analysis" in self.__dict__:
            await self.analysis.stop()
        if self.interpretation_workers is not None:
            await self.interpretation_workers.stop()
        await self.interpretation.stop()
        await self.meetings.stop()
        if "workspace_hub" in self.__dict__:
            await self.workspace_hub.stop()
        if self.janus is not None:
            await self.janus.stop()
        await self.bus.stop()
        await self.db.close()
        self.started = False
