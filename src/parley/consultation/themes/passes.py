"""One analysis pass: purge what consent no longer covers, code the sources that have no
coding, re-code the codings of an older coder version.

Passes are idempotent and safe in several processes at once: a source is coded once (unique
key), a re-code only overwrites the coding version it read. Texts are never logged.

A running pass says where it is (`progress`: the stage, and n of N sources while it codes or
re-codes) so the analysis pages and ``parley analysis run`` can show it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from parley.clock import Clock
from parley.consultation.themes.model import CoderModel
from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.status import RunProgress, RunResult
from parley.consultation.themes.vectors import pack_vector, prime
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores import reports as report_store
from parley.storage.stores.analysis import SourceItem
from parley.vocabulary import SourceType

if TYPE_CHECKING:
    from parley.consultation.analysis import Coding, ThemeCoder

log = logging.getLogger(__name__)

TOP_SCORES = 5
# A pass asked for here but run by another process's worker is "waiting" this long at most:
# after that the page stops claiming to know.
WAITING_SHOWN = timedelta(minutes=2)


class Passes:
    """Runs passes one at a time (in this process) and remembers what they did."""

    def __init__(self, db: Database, clock: Clock, model: CoderModel, options: AnalysisOptions) -> None:
        self.db = db
        self.clock = clock
        self.model = model
        self.options = options
        self._lock = asyncio.Lock()
        self.last_run_at: datetime | None = None
        # The last pass that did something: the worker's idle passes right after it would
        # otherwise replace it with "0 new, 0 re-coded" before anyone reads the status.
        self.last_result: RunResult | None = None
        self._stage: RunProgress | None = None
        self._asked_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self._lock.locked()

    def asked(self) -> None:
        """Someone asked for a pass: it shows as waiting until one starts."""
        self._asked_at = self.clock.now()

    def progress(self) -> RunProgress | None:
        """The running pass's stage and counts; ``waiting`` for a pass asked for and not yet
        started; None when nothing is going on."""
        if self._stage is not None:
            return self._stage
        asked = self._asked_at
        if asked is not None and self.clock.now() - asked < WAITING_SHOWN and (
                self.last_run_at is None or self.last_run_at < asked):
            return RunProgress("waiting", since=asked)
        return None

    def _at(self, stage: str, done: int = 0, total: int = 0) -> None:
        since = self._stage.since if self._stage is not None else self.clock.now()
        self._stage = RunProgress(stage, done, max(total, done), since)

    async def run_once(self) -> RunResult:
        """Purge, code new sources, re-code stale codings. Raises ModelMissing without an engine.
        Returns what this pass did; the status keeps the last pass that did something."""
        async with self._lock:
            try:
                return await self._run()
            finally:
                self._stage = None

    async def _run(self) -> RunResult:
        self._at("preparing")
        coder = await self.model.ensure_coder()
        self._at("purging")
        async with self.db.session() as s:
            purged = await store.purge(s)
            await report_store.delete_unconsented_quotes(s)
        await self._prune_theme_examples()
        coder = await self.model.sync(coder)
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
        async with self.db.session() as s:
            total = await store.count_pending(s)
        done = 0
        self._at("coding", done, total)
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
                looked_at = len(items)
                items = [i for i in items if i.text.strip()]
                if not items:
                    done += looked_at
                    self._at("coding", done, total)
                    continue
                version = self.model.version  # read first: a correction meanwhile makes this batch stale
                codings = await coder.acode([i.text for i in items])
                now = self.clock.now()
                rows, themes = [], {}
                for item, c in zip(items, codings, strict=True):
                    values, assigned = self._values(item, c, now, version)
                    rows.append({**values, **_source_columns(item)})
                    themes[item.key] = assigned
                async with self.model.write_lock, self.db.session() as s:
                    inserted = await store.insert_codings(s, rows, themes)
                totals[kind.value] = totals.get(kind.value, 0) + inserted
                done += looked_at
                self._at("coding", done, total)
        return totals

    async def _recode_stale(self, coder: ThemeCoder) -> dict[str, int]:
        """Re-code codings of an older coder version; how many per source type."""
        totals: dict[str, int] = {}
        after = 0
        version = self.model.version
        embedder = self.model.embedder()
        async with self.db.session() as s:
            total = await store.count_stale(s, version)
        done = 0
        if total:
            self._at("recoding", done, total)
        while True:
            async with self.db.session() as s:
                rows = list(await store.stale(s, version, after, self.options.batch_size))
                if not rows:
                    break
                after = rows[-1].id
                found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
            done += len(rows)
            pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows
                     if (r.source_type, r.source_key) in found and found[(r.source_type, r.source_key)].text.strip()]
            if not pairs:
                self._at("recoding", done, total)
                continue
            prime(embedder, [(r, item.text) for r, item in pairs])
            current = self.model.version
            codings = await coder.acode([item.text for _, item in pairs])
            now = self.clock.now()
            async with self.model.write_lock, self.db.session() as s:
                for (row, item), c in zip(pairs, codings, strict=True):
                    values, assigned = self._values(item, c, now, current)
                    if await store.replace_coding(s, row.id, row.coder_version, values, assigned):
                        kind = row.source_type.value
                        totals[kind] = totals.get(kind, 0) + 1
            self._at("recoding", done, total)
        return totals

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
            "confidence": c.confidence,
            "sentiment": c.sentiment.label,
            "sentiment_confidence": c.sentiment.confidence,
            "origin": c.source,
            "correction_id": None,
            "coder_version": version,
            "vector": pack_vector(self.model.embedder().recall(item.text)),
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
                    last = [{"text": row.name, "source_type": "", "source_key": ""}]
                    await store.set_examples(s, row.id, kept or last)
                    log.info("theme %s: %d examples withdrawn", row.id, dropped)


def _source_columns(item: SourceItem) -> dict[str, Any]:
    return {
        "source_type": item.type, "source_key": item.key, "survey_text_id": item.survey_text_id,
        "report_id": item.report_id, "report_section": item.report_section, "segment_id": item.segment_id,
        "dialogue_id": item.dialogue_id, "country": (item.country or None) and item.country[:2],
        "source_created_at": item.created_at, "translations": {},
    }
