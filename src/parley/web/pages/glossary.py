"""Glossary pages: the installation glossary and a dialogue's, with the CSV import and export
forms, over the same `parley.handlers.glossary` calls as the JSON API in
`parley.web.routes.glossary`.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from parley.errors import ClientError
from parley.handlers.accounts import Account
from parley.handlers.glossary import (
    ANY,
    CSV_MAX_CHARS,
    NOTE_MAX,
    RENDERING_MAX,
    TERM_MAX,
    EntryInput,
    EntryView,
    GlossaryListing,
    format_translations,
)
from parley.reference import UN_LANGUAGES, language_label
from parley.web.auth import Viewer, server_of, viewer_checked
from parley.web.forms import FALLBACK_MESSAGE, N_, flash_of, form_str, login_redirect, page_helpers
from parley.web.routes.glossary import csv_response
from parley.web.templating import lang_of, render

router = APIRouter()

# Per field and problem code (CSV lines as "line.<n>.<field>"), for re-rendering the forms.
FIELD_MESSAGES: dict[tuple[str, str], str] = {
    ("term", "required"): N_("Enter the term."),
    ("term", "length"): N_("Use 2 to 100 characters."),
    ("term", "invalid"): N_("A term needs letters or digits, on one line."),
    ("term", "invalid_character"): N_("A term cannot contain a backslash."),
    ("term", "duplicate"): N_("This term is already in the glossary for that language."),
    ("language", "unknown_language"): N_("Use a language code such as en, fr or pt-BR, or * for every language."),
    ("translations", "syntax"): N_("Write each translation as language=text, for example fr=la Ceinture et la Route."),
    ("translations", "unknown_language"): N_("Use language codes such as fr, es or pt-BR before the = sign."),
    ("translations", "length"): N_("Each translation needs 1 to 200 characters."),
    ("translations", "invalid"): N_("Each translation must be text on one line."),
    ("translations", "invalid_character"): N_("Translations cannot contain ; or a backslash."),
    ("translations", "same_language"): N_("Do not translate a term into its own language."),
    ("translations", "duplicate_language"): N_("Give each language only once."),
    ("translations", "count"): N_("At most 30 translations."),
    ("note", "length"): N_("Use at most 500 characters."),
    ("note", "invalid"): N_("This value is not valid."),
    ("csv", "required"): N_("Paste at least one term."),
    ("csv", "length"): N_("The list is too long; import it in parts."),
    ("csv", "syntax"): N_("The list is not valid CSV."),
    ("csv", "count"): N_("A glossary holds at most 2,000 entries."),
    ("_line", "columns"): N_("Too many columns: use term, language, translations, note."),
}
_LINE = re.compile(r"^line\.(\d+)(?:\.(\w+))?$")


def field_messages(request: Request, exc: ClientError) -> dict[str, str]:
    """Per-field sentences in the viewer's language; CSV lines read "Line 3: ..."."""
    gettext = lang_of(request).gettext
    out: dict[str, str] = {}
    for name, code in exc.fields.items():
        match = _LINE.match(name)
        if match:
            message = FIELD_MESSAGES.get((match.group(2) or "_line", code)) or FALLBACK_MESSAGE
            out[name] = gettext("Line %(line)s: %(problem)s", line=match.group(1), problem=gettext(message))
        else:
            out[name] = gettext(FIELD_MESSAGES.get((name, code)) or FALLBACK_MESSAGE)
    if not out:
        out["_form"] = gettext(exc.message)
    return out


DONE = {
    "added": N_("The term was added."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The term was removed."),
}


def base_path(dialogue_id: int | None) -> str:
    return "/organise/glossary" if dialogue_id is None else f"/dialogues/{dialogue_id}/glossary"


def _values(term: str = "", language: str = ANY, translations: str = "", note: str = "") -> dict[str, str]:
    return {"term": term, "language": language, "translations": translations, "note": note}


def _values_of_entry(e: EntryView) -> dict[str, str]:
    return _values(e.term, e.language, format_translations(e.translations, sep="\n"), e.note)


def _form_input(form: Any) -> tuple[EntryInput, dict[str, str]]:
    values = _values(
        form_str(form, "term", TERM_MAX * 4),
        form_str(form, "language", 32).strip() or ANY,
        form_str(form, "translations", (RENDERING_MAX + 20) * 40),
        form_str(form, "note", NOTE_MAX * 4),
    )
    return EntryInput(**values), values


def _language_choices(listing: GlossaryListing, code: str) -> list[tuple[str, str]]:
    codes = list(dict.fromkeys([*listing.dialogue_languages, *UN_LANGUAGES]))
    return [(c, language_label(c, code)) for c in codes]


async def _glossary_page(request: Request, user: Account, dialogue_id: int | None, *,
                         values: dict[str, str] | None = None,
                         errors: dict[str, str] | None = None, import_values: dict[str, Any] | None = None,
                         import_errors: dict[str, str] | None = None, notice: str = "", status: int = 200) -> Response:
    listing = await server_of(request).glossary.listing(user, dialogue_id)
    gettext = lang_of(request).gettext
    ctx = {
        "g": listing,
        "base": base_path(dialogue_id),
        "values": values or _values(),
        "errors": errors or {},
        "import_values": import_values or {"csv": "", "replace": False},
        "import_errors": import_errors or {},
        "flash": notice or flash_of(request, DONE),
        "language_choices": _language_choices(listing, lang_of(request).code),
        "format_translations": format_translations,
        "limits": {"term": TERM_MAX, "note": NOTE_MAX},
        "csv_example": 'UN75,*,,\n"Belt and Road",en,"fr=la Ceinture et la Route;es=la Franja y la Ruta",'
        + gettext("A programme name"),
        **page_helpers(request),
    }
    return render(request, "glossary/page.html", ctx, status=status)


async def _edit_page(request: Request, user: Account, dialogue_id: int | None, entry: EntryView, *,
                     values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                     status: int = 200) -> Response:
    listing = await server_of(request).glossary.listing(user, dialogue_id)
    ctx = {
        "g": listing,
        "entry": entry,
        "base": base_path(dialogue_id),
        "values": values or _values_of_entry(entry),
        "errors": errors or {},
        "language_choices": _language_choices(listing, lang_of(request).code),
        "limits": {"term": TERM_MAX, "note": NOTE_MAX},
        **page_helpers(request),
    }
    return render(request, "glossary/edit.html", ctx, status=status)


async def _show(request: Request, viewer: Viewer, dialogue_id: int | None) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return await _glossary_page(request, viewer.user, dialogue_id)


async def _add(request: Request, viewer: Viewer, dialogue_id: int | None) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    data, values = _form_input(await request.form())
    try:
        await server_of(request).glossary.create(viewer.user, dialogue_id, data)
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _glossary_page(request, viewer.user, dialogue_id, values=values,
                                    errors=field_messages(request, exc), status=exc.status)
    return RedirectResponse(f"{base_path(dialogue_id)}?done=added", status_code=303)


async def _edit(request: Request, viewer: Viewer, dialogue_id: int | None, entry_id: int) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    server = server_of(request)
    entry = await server.glossary.get(viewer.user, dialogue_id, entry_id)
    if request.method == "GET":
        return await _edit_page(request, viewer.user, dialogue_id, entry)
    data, values = _form_input(await request.form())
    try:
        await server.glossary.update(viewer.user, dialogue_id, entry_id, dict(values))
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _edit_page(request, viewer.user, dialogue_id, entry, values=values,
                                errors=field_messages(request, exc), status=exc.status)
    return RedirectResponse(f"{base_path(dialogue_id)}?done=saved", status_code=303)


async def _delete(request: Request, viewer: Viewer, dialogue_id: int | None, entry_id: int) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    await server_of(request).glossary.delete(viewer.user, dialogue_id, entry_id)
    return RedirectResponse(f"{base_path(dialogue_id)}?done=deleted", status_code=303)


async def _import(request: Request, viewer: Viewer, dialogue_id: int | None) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    text = form_str(form, "csv", CSV_MAX_CHARS + 1)
    replace = form_str(form, "replace", 8) == "on"
    try:
        result = await server_of(request).glossary.import_csv(viewer.user, dialogue_id, text, replace=replace)
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _glossary_page(request, viewer.user, dialogue_id,
                                    import_values={"csv": text, "replace": replace},
                                    import_errors=field_messages(request, exc), status=exc.status)
    notice = lang_of(request).gettext(
        "Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged, %(deleted)s removed.",
        created=result.created, updated=result.updated, unchanged=result.unchanged, deleted=result.deleted,
    )
    return await _glossary_page(request, viewer.user, dialogue_id, notice=notice)


async def _export(request: Request, viewer: Viewer, dialogue_id: int | None) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return csv_response(await server_of(request).glossary.export_csv(viewer.user, dialogue_id), dialogue_id)


@router.get("/organise/glossary", include_in_schema=False)
async def page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _show(request, viewer, None)


@router.post("/organise/glossary", include_in_schema=False)
async def page_add(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _add(request, viewer, None)


@router.post("/organise/glossary/import", include_in_schema=False)
async def page_import(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _import(request, viewer, None)


@router.get("/organise/glossary/export.csv", include_in_schema=False)
async def page_export(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _export(request, viewer, None)


@router.api_route("/organise/glossary/{entry_id:int}/edit", methods=["GET", "POST"], include_in_schema=False)
async def page_edit(request: Request, entry_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _edit(request, viewer, None, entry_id)


@router.post("/organise/glossary/{entry_id:int}/delete", include_in_schema=False)
async def page_delete(request: Request, entry_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _delete(request, viewer, None, entry_id)


@router.get("/dialogues/{dialogue_id:int}/glossary", include_in_schema=False)
async def dialogue_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _show(request, viewer, dialogue_id)


@router.post("/dialogues/{dialogue_id:int}/glossary", include_in_schema=False)
async def dialogue_page_add(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _add(request, viewer, dialogue_id)


@router.post("/dialogues/{dialogue_id:int}/glossary/import", include_in_schema=False)
async def dialogue_page_import(request: Request, dialogue_id: int,
                               viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _import(request, viewer, dialogue_id)


@router.get("/dialogues/{dialogue_id:int}/glossary/export.csv", include_in_schema=False)
async def dialogue_page_export(request: Request, dialogue_id: int,
                               viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _export(request, viewer, dialogue_id)


@router.api_route("/dialogues/{dialogue_id:int}/glossary/{entry_id:int}/edit", methods=["GET", "POST"],
                  include_in_schema=False)
async def dialogue_page_edit(request: Request, dialogue_id: int, entry_id: int,
                             viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _edit(request, viewer, dialogue_id, entry_id)


@router.post("/dialogues/{dialogue_id:int}/glossary/{entry_id:int}/delete", include_in_schema=False)
async def dialogue_page_delete(request: Request, dialogue_id: int, entry_id: int,
                               viewer: Viewer = Depends(viewer_checked)) -> Response:
    return await _delete(request, viewer, dialogue_id, entry_id)
