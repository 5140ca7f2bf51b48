"""The survey as JSON: the public survey (for gateways such as SMS or partners' forms),
withdrawal, the editor's definition and versions, free text for analysis, and the exports.
The pages (the public form, withdrawal, the editor) are `parley.web.pages.survey`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from parley.consultation import export
from parley.consultation.dashboard import Filters
from parley.consultation.questionnaire import (
    GENDERS,
    direction,
    option_order,
)
from parley.consultation.survey import LoadedSurvey, RawSubmission, Surveys
from parley.errors import Conflict, InvalidInput
from parley.handlers.accounts import Account
from parley.handlers.ratelimit import client_key
from parley.reference import AGE_GROUPS, EDUCATION, UNSTATED
from parley.vocabulary import STAFF_ROLES
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.client import client_address
from parley.web.schemas import ViewOut

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in, or the API token is not valid."},
    403: {"description": "Your role does not allow this."},
    422: {"description": "Invalid input; `error.fields` names each problem."},
}


def surveys_of(request: Request) -> Surveys:
    return server_of(request).survey


def limit_attempts(request: Request, action: str, limit: int) -> None:
    client = client_key(client_address(request))
    server_of(request).rate_limiter.hit(f"survey-{action}:{client}", limit=limit, window=3600)


# --- API models ----------------------------------------------------------------------------


class OptionOut(BaseModel):
    key: str
    text: str


class QuestionOut(BaseModel):
    key: str
    kind: str
    text: str
    help: str = ""
    required: bool
    max_choices: int
    allow_other: bool
    max_length: int
    options: list[OptionOut] = Field(description="In the order to show them (shuffled when `seed` is given).")


class SurveyOut(BaseModel):
    version: int
    language: str
    direction: Literal["ltr", "rtl"]
    languages: list[str]
    title: str
    intro: str
    questions: list[QuestionOut]
    demographics: dict[str, list[OptionOut]]
    labels: dict[str, str]


class SubmissionIn(BaseModel):
    language: str | None = Field(None, description="Language the respondent answered in.")
    answers: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Question key -> option key, option keys (multi) or text.")
    other: dict[str, str] = Field(default_factory=dict, description="Question key -> own answer for 'other'.")
    age_group: str | None = None
    gender: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code.")
    education: str | None = None
    consent_analysis: bool = Field(description="False: only the fact of taking part is counted.")
    consent_quotes: bool = False
    channel: str | None = Field(None, description="Gateway channel (sms, partner, ...); API tokens only.")


class ReceiptOut(ViewOut):
    status: Literal["counted", "declined", "withdrawn"]
    withdrawal_code: str | None
    withdraw_url: str | None
    replayed: bool


class WithdrawalIn(BaseModel):
    code: str = Field(max_length=64)


class WithdrawalOut(BaseModel):
    withdrawn: bool = Field(description="False when nothing was stored under the code any more.")


class DefinitionIn(BaseModel):
    definition: dict[str, Any]
    note: str = ""
    base_version: int | None = Field(None, description="Refuse (409) if the current version is not this one.")


class DefinitionOut(BaseModel):
    version: int
    definition: dict[str, Any]
    missing_translations: list[str]


class VersionOut(BaseModel):
    version: int
    created_at: datetime
    note: str
    questions: list[str]


class TextOut(BaseModel):
    id: int
    response_id: int
    question: str
    kind: str
    body: str
    language: str
    country: str
    quotable: bool
    created_at: datetime


class TextPage(BaseModel):
    items: list[TextOut]
    next_after_id: int | None


def withdraw_url(code: str | None) -> str | None:
    """Where a respondent takes back their answers: the link the API promises beside the code."""
    return f"/survey/withdraw?code={code}" if code else None


# --- the public survey: JSON API -----------------------------------------------------------


def localized(survey: LoadedSurvey, lang: str, seed: str | None) -> SurveyOut:
    d = survey.definition
    questions = [
        QuestionOut(
            key=q.key, kind=q.kind, text=d.pick(q.text, lang), help=d.pick(q.help, lang) if q.help else "",
            required=q.required, max_choices=q.max_choices, allow_other=q.allow_other, max_length=q.max_length,
            options=[OptionOut(key=o.key, text=d.pick(o.text, lang))
                     for o in (option_order(q, seed) if seed else q.options)],
        )
        for q in d.questions
    ]
    demographics = {
        name: [OptionOut(key=v, text=d.label(f"{name}.{v}", lang)) for v in values]
        + [OptionOut(key=UNSTATED, text=d.label(UNSTATED, lang))]
        for name, values in (("age_group", AGE_GROUPS), ("gender", GENDERS), ("education", EDUCATION))
    }
    labels = {key: d.pick(texts, lang) for key, texts in d.labels.items() if texts}
    return SurveyOut(
        version=survey.version_number, language=lang, direction="rtl" if direction(lang) == "rtl" else "ltr",
        languages=list(d.languages), title=d.pick(d.title, lang), intro=d.pick(d.intro, lang), questions=questions,
        demographics=demographics, labels=labels,
    )


@router.get("/api/v1/survey", tags=["survey"], response_model=SurveyOut, responses=ERRORS)
async def api_survey(
    request: Request,
    lang: str | None = Query(None, description="Language code; defaults to the survey's default."),
    seed: str | None = Query(None, max_length=128, description="Shuffle options as for this respondent."),
    viewer: Viewer = Depends(viewer_checked),
) -> SurveyOut:
    """The current survey in one language, for gateways and apps."""
    survey = await surveys_of(request).current()
    return localized(survey, survey.definition.language(lang), seed)


@router.post("/api/v1/survey/responses", tags=["survey"], response_model=ReceiptOut, status_code=201,
             responses={**ERRORS, 200: {"description": "A retry: the first result, unchanged.",
                                        "model": ReceiptOut},
                        409: {"description": "The idempotency key was used with different answers."},
                        429: {"description": "Too many submissions from this address."}})
async def api_submit(
    request: Request,
    response: Response,
    body: SubmissionIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key",
                                         description="Client-chosen key, 8-128 characters, unique per response."),
    viewer: Viewer = Depends(viewer_checked),
) -> ReceiptOut:
    """Submit one response. Anonymous callers are rate-limited per address; gateways send an
    API token (and may set ``channel``). Retries with the same key are answered with the first
    result and are not counted again."""
    surveys = surveys_of(request)
    if not idempotency_key:
        raise InvalidInput("Send an Idempotency-Key header.", fields={"Idempotency-Key": "required"},
                           code="idempotency_key_required")
    gateway = viewer.via == "token" and viewer.user is not None and viewer.user.role in STAFF_ROLES
    if not gateway:
        limit_attempts(request, "submit", surveys.options.submissions_per_hour)
    raw = RawSubmission(**body.model_dump())
    submission = await surveys.validate(raw, trusted_channel=gateway)
    scope = f"token:{viewer.user.id}" if gateway and viewer.user else "public"
    receipt = await surveys.submit(idempotency_key, scope, submission)
    if receipt.mismatch:
        raise Conflict("This idempotency key was already used with different answers.", code="idempotency_mismatch")
    if receipt.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return ReceiptOut.of(receipt, withdraw_url=withdraw_url(receipt.withdrawal_code))


@router.post("/api/v1/survey/withdrawals", tags=["survey"], response_model=WithdrawalOut,
             responses={**ERRORS, 429: {"description": "Too many attempts from this address."}})
async def api_withdraw(request: Request, body: WithdrawalIn, viewer: Viewer = Depends(viewer_checked)
                       ) -> WithdrawalOut:
    """Delete a response (answers, free text and its counts) by its withdrawal code."""
    surveys = surveys_of(request)
    limit_attempts(request, "withdraw", surveys.options.withdrawals_per_hour)
    return WithdrawalOut(withdrawn=await surveys.withdraw(body.code))


# --- editing -------------------------------------------------------------------------------


@router.get("/api/v1/survey/definition", tags=["survey"], response_model=DefinitionOut, responses=ERRORS)
async def api_definition(request: Request, user: Account = Depends(require_user)) -> DefinitionOut:
    """The current version in every language, for editing."""
    surveys = surveys_of(request)
    surveys.check_viewer(user)
    survey = await surveys.current()
    return DefinitionOut(version=survey.version_number, definition=survey.definition.to_json(),
                         missing_translations=survey.definition.missing_translations())


@router.put("/api/v1/survey/definition", tags=["survey"], response_model=DefinitionOut,
            responses={**ERRORS, 409: {"description": "`base_version` is not the current version."}})
async def api_update_definition(request: Request, body: DefinitionIn = Body(...),
                                user: Account = Depends(require_user)) -> DefinitionOut:
    """Save a new version. Keys identify questions and options across versions: keep a key to
    keep counting the same thing; use a new key for a new meaning."""
    survey = await surveys_of(request).update_definition(user, body.definition, note=body.note,
                                                         base_version=body.base_version)
    return DefinitionOut(version=survey.version_number, definition=survey.definition.to_json(),
                         missing_translations=survey.definition.missing_translations())


@router.get("/api/v1/survey/versions", tags=["survey"], response_model=list[VersionOut], responses=ERRORS)
async def api_versions(request: Request, user: Account = Depends(require_user)) -> list[VersionOut]:
    surveys = surveys_of(request)
    surveys.check_viewer(user)
    return [VersionOut(version=n, created_at=at, note=note, questions=[q.key for q in d.questions])
            for _vid, n, d, at, note in await surveys.versions()]


# --- free text for analysis ----------------------------------------------------------------


@router.get("/api/v1/survey/texts", tags=["survey"], response_model=TextPage, responses=ERRORS)
async def api_texts(
    request: Request,
    after_id: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=5000),
    quotable_only: bool = Query(False, description="Only texts the respondent agreed may be quoted."),
    user: Account = Depends(require_user),
) -> TextPage:
    """Free-text answers given with consent to analysis, oldest first, for theme coding."""
    surveys = surveys_of(request)
    surveys.check_editor(user)
    items = await surveys.texts(after_id=after_id, limit=limit, quotable_only=quotable_only)
    return TextPage(items=[TextOut(**vars(t)) for t in items],
                    next_after_id=items[-1].id if len(items) == limit else None)


# --- exports -------------------------------------------------------------------------------

EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"description": "The file, streamed.", "content": {"text/csv": {}, "application/vnd.apache.parquet": {}}},
}


async def _first_then_rest(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Start the generator before the response starts, so authorisation errors still become
    proper error responses."""
    first = await anext(chunks)

    async def stream() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return stream()


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M")


@router.get("/api/v1/survey/export.csv", tags=["survey"], response_class=StreamingResponse,
            responses=EXPORT_RESPONSES)
async def export_csv(request: Request, user: Account = Depends(require_user)) -> StreamingResponse:
    """Responses without personal data, as CSV (filters as on the dashboard)."""
    filters = Filters.parse(request.query_params)
    body = await _first_then_rest(export.csv_chunks(surveys_of(request), user, filters))
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="survey-responses-{_stamp()}.csv"'})


@router.get("/api/v1/survey/export.parquet", tags=["survey"], response_class=StreamingResponse,
            responses=EXPORT_RESPONSES)
async def export_parquet(request: Request, user: Account = Depends(require_user)) -> StreamingResponse:
    """Responses without personal data, as Parquet (multiple choices as lists)."""
    filters = Filters.parse(request.query_params)
    export.check_exporter(user)
    body = await _first_then_rest(export.parquet_chunks(surveys_of(request), user, filters))
    return StreamingResponse(body, media_type="application/vnd.apache.parquet", headers={
        "Content-Disposition": f'attachment; filename="survey-responses-{_stamp()}.parquet"'})
