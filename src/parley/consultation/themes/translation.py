"""Machine translation for the analysis: items shown to an analyst in their own language.

The translator is optional and built by the composition root (`parley.server`), which hands
a factory: it runs once, on first need, and a failure or None means "no translation", never
a broken analysis. Translations are stored on the coding, so each is made once per language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from parley.consultation.themes.views import ModelHint, TranslationView
from parley.errors import EngineError
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores.analysis import CodingInfo, SourceItem

log = logging.getLogger(__name__)


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


TranslatorFactory = Callable[[], Awaitable["TextTranslator | None"]]
# (source, target) -> catalogue models that would translate it; from the composition root
ModelHints = Callable[[str, str], Sequence[ModelHint]]


async def no_translator() -> TextTranslator | None:
    """The factory of an analysis built without translation."""
    return None


class Translations:
    """The translator, built once on first use, and the translations of coded items."""

    def __init__(self, db: Database, factory: TranslatorFactory, *, models: ModelHints | None = None) -> None:
        self.db = db
        self._factory = factory
        self._models = models
        self._translator: TextTranslator | None = None
        self._ready = False
        self._lock = asyncio.Lock()

    @property
    def available(self) -> bool:
        return self._translator is not None

    async def translator(self) -> TextTranslator | None:
        async with self._lock:
            if not self._ready:
                try:
                    self._translator = await self._factory()
                except Exception:  # an optional service: never let it break the analysis
                    log.exception("could not start translation for the analysis")
                    self._translator = None
                self._ready = True
        return self._translator

    async def aclose(self) -> None:
        if self._translator is not None:
            with contextlib.suppress(Exception):
                await self._translator.aclose()
            self._translator = None
            self._ready = False

    def models_for(self, source: str, target: str) -> tuple[ModelHint, ...]:
        """What an operator could install to translate the pair (empty when nothing is known)."""
        if self._models is None or source in ("", "und"):
            return ()
        try:
            return tuple(self._models(source, target))
        except Exception:  # a hint, never a reason for the page to fail
            log.exception("could not list translation models for %s->%s", source, target)
            return ()

    async def of_items(self, pairs: Sequence[tuple[CodingInfo, SourceItem]], target: str
                       ) -> dict[int, TranslationView]:
        """Translations into ``target`` for items in another language: stored ones, else made
        now (and stored) where an engine covers the pair, else marked unavailable. A stored one
        made by another route than the pair takes now (a model installed since, Bergamot's pt->en
        instead of Apertium via Spanish) is made again."""
        target = target.split("-")[0].lower()
        out: dict[int, TranslationView] = {}
        todo: dict[str, list[tuple[CodingInfo, SourceItem]]] = {}
        translator = None
        for row, item in pairs:
            if row.language in (target, "und", ""):
                continue
            cached = (row.translations or {}).get(target)
            if isinstance(cached, dict) and cached.get("text"):
                translator = translator or await self.translator()
                current = translator.engine_for(row.language, target) if translator else None
                if current is None or current == cached.get("engine"):
                    out[row.id] = TranslationView(str(cached["text"]), target, str(cached.get("engine", "")))
                    continue
            todo.setdefault(row.language, []).append((row, item))
        if not todo:
            return out
        translator = translator or await self.translator()
        for language, group in todo.items():
            engine = translator.engine_for(language, target) if translator else None
            if translator is None or engine is None:
                hints = self.models_for(language, target)
                for row, _ in group:
                    out[row.id] = TranslationView(None, target, models=hints)
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
