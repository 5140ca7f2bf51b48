"""Glossaries as JSON: the installation's under /api/v1/glossary, a dialogue's under
/api/v1/dialogues/{id}/glossary (the pages, /organise/glossary and /dialogues/{id}/glossary,
are in `parley.web.pages.glossary`).

The rules live in `parley.handlers.glossary`; this module maps JSON and CSV onto those calls.
Each endpoint exists once per scope; ``dialogue_id`` None is the installation.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from parley.handlers.accounts import Account
from parley.handlers.glossary import (
    ANY,
    CSV_MAX_CHARS,
    NOTE_MAX,
    TERM_MAX,
    EntryInput,
    hotwords,
)
from parley.web.auth import require_staff, server_of
from parley.web.schemas import ViewOut, error_docs

router = APIRouter()
TAGS: list[str | Enum] = ["glossary"]


# --- error shapes and messages -------------------------------------------------------------


_ERROR_TEXT = {
    401: "Not logged in.",
    403: "Not staff, not allowed to change this glossary, or missing CSRF token.",
    404: "No such dialogue or glossary entry (or not visible to you).",
    409: "The term is already in this glossary for that language (`duplicate_term`), or the glossary is full.",
    422: "Some fields or CSV lines are not valid; `fields` says which.",
}


errors = error_docs(_ERROR_TEXT)


# --- JSON shapes ---------------------------------------------------------------------------

_TRANSLATIONS_DOC = (
    "Fixed rendering per language code, e.g. `{\"fr\": \"la Ceinture et la Route\"}`. `*` covers languages "
    "not listed; an empty object keeps the term as written in every language (a name such as `UN75`)."
)


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = Field(description=f"The term as spoken, 2 to {TERM_MAX} characters; matched case-insensitively.")
    language: str = Field(ANY, description="The term's language (BCP 47), or `*`: the same in every language.")
    translations: dict[str, str] = Field(default_factory=dict, description=_TRANSLATIONS_DOC)
    note: str = Field("", description=f"For the interpreters, up to {NOTE_MAX} characters.")

    def to_input(self) -> EntryInput:
        return EntryInput(term=self.term, language=self.language, translations=self.translations, note=self.note)


class EntryPatch(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")
    term: str | None = None
    language: str | None = None
    translations: dict[str, str] | None = Field(None, description=_TRANSLATIONS_DOC)
    note: str | None = None

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None:
                value = {} if name == "translations" else (ANY if name == "language" else "")
            out[name] = value
        return out


class PersonOut(ViewOut):
    id: int
    display_name: str


class EntryOut(ViewOut):
    id: int
    dialogue_id: int | None = Field(description="Null for the installation glossary.")
    term: str
    language: str
    translations: dict[str, str]
    note: str
    created_by: PersonOut | None
    created_at: datetime
    updated_at: datetime


class GlossaryOut(ViewOut):
    dialogue_id: int | None
    entries: list[EntryOut]
    can_edit: bool
    installation: list[EntryOut] | None = Field(
        None, description="For a dialogue: the installation's entries, which apply unless overridden."
    )
    overridden: Annotated[list[int], AfterValidator(sorted)] | None = Field(
        None, description="Ids of installation entries this dialogue replaces.")

    @model_validator(mode="after")
    def _dialogue_only(self) -> Self:
        """The installation's entries and the overrides belong to a dialogue's glossary: null in
        the installation's own."""
        if self.dialogue_id is None:
            self.installation = self.overridden = None
        return self


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    csv: str = Field(
        max_length=CSV_MAX_CHARS,
        description="Rows of `term,language,translations[,note]` with translations as `lang=text;lang=text`; "
        "a header row is optional and a blank language means `*`.",
    )
    replace: bool = Field(False, description="Delete the entries that are not in the list.")


class ImportOut(ViewOut):
    created: int
    updated: int
    unchanged: int
    deleted: int


class PairOut(BaseModel):
    source: str
    target: str
    term: str
    rendering: str


class EffectiveOut(BaseModel):
    dialogue_id: int
    languages: list[str]
    pairs: list[PairOut] = Field(description="Fixed renderings per language pair, as the translator applies them.")
    hotwords: dict[str, str] = Field(description="Recognition hints per spoken language.")


def csv_response(text: str, dialogue_id: int | None) -> Response:
    name = "glossary.csv" if dialogue_id is None else f"dialogue-{dialogue_id}-glossary.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"description": "The glossary as CSV.",
                                                          "content": {"text/csv": {}}}}

# --- API: the installation glossary --------------------------------------------------------


@router.get("/api/v1/glossary", response_model=GlossaryOut, tags=TAGS, summary="The installation glossary",
            responses=errors(401, 403))
async def api_list(request: Request, user: Account = Depends(require_staff)) -> GlossaryOut:
    return GlossaryOut.of(await server_of(request).glossary.listing(user, None))


@router.post("/api/v1/glossary", response_model=EntryOut, status_code=201, tags=TAGS,
             summary="Add a term to the installation glossary", responses=errors(401, 403, 409, 422))
async def api_create(request: Request, body: EntryIn, user: Account = Depends(require_staff)) -> EntryOut:
    return EntryOut.of(await server_of(request).glossary.create(user, None, body.to_input()))


@router.get("/api/v1/glossary/export", tags=TAGS, summary="The installation glossary as CSV",
            response_class=Response, responses={**_CSV_RESPONSE, **errors(401, 403)})
async def api_export(request: Request, user: Account = Depends(require_staff)) -> Response:
    return csv_response(await server_of(request).glossary.export_csv(user, None), None)


@router.post("/api/v1/glossary/import", response_model=ImportOut, tags=TAGS,
             summary="Add or update terms from CSV", responses=errors(401, 403, 409, 422))
async def api_import(request: Request, body: ImportIn, user: Account = Depends(require_staff)) -> ImportOut:
    return ImportOut.of(await server_of(request).glossary.import_csv(user, None, body.csv, replace=body.replace))


@router.get("/api/v1/glossary/{entry_id:int}", response_model=EntryOut, tags=TAGS, summary="One term",
            responses=errors(401, 403, 404))
async def api_get(request: Request, entry_id: int, user: Account = Depends(require_staff)) -> EntryOut:
    return EntryOut.of(await server_of(request).glossary.get(user, None, entry_id))


@router.patch("/api/v1/glossary/{entry_id:int}", response_model=EntryOut, tags=TAGS, summary="Change a term",
              responses=errors(401, 403, 404, 409, 422))
async def api_update(request: Request, entry_id: int, body: EntryPatch,
                     user: Account = Depends(require_staff)) -> EntryOut:
    return EntryOut.of(await server_of(request).glossary.update(user, None, entry_id, body.changes()))


@router.delete("/api/v1/glossary/{entry_id:int}", status_code=204, response_class=Response, tags=TAGS,
               summary="Remove a term", responses=errors(401, 403, 404))
async def api_delete(request: Request, entry_id: int, user: Account = Depends(require_staff)) -> Response:
    await server_of(request).glossary.delete(user, None, entry_id)
    return Response(status_code=204)


# --- API: a dialogue's glossary ------------------------------------------------------------

_D = "/api/v1/dialogues/{dialogue_id:int}/glossary"


@router.get(_D, response_model=GlossaryOut, tags=TAGS, summary="A dialogue's glossary",
            responses=errors(401, 403, 404))
async def api_dialogue_list(request: Request, dialogue_id: int, user: Account = Depends(require_staff)) -> GlossaryOut:
    return GlossaryOut.of(await server_of(request).glossary.listing(user, dialogue_id))


@router.post(_D, response_model=EntryOut, status_code=201, tags=TAGS, summary="Add a term to a dialogue's glossary",
             responses=errors(401, 403, 404, 409, 422))
async def api_dialogue_create(request: Request, dialogue_id: int, body: EntryIn,
                              user: Account = Depends(require_staff)) -> EntryOut:
    return EntryOut.of(await server_of(request).glossary.create(user, dialogue_id, body.to_input()))


@router.get(_D + "/export", tags=TAGS, summary="A dialogue's glossary as CSV", response_class=Response,
            responses={**_CSV_RESPONSE, **errors(401, 403, 404)})
async def api_dialogue_export(request: Request, dialogue_id: int, user: Account = Depends(require_staff)) -> Response:
    return csv_response(await server_of(request).glossary.export_csv(user, dialogue_id), dialogue_id)


@router.post(_D + "/import", response_model=ImportOut, tags=TAGS, summary="Add or update a dialogue's terms from CSV",
             responses=errors(401, 403, 404, 409, 422))
async def api_dialogue_import(request: Request, dialogue_id: int, body: ImportIn,
                              user: Account = Depends(require_staff)) -> ImportOut:
    result = await server_of(request).glossary.import_csv(user, dialogue_id, body.csv, replace=body.replace)
    return ImportOut.of(result)


@router.get(_D + "/effective", response_model=EffectiveOut, tags=TAGS,
            summary="What interpretation applies: the installation's terms overridden by the dialogue's",
            responses=errors(401, 403, 404))
async def api_dialogue_effective(request: Request, dialogue_id: int,
                                 user: Account = Depends(require_staff)) -> EffectiveOut:
    handler = server_of(request).glossary
    await handler.listing(user, dialogue_id)  # the permission check
    g = await handler.effective(dialogue_id)
    pairs = [PairOut(source=s, target=t, term=term, rendering=r) for s, t, term, r in g.to_json()["pairs"]]
    return EffectiveOut(dialogue_id=dialogue_id, languages=g.languages, pairs=pairs,
                        hotwords={lang: hotwords(g, lang) for lang in g.languages})


@router.get(_D + "/{entry_id:int}", response_model=EntryOut, tags=TAGS, summary="One term of a dialogue's glossary",
            responses=errors(401, 403, 404))
async def api_dialogue_get(request: Request, dialogue_id: int, entry_id: int,
                           user: Account = Depends(require_staff)) -> EntryOut:
    return EntryOut.of(await server_of(request).glossary.get(user, dialogue_id, entry_id))


@router.patch(_D + "/{entry_id:int}", response_model=EntryOut, tags=TAGS, summary="Change a term of a dialogue",
              responses=errors(401, 403, 404, 409, 422))
async def api_dialogue_update(request: Request, dialogue_id: int, entry_id: int, body: EntryPatch,
                              user: Account = Depends(require_staff)) -> EntryOut:
    return EntryOut.of(await server_of(request).glossary.update(user, dialogue_id, entry_id, body.changes()))


@router.delete(_D + "/{entry_id:int}", status_code=204, response_class=Response, tags=TAGS,
               summary="Remove a term from a dialogue's glossary", responses=errors(401, 403, 404))
async def api_dialogue_delete(request: Request, dialogue_id: int, entry_id: int,
                              user: Account = Depends(require_staff)) -> Response:
    await server_of(request).glossary.delete(user, dialogue_id, entry_id)
    return Response(status_code=204)
