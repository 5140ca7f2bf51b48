"""The glossary JSON API and handler on a real database: create, read, change and delete
terms in both scopes, who may do what, validation and duplicates, CSV round trips, and the
effective glossary the interpretation pipeline uses."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from parley.handlers.dialogues import Action
from parley.handlers.glossary import EntryInput, hotwords
from parley.interpretation.mt.registry import Translator
from parley.server import Server
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt
from tests.glossary.conftest import AsUser, Cast

pytestmark = pytest.mark.integration

BELT = {"term": "Belt and Road", "language": "en",
        "translations": {"fr": "la Ceinture et la Route", "es": "la Franja y la Ruta"}}
UN75 = {"term": "UN75", "language": "*", "translations": {}, "note": "The UN's 75th anniversary"}


def error(response: httpx.Response) -> dict[str, Any]:
    payload: dict[str, Any] = response.json()["error"]
    return payload


def dialogue_url(cast: Cast, rest: str = "") -> str:
    return f"/api/v1/dialogues/{cast.dialogue.id}/glossary{rest}"


# --- CRUD ------------------------------------------------------------------------------------


async def test_an_organiser_manages_the_installation_glossary(cast: Cast, as_user: AsUser) -> None:
    organiser = await as_user(cast.organiser)
    created = await organiser.post("/api/v1/glossary", json=UN75)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["term"] == "UN75" and entry["language"] == "*" and entry["translations"] == {}
    assert entry["dialogue_id"] is None and entry["note"] == "The UN's 75th anniversary"
    assert entry["created_by"] == {"id": cast.organiser.id, "display_name": "Olga Organiser"}

    got = await organiser.get(f"/api/v1/glossary/{entry['id']}")
    assert got.status_code == 200 and got.json() == entry

    patched = await organiser.patch(f"/api/v1/glossary/{entry['id']}", json={"translations": {"zh": "联合国75周年"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["translations"] == {"zh": "联合国75周年"} and patched.json()["term"] == "UN75"

    listed = await organiser.get("/api/v1/glossary")
    assert listed.status_code == 200
    assert [e["term"] for e in listed.json()["entries"]] == ["UN75"] and listed.json()["can_edit"] is True

    deleted = await organiser.delete(f"/api/v1/glossary/{entry['id']}")
    assert deleted.status_code == 204
    gone = await organiser.get(f"/api/v1/glossary/{entry['id']}")
    assert gone.status_code == 404 and error(gone)["code"] == "glossary_entry_not_found"


async def test_a_facilitator_manages_their_dialogue_glossary(cast: Cast, as_user: AsUser) -> None:
    facilitator = await as_user(cast.facilitator)
    created = await facilitator.post(dialogue_url(cast), json=BELT)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["dialogue_id"] == cast.dialogue.id

    patched = await facilitator.patch(dialogue_url(cast, f"/{entry['id']}"), json={"note": "Say it in full"})
    assert patched.status_code == 200 and patched.json()["note"] == "Say it in full"
    assert patched.json()["translations"] == BELT["translations"]

    # the entry belongs to the dialogue, not to the installation, nor to another dialogue
    assert (await facilitator.get(f"/api/v1/glossary/{entry['id']}")).status_code == 404
    listed = (await facilitator.get(dialogue_url(cast))).json()
    assert [e["id"] for e in listed["entries"]] == [entry["id"]] and listed["can_edit"] is True

    assert (await facilitator.delete(dialogue_url(cast, f"/{entry['id']}"))).status_code == 204
    assert (await facilitator.get(dialogue_url(cast))).json()["entries"] == []


async def test_changes_are_announced_for_running_interpretation(server: Server, cast: Cast, as_user: AsUser) -> None:
    sub = await server.bus.subscribe([f"dialogue:{cast.dialogue.id}", "glossary"])
    try:
        organiser = await as_user(cast.organiser)
        assert (await organiser.post(dialogue_url(cast), json=BELT)).status_code == 201
        assert (await organiser.post("/api/v1/glossary", json=UN75)).status_code == 201
        seen = [await sub.get(), await sub.get()]
    finally:
        await sub.close()
    assert seen == [
        (f"dialogue:{cast.dialogue.id}", {"type": "glossary.updated", "dialogue_id": cast.dialogue.id}),
        ("glossary", {"type": "glossary.updated", "dialogue_id": None}),
    ]


# --- permissions -------------------------------------------------------------------------------


async def test_who_may_read_and_change_the_installation_glossary(
    server: Server, cast: Cast, as_user: AsUser, client: httpx.AsyncClient
) -> None:
    entry = await server.glossary.create(cast.admin, None, EntryInput(term="UN75"))
    assert (await client.get("/api/v1/glossary")).status_code == 401
    participant = await as_user(cast.participant)
    denied = await participant.get("/api/v1/glossary")
    assert denied.status_code == 403 and error(denied)["code"] == "staff_only"

    for reader in (cast.facilitator, cast.interpreter):
        c = await as_user(reader)
        listed = await c.get("/api/v1/glossary")
        assert listed.status_code == 200 and listed.json()["can_edit"] is False
        refused = await c.post("/api/v1/glossary", json=BELT)
        assert refused.status_code == 403 and error(refused)["code"] == "role_required"
        assert (await c.patch(f"/api/v1/glossary/{entry.id}", json={"note": "x"})).status_code == 403
        assert (await c.delete(f"/api/v1/glossary/{entry.id}")).status_code == 403
        assert (await c.post("/api/v1/glossary/import", json={"csv": "SDG"})).status_code == 403

    for editor in (cast.admin, cast.other_organiser):
        c = await as_user(editor)
        assert (await c.patch(f"/api/v1/glossary/{entry.id}", json={"note": editor.display_name})).status_code == 200


async def test_who_may_read_and_change_a_dialogue_glossary(cast: Cast, as_user: AsUser) -> None:
    owner = await as_user(cast.organiser)
    entry = (await owner.post(dialogue_url(cast), json=BELT)).json()

    # the dialogue's staff and the campaign team read it
    for reader in (cast.interpreter, cast.other_organiser):
        c = await as_user(reader)
        listed = await c.get(dialogue_url(cast))
        assert listed.status_code == 200 and listed.json()["can_edit"] is False
        refused = await c.patch(dialogue_url(cast, f"/{entry['id']}"), json={"note": "x"})
        assert refused.status_code == 403 and error(refused)["code"] == "not_allowed"
        assert (await c.post(dialogue_url(cast), json=UN75)).status_code == 403

    # its organiser, facilitator and admins change it
    for editor in (cast.organiser, cast.facilitator, cast.admin):
        c = await as_user(editor)
        assert (await c.patch(dialogue_url(cast, f"/{entry['id']}"), json={"note": "ok"})).status_code == 200

    # staff of other dialogues: a draft they cannot even see is not found
    for outsider in (cast.other_facilitator, cast.other_interpreter):
        c = await as_user(outsider)
        hidden = await c.get(dialogue_url(cast))
        assert hidden.status_code == 404 and error(hidden)["code"] == "dialogue_not_found"
    participant = await as_user(cast.participant)
    assert (await participant.get(dialogue_url(cast))).status_code == 403


async def test_staff_of_another_dialogue_may_not_read_a_published_one(
    server: Server, cast: Cast, as_user: AsUser
) -> None:
    await server.dialogues.transition(cast.organiser, cast.dialogue.id, Action.PUBLISH)
    c = await as_user(cast.other_facilitator)
    refused = await c.get(dialogue_url(cast))
    assert refused.status_code == 403 and error(refused)["code"] == "not_dialogue_staff"


async def test_unknown_dialogues_and_entries_are_not_found(cast: Cast, as_user: AsUser) -> None:
    admin = await as_user(cast.admin)
    entry = (await admin.post("/api/v1/glossary", json=UN75)).json()
    assert error(await admin.get("/api/v1/dialogues/999999/glossary"))["code"] == "dialogue_not_found"
    assert error(await admin.get(dialogue_url(cast, f"/{entry['id']}")))["code"] == "glossary_entry_not_found"
    # An id beyond what the database holds names nothing (`parley.web.input_policy`).
    assert error(await admin.delete("/api/v1/glossary/2147483648"))["code"] == "not_found"


async def test_changes_need_the_csrf_token(server: Server, cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.organiser)
    del c.headers["X-CSRF-Token"]
    refused = await c.post("/api/v1/glossary", json=UN75)
    assert refused.status_code == 403 and error(refused)["code"] == "csrf_failed"


# --- validation and duplicates ---------------------------------------------------------------


async def test_invalid_terms_say_which_fields(cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.organiser)
    bad = await c.post("/api/v1/glossary", json={"term": "U", "language": "xx-long-code",
                                                  "translations": {"fr": "a;b"}})
    assert bad.status_code == 422
    assert error(bad)["code"] == "invalid_input"
    assert error(bad)["fields"] == {"term": "length", "language": "unknown_language",
                                    "translations": "invalid_character"}
    unknown = await c.post("/api/v1/glossary", json={"term": "UN75", "colour": "blue"})
    assert unknown.status_code == 422 and "colour" in error(unknown)["fields"]


async def test_a_duplicate_term_is_a_clear_conflict(cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.organiser)
    assert (await c.post("/api/v1/glossary", json=UN75)).status_code == 201
    again = await c.post("/api/v1/glossary", json={"term": "  un75 ", "language": "*"})
    assert again.status_code == 409
    assert error(again) == {"code": "duplicate_term", "fields": {"term": "duplicate"},
                            "message": "This term is already in the glossary for that language."}
    # the same term in another language, or in a dialogue's glossary, is a different entry
    assert (await c.post("/api/v1/glossary", json={"term": "UN75", "language": "en"})).status_code == 201
    assert (await c.post(dialogue_url(cast), json=UN75)).status_code == 201
    assert (await c.post(dialogue_url(cast), json=UN75)).status_code == 409
    # renaming onto an existing term is refused too
    other = (await c.post("/api/v1/glossary", json={"term": "SDG"})).json()
    clash = await c.patch(f"/api/v1/glossary/{other['id']}", json={"term": "Un75"})
    assert clash.status_code == 409 and error(clash)["code"] == "duplicate_term"


# --- CSV -------------------------------------------------------------------------------------


async def test_csv_export_and_import_round_trip(cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.organiser)
    for body in (BELT, UN75, {"term": "Agenda 2030, the plan", "language": "en", "translations": {"*": "Agenda 2030"},
                              "note": 'Say "twenty thirty"'}):
        assert (await c.post(dialogue_url(cast), json=body)).status_code == 201
    exported = await c.get(dialogue_url(cast, "/export"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    text = exported.text
    assert text.splitlines()[0] == "term,language,translations,note"
    assert '"Belt and Road",en' not in text and "Belt and Road,en,fr=la Ceinture et la Route;es=" not in text
    assert "Belt and Road,en,es=la Franja y la Ruta;fr=la Ceinture et la Route," in text

    # into the installation glossary: the same entries come back
    imported = await c.post("/api/v1/glossary/import", json={"csv": text})
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"created": 3, "updated": 0, "unchanged": 0, "deleted": 0}
    mine = sorted((e["term"], e["language"], e["translations"], e["note"]) for e in
                  (await c.get(dialogue_url(cast))).json()["entries"])
    theirs = sorted((e["term"], e["language"], e["translations"], e["note"]) for e in
                    (await c.get("/api/v1/glossary")).json()["entries"])
    assert theirs == mine
    assert (await c.get("/api/v1/glossary/export")).text == text

    # importing again changes nothing; an edited list updates; replace removes the rest
    again = await c.post("/api/v1/glossary/import", json={"csv": text})
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3, "deleted": 0}
    edited = await c.post("/api/v1/glossary/import",
                          json={"csv": "UN75,*,zh=联合国75周年\nSDG,en,fr=ODD\n", "replace": True})
    assert edited.json() == {"created": 1, "updated": 1, "unchanged": 0, "deleted": 2}
    left = {e["term"]: e["translations"] for e in (await c.get("/api/v1/glossary")).json()["entries"]}
    assert left == {"UN75": {"zh": "联合国75周年"}, "SDG": {"fr": "ODD"}}


async def test_a_bad_csv_line_imports_nothing(cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.facilitator)
    bad = await c.post(dialogue_url(cast, "/import"), json={"csv": "UN75\nSDG,klingon,\nBelt and Road,en,fr\n"})
    assert bad.status_code == 422
    assert error(bad)["code"] == "invalid_csv"
    assert error(bad)["fields"] == {"line.2.language": "unknown_language", "line.3.translations": "syntax"}
    assert (await c.get(dialogue_url(cast))).json()["entries"] == []
    empty = await c.post(dialogue_url(cast, "/import"), json={"csv": "term,language,translations\n\n", "replace": True})
    assert empty.status_code == 422 and error(empty)["fields"] == {"csv": "required"}


# --- the effective glossary ----------------------------------------------------------------------


async def test_the_effective_glossary_merges_installation_and_dialogue(
    server: Server, cast: Cast, as_user: AsUser, clock: FakeClock
) -> None:
    organiser = await as_user(cast.organiser)
    await organiser.post("/api/v1/glossary", json={"term": "UN75", "language": "en", "translations": {"fr": "ONU75"}})
    await organiser.post("/api/v1/glossary", json=BELT)
    await organiser.post("/api/v1/glossary", json={"term": "Agenda 2030", "language": "en"})
    # the dialogue keeps "UN75" as it is, in every language
    await organiser.post(dialogue_url(cast), json={"term": "UN75", "language": "*"})

    listed = (await organiser.get(dialogue_url(cast))).json()
    installation = {e["term"]: e["id"] for e in listed["installation"]}
    assert listed["overridden"] == [installation["UN75"]]

    g = await server.glossary.effective(cast.dialogue.id)
    assert g.languages == ["en", "fr", "es"]
    assert g.protect("UN75", "en", "fr")[1] == {"ZXQ0Z": "UN75"}
    assert hotwords(g, "en").split(", ")[0] == "UN75"
    assert set(hotwords(g, "en").split(", ")) == {"UN75", "Agenda 2030", "Belt and Road"}

    mt = FakeMt(clock=clock, pairs=[("en", "fr"), ("en", "es"), ("fr", "en")])
    translator = Translator([mt], pivots=(), glossary=g)
    await translator.start()
    fr = await translator.translate(["UN75 backs the Belt and Road and Agenda 2030."], "en", "fr")
    assert fr.texts == ["[fr] UN75 backs the la Ceinture et la Route and Agenda 2030."]
    es = await translator.translate(["Belt and Road"], "en", "es")
    assert es.texts == ["[es] la Franja y la Ruta"]
    await translator.aclose()

    seen = (await organiser.get(dialogue_url(cast, "/effective"))).json()
    assert seen["languages"] == ["en", "fr", "es"]
    assert {"source": "en", "target": "fr", "term": "UN75", "rendering": "UN75"} in seen["pairs"]
    assert {"source": "fr", "target": "en", "term": "la Ceinture et la Route", "rendering": "Belt and Road"} \
        in seen["pairs"]
    assert seen["hotwords"]["fr"] == "UN75, la Ceinture et la Route"
    outsider = await as_user(cast.other_facilitator)
    assert (await outsider.get(dialogue_url(cast, "/effective"))).status_code == 404


async def test_deleting_a_dialogue_entry_brings_back_the_installation_one(
    server: Server, cast: Cast, as_user: AsUser
) -> None:
    organiser = await as_user(cast.organiser)
    await organiser.post("/api/v1/glossary", json={"term": "UN75", "language": "en", "translations": {"fr": "ONU75"}})
    own = (await organiser.post(dialogue_url(cast), json={"term": "UN75", "language": "en"})).json()
    assert (await server.glossary.effective(cast.dialogue.id)).protect("UN75", "en", "fr")[1] == {"ZXQ0Z": "UN75"}
    await organiser.delete(dialogue_url(cast, f"/{own['id']}"))
    assert (await server.glossary.effective(cast.dialogue.id)).protect("UN75", "en", "fr")[1] == {"ZXQ0Z": "ONU75"}
    # the listener languages can be wider than the dialogue's
    wider = await server.glossary.effective(cast.dialogue.id, languages=["en", "fr", "zh"])
    assert wider.languages == ["en", "fr", "zh"]


async def test_deleting_a_dialogue_deletes_its_glossary(server: Server, cast: Cast, as_user: AsUser) -> None:
    from sqlalchemy import delete, func, select

    from parley.storage.glossary_models import GlossaryEntry
    from parley.storage.models import Dialogue

    organiser = await as_user(cast.organiser)
    await organiser.post(dialogue_url(cast), json=BELT)
    await organiser.post("/api/v1/glossary", json=UN75)
    async with server.db.session() as s:
        await s.execute(delete(Dialogue).where(Dialogue.id == cast.dialogue.id))
    async with server.db.session() as s:
        left = (await s.execute(select(func.count()).select_from(GlossaryEntry))).scalar_one()
    assert left == 1


async def test_csv_export_cannot_carry_a_formula_and_still_round_trips(cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.organiser)
    body = {"term": "=cmd|' /C calc'!A0", "language": "en", "translations": {"fr": "=1+1"}, "note": "@SUM(A1)"}
    assert (await c.post(dialogue_url(cast), json=body)).status_code == 201
    text = (await c.get(dialogue_url(cast, "/export"))).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "'=cmd|' /C calc'!A0" and rows[1][3] == "'@SUM(A1)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert (await c.post("/api/v1/glossary/import", json={"csv": text})).json()["created"] == 1
    entry = (await c.get("/api/v1/glossary")).json()["entries"][0]
    assert (entry["term"], entry["note"], entry["translations"]) == (body["term"], body["note"], {"fr": "=1+1"})
