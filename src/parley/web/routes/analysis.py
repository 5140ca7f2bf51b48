"""The analysis as JSON under /api/v1/analysis: analysts' review, corrections, themes and
discovery, the coding export (CSV). The pages under /analysis are `parley.web.pages.analysis`.

Everything here is for organisers and admins (`parley.consultation.themes.check_analyst`);
consent is enforced underneath, in the store, so nothing here can show an unconsented text.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AliasPath, BaseModel, BeforeValidator, ConfigDict, Field

from parley import spreadsheet
from parley.consultation.themes import (
    EXPORT_COLUMNS,
    SENTIMENT_LABELS,
    Analysis,
    CodingFilter,
    ThemeInfo,
    check_analyst,
)
from parley.handlers.accounts import Account
from parley.vocabulary import OTHER, SourceType
from parley.web.auth import require_user, server_of
from parley.web.schemas import ViewOut, error_docs, rounded
from parley.web.templating import lang_of

router = APIRouter()
TAGS: list[str | Enum] = ["analysis"]
PER_PAGE = 25


def analysis_of(request: Request) -> Analysis:
    return server_of(request).analysis


# --- error shapes --------------------------------------------------------------------------------


_ERROR_TEXT = {
    401: "Not logged in.",
    403: "Not an organiser or admin (or missing CSRF token).",
    404: "No such coded item (or its source was withdrawn).",
    409: "A theme with this id exists already, or (`adoption_too_broad`) adopting it would take more than "
         "the allowed share of the answers: preview it, then adopt with `confirm: true`.",
    422: "Some fields are not valid; `fields` says which.",
    503: "The analysis engine is not installed or failed (see /api/v1/analysis/status).",
}


errors = error_docs(_ERROR_TEXT)


# --- JSON shapes ---------------------------------------------------------------------------------


class SourceCountsOut(ViewOut):
    coded: int
    recoded: int
    purged: int


class RunOut(ViewOut):
    coded: int
    recoded: int
    purged: int
    by_source: dict[str, SourceCountsOut] = Field(
        description="Per source type (survey, report, transcript) that the pass changed.")
    finished_at: datetime | None


class ProgressOut(ViewOut):
    stage: Literal["waiting", "preparing", "purging", "coding", "recoding"] = Field(
        description="waiting: asked for, not started here yet; preparing: loading the coder.")
    done: int
    total: int = Field(description="0 while the stage has no count.")
    since: datetime | None


class StatusOut(ViewOut):
    state: Literal["idle", "preparing", "ready", "missing", "failed"] = Field(
        description="missing: the engine is not installed (nothing can be coded); idle: not prepared yet.")
    message: str
    embedder: str
    themes: int
    corrections: int
    version: str = Field(description="The coder version new codings get.")
    translation: bool = Field(description="A translation engine is available for reviewers.")
    sentiment_shown: bool = Field(
        description="false: sentiment has not beaten always answering the most common label by 15 points on "
                    "answers analysts labelled (cross-validated); clients should not show it.")
    sentiment_note: str = Field(description="Why sentiment is shown or hidden.")
    last_run_at: datetime | None = Field(description="The last pass, whether it found work or not.")
    last_result: RunOut | None = Field(
        description="The last pass that coded, re-coded or purged something (the first pass when none did).")
    progress: ProgressOut | None = Field(None, description="A pass running (or asked for) in this process.")


class ThemeOut(ViewOut):
    id: str
    name: str = Field(description="In the reader's language where the theme has one.")
    origin: str = Field(description="seed, discovered or analyst.")


class ThemeCountOut(ViewOut):
    theme: ThemeOut | None = Field(description="null: items no theme fits (\"other\").")
    total: int
    by_source: dict[str, int]
    by_language: dict[str, int]
    by_sentiment: dict[str, int]


class SourceOut(ViewOut):
    type: SourceType = Field(validation_alias="kind")
    id: str = Field(validation_alias="key",
                    description="Survey text id, `<report id>:<section>`, or transcript segment id.")
    url: str = Field(description="Where to read it in context.")
    dialogue_id: int | None
    survey_response_id: int | None = Field(validation_alias="response_id")
    question: str | None
    report_section: str | None
    segment_id: int | None
    started_at: datetime | None


def _names(hints: Any) -> Any:
    """The catalogue models' names (a view holds the models)."""
    return [getattr(h, "name", h) for h in hints]


class TranslationOut(ViewOut):
    text: str | None = Field(description="null: no engine covers the pair; read the original.")
    language: str
    engine: str
    models: Annotated[list[str], BeforeValidator(_names)] = Field(
        default_factory=list, description="When text is null because no engine covers the pair: catalogue models "
        "an operator could install for it (`parley models catalogue`).")


class CodingOut(ViewOut):
    id: int
    source: SourceOut
    text: str = Field(description="The original text.")
    language: str
    language_reliable: bool
    quotable: bool = Field(description="Its author allowed quoting it.")
    translation: TranslationOut | None = Field(description="null when the text is in the reader's language.")
    themes: list[str]
    scores: list[tuple[str, float]]
    confidence: float = Field(description="The chance that the first theme is right (calibrated on labelled "
                              "text for the packaged model; 1 for an analyst's coding).")
    sentiment: str
    sentiment_confidence: float
    origin: str = Field(description="model, correction (reused an analyst's coding) or analyst.")
    country: str | None
    coder_version: str
    coded_at: datetime
    created_at: datetime


class CodingPageOut(ViewOut):
    items: list[CodingOut]
    total: int
    page: int
    pages: int


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    themes: list[str] = Field(max_length=12, description="The complete set of themes; empty means other.")
    sentiment: Literal["negative", "neutral", "positive"] | None = None


Granularity = Literal["coarse", "medium", "fine"]
Scope = Literal["all", "uncovered"]


def _or(default: str, *others: str) -> BeforeValidator:
    """A view's word as one of the API's: ``default`` for any word but ``others``."""
    return BeforeValidator(lambda value: value if value in others else default)


# What discovery ran at: "" (nothing clustered yet) reads as the default.
ShownGranularity = Annotated[Granularity, _or("medium", "coarse", "fine")]


class DiscoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int | None = Field(None, ge=10, le=20_000, description="How many recent items to look at.")
    granularity: Granularity = Field("medium", description="How many clusters: coarse (3-6), medium (8-14), "
                                                           "fine (18-30), fewer where there are few answers.")
    scope: Scope = Field("all", description="all answers, or only those no theme covers well.")


class ExampleOut(ViewOut):
    ref: str = Field(description="Source reference to pass back when adopting, e.g. `survey:12`.")
    text: str
    language: str
    url: str = Field(validation_alias=AliasPath("link", "url"))


class SuggestionOut(ViewOut):
    id: str
    name: str = Field(description="From the keywords; rename it when adopting.")
    keywords: list[str] = Field(description="In `keywords_language`, drawn from the cluster's answers in that "
                                            "language (not translated).")
    keywords_language: str
    keywords_from: Annotated[Literal["reader", "majority"], _or("majority", "reader")] = Field(
        description="reader: the cluster has answers in the reader's language; majority: it has none (or too "
                    "few), so the keywords come from its most common language.")
    examples: list[ExampleOut] = Field(description="Its most central answers.")
    examples_by_language: dict[str, list[ExampleOut]] = Field(
        description="The most central answers in each language the cluster has.")
    refs: list[str] = Field(description="Its most central answers' references: pass as `examples` to preview "
                                        "or adopt it.")
    size: int
    share: Annotated[float, rounded(4)] = Field(description="Of the answers clustered.")
    languages: dict[str, int]
    current: dict[str, int] = Field(description="The themes its answers have now (\"\": none).")
    cohesion: float


class LevelOut(ViewOut):
    granularity: ShownGranularity
    sizes: list[int]
    not_grouped: int
    silhouette: float


class DiscoveryOut(ViewOut):
    granularity: ShownGranularity
    scope: Annotated[Scope, _or("all", "uncovered")]
    looked_at: int
    clustered: int
    not_grouped: int = Field(description="Answers clustered but in no suggestion (their group was too small): "
                                         "not covered, left as they are.")
    silhouette: float = Field(description="How separate the clusters are (-1..1, near 0: they overlap).")
    suggestions: list[SuggestionOut]
    levels: list[LevelOut] = Field(description="Cluster sizes of the chosen granularity and of the others already "
                                               "clustered for these answers (each costs seconds the first time).")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=64, description="a-z, 0-9, '_' and '-'.")
    name: str = Field(max_length=120)
    examples: list[str] = Field(max_length=50, description="Source references from a suggestion (`refs`).")
    language: str | None = Field(None, max_length=16, description="The language of the name.")
    granularity: Granularity | None = Field(
        None, description="The granularity the suggestion came from: its threshold is calibrated on that "
                          "cluster (without it, on the examples).")
    scope: Scope = "all"


class PreviewOut(ViewOut):
    id: str = Field(validation_alias="theme_id")
    name: str
    threshold: float = Field(description="The theme's own cut, from its cluster's scores.")
    total: int = Field(description="Answers looked at.")
    taken: int = Field(description="Answers that would get the theme.")
    share: Annotated[float, rounded(4)]
    max_share: float = Field(description="Above this share, adopting needs `confirm: true`.")
    needs_confirmation: bool
    from_other: int = Field(description="Of those taken, answers with no theme now.")
    alongside: int = Field(description="Of those taken, answers that keep all their themes.")
    moved: int = Field(description="Of those taken, answers that lose a theme (`from_themes` says which).")
    from_themes: dict[str, int]
    members: int = Field(description="Answers in the cluster it came from.")
    members_taken: int
    outside: int = Field(description="Answers taken from outside the cluster.")
    other_changes: int = Field(description="Answers whose other themes shift (scores are relative).")
    counts: dict[str, tuple[int, int]] = Field(description="Per theme (\"\": none): answers before, after.")
    examples: dict[str, list[ExampleOut]] = Field(description="from_other, alongside, moved, left_out (cluster "
                                                              "answers it would not take).")


class AdoptConfirmIn(PreviewIn):
    confirm: bool = Field(False, description="Adopt although it takes more than `max_share` of the answers.")


def theme_out(t: ThemeInfo, lang: str) -> ThemeOut:
    """A theme, named in the reader's language."""
    return ThemeOut.of(t, name=t.label(lang))


def _id_text(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) < 10


def coding_filter(theme: str, language: str, source: str, sentiment: str, dialogue_id: str, order: str
                  ) -> CodingFilter:
    """Filters from query text; unknown values are ignored rather than refused."""
    src = source if source in {t.value for t in SourceType} else ""
    return CodingFilter(
        theme=theme[:64] or None, language=language[:16] or None, source=SourceType(src) if src else None,
        sentiment=sentiment if sentiment in SENTIMENT_LABELS else None,
        dialogue_id=int(dialogue_id) if _id_text(dialogue_id) else None,
        order="recent" if order == "recent" else "confidence",
    )


# --- API -----------------------------------------------------------------------------------------


@router.get("/api/v1/analysis/status", response_model=StatusOut, tags=TAGS, summary="The analysis engine",
            responses=errors(401, 403))
async def api_status(request: Request, user: Account = Depends(require_user)) -> StatusOut:
    check_analyst(user)
    return StatusOut.of(analysis_of(request).status())


@router.post("/api/v1/analysis/run", response_model=StatusOut, status_code=202, tags=TAGS,
             summary="Code new sources and re-code stale codings now (in the background)",
             responses=errors(401, 403))
async def api_run(request: Request, user: Account = Depends(require_user)) -> StatusOut:
    check_analyst(user)
    analysis = analysis_of(request)
    analysis.request_run()
    return StatusOut.of(analysis.status())


@router.get("/api/v1/analysis/themes", response_model=list[ThemeCountOut], tags=TAGS,
            summary="Themes with counts by source, language and sentiment", responses=errors(401, 403))
async def api_themes(request: Request, user: Account = Depends(require_user)) -> list[ThemeCountOut]:
    lang = lang_of(request).code
    return [ThemeCountOut.of(c, theme=theme_out(c.theme, lang) if c.theme else None)
            for c in await analysis_of(request).theme_counts(user)]


@router.get("/api/v1/analysis/codings", response_model=CodingPageOut, tags=TAGS,
            summary="Coded items, lowest confidence first", responses=errors(401, 403))
async def api_codings(
    request: Request,
    theme: str = Query("", max_length=64, description=f"A theme id, or `{OTHER}` for items no theme fits."),
    language: str = Query("", max_length=16),
    source: str = Query("", max_length=16, description="survey, report or transcript."),
    sentiment: str = Query("", max_length=16),
    dialogue_id: str = Query("", max_length=10),
    order: Literal["confidence", "recent"] = Query("confidence"),
    page: int = Query(1, ge=1, le=100_000),
    per_page: int = Query(PER_PAGE, ge=1, le=200),
    user: Account = Depends(require_user),
) -> CodingPageOut:
    f = coding_filter(theme, language, source, sentiment, dialogue_id, order)
    result = await analysis_of(request).review(user, f, page=page, per_page=per_page,
                                               reader_language=lang_of(request).code)
    return CodingPageOut.of(result)


@router.get("/api/v1/analysis/codings/{coding_id:int}", response_model=CodingOut, tags=TAGS,
            summary="One coded item", responses=errors(401, 403, 404))
async def api_coding(request: Request, coding_id: int, user: Account = Depends(require_user)) -> CodingOut:
    view = await analysis_of(request).item(user, coding_id, reader_language=lang_of(request).code)
    return CodingOut.of(view)


@router.post("/api/v1/analysis/codings/{coding_id:int}/correction", response_model=CodingOut, tags=TAGS,
             summary="Correct an item's themes and sentiment (the coder learns from it at once)",
             responses=errors(401, 403, 404, 422, 503))
async def api_correct(request: Request, coding_id: int, body: CorrectionIn, user: Account = Depends(require_user)
                      ) -> CodingOut:
    view = await analysis_of(request).correct(user, coding_id, themes=body.themes, sentiment=body.sentiment)
    return CodingOut.of(view)


@router.post("/api/v1/analysis/discover", response_model=DiscoveryOut, tags=TAGS,
             summary="Suggest new themes: clusters of the answers at a chosen granularity",
             responses=errors(401, 403, 422, 503))
async def api_discover(request: Request, body: DiscoverIn | None = None, user: Account = Depends(require_user)
                       ) -> DiscoveryOut:
    body = body or DiscoverIn()
    found = await analysis_of(request).discover(user, granularity=body.granularity, scope=body.scope,
                                                reader_language=lang_of(request).code, limit=body.limit)
    return DiscoveryOut.of(found)


@router.post("/api/v1/analysis/themes/preview", response_model=PreviewOut, tags=TAGS,
             summary="What adopting a suggestion would change (nothing is stored)",
             responses=errors(401, 403, 409, 422, 503))
async def api_preview(request: Request, body: PreviewIn, user: Account = Depends(require_user)) -> PreviewOut:
    found = await analysis_of(request).preview(user, theme_id=body.id, name=body.name, refs=body.examples,
                                               granularity=body.granularity or "", scope=body.scope,
                                               language=body.language)
    return PreviewOut.of(found)


@router.post("/api/v1/analysis/themes", response_model=ThemeOut, status_code=201, tags=TAGS,
             summary="Adopt a suggestion as a new theme (with the threshold its preview calibrates)",
             responses=errors(401, 403, 409, 422, 503))
async def api_adopt(request: Request, body: AdoptConfirmIn, user: Account = Depends(require_user)) -> ThemeOut:
    theme = await analysis_of(request).adopt(user, theme_id=body.id, name=body.name, refs=body.examples,
                                             language=body.language, granularity=body.granularity or "",
                                             scope=body.scope, confirm=body.confirm)
    return theme_out(theme, lang_of(request).code)


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **errors(401, 403),
    200: {"description": "One row per coded item: source ids, themes, scores, sentiment; no text, no names.",
          "content": {"text/csv": {}}},
}


@router.get("/api/v1/analysis/export.csv", response_class=StreamingResponse, tags=TAGS,
            summary="The codings as CSV", responses=EXPORT_RESPONSES)
async def api_export(request: Request, user: Account = Depends(require_user)) -> StreamingResponse:
    check_analyst(user)
    rows = analysis_of(request).export_rows(user)

    async def chunks() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = spreadsheet.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        async for row in rows:
            writer.writerow(row.get(column, "") for column in EXPORT_COLUMNS)
            if buffer.tell() > 64_000:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    stamp = server_of(request).clock.now().strftime("%Y%m%d-%H%M")
    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="theme-codings-{stamp}.csv"'})
