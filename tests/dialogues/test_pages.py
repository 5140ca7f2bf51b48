"""The server-rendered pages: forms that work without JavaScript, keep what was typed on
errors, and show each person only what they may see."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.handlers.dialogues import DialogueView
from parley.server import Server
from parley.storage.models import Role, User
from tests.conftest import csrf_from
from tests.dialogues.conftest import ChannelSpy, People, future_start
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]
MakeDialogue = Callable[..., Awaitable[DialogueView]]
HTML = {"Accept": "text/html"}


def text_of(page: httpx.Response) -> str:
    """The visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def registration_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "display_name": "Kwame Mensah",
        "email": "kwame@example.org",
        "preferred_language": "fr",
        "country": "GH",
        "age_group": "35-44",
        "gender": "man",
        "education": "vocational",
        "consent_participate": "1",
        "consent_transcript": "1",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v != ""}


# --- the public listing and a dialogue's page --------------------------------------------------


async def test_the_listing_keeps_its_filters_in_the_url(client: httpx.AsyncClient, make_dialogue: MakeDialogue) -> None:
    for n in range(23):
        await make_dialogue(title=f"Dialogue {n:02}", languages=["fr"], country="SN")
    await make_dialogue(title="Not in French", languages=["en"], country="GB")
    await make_dialogue("ended", country="SN", languages=["fr"])
    page = await client.get("/dialogues", params={"language": "fr", "country": "SN"}, headers=HTML)
    assert page.status_code == 200
    text = text_of(page)
    assert "23 dialogues found" in text and "Not in French" not in text
    assert 'href="/dialogues?language=fr&amp;country=SN&amp;page=2"' in page.text
    assert '<option value="SN" selected>' in page.text
    assert "Dialogues held per country" in text and 'data-country="SN"' in page.text
    second = await client.get("/dialogues?language=fr&country=SN&page=2", headers=HTML)
    assert second.text.count('<li class="card"') == 3  # 20 a page


async def test_bad_filters_show_a_message_not_a_crash(client: httpx.AsyncClient) -> None:
    page = await client.get("/dialogues", params={"date_from": "yesterday", "country": "QQ"}, headers=HTML)
    assert page.status_code == 422
    text = text_of(page)
    assert "Use a date like 2026-06-30." in text and "Choose a country from the list." in text


async def test_the_dialogue_page_shows_places_and_times_in_both_zones(
    server: Server, client: httpx.AsyncClient, make_dialogue: MakeDialogue, people: People, as_user: AsUser
) -> None:
    d = await make_dialogue(capacity=3, starts_at="2026-06-20T18:00", time_zone="Europe/Paris")
    page = await client.get(f"/dialogues/{d.id}", headers=HTML)
    text = text_of(page)
    assert "3 places left" in text and "Register" in text
    assert re.search(r'<span class="hint"><meter[^>]*></meter>\s*0 of 3 places taken</span>', page.text)  # no "( "
    assert "6:00 PM (Europe/Paris)" in text
    assert 'datetime="2026-06-20T16:00:00+00:00"' in page.text
    assert "What future do we want to create?" in text
    assert "For the organisers" not in text
    # A viewer with their own time zone also sees the time there.
    async with server.db.session() as s:
        row = await s.get(User, people.participant.id)
        assert row is not None
        row.time_zone = "Asia/Tokyo"
    tokyo = await as_user(people.participant)
    assert "Your time: Jun 21, 2026, 1:00 AM (Asia/Tokyo)" in text_of(await tokyo.get(f"/dialogues/{d.id}"))
    # ... but not the same time twice where their zone reads as the dialogue's (Berlin, Paris).
    async with server.db.session() as s:
        row = await s.get(User, people.participant.id)
        assert row is not None
        row.time_zone = "Europe/Berlin"
    assert "Your time" not in text_of(await tokyo.get(f"/dialogues/{d.id}"))
    french = await client.get(f"/dialogues/{d.id}", headers={**HTML, "Accept-Language": "fr"})
    assert 'lang="fr"' in french.text and "français" in text_of(french)


async def test_a_language_s_name_is_marked_in_the_page_s_language_not_in_the_one_it_names(
    client: httpx.AsyncClient, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue()
    page = await client.get(f"/dialogues/{d.id}", headers={**HTML, "Accept-Language": "ar"})
    assert "الإنجليزية" in page.text
    # "الإنجليزية" marked lang="en" would be read aloud by an English voice.
    assert not re.search(r'lang="(en|fr)"[^>]*>[^<]*</span>', page.text)


async def test_drafts_and_invite_only_pages_are_hidden(client: httpx.AsyncClient, make_dialogue: MakeDialogue) -> None:
    draft = await make_dialogue("draft")
    assert (await client.get(f"/dialogues/{draft.id}", headers=HTML)).status_code == 404
    invite = await make_dialogue("scheduled", visibility="invite_only")
    assert (await client.get(f"/dialogues/{invite.id}", headers=HTML)).status_code == 404
    shown = await client.get(f"/dialogues/{invite.id}?code={invite.invite_code}", headers=HTML)
    assert shown.status_code == 200
    assert f'href="/dialogues/{invite.id}/register?code={invite.invite_code}"' in shown.text


# --- creating and running a dialogue -----------------------------------------------------------


async def test_creating_a_dialogue_through_the_form(server: Server, people: People, as_user: AsUser) -> None:
    organiser = await as_user(people.organiser)
    form_page = await organiser.get("/dialogues/new")
    assert form_page.status_code == 200
    assert "What future do we want to create?" in form_page.text
    csrf = csrf_from(form_page.text)
    del organiser.headers["X-CSRF-Token"]  # the form field carries it, as in a browser
    fields: dict[str, Any] = {
        "csrf_token": csrf,
        "title": "A",
        "description": "Typed text stays",
        "questions": "What worries you?\nWhat gives you hope?",
        "starts_at": future_start(server),
        "time_zone": "Asia/Manila",
        "duration_minutes": "90",
        "capacity": "1",
        "languages": ["en", "fr"],
        "languages_other": "tl",
        "country": "PH",
        "facilitator_id": str(people.facilitator.id),
        "interpreter_user": [str(people.interpreter.id), ""],
        "interpreter_language": ["fr", ""],
        "visibility": "invite_only",
    }
    failed = await organiser.post("/dialogues/new", data=fields)
    assert failed.status_code == 422
    text = text_of(failed)
    assert "Use 3 to 200 characters." in text and "Choose between 2 and 500 places." in text
    assert "Typed text stays" in failed.text and "What gives you hope?" in failed.text
    assert 'value="tl"' in failed.text and 'value="invite_only" checked' in failed.text
    assert f'<option value="{people.interpreter.id}" selected>' in failed.text
    # The interpreter's language is chosen by name, the dialogue's other languages offered too.
    assert '<option value="fr" selected>French</option>' in failed.text
    assert '<option value="tl">Tagalog</option>' in failed.text

    fields.update(title="Youth voices in Manila", capacity="15")
    created = await organiser.post("/dialogues/new", data=fields)
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/dialogues/\d+\?done=created", location)
    page = await organiser.get(location)
    text = text_of(page)
    assert "Youth voices in Manila" in text and "Draft" in text and "Tagalog" in text
    assert "French: Ines Interpreter" in text
    assert "The dialogue was created as a draft." in text


async def test_editing_keeps_values_and_the_buttons_run_the_dialogue(
    server: Server, people: People, as_user: AsUser, make_dialogue: MakeDialogue, clock: FakeClock
) -> None:
    d = await make_dialogue("draft", starts_at="2026-06-20T09:30", time_zone="Africa/Lagos")
    organiser = await as_user(people.organiser)
    edit = await organiser.get(f"/dialogues/{d.id}/edit")
    assert 'value="2026-06-20T09:30"' in edit.text and 'value="Africa/Lagos"' in edit.text
    saved = await organiser.post(
        f"/dialogues/{d.id}/edit",
        data={
            "title": "Renamed",
            "questions": "One?",
            "starts_at": "2026-06-20T09:30",
            "time_zone": "Africa/Lagos",
            "duration_minutes": "60",
            "capacity": "8",
            "languages": ["en", "fr"],
            "country": "NG",
            "facilitator_id": str(people.facilitator.id),
            "visibility": "public",
        },
    )
    assert saved.status_code == 303
    assert (await server.dialogues.get(people.organiser, d.id)).title == "Renamed"

    assert (await organiser.post(f"/dialogues/{d.id}/publish")).status_code == 303
    facilitator = await as_user(people.facilitator)
    page = await facilitator.get(f"/dialogues/{d.id}")
    # The facilitator's page leads to the meeting lobby (its Start opens the meeting): no
    # Register, and no separate "start the dialogue" beside it.
    assert 'id="open-meeting"' in page.text and "You facilitate this dialogue" in page.text
    assert 'data-action="start"' not in page.text and 'data-action="publish"' not in page.text
    assert f'href="/dialogues/{d.id}/register"' not in page.text
    assert f'href="/dialogues/{d.id}/edit"' not in page.text
    assert (await facilitator.post(f"/dialogues/{d.id}/start")).status_code == 303
    refused = await facilitator.post(f"/dialogues/{d.id}/start", headers=HTML)
    assert refused.status_code == 409 and 'data-code="invalid_transition"' in refused.text
    forbidden = await facilitator.post(f"/dialogues/{d.id}/edit", data={"title": "x"}, headers=HTML)
    assert forbidden.status_code == 403


async def test_publishing_a_past_dialogue_explains_why(
    server: Server, people: People, as_user: AsUser, make_dialogue: MakeDialogue, clock: FakeClock
) -> None:
    d = await make_dialogue("draft", starts_at=future_start(server, days=1))
    clock.advance(5 * 86400)
    organiser = await as_user(people.organiser)
    page = await organiser.post(f"/dialogues/{d.id}/publish", headers=HTML)
    assert page.status_code == 422
    assert "The start time has passed" in text_of(page)


async def test_who_may_open_the_organiser_pages(
    client: httpx.AsyncClient, people: People, as_user: AsUser, make_dialogue: MakeDialogue
) -> None:
    to_login = await client.get("/dialogues/new", headers=HTML)
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/login?next=")
    assert (await client.get("/organise", headers=HTML)).status_code == 303
    participant = await as_user(people.participant)
    assert (await participant.get("/dialogues/new", headers=HTML)).status_code == 403
    assert (await participant.get("/organise", headers=HTML)).status_code == 403
    d = await make_dialogue()
    other = await as_user(people.other_organiser)
    assert (await other.get(f"/dialogues/{d.id}/edit", headers=HTML)).status_code == 403


async def test_the_overview_page(
    people: People, as_user: AsUser, make_dialogue: MakeDialogue, clock: FakeClock
) -> None:
    late = await make_dialogue("ended", title="Late report")
    clock.advance(9 * 86400)
    await make_dialogue("ended", title="Fresh")
    await make_dialogue("report_submitted")
    await make_dialogue("scheduled", title="Soon", starts_at=clock.now().strftime("%Y-%m-%dT23:00"))
    organiser = await as_user(people.organiser)
    page = await organiser.get("/organise")
    text = text_of(page)
    assert "1 of 3 ended dialogues have a report — 33%" in text
    assert text.index("Late report") < text.index("Fresh")
    assert f'<tr data-dialogue="{late.id}" class="overdue">' in page.text
    assert "Coming up this week" in text and "Soon" in text
    assert "0 of 12 places taken" in text


# --- registering ---------------------------------------------------------------------------------


async def test_registering_through_the_form_and_coming_back_by_link(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue()
    form = await client.get(f"/dialogues/{d.id}/register", headers=HTML)
    assert form.status_code == 200
    csrf = csrf_from(form.text)
    missing = await client.post(f"/dialogues/{d.id}/register", data=registration_form(csrf, consent_participate=""))
    assert missing.status_code == 422
    assert "You need to agree to take part to register." in text_of(missing)
    assert 'value="Kwame Mensah"' in missing.text and 'value="kwame@example.org"' in missing.text
    assert 'value="35-44" checked' in missing.text and 'value="vocational" checked' in missing.text

    done = await client.post(f"/dialogues/{d.id}/register", data=registration_form(csrf))
    assert done.status_code == 201
    # Age groups and education levels are the survey's, in its translations.
    french = text_of(await make_client().get(f"/dialogues/{d.id}/register", headers={**HTML, "Accept-Language": "fr"}))
    assert "25 à 34 ans" in french and "Formation professionnelle ou technique" in french
    assert "Je préfère ne pas répondre" in french
    link = re.search(r'id="personal-link" class="secret" readonly value="([^"]+)"', done.text)
    assert link and "/p/" in link.group(1)
    assert done.headers["cache-control"] == "no-store"
    mine = await client.get("/my/dialogues")
    assert d.title in text_of(mine) and "Your personal link" in text_of(mine)

    phone = make_client()
    landed = await phone.get(link.group(1).removeprefix("http://testserver"), follow_redirects=True)
    assert landed.status_code == 200 and str(landed.url).endswith("/my/dialogues")
    assert d.title in text_of(landed)
    bad = await make_client().get("/p/not-a-real-token", headers=HTML)
    assert bad.status_code == 401 and "This personal link is not valid any more." in text_of(bad)


async def test_a_known_email_registers_like_a_new_one_and_a_full_dialogue_is_explained(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue(capacity=2)
    first = make_client()
    csrf = csrf_from((await first.get(f"/dialogues/{d.id}/register")).text)
    assert (await first.post(f"/dialogues/{d.id}/register", data=registration_form(csrf))).status_code == 201

    csrf = csrf_from((await client.get(f"/dialogues/{d.id}/register")).text)
    known = await client.post(f"/dialogues/{d.id}/register", data=registration_form(csrf))
    assert known.status_code == 201 and "Your personal link" in text_of(known)  # as for a new address
    third = make_client()
    page = await third.get(f"/dialogues/{d.id}/register")
    assert "This dialogue is full." in text_of(page)
    full = await third.post(
        f"/dialogues/{d.id}/register", data=registration_form(csrf_from(page.text), email="late@example.org")
    )
    assert full.status_code == 409 and 'data-code="dialogue_full"' in full.text


async def test_invite_only_registration_through_the_link(
    client: httpx.AsyncClient, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue(visibility="invite_only")
    assert (await client.get(f"/dialogues/{d.id}/register", headers=HTML)).status_code == 404
    page = await client.get(f"/dialogues/{d.id}/register?code={d.invite_code}")
    assert f'name="code" value="{d.invite_code}"' in page.text
    data = registration_form(csrf_from(page.text), code=d.invite_code or "")
    assert (await client.post(f"/dialogues/{d.id}/register", data=data)).status_code == 201
    # Registered people see the dialogue without the code from then on.
    assert (await client.get(f"/dialogues/{d.id}")).status_code == 200


async def test_my_data_page_consent_withdraw_and_delete(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    a = await make_dialogue(title="First dialogue")
    b = await make_dialogue(title="Second dialogue")
    csrf = csrf_from((await client.get(f"/dialogues/{a.id}/register")).text)
    done = await client.post(f"/dialogues/{a.id}/register", data=registration_form(csrf))
    link = re.search(r'id="personal-link" class="secret" readonly value="http://testserver([^"]+)"', done.text)
    assert link
    page = await client.get(f"/dialogues/{b.id}/register")
    assert "You are registering as Kwame Mensah" in text_of(page)
    csrf = csrf_from(page.text)
    assert (
        await client.post(
            f"/dialogues/{b.id}/register",
            data=registration_form(csrf, display_name="", email="", preferred_language="en"),
        )
    ).status_code == 201

    data_page = await client.get("/my/data")
    text = text_of(data_page)
    assert "kwame@example.org" in text and "35 to 44" in text and "Ghana" in text
    assert "Vocational or technical training" in text
    assert text.count("A written transcript of what I say may be kept.") == 2
    download = await client.get("/my/data.json")
    assert download.headers["content-disposition"].startswith("attachment")
    assert [r["dialogue_title"] for r in download.json()["registrations"]] == ["First dialogue", "Second dialogue"]

    saved = await client.post(f"/my/registrations/{a.id}/consent", data={"csrf_token": csrf, "consent_quotes": "1"})
    assert saved.status_code == 303 and saved.headers["location"] == "/my/data?done=consent"
    consent = (await client.get("/my/data.json")).json()["registrations"][0]["consent"]
    assert consent == {"participate": True, "transcript": False, "quotes": True}

    left = await client.post(f"/my/registrations/{a.id}/withdraw", data={"csrf_token": csrf})
    assert left.status_code == 303
    assert "First dialogue" not in text_of(await client.get("/my/dialogues"))

    unconfirmed = await client.post("/my/data/delete", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422 and "Tick the box to confirm." in text_of(unconfirmed)
    deleted = await client.post("/my/data/delete", data={"csrf_token": csrf, "confirm": "yes"})
    assert deleted.status_code == 200 and "your personal link no longer works" in text_of(deleted)
    assert (await client.get("/my/data", headers=HTML)).status_code == 303
    assert (await make_client().get(link.group(1), headers=HTML)).status_code == 401


async def test_a_returning_participant_finds_their_answers_filled_in_but_not_their_consents(
    client: httpx.AsyncClient, make_dialogue: MakeDialogue
) -> None:
    first = await make_dialogue(title="First dialogue")
    second = await make_dialogue(title="Second dialogue", languages=["fr", "ar"])
    csrf = csrf_from((await client.get(f"/dialogues/{first.id}/register")).text)
    assert (await client.post(f"/dialogues/{first.id}/register", data=registration_form(csrf))).status_code == 201

    page = (await client.get(f"/dialogues/{second.id}/register", headers=HTML)).text
    assert '<option value="fr" lang="fr" selected>' in page
    assert '<option value="GH" selected>' in page
    for name, value in (("age_group", "35-44"), ("gender", "man"), ("education", "vocational")):
        assert re.search(rf'name="{name}" value="{value}"[^>]*checked', page), name
    assert not re.search(r'name="consent_(participate|transcript|quotes)"[^>]*checked', page)


async def test_a_newcomer_s_language_follows_the_page(
    client: httpx.AsyncClient, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue(languages=["en", "fr"])
    page = await client.get(f"/dialogues/{d.id}/register", headers={**HTML, "Accept-Language": "fr"})
    assert '<option value="fr" lang="fr" selected>' in page.text


async def test_the_new_dialogue_form_invites_a_facilitator_by_email(
    server: Server, people: People, as_user: AsUser
) -> None:
    organiser = await as_user(people.organiser)
    csrf = csrf_from((await organiser.get("/dialogues/new")).text)
    del organiser.headers["X-CSRF-Token"]
    fields: dict[str, Any] = {
        "csrf_token": csrf, "title": "Voices of Lagos", "questions": "What worries you?",
        "starts_at": future_start(server), "time_zone": "Africa/Lagos",
        "duration_minutes": "90", "capacity": "20", "languages": ["en", "fr"], "country": "NG",
        "visibility": "public", "facilitator_id": str(people.facilitator.id), "facilitator_email": "ngozi@example",
    }
    both = await organiser.post("/dialogues/new", data=fields, headers=HTML)
    assert both.status_code == 422 and "not both" in text_of(both)
    fields["facilitator_id"] = ""
    bad = await organiser.post("/dialogues/new", data=fields, headers=HTML)
    assert bad.status_code == 422 and "Enter a valid email address." in text_of(bad)
    assert 'value="ngozi@example"' in bad.text

    fields["facilitator_email"] = "ngozi@example.org"
    created = await organiser.post("/dialogues/new", data=fields, headers=HTML)
    assert created.status_code == 201, re.findall(r"field-error[^>]*>([^<]*)", created.text)
    link = re.search(r'id="invite-link" type="text" readonly value="[^"]*(/invite/[^"]+)"', created.text)
    assert link and "ngozi@example.org" in created.text
    invitations = await server.accounts.invitations(people.organiser)
    (pending,) = [v for v in invitations if v.invitation.email == "ngozi@example.org"]
    assert pending.invitation.role.value == "facilitator" and pending.dialogue_title == "Voices of Lagos"
    listing = await organiser.get("/invitations", headers=HTML)
    assert f'href="/dialogues/{pending.invitation.dialogue_id}">Voices of Lagos</a>' in listing.text
    assert re.search(rf'<option value="{pending.invitation.dialogue_id}"[^>]*>Voices of Lagos</option>', listing.text)


async def accept_by_signing_up(make_client: Callable[[], httpx.AsyncClient], token: str, name: str) -> tuple[
        httpx.AsyncClient, httpx.Response]:
    """A newcomer opens the link and creates their account; the page they land on."""
    person = make_client()
    csrf = csrf_from((await person.get(f"/invite/{token}", headers=HTML)).text)
    done = await person.post(f"/invite/{token}", data={
        "csrf_token": csrf, "display_name": name, "password": "a long staff password",
        "password_confirm": "a long staff password"})
    assert done.status_code == 303
    return person, done


async def test_an_interpreter_invited_into_a_language_lands_on_the_dialogue_as_its_interpreter(
    server: Server, people: People, channels: ChannelSpy, make_client: Callable[[], httpx.AsyncClient],
    make_dialogue: MakeDialogue,
) -> None:
    d = await make_dialogue(title="Voices of Dakar")
    new = await server.accounts.invite(people.organiser, email="ibou@example.org", role=Role.INTERPRETER,
                                       dialogue_id=d.id, language="fr")
    opened = await make_client().get(f"/invite/{new.token}", headers=HTML)
    assert "It is for interpreting the dialogue “Voices of Dakar” into French." in text_of(opened)
    ibou, done = await accept_by_signing_up(make_client, new.token, "Ibou Interpreter")
    assert done.headers["location"] == f"/dialogues/{d.id}?done=invitation"
    page = await ibou.get(done.headers["location"], headers=HTML)
    text = text_of(page)
    assert "You interpret this dialogue" in text and "You interpret into French" in text
    assert 'id="staff-pending"' not in page.text and f'href="/dialogues/{d.id}/register"' not in page.text
    assert f'href="/dialogues/{d.id}/meeting"' in page.text  # the next step: the meeting lobby
    view = await server.dialogues.get(people.organiser, d.id)
    (listed,) = view.interpreters
    assert (listed.display_name, listed.language) == ("Ibou Interpreter", "fr")
    last = channels.last_for(d.id)  # the staff channel now holds the interpreter too
    assert last is not None and listed.user_id in last[2]


async def test_an_interpreter_is_invited_into_one_of_the_dialogues_languages(
    server: Server, people: People, as_user: AsUser, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue(title="Voices of Dakar")  # English and French
    organiser = await as_user(people.organiser)
    form = await organiser.get(f"/invitations?dialogue={d.id}&role=interpreter", headers=HTML)
    options = re.findall(r'<select id="f-language".*?</select>', form.text, re.S)[0]
    assert re.findall(r'<option value="(\w+)"', options) == ["en", "fr"]  # only this dialogue's
    csrf = csrf_from(form.text)
    base = {"csrf_token": csrf, "email": "ibou@example.org", "role": "interpreter", "dialogue_id": str(d.id)}
    missing = await organiser.post("/invitations", data=base, headers=HTML)
    assert missing.status_code == 422 and "Choose the language this interpreter interprets into." in text_of(missing)
    other = await organiser.post("/invitations", data={**base, "language": "ar"}, headers=HTML)
    assert other.status_code == 422 and "Choose one of the dialogue's languages." in text_of(other)
    made = await organiser.post("/invitations", data={**base, "language": "fr"}, headers=HTML)
    assert made.status_code == 201
    assert re.search(r'Voices of Dakar</a> <span class="hint">\(into French\)</span>', made.text)
    # A facilitator's invitation carries no language, whatever the hidden field held.
    fac = await organiser.post("/invitations", data={**base, "email": "f@example.org", "role": "facilitator",
                                                     "language": "fr"}, headers=HTML)
    assert fac.status_code == 201
    pending = {v.invitation.email: v.invitation.language for v in await server.accounts.invitations(people.organiser)}
    assert pending == {"ibou@example.org": "fr", "f@example.org": None}


def chosen(html: str, select_id: str) -> str | None:
    """The value a form's select shows (the first option when none is selected), None without it."""
    select = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
    if select is None:
        return None
    picked = re.search(r'<option value="([^"]*)"[^>]* selected', select.group(0))
    first = re.search(r'<option value="([^"]*)"', select.group(0))
    return picked.group(1) if picked else (first.group(1) if first else None)


async def test_the_invitation_form_keeps_the_role_dialogue_and_language_for_the_next_person(
    people: People, as_user: AsUser, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue(title="Voices of Dakar")
    organiser = await as_user(people.organiser)
    form = await organiser.get("/invitations", headers=HTML)
    data = {"csrf_token": csrf_from(form.text), "email": "ibou@example.org", "role": "interpreter",
            "dialogue_id": str(d.id), "language": "fr"}
    made = await organiser.post("/invitations", data=data, headers=HTML)
    assert made.status_code == 201
    # The next interpreter into French for the same dialogue needs only an email.
    assert (chosen(made.text, "f-role"), chosen(made.text, "f-dialogue_id"), chosen(made.text, "f-language")) == (
        "interpreter", str(d.id), "fr")
    assert re.search(r'<input id="f-email"[^>]*value=""', made.text)
    fac = await organiser.post("/invitations", data={**data, "email": "f@example.org", "role": "facilitator"},
                               headers=HTML)
    assert fac.status_code == 201
    assert (chosen(fac.text, "f-role"), chosen(fac.text, "f-dialogue_id"), chosen(fac.text, "f-language")) == (
        "facilitator", str(d.id), "")


async def test_a_second_facilitator_invited_to_a_dialogue_lands_on_it_and_is_told_who_acts_next(
    server: Server, people: People, make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue(title="Voices of Dakar")  # it already has its facilitator
    new = await server.accounts.invite(people.organiser, email="bintou@example.org", role=Role.FACILITATOR,
                                       dialogue_id=d.id)
    bintou, done = await accept_by_signing_up(make_client, new.token, "Bintou Facilitator")
    assert done.headers["location"] == f"/dialogues/{d.id}?done=invitation"
    page = await bintou.get(done.headers["location"], headers=HTML)
    assert 'id="staff-pending"' in page.text and "Voices of Dakar" in page.text
    assert f'href="/dialogues/{d.id}/register"' not in page.text


async def test_the_registration_list_page(
    client: httpx.AsyncClient,
    people: People,
    as_user: AsUser,
    make_dialogue: MakeDialogue,
    make_client: Callable[[], httpx.AsyncClient],
) -> None:
    d = await make_dialogue()
    csrf = csrf_from((await client.get(f"/dialogues/{d.id}/register")).text)
    await client.post(f"/dialogues/{d.id}/register", data=registration_form(csrf))
    organiser = await as_user(people.organiser)
    page = await organiser.get(f"/dialogues/{d.id}/registrations")
    text = text_of(page)
    assert "1 person registered of 12 places" in text and "kwame@example.org" in text and "Ghana" in text
    facilitator = await as_user(people.facilitator)
    aggregated = text_of(await facilitator.get(f"/dialogues/{d.id}/registrations"))
    assert "35 to 44" in aggregated and "kwame@example.org" not in aggregated and "Kwame" not in aggregated
    assert "Vocational or technical training" in aggregated
    participant = await as_user(people.participant)
    assert (await participant.get(f"/dialogues/{d.id}/registrations", headers=HTML)).status_code == 403
    anonymous = make_client()
    assert (await anonymous.get(f"/dialogues/{d.id}/registrations", headers=HTML)).status_code == 303


async def test_forms_without_a_csrf_token_are_refused(client: httpx.AsyncClient, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue()
    await client.get(f"/dialogues/{d.id}/register")
    response = await client.post(f"/dialogues/{d.id}/register", data=registration_form(""))
    assert response.status_code == 403
