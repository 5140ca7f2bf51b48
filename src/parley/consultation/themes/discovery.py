"""Themes the list lacks: clusters at the granularity the analyst picks, a preview of what
adopting one would change, and the adoption itself (guarded).

    recent codings + their sources (consented) --coder.explore(level)--> DiscoveryView
    suggestion's refs --coder.preview--> PreviewView (who would get it, from which themes)
    adopt: the same preview, refused above ``adopt_max_share`` unless confirmed, then the
           theme is stored with the threshold the preview calibrated

Discovery is stateless: a preview or an adoption clusters again (the vectors are stored with
each coding, so no model call) and finds the cluster by its example references.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from parley.clock import Clock
from parley.consultation.themes.access import N_, check_analyst
from parley.consultation.themes.model import CoderModel
from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.vectors import prime
from parley.consultation.themes.views import (
    DiscoveryView,
    Example,
    LevelSummary,
    PreviewView,
    Suggestion,
    ThemeInfo,
    source_link,
)
from parley.errors import Conflict, InvalidInput
from parley.storage.analysis_models import AnalysisTheme
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.analysis import CodingInfo, SourceItem

if TYPE_CHECKING:
    from parley.consultation.analysis import AdoptionPreview, Coding, DiscoveredTheme, Discovery, ThemeCoder

log = logging.getLogger(__name__)

GRANULARITIES = ("coarse", "medium", "fine")
SCOPES = ("all", "uncovered")
EXAMPLES_SHOWN = 5
PER_LANGUAGE = 2  # representative answers shown per language
PROTOTYPE_EXAMPLES = 20  # central answers an adopted theme's prototype is built from
PREVIEW_EXAMPLES = 3  # answers shown per kind of change
CACHED_CLUSTERINGS = 6
THEME_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # as analysis.themes.THEME_ID
Announce = Callable[[Mapping[str, Any]], Awaitable[None]]


class _Corpus:
    """The answers discovery looks at, in one order: texts, their sources, their codings."""

    def __init__(self, pairs: list[tuple[CodingInfo, SourceItem]], codings: list[Coding]) -> None:
        self.rows = [r for r, _ in pairs]
        self.items = [i for _, i in pairs]
        self.texts = [i.text for i in self.items]
        self.codings = codings
        self.index = {item.ref: n for n, item in enumerate(self.items)}
        self.key = hash(tuple((r.id, r.coder_version) for r in self.rows))

    def example(self, n: int) -> Example:
        item = self.items[n]
        return Example(ref=item.ref, text=item.text, language=self.rows[n].language, link=source_link(item))


class Discovering:
    def __init__(self, db: Database, clock: Clock, model: CoderModel, options: AnalysisOptions,
                 announce: Announce) -> None:
        self.db = db
        self.clock = clock
        self.model = model
        self.options = options
        self.announce = announce
        # Clusterings by (coder version, corpus, granularity, scope): a preview and an
        # adoption find their cluster again without clustering again (seconds on a CPU).
        self._explored: OrderedDict[tuple[str, int, str, str], Discovery] = OrderedDict()

    async def _corpus(self, coder: ThemeCoder, limit: int | None) -> _Corpus:
        async with self.db.session() as s:
            rows = list(await store.recent_codings(s, min(limit or self.options.discovery_limit, 20_000)))
            found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
        pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows if (r.source_type, r.source_key) in found]
        pairs = [(r, item) for r, item in pairs if item.text.strip()]
        pairs.reverse()  # oldest first: a stable order as new answers arrive
        prime(self.model.embedder(), [(r, item.text) for r, item in pairs])
        codings = await coder.acode([item.text for _, item in pairs]) if pairs else []
        return _Corpus(pairs, codings)

    async def discover(self, actor: Account, *, granularity: str = "medium", scope: str = "all",
                       reader_language: str = "en", limit: int | None = None) -> DiscoveryView:
        """Clusters at ``granularity`` (with the sizes of the other levels clustered before),
        described for a reader of ``reader_language``."""
        check_analyst(actor)
        granularity, scope = _checked(granularity, scope)
        coder = await self.model.ensure_coder()
        corpus = await self._corpus(coder, limit)
        chosen = await self._explore(coder, corpus, granularity, scope)
        # Every level costs seconds of clustering: the chosen one is computed, the others
        # are summed up where an earlier request clustered them.
        levels = {level: found for level in GRANULARITIES
                  if (found := self._explored.get((self.model.version, corpus.key, level, scope))) is not None}
        suggestions = tuple(_suggestion(d, corpus, reader_language, len(chosen.clustered)) for d in chosen.clusters)
        log.info("discovery by user %d (%s, %s): %d suggestions from %d items", actor.id, granularity, scope,
                 len(suggestions), len(corpus.texts))
        return DiscoveryView(
            granularity=granularity, scope=scope, looked_at=len(corpus.texts), clustered=len(chosen.clustered),
            not_grouped=len(chosen.not_grouped),
            not_grouped_examples=tuple(corpus.example(n) for n in chosen.not_grouped[:PREVIEW_EXAMPLES]),
            silhouette=chosen.silhouette, suggestions=suggestions,
            levels=tuple(LevelSummary(granularity=level, sizes=tuple(len(d.members) for d in found.clusters),
                                      not_grouped=len(found.not_grouped), silhouette=found.silhouette)
                         for level, found in levels.items()),
        )

    async def _explore(self, coder: ThemeCoder, corpus: _Corpus, granularity: str, scope: str) -> Discovery:
        if not corpus.texts:
            from parley.consultation.analysis import Discovery

            return Discovery(granularity=granularity, clusters=(), clustered=(), not_grouped=(), silhouette=0.0)
        key = (self.model.version, corpus.key, granularity, scope)
        found = self._explored.get(key)
        if found is None:
            found = await coder.aexplore(corpus.texts, granularity=granularity, scope=scope, codings=corpus.codings,
                                         per_language=PER_LANGUAGE)
            self._explored[key] = found
            while len(self._explored) > CACHED_CLUSTERINGS:
                self._explored.popitem(last=False)
        return found

    async def preview(self, actor: Account, *, theme_id: str, name: str, refs: Sequence[str],
                      granularity: str = "", scope: str = "all", language: str | None = None,
                      limit: int | None = None) -> PreviewView:
        """What adopting this theme would change; nothing is stored."""
        check_analyst(actor)
        _, view = await self._preview(theme_id, name, refs, granularity, scope, language, limit)
        return view

    async def _preview(self, theme_id: str, name: str, refs: Sequence[str], granularity: str, scope: str,
                       language: str | None, limit: int | None) -> tuple[AdoptionPreview, PreviewView]:
        theme_id, name, parsed = _validated(theme_id, name, refs)
        coder = await self.model.ensure_coder()
        if theme_id in {t.id for t in coder.themes}:
            raise Conflict(N_("A theme with this id exists already."), code="theme_exists",
                           fields={"theme_id": "taken"})
        corpus = await self._corpus(coder, limit)
        async with self.db.session() as s:
            found = await store.sources(s, parsed)
        examples = [found[p] for p in parsed if p in found and found[p].text.strip()]
        if not examples:
            raise InvalidInput(N_("None of the examples can be used any more."), fields={"examples": "gone"})
        members = await self._members(coder, corpus, [e.ref for e in examples], granularity, scope)
        from parley.consultation.analysis import Theme

        theme = Theme(id=theme_id, name=name, examples=tuple(e.text for e in examples),
                      names={language: name} if language else {}, origin="discovered")
        result = await coder.apreview(theme, corpus.texts, members=members) if corpus.texts else None
        if result is None:
            raise InvalidInput(N_("There are no coded answers to preview with."), fields={"examples": "gone"})
        left_out = [m for m in members if m not in set(result.taken)]
        view = PreviewView(
            theme_id=theme_id, name=name, refs=tuple(e.ref for e in examples),
            granularity=granularity if granularity in GRANULARITIES else "", scope=scope if scope in SCOPES else "all",
            threshold=result.threshold, total=result.total, taken=len(result.taken), share=result.share,
            max_share=self.options.adopt_max_share, from_other=len(result.from_other),
            alongside=len(result.alongside), moved=len(result.moved), from_themes=dict(result.from_themes),
            members=len(result.members), members_taken=result.members_taken, outside=result.outside,
            other_changes=len(result.other_changes), counts=result.counts(),
            examples={
                "from_other": tuple(corpus.example(n) for n in result.from_other[:PREVIEW_EXAMPLES]),
                "alongside": tuple(corpus.example(n) for n in result.alongside[:PREVIEW_EXAMPLES]),
                "moved": tuple(corpus.example(n) for n in result.moved[:PREVIEW_EXAMPLES]),
                "left_out": tuple(corpus.example(n) for n in left_out[:PREVIEW_EXAMPLES]),
            },
        )
        return result, view

    async def _members(self, coder: ThemeCoder, corpus: _Corpus, refs: Sequence[str], granularity: str,
                       scope: str) -> list[int]:
        """The cluster the examples came from (clustered again, found by its examples); the
        examples themselves when no granularity is given or the cluster is gone."""
        mine = [corpus.index[r] for r in refs if r in corpus.index]
        if granularity in GRANULARITIES and scope in SCOPES:
            found = await self._explore(coder, corpus, granularity, scope)
            best = max(found.clusters, key=lambda d: len(set(d.members) & set(mine)), default=None)
            if best is not None and set(best.members) & set(mine):
                return list(best.members)
        return mine

    async def adopt(self, actor: Account, *, theme_id: str, name: str, refs: Sequence[str],
                    language: str | None = None, granularity: str = "", scope: str = "all",
                    confirm: bool = False, limit: int | None = None) -> ThemeInfo:
        """Make a suggestion a theme with the threshold its preview calibrated; refused
        (``adoption_too_broad``) when it would take more than ``adopt_max_share`` of the
        answers and ``confirm`` is not set."""
        check_analyst(actor)
        from parley.consultation.analysis import check_share

        result, view = await self._preview(theme_id, name, refs, granularity, scope, language, limit)
        check_share(result, max_share=self.options.adopt_max_share, confirmed=confirm)
        coder = await self.model.ensure_coder()
        async with self.db.session() as s:
            found = await store.sources(s, [p for p in map(store.parse_ref, view.refs) if p is not None])
        examples = [found[p] for p in map(store.parse_ref, view.refs) if p is not None and p in found]
        if not examples:
            raise InvalidInput(N_("None of the examples can be used any more."), fields={"examples": "gone"})
        from parley.consultation.analysis import Theme

        names = {language: view.name} if language else {}
        theme = Theme(id=view.theme_id, name=view.name, examples=tuple(e.text for e in examples), names=names,
                      origin="discovered", threshold=result.threshold)
        async with self.model.write_lock:
            await asyncio.to_thread(coder.add_theme, theme)
            async with self.db.session() as s:
                store.add_theme(s, AnalysisTheme(
                    id=theme.id, name=theme.name, names=names, origin=theme.origin, threshold=theme.threshold,
                    examples=[{"text": e.text, "source_type": e.type.value, "source_key": e.key} for e in examples],
                    created_at=self.clock.now(), created_by_id=actor.id,
                ))
            self.model.refresh_version(coder)
        log.info("theme %s adopted by user %d (%d examples, threshold %.3f, %d of %d answers)", theme.id, actor.id,
                 len(examples), result.threshold, len(result.taken), result.total)
        await self.announce({"type": "analysis.model", "theme": theme.id})
        return ThemeInfo(theme.id, theme.name, names, theme.origin)


def _checked(granularity: str, scope: str) -> tuple[str, str]:
    errors = {}
    if granularity not in GRANULARITIES:
        errors["granularity"] = "invalid"
    if scope not in SCOPES:
        errors["scope"] = "invalid"
    if errors:
        raise InvalidInput(N_("Some fields need attention."), fields=errors)
    return granularity, scope


def _validated(theme_id: str, name: str, refs: Sequence[str]) -> tuple[str, str, list[tuple[Any, str]]]:
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
    return theme_id, name, parsed


def _suggestion(d: DiscoveredTheme, corpus: _Corpus, reader: str, clustered: int) -> Suggestion:
    """Keywords in the reader's language when the cluster has answers in it, else in its
    most common language that yields keywords (said as such), never translated."""
    if d.keywords_by_language.get(reader):
        words, language, source = d.keywords_by_language[reader], reader, "reader"
    else:
        language = next((lang for lang in d.languages if d.keywords_by_language.get(lang)), "")
        words, source = (d.keywords_by_language[language] if language else d.keywords), "majority"
    return Suggestion(
        id=d.id, name=" / ".join(words[:3]) if words else corpus.texts[d.members[0]][:60], keywords=tuple(words),
        examples=tuple(corpus.example(n) for n in d.members[:EXAMPLES_SHOWN]), size=len(d.members),
        languages=dict(d.languages), cohesion=d.cohesion, share=len(d.members) / clustered if clustered else 0.0,
        keywords_language=language, keywords_from=source,
        examples_by_language={lang: tuple(corpus.example(n) for n in rows)
                              for lang, rows in d.examples_by_language.items()},
        current=dict(d.current), refs=tuple(corpus.items[n].ref for n in d.members[:PROTOTYPE_EXAMPLES]),
    )
