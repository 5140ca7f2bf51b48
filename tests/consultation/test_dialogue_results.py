"""The dashboard's dialogue results, beside the survey: dialogues held, participants per group
(from their registrations), the facilitators' reports, and themes of reports and consented
transcript lines next to the survey's, all under the dashboard's URL filters.

Everything is built through the handlers: dialogues are created, published, registered for,
started and ended; reports are written and submitted; the analysis codes every source and an
analyst then sets each item's themes, so the expected numbers can be written down by hand.
Theme counts come from rollups the analysis keeps; the last tests check them against a
recount after every kind of change (coding, correction, consent, withdrawal, deletion).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parley.consultation.dashboard import DialogueResults, Filters
from parley.consultation.reports import ReportInput
from parley.consultation.survey import RawSubmission
from parley.handlers.dialogues import Action, DialogueInput
from parley.handlers.registration import RegistrationInput
from parley.server import Server
from parley.storage.analysis_models import AnalysisCoding, AnalysisSpeakerTheme, SourceType
from parley.storage.consultation_models import SurveyRollup, SurveyText
from parley.storage.models import Registration, Role, User
from parley.storage.stores import analysis as analysis_store
from parley.storage.stores import transcripts as transcript_store
from parley.storage.stores.survey import CUBOIDS, THEMES
from tests.analysis.helpers import install_analysis, say
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

START = date(2026, 6, 1)  # the fake clock's first day

# (name, country, age group, gender, education, language, consent to a transcript) per dialogue.
Person = tuple[str, str, str, str, str, str, bool]
PEOPLE_A: list[Person] = [("Amélie", "FR", "18-24", "woman", "university", "fr", True),
                          ("Bruno", "FR", "35-44", "man", "secondary", "fr", False),
                          ("Dalia", "EG", "18-24", "non_binary", "university", "ar", True)]
PEOPLE_B: list[Person] = [("Kamau", "KE", "45-54", "woman", "vocational", "en", True),
                          ("Sam", "US", "unstated", "undisclosed", "unstated", "en", False)]


@dataclass
class World:
    organiser: User
    facilitator: User
    dialogues: dict[str, int] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # transcript line ids by a short name
    reports: dict[str, int] = field(default_factory=dict)
    withdrawal_codes: dict[str, str] = field(default_factory=dict)  # survey answers' by country


async def open_dialogue(server: Server, w: World, name: str, country: str, languages: list[str],
                        people: list[Person]) -> int:
    starts = (server.clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT14:00")
    view = await server.dialogues.create(w.organiser, DialogueInput(
        title=f"Dialogue {name}", starts_at=starts, time_zone="UTC", languages=languages, country=country,
        capacity=12, facilitator_id=w.facilitator.id))
    await server.dialogues.transition(w.organiser, view.id, Action.PUBLISH)
    for person, where, age, gender, education, language, transcript in people:
        outcome = await server.registrations.register(view.id, RegistrationInput(
            display_name=person, email=f"{person.lower().replace('é', 'e')}-{name}@example.org",
            preferred_language=language, country=where, age_group=age, gender=gender, education=education,
            consent_participate=True, consent_transcript=transcript, consent_quotes=transcript), None)
        w.people[person] = outcome.user
    w.dialogues[name] = view.id
    return view.id


async def hold(server: Server, w: World, dialogue_id: int) -> None:
    await server.dialogues.transition(w.facilitator, dialogue_id, Action.START)
    server.clock.advance(90 * 60)  # type: ignore[attr-defined]
    await server.dialogues.transition(w.facilitator, dialogue_id, Action.END)


async def answer(server: Server, key: str, *, country: str, age: str, gender: str, education: str, advice: str,
                 language: str) -> str:
    surveys = server.survey
    raw = RawSubmission(language=language, answers={
        "future": "better", "priorities": ["environment"], "trends": ["climate"], "cooperation": "very",
        "advice": advice}, age_group=age, gender=gender, country=country, education=education,
        consent_analysis=True)
    receipt = await surveys.submit(key, "test", await surveys.validate(raw))
    assert receipt.withdrawal_code
    return receipt.withdrawal_code


async def build(server: Server, clock: FakeClock, make_user: Callable[..., Awaitable[User]]) -> World:
    """Three held dialogues (A on day 0, B on day 4, C on day 8, C without registrations),
    one still scheduled; two reports submitted and one left as a draft; two survey answers;
    every source coded, then given known themes by an analyst."""
    analysis, _ = install_analysis(server, translation=False)
    w = World(organiser=await make_user(Role.ORGANISER), facilitator=await make_user(Role.FACILITATOR))
    w.withdrawal_codes["FR"] = await answer(
        server, "survey-fr-00001", country="FR", age="18-24", gender="female", education="university",
        advice="Act on climate change now.", language="fr")
    w.withdrawal_codes["EG"] = await answer(
        server, "survey-eg-00001", country="EG", age="25-34", gender="male", education="secondary",
        advice="Build schools and stop wars.", language="ar")

    a = await open_dialogue(server, w, "A", "FR", ["en", "fr", "ar"], PEOPLE_A)
    await hold(server, w, a)
    w.lines["amelie-1"] = await say(server, a, w.people["Amélie"], "Il faut sauver le climat.", at_minute=10,
                                    language="fr")
    w.lines["amelie-2"] = await say(server, a, w.people["Amélie"], "Nous voulons la paix.", at_minute=40,
                                    language="fr")
    w.lines["dalia"] = await say(server, a, w.people["Dalia"], "نريد مدارس أفضل.", at_minute=70, language="ar")
    await server.reports.start(w.facilitator, a, language="en")
    await server.reports.submit(w.facilitator, a, ReportInput(
        future="A world without climate change.", on_track="yes", on_track_text="", actions="Schools for all.",
        participant_count=4, notes=""))

    clock.advance(4 * 86400)
    b = await open_dialogue(server, w, "B", "KE", ["en"], PEOPLE_B)
    await hold(server, w, b)
    w.lines["kamau"] = await say(server, b, w.people["Kamau"], "Hospitals in every district.", at_minute=20)
    await server.reports.start(w.facilitator, b, language="en")
    await server.reports.submit(w.facilitator, b, ReportInput(
        future="Good jobs for young people.", on_track="partly", on_track_text="", actions="Open more clinics.",
        participant_count=2,
        notes=""))

    clock.advance(4 * 86400)
    c = await open_dialogue(server, w, "C", "BR", ["en", "es"], [])
    await hold(server, w, c)
    await server.reports.start(w.facilitator, c, language="en")
    await server.reports.save(w.facilitator, c, ReportInput(future="Still a draft.", on_track="no"))

    scheduled = await open_dialogue(server, w, "D", "FR", ["fr"],
                                    [("Zoé", "FR", "18-24", "woman", "secondary", "fr", True)])
    assert scheduled

    await analysis.run_once()
    async with server.db.session() as s:
        rows = list((await s.execute(select(AnalysisCoding))).scalars())
    themes = {
        "Act on climate change now.": ["climate"], "Build schools and stop wars.": ["education", "peace"],
        "future:A": ["climate"], "actions:A": ["education"], "future:B": ["_other"], "actions:B": ["health"],
        "amelie-1": ["climate"], "amelie-2": ["peace"], "dalia": ["education"], "kamau": ["health"],
    }
    line_names = {v: k for k, v in w.lines.items()}
    names = {v: k for k, v in w.dialogues.items()}
    coded = set()
    for row in rows:
        if row.source_type == SourceType.SURVEY:
            item = await analysis.item(w.organiser, row.id)
            key = item.text
        elif row.source_type == SourceType.REPORT:
            key = f"{row.report_section}:{names[row.dialogue_id or 0]}"
        else:
            key = line_names[row.segment_id or 0]
        await analysis.correct(w.organiser, row.id, themes=themes[key])
        coded.add(key)
    assert coded == set(themes)  # Bruno said nothing with consent; draft C is not a source
    return w


@pytest.fixture
async def world(server: Server, clock: FakeClock, make_user: Callable[..., Awaitable[User]]) -> World:
    return await build(server, clock, make_user)


async def results(server: Server, w: World, **filters: Any) -> DialogueResults:
    return await server.dashboard.dialogues(w.organiser, Filters(**filters), "en")


def buckets(r: DialogueResults, dim: str) -> list[tuple[str, int, int]]:
    return [(b.value, b.participants, b.dialogues) for b in r.breakdowns[dim]]


def themes(r: DialogueResults) -> dict[str, tuple[int, int, int, int]]:
    return {t.theme: (t.survey, t.dialogues, t.reports, t.transcripts) for t in r.themes}


async def test_dialogues_participants_and_reports_across_every_group(server: Server, world: World) -> None:
    r = await results(server, world)
    assert (r.available, r.dialogues, r.participants) == (True, 3, 5)  # C held without registrations; D not held
    assert (r.reports, r.reported_participants) == (2, 6)  # C's draft is not counted
    assert [(o.key, o.count) for o in r.on_track] == [("yes", 1), ("partly", 1), ("no", 0), ("unsure", 0), ("", 0)]
    assert buckets(r, "country") == [("FR", 2, 1), ("EG", 1, 1), ("KE", 1, 1), ("US", 1, 1)]
    assert buckets(r, "region") == [("africa", 2, 2), ("americas", 1, 1), ("europe", 2, 1)]
    assert buckets(r, "age") == [("18-24", 2, 1), ("35-44", 1, 1), ("45-54", 1, 1), ("unstated", 1, 1)]
    assert buckets(r, "gender") == [("female", 2, 2), ("male", 1, 1), ("other", 1, 1), ("unstated", 1, 1)]
    assert buckets(r, "education") == [("secondary", 1, 1), ("vocational", 1, 1), ("university", 2, 1),
                                       ("unstated", 1, 1)]
    assert buckets(r, "language") == [("en", 2, 1), ("fr", 2, 1), ("ar", 1, 1)]
    # The survey's labels, as the survey's own breakdowns show them.
    assert [b.label for b in r.breakdowns["age"]] == ["18 to 24", "35 to 44", "45 to 54", "Prefer not to say"]
    assert [b.label for b in r.breakdowns["education"]][:1] == ["Secondary school"]
    assert [b.label for b in r.breakdowns["language"]] == ["English", "French", "Arabic"]


async def test_themes_of_reports_and_consented_lines_beside_the_survey(server: Server, world: World,
                                                                       clock: FakeClock) -> None:
    r = await results(server, world)
    assert (r.survey_coded, r.dialogue_coded) == (2, 8)
    assert themes(r) == {"climate": (1, 2, 1, 1), "education": (1, 2, 1, 1), "peace": (1, 1, 0, 1),
                         "health": (0, 2, 1, 1), "_other": (0, 1, 1, 0)}
    assert [t.theme for t in r.themes][-1] == "_other"
    climate = next(t for t in r.themes if t.theme == "climate")
    assert (climate.survey_share, climate.dialogue_share) == (0.5, 0.25)

    # Amélie takes back her consent to the transcript: her lines leave the theme counts at once.
    await server.registrations.update_consent(world.people["Amélie"], world.dialogues["A"], transcript=False,
                                              quotes=False)
    r = await results(server, world)
    assert r.dialogue_coded == 6
    assert themes(r)["climate"] == (1, 1, 1, 0) and "peace" in themes(r)  # peace is still the survey's
    assert themes(r)["peace"] == (1, 0, 0, 0)


FILTER_CASES: list[tuple[dict[str, Any], tuple[int, ...]]] = [
    # participants, dialogues, reports, reported participants, dialogue items coded, survey items coded
    ({"country": "FR"}, (2, 1, 1, 4, 4, 1)),
    ({"country": "US"}, (1, 1, 1, 2, 2, 0)),  # Sam said nothing with consent: only B's report counts
    ({"region": "africa"}, (2, 2, 2, 6, 6, 1)),
    ({"gender": "other"}, (1, 1, 1, 4, 3, 0)),
    ({"gender": "female", "region": "europe"}, (1, 1, 1, 4, 4, 1)),
    ({"country": "FR", "region": "africa"}, (0, 0, 0, 0, 0, 0)),
    ({"date_from": START + timedelta(days=4)}, (2, 2, 1, 2, 3, 0)),  # B and C
    ({"date_to": START + timedelta(days=3)}, (3, 1, 1, 4, 5, 2)),  # A
    ({"date_from": START + timedelta(days=8), "date_to": START + timedelta(days=8)}, (0, 1, 0, 0, 0, 0)),  # C
    ({"age": "18-24"}, (2, 1, 1, 4, 5, 1)),  # Amélie and Dalia; the French respondent
    ({"age": "unstated"}, (1, 1, 1, 2, 2, 0)),  # Sam
    ({"education": "vocational"}, (1, 1, 1, 2, 3, 0)),  # Kamau
    ({"age": "18-24", "education": "university", "gender": "other"}, (1, 1, 1, 4, 3, 0)),  # Dalia
    ({"age": "25-34", "region": "africa"}, (0, 0, 0, 0, 0, 1)),  # the Egyptian respondent only
]


async def test_filters_apply_to_participants_and_their_dialogues(server: Server, world: World) -> None:
    for filters, expected in FILTER_CASES:
        r = await results(server, world, **filters)
        assert (r.participants, r.dialogues, r.reports, r.reported_participants, r.dialogue_coded,
                r.survey_coded) == expected, filters


async def test_age_and_education_filters_narrow_both_sides(server: Server, world: World) -> None:
    r = await results(server, world, age="18-24", education="university")
    assert (r.participants, r.dialogues, r.dialogue_coded) == (2, 1, 5)
    assert r.survey_coded == 1 and themes(r)["climate"][:2] == (1, 2) and themes(r)["education"][:2] == (0, 2)


async def test_registrations_from_before_the_survey_groups_count_as_unstated(server: Server, world: World) -> None:
    async with server.db.session() as s:
        bruno = (await s.execute(select(Registration).where(
            Registration.user_id == world.people["Bruno"].id))).scalar_one()
        bruno.age_group, bruno.education = None, None
    r = await results(server, world, age="unstated")
    assert (r.participants, r.dialogues) == (2, 2)  # Bruno and Sam
    assert buckets(await results(server, world), "education")[-1] == ("unstated", 2, 2)
    assert (await results(server, world, education="secondary")).participants == 0


async def staff_client(server: Server, make_client: Callable[[], httpx.AsyncClient], user: User
                       ) -> httpx.AsyncClient:
    from parley.web.auth import SESSION_COOKIE

    client = make_client()
    client.cookies.set(SESSION_COOKIE, (await server.accounts.start_session(user)).token)
    return client


async def test_json_api_gives_the_same_numbers_with_url_filters(
        server: Server, world: World, make_client: Callable[[], httpx.AsyncClient]) -> None:
    api = await staff_client(server, make_client, world.facilitator)
    body = (await api.get("/api/v1/dashboard/dialogues?country=fr&gender=female")).json()
    assert body["filters"] == {"country": "FR", "gender": "female"}
    assert (body["dialogues"], body["participants"], body["reports"]) == (1, 1, 1)
    assert [(b["value"], b["label"], b["participants"]) for b in body["breakdowns"]["country"]] == [
        ("FR", "France", 1)]
    assert {t["theme"]: t["dialogues"] for t in body["themes"]} == {"climate": 2, "education": 1, "peace": 1}

    fr = (await api.get("/api/v1/dashboard/dialogues", headers={"Accept-Language": "fr"})).json()
    assert [b["label"] for b in fr["breakdowns"]["region"]] == ["Afrique", "Amériques", "Europe"]
    assert fr["on_track"][0] == {"key": "yes", "label": "Oui, sur la bonne voie", "count": 1, "share": 0.5}

    countries = (await api.get("/api/v1/dashboard/compare/country")).json()
    assert [(x["value"], x["responses"], x["participants"], x["dialogues"]) for x in countries["rows"]] == [
        ("FR", 1, 2, 1), ("EG", 1, 1, 1), ("KE", None, 1, 1), ("US", None, 1, 1)]
    assert (countries["responses"], countries["participants"]) == (2, 5)
    ages = (await api.get("/api/v1/dashboard/compare/age")).json()
    assert [(x["value"], x["responses"], x["participants"]) for x in ages["rows"]] == [
        ("18-24", 1, 2), ("25-34", 1, None), ("35-44", None, 1), ("45-54", None, 1), ("unstated", None, 1)]
    education = (await api.get("/api/v1/dashboard/compare/education")).json()
    assert [(x["value"], x["responses"], x["participants"]) for x in education["rows"]] == [
        ("secondary", 1, 1), ("vocational", None, 1), ("university", 1, 2), ("unstated", None, 1)]
    languages = (await api.get("/api/v1/dashboard/compare/language")).json()
    assert [(x["value"], x["label"], x["responses"], x["participants"]) for x in languages["rows"]] == [
        ("fr", "French", 1, 2), ("ar", "Arabic", 1, 1), ("en", "English", None, 2)]
    by_language = (await api.get("/api/v1/dashboard/participation/language?country=EG")).json()
    assert [(b["value"], b["responses"]) for b in by_language["buckets"]] == [("ar", 1)]

    bad = await api.get("/api/v1/dashboard/dialogues?region=atlantis")
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"region"}


def cells(html: str, table_id: str, value: str) -> list[str]:
    """The numbers of one row (by its data-value) of the table after ``table_id``'s heading."""
    section = html[html.index(f'id="{table_id}"'):]
    row = re.search(rf'<tr data-value="{re.escape(value)}">(.*?)</tr>', section, re.S)
    assert row, (table_id, value)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)]


async def test_the_page_shows_survey_and_dialogues_side_by_side(
        server: Server, world: World, make_client: Callable[[], httpx.AsyncClient]) -> None:
    page = await (await staff_client(server, make_client, world.organiser)).get(
        "/dashboard?by=gender", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert "style=" not in html
    totals = {label: int(n) for n, label in re.findall(r"<li><strong>(\d+)</strong> ([^<]+)</li>", html)}
    assert totals["dialogues held"] == 3 and totals["participants registered"] == 5
    assert totals["facilitator reports"] == 2 and totals["participants counted by facilitators"] == 6
    # Country: survey responses, share, dialogue participants, share, dialogues.
    assert cells(html, "countries-title", "FR") == ["1", "50.0%", "2", "40.0%", "1"]
    assert cells(html, "countries-title", "KE") == ["—", "—", "1", "20.0%", "1"]
    assert cells(html, "compare-title", "female") == ["1", "50.0%", "2", "40.0%", "2"]
    assert cells(html, "compare-title", "other") == ["—", "—", "1", "20.0%", "1"]
    assert cells(html, "themes-title", "climate") == ["1 (50.0%)", "2 (25.0%)", "1", "1"]
    assert cells(html, "themes-title", "_other") == ["0 (0.0%)", "1 (12.5%)", "1", "0"]
    # By language: the survey's answers in French and Arabic, the participants' spoken languages.
    assert cells(html, "languages-title", "fr") == ["1", "50.0%", "2", "40.0%", "1"]
    assert cells(html, "languages-title", "en") == ["—", "—", "2", "40.0%", "1"]
    themes_table = html[html.index('id="themes-title"'):]
    themes_table = themes_table[:themes_table.index("</table>")]
    assert 'href="/analysis?theme=climate"' in themes_table  # organisers can review the coding
    assert "Yes, on track" in html and "Partly" in html

    filtered = await (await staff_client(server, make_client, world.facilitator)).get(
        "/dashboard?age=18-24&country=FR&by=language", headers={"Accept": "text/html"})
    assert "/analysis?theme=" not in filtered.text  # facilitators see results, not the review
    totals = {label: int(n) for n, label in re.findall(r"<li><strong>(\d+)</strong> ([^<]+)</li>", filtered.text)}
    assert totals["dialogues held"] == 1 and totals["participants registered"] == 1  # Amélie
    assert cells(filtered.text, "compare-title", "fr") == ["1", "100.0%", "1", "100.0%", "1"]

    report = await (await staff_client(server, make_client, world.organiser)).get(
        "/dashboard/report", headers={"Accept": "text/html"})
    assert report.status_code == 200 and "participants counted by facilitators" in report.text


async def test_participants_and_interpreters_see_no_dialogue_results(
        server: Server, world: World, make_client: Callable[[], httpx.AsyncClient],
        make_user: Callable[..., Awaitable[User]]) -> None:
    for role in (Role.PARTICIPANT, Role.INTERPRETER):
        client = await staff_client(server, make_client, await make_user(role))
        assert (await client.get("/api/v1/dashboard/dialogues")).status_code == 403
        assert (await client.get("/api/v1/dashboard/compare/country")).status_code == 403
    anonymous = make_client()
    assert (await anonymous.get("/api/v1/dashboard/dialogues")).status_code == 401


@pytest.mark.parametrize("query", ["from=0001-01-01&to=9999-12-31", "from=9999-12-31", "region=unknown",
                                   "country=ZZ&gender=unstated", "age=unstated&education=unstated",
                                   "country=AQ&region=unknown"])
async def test_odd_but_valid_filters_answer_on_every_view(
        server: Server, make_client: Callable[[], httpx.AsyncClient], make_user: Callable[..., Awaitable[User]],
        query: str) -> None:
    client = await staff_client(server, make_client, await make_user(Role.ADMIN))
    for url in ("/api/v1/dashboard/dialogues", "/api/v1/dashboard/compare/region", "/api/v1/dashboard/compare/age"):
        response = await client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, response.text)
    page = await client.get(f"/dashboard?by=education&{query}", headers={"Accept": "text/html"})
    assert page.status_code == 200


# --- the theme counts stay equal to the codings --------------------------------------------------


async def theme_count_rows(server: Server) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored theme count: the survey's (in every cuboid) and the speakers'."""
    async with server.db.session() as s:
        survey = sorted(tuple(row) for row in (await s.execute(
            select(SurveyRollup.cuboid, SurveyRollup.v1, SurveyRollup.v2, SurveyRollup.v3, SurveyRollup.v4,
                   SurveyRollup.day, SurveyRollup.option, SurveyRollup.n)
            .where(SurveyRollup.question == THEMES))).all())
        speakers = sorted(tuple(row) for row in (await s.execute(
            select(AnalysisSpeakerTheme.dialogue_id, AnalysisSpeakerTheme.user_id, AnalysisSpeakerTheme.theme,
                   AnalysisSpeakerTheme.n))).all())
    return survey, speakers


async def assert_counts_are_a_recount(server: Server) -> None:
    kept = await theme_count_rows(server)
    assert all(row[-1] > 0 for rows in kept for row in rows)  # no empty cell left behind
    await server.survey.rebuild_rollups()
    async with server.db.session() as s:
        await analysis_store.rebuild_speaker_counts(s)
    assert await theme_count_rows(server) == kept


async def test_theme_counts_follow_every_change_of_the_codings(server: Server, world: World) -> None:
    analysis = server.analysis
    await assert_counts_are_a_recount(server)
    survey_rows, speaker_rows = await theme_count_rows(server)
    assert {row[0] for row in survey_rows} == set(CUBOIDS)  # every cuboid counts themes
    assert len(speaker_rows) == 7  # Amélie 3, Dalia 2, Kamau 2 (their "" rows included)

    # An analyst re-codes a survey answer: the old themes leave every cell, the new one comes.
    async with server.db.session() as s:
        eg = (await s.execute(select(AnalysisCoding.id).join(
            SurveyText, SurveyText.id == AnalysisCoding.survey_text_id).where(SurveyText.country == "EG"))).scalar_one()
    await analysis.correct(world.organiser, eg, themes=["health"])
    r = await results(server, world, country="EG")
    assert (r.survey_coded, themes(r)["health"][0]) == (1, 1) and "peace" not in themes(r)
    await assert_counts_are_a_recount(server)

    # The French respondent withdraws: their answer's themes go with it.
    assert await server.survey.withdraw(world.withdrawal_codes["FR"])
    r = await results(server, world)
    assert r.survey_coded == 1 and themes(r)["climate"][0] == 0
    await assert_counts_are_a_recount(server)

    # Amélie takes back her consent: the next pass purges her lines' codings (and counts);
    # she gives it again and the pass after codes them again.
    amelie, a = world.people["Amélie"], world.dialogues["A"]
    await server.registrations.update_consent(amelie, a, transcript=False, quotes=False)
    await analysis.run_once()
    assert not [row for row in (await theme_count_rows(server))[1] if row[1] == amelie.id]
    await assert_counts_are_a_recount(server)
    await server.registrations.update_consent(amelie, a, transcript=True, quotes=False)
    await analysis.run_once()
    assert (await results(server, world, country="FR")).dialogue_coded == 4  # report A's 2, her 2 lines
    await assert_counts_are_a_recount(server)

    # Kamau's lines are deleted; Dalia deletes her account.
    async with server.db.session() as s:
        await transcript_store.delete_by_speaker(s, world.people["Kamau"].id, dialogue_id=world.dialogues["B"])
    assert await server.registrations.delete_all(world.people["Dalia"])
    r = await results(server, world)
    assert themes(r)["health"][3] == 0 and themes(r)["education"][3] == 0
    await assert_counts_are_a_recount(server)
