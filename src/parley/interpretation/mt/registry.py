"""Which engine translates which language pair, and translating through it.

Direct pairs come first (engines in preference order), then one pivot hop (e.g. fr->en as
fr->es->en with Apertium). A pair no engine covers is reported as missing, never faked:
`translate` raises `PairUnavailable` and `coverage` says ``None`` for it. The glossary is
applied around the whole route, so pivots keep fixed terms too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from parley.errors import ModelMissing
from parley.interpretation.mt.base import Glossary, MtEngine, PairUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hop:
    engine: MtEngine
    source: str
    target: str


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    hops: tuple[Hop, ...]

    @property
    def pivot(self) -> str | None:
        return self.hops[0].target if len(self.hops) > 1 else None

    @property
    def engine(self) -> str:
        names = "+".join(dict.fromkeys(h.engine.name for h in self.hops))
        return f"{names} via {self.pivot}" if self.pivot else names


@dataclass(frozen=True)
class TranslationResult:
    texts: list[str]
    engine: str


class Translator:
    def __init__(self, engines: Sequence[MtEngine], *, pivots: Sequence[str] = ("en", "es", "fr"),
                 glossary: Glossary | None = None) -> None:
        self.engines = list(engines)
        self.pivots = tuple(pivots)
        self.glossary = glossary or Glossary()
        self.unavailable: dict[str, str] = {}  # engine name -> why it is not usable

    async def start(self) -> None:
        """Start every engine; those that cannot work are dropped and listed in `unavailable`."""
        usable = []
        for engine in self.engines:
            try:
                await engine.start()
            except ModelMissing as exc:
                self.unavailable[engine.name] = str(exc)
                log.warning("translation engine %s unavailable: %s", engine.name, exc)
                continue
            usable.append(engine)
        self.engines = usable

    async def aclose(self) -> None:
        for engine in self.engines:
            await engine.aclose()

    def route(self, source: str, target: str) -> Route | None:
        """The route translations of this pair take: the first of `routes`."""
        if source == target:
            return Route(source, target, ())
        return next(iter(self.routes(source, target)), None)

    def routes(self, source: str, target: str) -> list[Route]:
        """Every way to translate the pair, best first: each direct engine (in preference
        order), then each pivot (in ``pivots`` order, the preferred engine for each hop)."""
        found = [Route(source, target, (Hop(e, source, target),)) for e in self.engines if e.supports(source, target)]
        for pivot in self.pivots:
            if pivot in (source, target):
                continue
            first = next((e for e in self.engines if e.supports(source, pivot)), None)
            second = next((e for e in self.engines if e.supports(pivot, target)), None)
            if first is not None and second is not None:
                found.append(Route(source, target, (Hop(first, source, pivot), Hop(second, pivot, target))))
        return found

    def coverage(self, languages: Collection[str]) -> dict[str, dict[str, str | None]]:
        """{source: {target: engine description or None}} for every ordered pair."""
        table: dict[str, dict[str, str | None]] = {}
        for s in languages:
            table[s] = {}
            for t in languages:
                if s != t:
                    r = self.route(s, t)
                    table[s][t] = r.engine if r else None
        return table

    def languages(self) -> set[str]:
        """Every language some installed engine translates from or into."""
        return {lang for engine in self.engines for pair in engine.capabilities.pairs for lang in pair}

    def missing(self, languages: Collection[str]) -> list[tuple[str, str]]:
        return [(s, t) for s in languages for t in languages if s != t and self.route(s, t) is None]

    async def translate(self, texts: Sequence[str], source: str, target: str) -> TranslationResult:
        route = self.route(source, target)
        if route is None:
            raise PairUnavailable(source, target)
        return await self.translate_by(route, texts)

    async def translate_by(self, route: Route, texts: Sequence[str]) -> TranslationResult:
        """Translate along ``route`` (one of `routes`), glossary applied around it."""
        source, target = route.source, route.target
        if not route.hops:
            return TranslationResult(list(texts), "identity")
        protected = [self.glossary.protect(t, source, target) for t in texts]
        current = [t for t, _ in protected]
        for hop in route.hops:
            current = await hop.engine.translate(current, hop.source, hop.target)
        out = [Glossary.restore(t, mapping) for t, (_, mapping) in zip(current, protected, strict=True)]
        return TranslationResult(out, route.engine)
