"""The themes analysts code with: listed, counted, suggested from what no theme covers, and
adopted (a suggestion becomes a theme every process's coder learns)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from parley.clock import Clock
from parley.consultation.themes.access import N_, check_analyst
from parley.consultation.themes.model import CoderModel
from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.vectors import prime
from parley.consultation.themes.views import Example, Suggestion, ThemeCount, ThemeInfo, source_link
from parley.errors import Conflict, InvalidInput
from parley.storage.analysis_models import AnalysisTheme
from parley.storage.database import Database
from parley.storage.models import User
from parley.storage.stores import analysis as store
from parley.storage.stores.analysis import OTHER

log = logging.getLogger(__name__)

EXAMPLES_SHOWN = 5
THEME_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # as analysis.themes.THEME_ID
Announce = Callable[[Mapping[str, Any]], Awaitable[None]]


class Catalogue:
    def __init__(self, db: Database, clock: Clock, model: CoderModel, options: AnalysisOptions,
                 announce: Announce) -> None:
        self.db = db
        self.clock = clock
        self.model = model
        self.options = options
        self.announce = announce

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
        coder = await self.model.ensure_coder()
        async with self.db.session() as s:
            rows = list(await store.recent_codings(s, min(limit or self.options.discovery_limit, 20_000)))
            found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
        pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows if (r.source_type, r.source_key) in found]
        pairs = [(r, item) for r, item in pairs if item.text.strip()]
        if not pairs:
            return []
        prime(self.model.embedder(), [(r, item.text) for r, item in pairs])
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
        coder = await self.model.ensure_coder()
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
        async with self.model.write_lock:
            await asyncio.to_thread(coder.add_theme, theme)
            async with self.db.session() as s:
                s.add(AnalysisTheme(
                    id=theme.id, name=theme.name, names=names, origin=theme.origin,
                    examples=[{"text": e.text, "source_type": e.type.value, "source_key": e.key} for e in examples],
                    created_at=self.clock.now(), created_by_id=actor.id,
                ))
            self.model.refresh_version(coder)
        log.info("theme %s adopted by user %d (%d examples)", theme.id, actor.id, len(examples))
        await self.announce({"type": "analysis.model", "theme": theme.id})
        return ThemeInfo(theme.id, theme.name, names, theme.origin)
