"""Reading, translating, downloading and deleting a dialogue's transcript: who may do what,
consent at read time, translations that are never made up, file headers, both databases."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from parley.errors import EngineError, Forbidden, InvalidInput, NotFound
from parley.handlers.transcript_formats import TranslationStatus
from parley.handlers.transcripts import TranscriptView
from parley.server import Server
from parley.storage.analysis_models import Report, ReportQuote
from parley.storage.models import User
from parley.storage.stores import transcripts as store
from tests.analysis.helpers import Cast, client_for, ended_dialogue, register
from tests.fakes.engines import FakeMt
from tests.transcripts.conftest import Scene, install, line, prepare

URL = "/api/v1/dialogues/{}/transcript"


async def texts(server: Server, dialogue_id: int) -> list[str]:
    async with server.db.session() as s:
        return [seg.text for seg in await store.for_dialogue(s, dialogue_id)]


# --- who reads what ------------------------------------------------------------------------------


async def test_those_who_run_the_dialogue_read_it_with_names_without_withheld_lines(
        server: Server, cast: Cast, scene: Scene) -> None:
    install(server, None)
    for reader in (cast.facilitator, cast.organiser, cast.admin):
        view = await server.transcripts.get(reader, scene.dialogue)
        assert [line.id for line in view.lines] == [scene.fr, scene.en, scene.ru, scene.facilitator]
        assert [line.speaker for line in view.lines] == [
            "Participant 0", "Participant 1", "Participant 3", "Fatou Facilitator"]
        assert view.permissions.can_delete and view.language is None
        assert all(line.translation is None for line in view.lines)


async def test_other_organisers_read_it_only_as_observers_with_participants_as_numbers(
        server: Server, cast: Cast, scene: Scene) -> None:
    install(server, None)
    with pytest.raises(Forbidden):  # organising the campaign is not enough
        await server.transcripts.get(cast.other_organiser, scene.dialogue)
    await server.observers.grant(cast.admin, scene.dialogue, cast.other_organiser.id)
    view = await server.transcripts.get(cast.other_organiser, scene.dialogue)
    assert [line.speaker for line in view.lines] == ["#1", "#2", "#3", "Fatou Facilitator"]
    assert not view.permissions.can_delete and not view.permissions.names


async def test_a_participant_reads_only_their_own_lines(server: Server, cast: Cast, scene: Scene) -> None:
    install(server, None)
    fr, _, withheld, _ = cast.participants
    with pytest.raises(Forbidden) as exc:
        await server.transcripts.get(fr, scene.dialogue)
    assert exc.value.code == "transcript_not_allowed"
    mine = await server.transcripts.get(fr, scene.dialogue, scope="mine")
    assert [line.id for line in mine.lines] == [scene.fr] and mine.lines[0].speaker == "Participant 0"
    # Without consent the line is out of the transcript, but its speaker still sees (and can delete) it.
    theirs = await server.transcripts.get(withheld, scene.dialogue, scope="mine")
    assert [line.text for line in theirs.lines] == ["Something nobody may keep."]
    # The page's default: the whole transcript when allowed, else one's own lines.
    assert (await server.transcripts.get(fr, scene.dialogue, scope=None)).scope == "mine"
    assert (await server.transcripts.get(cast.facilitator, scene.dialogue, scope=None)).scope == "all"


async def test_others_are_turned_away(server: Server, cast: Cast, scene: Scene,
                                      make_user: Callable[..., Awaitable[User]]) -> None:
    install(server, None)
    outsider = await make_user("participant")
    for user in (cast.interpreter, cast.other_facilitator, outsider):
        with pytest.raises(Forbidden):
            await server.transcripts.get(user, scene.dialogue)
    for user in (cast.other_facilitator, outsider):
        with pytest.raises(Forbidden):
            await server.transcripts.get(user, scene.dialogue, scope="mine")
    with pytest.raises(NotFound):
        await server.transcripts.get(cast.admin, 999_999)


# --- languages -----------------------------------------------------------------------------------


def renditions(view: TranscriptView) -> dict[int, tuple[TranslationStatus, str, str | None]]:
    return {line.id: (line.translation.status, line.translation.text, line.translation.engine)
            for line in view.lines if line.translation is not None}


async def test_a_chosen_language_uses_captions_then_machine_translation_and_never_fakes_one(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt) -> None:
    asked = await server.transcripts.get(cast.facilitator, scene.dialogue, language="en")
    # Asking queues it; until it runs the Russian line is pending, never shown as translated.
    assert renditions(asked)[scene.ru] == (TranslationStatus.PENDING, "Привет всем.", None)
    assert asked.preparing is not None and asked.preparing.total == 1 and asked.preparing.done == 0
    await server.transcript_translations.run_pending()
    en = await server.transcripts.get(cast.facilitator, scene.dialogue, language="en")
    assert renditions(en) == {
        scene.fr: (TranslationStatus.CAPTION, "I dream of a fair world.", None),
        scene.en: (TranslationStatus.ORIGINAL, "Water for every village.", None),
        scene.ru: (TranslationStatus.UNTRANSLATED, "Привет всем.", None),  # the original, marked
        scene.facilitator: (TranslationStatus.ORIGINAL, "Thank you all.", None),
    }
    assert en.notices == ["translation_unavailable:ru-en"] and en.preparing is None
    assert mt.batch_log == []  # the caption was enough

    await prepare(server, scene.dialogue, "fr")
    fr = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert renditions(fr) == {
        scene.fr: (TranslationStatus.ORIGINAL, "Je rêve d'un monde juste.", None),
        scene.en: (TranslationStatus.MACHINE, "[fr] Water for every village.", "fake-mt"),
        scene.ru: (TranslationStatus.UNTRANSLATED, "Привет всем.", None),
        scene.facilitator: (TranslationStatus.MACHINE, "[fr] Thank you all.", "fake-mt"),
    }
    # One batch for every English line (the withheld one is not translated).
    assert mt.batch_log == [("en", "fr", ["Water for every village.", "Thank you all."])]


async def test_without_a_translator_or_when_it_fails_lines_stay_untranslated(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt) -> None:
    mt.fail_next = 10
    await prepare(server, scene.dialogue, "fr")
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert renditions(view)[scene.en] == (TranslationStatus.UNTRANSLATED, "Water for every village.", None)
    assert view.notices == ["translation_failed:en-fr", "translation_unavailable:ru-fr"]
    assert view.progress["fr"].state == "failed"

    install(server, None)
    await server.transcripts.retry(cast.facilitator, scene.dialogue, "fr")
    await server.transcript_translations.run_pending()
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert {status for status, _, _ in renditions(view).values()} == {
        TranslationStatus.ORIGINAL, TranslationStatus.UNTRANSLATED}
    assert view.notices == ["translation_unavailable:en-fr", "translation_unavailable:ru-fr"]


async def test_a_broken_translator_is_reported_not_raised(server: Server, cast: Cast, scene: Scene) -> None:
    class Broken:
        def engine_for(self, source: str, target: str) -> str | None:
            return "broken"

        async def translate(self, texts: object, source: str, target: str) -> list[str]:
            raise EngineError("down", retryable=True, engine="broken")

    install(server, Broken())
    await prepare(server, scene.dialogue, "fr")
    view = await server.transcripts.get(cast.facilitator, scene.dialogue, language="fr")
    assert view.notices == []  # it is tried again: the lines wait, they are not given up on
    assert view.preparing is not None and view.preparing.state == "retrying"
    assert view.preparing.error is not None and view.preparing.error.engine == "broken"


async def test_only_the_dialogues_languages(server: Server, cast: Cast, scene: Scene) -> None:
    install(server, None)
    for wrong in ("de", "xx-not-a-tag", "zz"):
        with pytest.raises(InvalidInput) as exc:
            await server.transcripts.get(cast.facilitator, scene.dialogue, language=wrong)
        assert exc.value.code == "language_not_in_dialogue"
    assert (await server.transcripts.get(cast.facilitator, scene.dialogue, language="FR")).language == "fr"


# --- downloads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "media_type", "first"), [
    ("vtt", "text/vtt; charset=utf-8", "WEBVTT"),
    ("srt", "application/x-subrip; charset=utf-8", "1"),
    ("txt", "text/plain; charset=utf-8", "The future we want"),
    ("json", "application/json; charset=utf-8", "{"),
])
async def test_downloads_are_attachments_named_after_the_dialogue(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient],
        fmt: str, media_type: str, first: str) -> None:
    await prepare(server, scene.dialogue, "fr")
    client = await client_for(server, make_client, cast.facilitator)
    response = await client.get(URL.format(scene.dialogue), params={"format": fmt, "lang": "fr"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"] == (
        f'attachment; filename="transcript-{scene.dialogue}-the-future-we-want-fr.{fmt}"')
    assert response.headers["cache-control"] == "no-store"
    assert response.text.splitlines()[0] == first
    assert "[fr] Water for every village." in response.text and "nobody may keep" not in response.text


async def test_the_vtt_times_count_from_the_meeting_start(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await prepare(server, scene.dialogue, "en")
    client = await client_for(server, make_client, cast.facilitator)
    vtt = (await client.get(URL.format(scene.dialogue), params={"format": "vtt"})).text
    assert vtt.startswith(
        "WEBVTT\n\n1\n00:03:00.000 --> 00:03:04.500\n<v Participant 0>Je rêve d'un monde juste.\n\n")
    assert "00:12:00.000 --> 00:12:04.500\n<v Participant 3>Привет всем." in vtt
    txt = (await client.get(URL.format(scene.dialogue), params={"format": "txt", "lang": "en"})).text
    assert "[00:03:00] Participant 0: Je rêve d'un monde juste.\n    [en] I dream of a fair world.\n" in txt
    assert "[00:12:00] Participant 3: Привет всем.\n    [en] (not translated)\n" in txt


async def test_download_defaults_and_refusals(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    url = URL.format(scene.dialogue)
    assert (await make_client().get(url)).status_code == 401
    staff = await client_for(server, make_client, cast.organiser)
    plain = await staff.get(url)
    assert plain.headers["content-disposition"].endswith('-the-future-we-want.json"')
    assert [s["id"] for s in plain.json()["segments"]] == [scene.fr, scene.en, scene.ru, scene.facilitator]
    bad = await staff.get(url, params={"format": "docx"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    wrong = await staff.get(url, params={"lang": "de"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "language_not_in_dialogue"

    participant = await client_for(server, make_client, cast.participants[0])
    refused = await participant.get(url)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "transcript_not_allowed"
    mine = await participant.get(url + "/mine", params={"format": "srt", "lang": "en"})
    assert mine.status_code == 200
    assert mine.headers["content-disposition"] == (
        f'attachment; filename="transcript-{scene.dialogue}-the-future-we-want-mine-en.srt"')
    assert mine.text == "1\n00:03:00,000 --> 00:03:04,500\nParticipant 0: I dream of a fair world.\n"


async def test_untranslated_is_marked_in_the_files_language(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await prepare(server, scene.dialogue, "fr", "en")
    client = await client_for(server, make_client, cast.facilitator)
    # A file in French says so in French (the interface's catalogue for the file's language).
    vtt = await client.get(URL.format(scene.dialogue), params={"format": "vtt", "lang": "fr"})
    assert "<v Participant 3>Привет всем. [ru: non traduit]" in vtt.text
    data = json.loads((await client.get(URL.format(scene.dialogue), params={"lang": "en"})).text)
    ru = next(s for s in data["segments"] if s["id"] == scene.ru)
    assert ru["translation"] == {"language": "en", "text": "Привет всем.", "status": "untranslated", "engine": None}


# --- deleting ------------------------------------------------------------------------------------


async def test_staff_delete_the_whole_transcript_and_what_came_from_it(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install(server, None)
    now = server.clock.now()
    async with server.db.session() as s:
        report = Report(dialogue_id=scene.dialogue, language="en", created_at=now, updated_at=now)
        s.add(report)
        await s.flush()
        s.add(ReportQuote(report_id=report.id, segment_id=scene.fr, speaker_user_id=cast.participants[0].id,
                          text="Je rêve d'un monde juste.", language="fr", created_at=now))
    url = URL.format(scene.dialogue)
    for user in (cast.participants[0], cast.other_organiser, cast.interpreter):
        c = await client_for(server, make_client, user)
        refused = await c.delete(url)
        assert refused.status_code == 403 and refused.json()["error"]["code"] in (
            "transcript_delete_not_allowed",), user.role
    facilitator = await client_for(server, make_client, cast.facilitator)
    no_csrf = make_client()
    no_csrf.cookies.update(facilitator.cookies)
    assert (await no_csrf.delete(url)).status_code == 403
    assert len(await texts(server, scene.dialogue)) == 5

    done = await facilitator.delete(url)
    assert done.status_code == 200 and done.json() == {"deleted": 5}
    assert await texts(server, scene.dialogue) == []
    async with server.db.session() as s:
        assert await s.get(ReportQuote, 1) is None
    assert (await facilitator.delete(url)).json() == {"deleted": 0}


async def test_a_participant_deletes_what_they_said(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install(server, None)
    other = await ended_dialogue(server, cast, title="Another one")
    fr = cast.participants[0]
    await register(server, other, fr)
    await line(server, other, fr, "Ailleurs.", minute=1, language="fr")
    client = await client_for(server, make_client, fr)
    done = await client.delete(URL.format(scene.dialogue) + "/mine")
    assert done.status_code == 200 and done.json() == {"deleted": 1}
    assert "Je rêve d'un monde juste." not in await texts(server, scene.dialogue)
    assert len(await texts(server, scene.dialogue)) == 4
    assert await texts(server, other) == ["Ailleurs."]  # other dialogues keep theirs
    assert (await client.delete(URL.format(999_999) + "/mine")).status_code == 404


# --- the page ------------------------------------------------------------------------------------

HTML = {"Accept": "text/html"}


async def test_the_page_shows_original_beside_translation_with_downloads_and_delete(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await prepare(server, scene.dialogue, "fr")
    client = await client_for(server, make_client, cast.facilitator)
    page = await client.get(f"/dialogues/{scene.dialogue}/transcript", params={"language": "fr"}, headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en" dir="ltr">' in html  # ?language= picks the translation, not the interface
    assert '<option value="fr" lang="fr" data-state="ready" data-machine="0" selected>French</option>' in html
    assert ('<option value="ru" lang="ru" data-state="waiting" data-machine="3">Russian '
            "(3 lines to translate by machine)</option>") in html
    assert 'http-equiv="refresh"' not in html
    assert f'id="segment-{scene.en}"' in html
    assert '<p class="original" lang="en" dir="auto">' in html
    assert 'lang="fr" dir="auto" data-status="machine" data-engine="fake-mt"' in html
    assert "[fr] Water for every village." in html
    assert "nobody may keep" not in html
    assert f'href="/api/v1/dialogues/{scene.dialogue}/transcript?format=vtt&amp;lang=fr"' in html
    assert f'action="/dialogues/{scene.dialogue}/transcript/delete"' in html and 'name="confirm"' in html
    assert "00:05:00" in html and "Participant 1" in html
    # The download hint says what the files hold: the chosen translation beside each original.
    assert "the text and JSON files hold each original line with its translation into French" in html
    unchosen = (await client.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)).text
    assert "Each line as it was spoken, in its speaker&#39;s language." in unchosen
    assert "each line in the language it was spoken in" not in unchosen.lower()

    viewer = await client_for(server, make_client, cast.other_organiser)
    assert (await viewer.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)).status_code == 403
    await server.observers.grant(cast.admin, scene.dialogue, cast.other_organiser.id)
    html = (await viewer.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)).text
    assert "Water for every village." in html and "Participant 1" not in html and "#2" in html
    assert "/transcript/delete" not in html


async def test_how_many_lines_a_language_machine_translates_is_said_before_anyone_waits(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    # Shown: fr (captioned into en), en, ru and the facilitator's en line (the withheld one is not).
    view = await server.transcripts.get(cast.facilitator, scene.dialogue)
    assert {code: p.left for code, p in view.progress.items()} == {"en": 1, "fr": 3, "ru": 3}
    assert {p.state for p in view.progress.values()} == {"waiting"}  # nothing asked for yet

    client = await client_for(server, make_client, cast.facilitator)
    html = (await client.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)).text
    assert "English (1 line to translate by machine)" in html and "French (3 lines to translate by machine)" in html
    assert "translated by machine once, in the background" in html
    assert 'id="translation-progress"' not in html  # no language chosen: nothing to wait for

    # A participant's own view counts only their own lines (one, in French, captioned into English).
    mine = await server.transcripts.get(cast.participants[0], scene.dialogue, scope="mine")
    assert {code: p.left for code, p in mine.progress.items()} == {"en": 0, "fr": 0, "ru": 1}


async def test_the_page_for_a_participant_is_their_own_lines_in_arabic(
        server: Server, cast: Cast, scene: Scene, mt: FakeMt, make_client: Callable[[], httpx.AsyncClient]) -> None:
    client = await client_for(server, make_client, cast.participants[0])
    page = await client.get(f"/dialogues/{scene.dialogue}/transcript", params={"lang": "ar", "language": "en"},
                            headers=HTML)
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "Je rêve d&#39;un monde juste." in page.text and "I dream of a fair world." in page.text
    assert "Water for every village." not in page.text
    assert f"/api/v1/dialogues/{scene.dialogue}/transcript/mine?format=txt&amp;lang=en" in page.text
    assert 'name="scope" value="mine"' in page.text


async def test_deleting_from_the_page_needs_the_token_and_the_tick(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install(server, None)
    client = await client_for(server, make_client, cast.facilitator)
    del client.headers["X-CSRF-Token"]  # a browser sends the form field
    page = await client.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)
    from tests.conftest import csrf_from

    token = csrf_from(page.text)
    action = f"/dialogues/{scene.dialogue}/transcript/delete"
    forged = await client.post(action, data={"confirm": "yes"}, headers=HTML)
    assert forged.status_code == 403
    unticked = await client.post(action, data={"csrf_token": token}, headers=HTML)
    assert unticked.status_code == 422 and 'role="alert"' in unticked.text
    assert len(await texts(server, scene.dialogue)) == 5

    done = await client.post(action, data={"csrf_token": token, "confirm": "yes"}, headers=HTML)
    assert done.status_code == 303 and done.headers["location"].endswith("/transcript?done=deleted")
    assert await texts(server, scene.dialogue) == []
    after = await client.get(done.headers["location"], headers=HTML)
    assert "The transcript was deleted." in after.text

    participant = await client_for(server, make_client, cast.participants[0])
    del participant.headers["X-CSRF-Token"]
    page = await participant.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)
    refused = await participant.post(action, data={"csrf_token": csrf_from(page.text), "confirm": "yes"},
                                     headers=HTML)
    assert refused.status_code == 403


async def test_the_dialogue_page_links_to_the_transcript(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    staff = await client_for(server, make_client, cast.facilitator)
    page = await staff.get(f"/dialogues/{scene.dialogue}", headers=HTML)
    assert f'href="/dialogues/{scene.dialogue}/transcript"' in page.text
    participant = await client_for(server, make_client, cast.participants[0])
    page = await participant.get(f"/dialogues/{scene.dialogue}", headers=HTML)
    assert f'href="/dialogues/{scene.dialogue}/transcript"' in page.text
    stranger = await client_for(server, make_client, cast.other_facilitator)
    page = await stranger.get(f"/dialogues/{scene.dialogue}", headers=HTML)
    assert f'href="/dialogues/{scene.dialogue}/transcript"' not in page.text
