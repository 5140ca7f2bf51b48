"""Survey pages: the public one-minute survey (answer, withdraw with the receipt code) and the
organisers' editor, plain forms that work without JavaScript, over the same
`parley.consultation.survey` calls as the JSON API in `parley.web.routes.survey`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from parley.consultation.questionnaire import (
    GENDERS,
    KINDS,
    Definition,
    direction,
    option_order,
)
from parley.consultation.regions import country_choices
from parley.consultation.survey import LoadedSurvey, RawSubmission
from parley.errors import Conflict, InvalidInput, RateLimited
from parley.handlers.accounts import Account
from parley.i18n import language_name
from parley.reference import AGE_GROUPS, EDUCATION
from parley.security import new_token
from parley.web.auth import Viewer, viewer_checked
from parley.web.routes.survey import limit_attempts, surveys_of
from parley.web.templating import lang_of, render

router = APIRouter()


def _form_values(form: FormData | None, survey: LoadedSurvey) -> dict[str, Any]:
    """What the respondent typed, keyed like the form fields, to show it again."""
    values: dict[str, Any] = {}
    if form is None:
        return values
    for q in survey.definition.questions:
        name = f"answers.{q.key}"
        values[name] = [v for v in form.getlist(name) if isinstance(v, str)] if q.kind == "multi" \
            else _text(form.get(name))
        if q.allow_other:
            values[f"other.{q.key}"] = _text(form.get(f"other.{q.key}"))
    for name in ("age_group", "gender", "country", "education", "consent_analysis", "consent_quotes"):
        values[name] = _text(form.get(name))
    return values


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _raw_from_form(form: FormData, survey: LoadedSurvey, language: str) -> RawSubmission:
    values = _form_values(form, survey)
    answers: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for q in survey.definition.questions:
        answers[q.key] = values[f"answers.{q.key}"]
        if q.allow_other:
            other[q.key] = values[f"other.{q.key}"]
    return RawSubmission(
        language=language, answers=answers, other=other, age_group=values["age_group"], gender=values["gender"],
        country=values["country"], education=values["education"],
        consent_analysis=values["consent_analysis"] or None, consent_quotes=values["consent_quotes"] or None,
    )


def _survey_language(request: Request, survey: LoadedSurvey, form: FormData | None = None) -> str:
    wanted = _text(form.get("language")) if form is not None else ""
    return survey.definition.language(wanted or request.query_params.get("lang") or lang_of(request).code)


def _form_page(request: Request, survey: LoadedSurvey, language: str, key: str, *,
               values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               message: str | None = None, status: int = 200) -> Response:
    d: Definition = survey.definition
    labels: dict[str, str] = {}
    for number, q in enumerate(d.questions, start=1):
        text = d.pick(q.text, language)
        short = text if len(text) <= 70 else text[:67].rstrip() + "…"
        labels[f"answers.{q.key}"] = labels[f"other.{q.key}"] = f"{number}. {short}"
    for name in ("age_group", "gender", "country", "education", "consent_analysis"):
        labels[name] = d.label(name, language)
    return render(request, "survey/form.html", {
        "field_labels": labels,
        "survey": survey, "d": d, "slang": language, "sdir": direction(language), "key": key,
        "values": values or {}, "errors": errors or {}, "message": message,
        "ordered": {q.key: option_order(q, key) for q in d.questions},
        "countries": country_choices(language),
        "demographics": (("age_group", AGE_GROUPS), ("gender", GENDERS), ("education", EDUCATION)),
        "language_links": [(code, language_name(code, code)) for code in d.languages],
    }, status=status)


@router.get("/survey", include_in_schema=False)
async def survey_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    survey = await surveys_of(request).current()
    return _form_page(request, survey, _survey_language(request, survey), new_token(18))


@router.post("/survey", include_in_schema=False)
async def survey_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    surveys = surveys_of(request)
    survey = await surveys.current()
    form = await request.form()
    language = _survey_language(request, survey, form)
    key = _text(form.get("key")) or new_token(18)
    values = _form_values(form, survey)
    try:
        limit_attempts(request, "submit", surveys.options.submissions_per_hour)
        submission = await surveys.validate(_raw_from_form(form, survey, language))
        receipt = await surveys.submit(key, "public", submission)
    except InvalidInput as exc:
        return _form_page(request, survey, language, key, values=values, errors=exc.fields,
                          message=exc.message, status=422)
    except RateLimited as exc:
        return _form_page(request, survey, language, key, values=values, message=exc.message, status=429)
    return render(request, "survey/thanks.html", {
        "receipt": receipt, "d": survey.definition, "slang": language, "sdir": direction(language),
    }, status=200 if receipt.replayed else 201)


@router.get("/survey/withdraw", include_in_schema=False)
async def withdraw_page(request: Request, code: str = "", viewer: Viewer = Depends(viewer_checked)) -> Response:
    return render(request, "survey/withdraw.html", {"code": code[:64], "errors": {}, "done": None})


@router.post("/survey/withdraw", include_in_schema=False)
async def withdraw_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    surveys = surveys_of(request)
    form = await request.form()
    code = _text(form.get("code"))[:64]
    try:
        limit_attempts(request, "withdraw", surveys.options.withdrawals_per_hour)
        done = await surveys.withdraw(code)
    except InvalidInput as exc:
        return render(request, "survey/withdraw.html", {"code": code, "errors": exc.fields or {"code": exc.message},
                                                        "message": exc.message, "done": None}, status=422)
    except RateLimited as exc:
        return render(request, "survey/withdraw.html", {"code": code, "errors": {}, "message": exc.message,
                                                        "done": None}, status=429)
    return render(request, "survey/withdraw.html", {"code": "", "errors": {}, "done": done})


def _editor_model(data: dict[str, Any]) -> dict[str, Any]:
    """The definition JSON with one blank question and two blank options per choice question
    appended, for the HTML editor."""
    model = dict(data)
    questions = [dict(q, options=[*q.get("options", []), {"key": "", "text": {}}, {"key": "", "text": {}}])
                 if q.get("kind") != "text" else dict(q, options=[]) for q in data.get("questions", [])]
    blank_options = [{"key": "", "text": {}} for _ in range(4)]
    questions.append({"key": "", "kind": "single", "text": {}, "help": {}, "options": blank_options,
                      "required": False, "max_choices": 3, "randomise": False, "allow_other": False,
                      "max_length": 2000})
    model["questions"] = questions
    return model


def _definition_from_form(form: FormData, current: Definition) -> dict[str, Any]:
    raw_langs = _text(form.get("languages")) or ",".join(current.languages)
    languages = [code.strip() for code in raw_langs.replace(" ", ",").split(",") if code.strip()]

    def texts(prefix: str) -> dict[str, str]:
        return {lang: _text(form.get(f"{prefix}-{lang}")) for lang in languages if _text(form.get(f"{prefix}-{lang}"))}

    questions: list[dict[str, Any]] = []
    count = int(_text(form.get("q-count")) or 0)
    for i in range(min(count, 100)):
        p = f"q-{i}"
        key = _text(form.get(f"{p}-key")).strip()
        if not key or form.get(f"{p}-remove"):
            continue
        options = []
        for j in range(min(int(_text(form.get(f"{p}-opt-count")) or 0), 80)):
            okey = _text(form.get(f"{p}-opt-{j}-key")).strip()
            if okey:
                options.append({"key": okey, "text": texts(f"{p}-opt-{j}-text")})
        kind = _text(form.get(f"{p}-kind"))
        item: dict[str, Any] = {
            "key": key, "kind": kind, "text": texts(f"{p}-text"), "help": texts(f"{p}-help"),
            "required": bool(form.get(f"{p}-required")), "randomise": bool(form.get(f"{p}-randomise")),
            "allow_other": bool(form.get(f"{p}-other")), "options": options if kind != "text" else [],
        }
        for name, field, default in (("max", "max_choices", 3), ("maxlen", "max_length", 2000)):
            raw = _text(form.get(f"{p}-{name}")).strip()
            item[field] = int(raw) if raw.isdigit() else default
        questions.append(item)
    return {
        "languages": languages,
        "default_language": _text(form.get("default_language")) or current.default_language,
        "title": texts("title"), "intro": texts("intro"), "questions": questions,
        "labels": {k: dict(v) for k, v in current.labels.items()},
    }


def _edit_page(request: Request, survey: LoadedSurvey, data: dict[str, Any], versions: list[Any], *,
               errors: dict[str, str] | None = None, message: str | None = None, saved: bool = False,
               status: int = 200) -> Response:
    langs = list(data.get("languages") or survey.definition.languages)
    return render(request, "survey/edit.html", {
        "survey": survey, "model": _editor_model(data), "langs": langs, "kinds": KINDS, "errors": errors or {},
        "message": message, "saved": saved, "versions": versions,
        "missing": survey.definition.missing_translations(),
    }, status=status)


async def _html_user(request: Request, viewer: Viewer) -> Account | Response:
    if viewer.user is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return viewer.user


@router.get("/survey/edit", include_in_schema=False)
async def edit_page(request: Request, saved: int = 0, viewer: Viewer = Depends(viewer_checked)) -> Response:
    user = await _html_user(request, viewer)
    if isinstance(user, Response):
        return user
    surveys = surveys_of(request)
    surveys.check_editor(user)
    survey = await surveys.current()
    return _edit_page(request, survey, survey.definition.to_json(), await surveys.versions(), saved=bool(saved))


@router.post("/survey/edit", include_in_schema=False)
async def edit_submit(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    user = await _html_user(request, viewer)
    if isinstance(user, Response):
        return user
    surveys = surveys_of(request)
    surveys.check_editor(user)
    survey = await surveys.current()
    form = await request.form()
    data = _definition_from_form(form, survey.definition)
    base = _text(form.get("base_version"))
    try:
        await surveys.update_definition(user, data, note=_text(form.get("note")),
                                        base_version=int(base) if base.isdigit() else None)
    except (InvalidInput, Conflict) as exc:
        return _edit_page(request, survey, data, await surveys.versions(), errors=exc.fields,
                          message=exc.message, status=exc.status)
    return RedirectResponse("/survey/edit?saved=1", status_code=303)
