"""The glossary pages: reading, adding, editing, removing and pasting terms through plain
forms, with errors shown next to the fields, and the links that lead there."""

from __future__ import annotations

import httpx
import pytest

from parley.handlers.dialogues import Action
from parley.handlers.glossary import EntryInput
from parley.server import Server
from tests.glossary.conftest import AsUser, Cast

pytestmark = pytest.mark.integration

HTML = {"accept": "text/html"}


async def test_an_organiser_adds_edits_and_removes_a_term(server: Server, cast: Cast, as_user: AsUser) -> None:
    c = await as_user(cast.organiser)
    page = await c.get("/organise/glossary", headers=HTML)
    assert page.status_code == 200 and "Installation glossary" in page.text and 'name="term"' in page.text
    assert "No terms yet." in page.text

    added = await c.post("/organise/glossary", data={
        "term": "Belt and Road", "language": "en",
        "translations": "fr=la Ceinture et la Route\nes=la Franja y la Ruta", "note": "",
    })
    assert added.status_code == 303 and added.headers["location"] == "/organise/glossary?done=added"
    page = await c.get(added.headers["location"], headers=HTML)
    assert "The term was added." in page.text and "la Ceinture et la Route" in page.text
    entry = (await server.glossary.listing(cast.organiser)).entries[0]
    assert entry.translations == {"fr": "la Ceinture et la Route", "es": "la Franja y la Ruta"}

    edit = await c.get(f"/organise/glossary/{entry.id}/edit", headers=HTML)
    assert edit.status_code == 200 and "es=la Franja y la Ruta\nfr=la Ceinture et la Route" in edit.text
    saved = await c.post(f"/organise/glossary/{entry.id}/edit", data={
        "term": "Belt and Road", "language": "en", "translations": "fr=les Nouvelles Routes de la soie", "note": "BRI",
    })
    assert saved.status_code == 303
    entry = (await server.glossary.listing(cast.organiser)).entries[0]
    assert entry.translations == {"fr": "les Nouvelles Routes de la soie"} and entry.note == "BRI"

    removed = await c.post(f"/organise/glossary/{entry.id}/delete")
    assert removed.status_code == 303 and removed.headers["location"].endswith("done=deleted")
    assert (await server.glossary.listing(cast.organiser)).entries == []


async def test_form_errors_are_shown_next_to_the_fields(server: Server, cast: Cast, as_user: AsUser) -> None:
    await server.glossary.create(cast.organiser, None, EntryInput(term="UN75"))
    c = await as_user(cast.organiser)
    bad = await c.post("/organise/glossary", data={"term": "un75", "language": "*", "translations": "", "note": ""},
                       headers=HTML)
    assert bad.status_code == 409
    assert "This term is already in the glossary for that language." in bad.text
    assert 'value="un75"' in bad.text  # what was typed is kept
    bad = await c.post("/organise/glossary", data={"term": "Amazonia", "language": "qq", "translations": "fr",
                                                   "note": ""}, headers=HTML)
    assert bad.status_code == 422
    assert 'data-field="language"' in bad.text and 'data-field="translations"' in bad.text
    assert "Write each translation as language=text" in bad.text


async def test_pasting_a_list_imports_it_or_says_which_lines_are_wrong(
    server: Server, cast: Cast, as_user: AsUser
) -> None:
    c = await as_user(cast.facilitator)
    base = f"/dialogues/{cast.dialogue.id}/glossary"
    bad = await c.post(f"{base}/import", data={"csv": "UN75\nSDG,klingon,\n"}, headers=HTML)
    assert bad.status_code == 422 and "Nothing was imported." in bad.text
    assert "Line 2: Use a language code such as en, fr or pt-BR" in bad.text
    assert (await server.glossary.listing(cast.facilitator, cast.dialogue.id)).entries == []

    good = await c.post(f"{base}/import", data={"csv": "UN75\nSDG,en,fr=ODD\n"}, headers=HTML)
    assert good.status_code == 200
    assert "Imported: 2 new, 0 updated, 0 unchanged, 0 removed." in good.text
    exported = await c.get(f"{base}/export.csv")
    assert exported.status_code == 200
    assert exported.text == "term,language,translations,note\nSDG,en,fr=ODD,\nUN75,*,,\n"


async def test_a_dialogue_glossary_shows_the_installation_terms(server: Server, cast: Cast, as_user: AsUser) -> None:
    await server.glossary.create(cast.admin, None, EntryInput(term="UN75", language="en", translations={"fr": "ONU75"}))
    await server.glossary.create(cast.admin, None, EntryInput(term="Agenda 2030"))
    await server.glossary.create(cast.organiser, cast.dialogue.id, EntryInput(term="UN75"))
    c = await as_user(cast.facilitator)
    page = await c.get(f"/dialogues/{cast.dialogue.id}/glossary", headers=HTML)
    assert page.status_code == 200
    assert "Glossary: Connectivity for all" in page.text and "From the installation glossary" in page.text
    assert page.text.count("Replaced by this dialogue&#39;s entry") == 1
    assert f'action="/dialogues/{cast.dialogue.id}/glossary"' in page.text


async def test_readers_get_no_forms(server: Server, cast: Cast, as_user: AsUser) -> None:
    entry = await server.glossary.create(cast.admin, None, EntryInput(term="UN75"))
    c = await as_user(cast.interpreter)
    page = await c.get("/organise/glossary", headers=HTML)
    assert page.status_code == 200 and "UN75" in page.text and 'name="term"' not in page.text
    edit = await c.get(f"/organise/glossary/{entry.id}/edit", headers=HTML)
    assert edit.status_code == 200 and "<form method=\"post\" action=\"/organise/glossary/" not in edit.text
    refused = await c.post(f"/organise/glossary/{entry.id}/delete", headers=HTML)
    assert refused.status_code == 403
    dialogue_page = await c.get(f"/dialogues/{cast.dialogue.id}/glossary", headers=HTML)
    assert dialogue_page.status_code == 200 and 'name="term"' not in dialogue_page.text


async def test_people_who_are_not_staff_are_turned_away(
    server: Server, cast: Cast, as_user: AsUser, client: httpx.AsyncClient
) -> None:
    anonymous = await client.get("/organise/glossary", headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    participant = await as_user(cast.participant)
    assert (await participant.get("/organise/glossary", headers=HTML)).status_code == 403


async def test_the_dialogue_page_links_its_staff_to_the_glossary(server: Server, cast: Cast, as_user: AsUser) -> None:
    await server.dialogues.transition(cast.organiser, cast.dialogue.id, Action.PUBLISH)
    link = f'href="/dialogues/{cast.dialogue.id}/glossary"'
    for staff in (cast.organiser, cast.facilitator, cast.interpreter, cast.other_organiser):
        c = await as_user(staff)
        assert link in (await c.get(f"/dialogues/{cast.dialogue.id}", headers=HTML)).text, staff.display_name
    for other in (cast.participant, cast.other_facilitator):
        c = await as_user(other)
        assert link not in (await c.get(f"/dialogues/{cast.dialogue.id}", headers=HTML)).text
    overview = await (await as_user(cast.facilitator)).get("/organise", headers=HTML)
    assert 'href="/organise/glossary"' in overview.text


@pytest.mark.parametrize(("locale", "title"), [("fr", "Glossaire de l&#39;installation"), ("ar", "مسرد المنصة"),
                                               ("zh", "全站术语表")])
async def test_the_page_speaks_the_reader_language(
    server: Server, cast: Cast, as_user: AsUser, locale: str, title: str
) -> None:
    await server.glossary.create(cast.admin, None, EntryInput(term="Belt and Road", language="en",
                                                              translations={"fr": "la Ceinture et la Route"}))
    c = await as_user(cast.organiser)
    page = await c.get(f"/organise/glossary?lang={locale}", headers=HTML)
    assert page.status_code == 200 and title in page.text and f'lang="{locale}"' in page.text
