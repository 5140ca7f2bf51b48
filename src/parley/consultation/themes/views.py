"""What analysts read: themes, coded items with their sources and translations, counts,
suggested themes. Plain frozen dataclasses the pages render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from parley.storage.stores.analysis import SourceItem
from parley.vocabulary import SourceType


@dataclass(frozen=True)
class ThemeInfo:
    id: str
    name: str
    names: Mapping[str, str]
    origin: str

    def label(self, lang: str) -> str:
        return self.names.get(lang) or self.name


@dataclass(frozen=True)
class ModelHint:
    """A model from `parley models catalogue` that would translate a pair nothing covers yet."""

    name: str
    licence: str
    size_mb: int
    installable: bool  # from the hub with `parley models install`; else `parley models import`


@dataclass(frozen=True)
class TranslationView:
    text: str | None  # None: no engine covers the pair (or it failed)
    language: str
    engine: str = ""
    # When no engine covers the pair: models an operator could install for it (staff pages).
    models: tuple[ModelHint, ...] = ()


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
    """A cluster discovery proposes as a theme.

    ``keywords`` are in ``keywords_language``: drawn from the cluster's answers in the
    analyst's language when it has some ("reader"), else from its most common language
    ("majority"), never machine-translated. ``refs`` are its most central answers, the
    examples its prototype is built from when adopted.
    """

    id: str
    name: str
    keywords: tuple[str, ...]
    examples: tuple[Example, ...]
    size: int
    languages: Mapping[str, int]
    cohesion: float
    share: float = 0.0  # of the answers clustered
    keywords_language: str = ""
    keywords_from: str = "majority"  # reader | majority
    examples_by_language: Mapping[str, tuple[Example, ...]] = field(default_factory=dict)
    current: Mapping[str, int] = field(default_factory=dict)  # themes its answers have now ("": none)
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelSummary:
    """One granularity at a glance: how many clusters, their sizes."""

    granularity: str
    sizes: tuple[int, ...]
    not_grouped: int
    silhouette: float


@dataclass(frozen=True)
class DiscoveryView:
    granularity: str
    scope: str  # all | uncovered
    looked_at: int  # answers read (the most recent ``discovery_limit``)
    clustered: int
    not_grouped: int  # clustered answers in no cluster shown: not covered by any suggestion
    not_grouped_examples: tuple[Example, ...]
    silhouette: float
    suggestions: tuple[Suggestion, ...]
    levels: tuple[LevelSummary, ...]  # the chosen one and those clustered before, coarse first


@dataclass(frozen=True)
class PreviewView:
    """What adopting a theme would change, for the analyst to confirm (see
    `parley.consultation.analysis.adoption`)."""

    theme_id: str
    name: str
    refs: tuple[str, ...]
    granularity: str
    scope: str
    threshold: float
    total: int
    taken: int
    share: float
    max_share: float
    from_other: int
    alongside: int
    moved: int
    from_themes: Mapping[str, int]
    members: int
    members_taken: int
    outside: int
    other_changes: int
    counts: Mapping[str, tuple[int, int]]  # theme ("" for none): answers before, after
    examples: Mapping[str, tuple[Example, ...]]  # from_other | alongside | moved | left_out

    @property
    def needs_confirmation(self) -> bool:
        return self.share > self.max_share


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
