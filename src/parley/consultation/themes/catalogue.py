"""The themes analysts code with: listed and counted (new ones come from `discovery`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from parley.clock import Clock
from parley.consultation.themes.access import check_analyst
from parley.consultation.themes.model import CoderModel
from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.views import ThemeCount, ThemeInfo
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.analysis import OTHER

log = logging.getLogger(__name__)

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

    async def theme_counts(self, actor: Account) -> list[ThemeCount]:
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
