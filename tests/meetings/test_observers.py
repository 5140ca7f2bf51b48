"""Who may see a dialogue's own data: an organiser who is not on its staff gets nothing of its
transcript, report, recordings or meeting; an explicit observer grant (by its owner) opens
reading and listening, each use lands in the admins' access log, and revoking closes it again
(sending a present observer out of the meeting)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest

from parley.server import Server
from parley.storage.analysis_models import TranscriptSegment
from parley.storage.models import Role, User
from tests.meetings.scenario import MakeUser, Setup
from tests.meetings.test_api import api, ok, person

pytestmark = pytest.mark.integration

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]


async def said(server: Server, setup: Setup) -> None:
    """One line of Amina's in the transcript."""
    now = server.clock.now()
    async with server.db.session() as s:
        s.add(TranscriptSegment(dialogue_id=setup.dialogue.id, speaker_user_id=setup.people.amina.id, language="fr",
                                speaker_name="Amina Diallo", started_at=now, ended_at=now + timedelta(seconds=2),
                                text="Nous voulons de l'eau propre.", created_at=now))


async def refused(response: httpx.Response, code: str | None = None) -> None:
    assert response.status_code in (403, 404), response.text
    if code is not None:
        assert response.json()["error"]["code"] == code


@pytest.fixture
async def scene(make_setup: Callable[..., Awaitable[Setup]], make_user: MakeUser, server: Server,
                as_user: AsUser) -> tuple[Setup, User, dict[str, httpx.AsyncClient]]:
    """A live meeting with a transcript line, and Olaf: an organiser of the campaign, not its staff."""
    setup = await make_setup()
    olaf = await make_user(Role.ORGANISER, name="Olaf Other", password=None)
    p = setup.people
    clients = {"owner": await as_user(p.organiser), "host": await as_user(p.facilitator),
               "admin": await as_user(p.admin), "olaf": await as_user(olaf), "amina": await as_user(p.amina),
               "ines": await as_user(p.interpreter)}
    await ok(await clients["host"].post(api(setup.dialogue.id, "/start")))
    await ok(await clients["host"].post(api(setup.dialogue.id, "/join"), json={"mode": "audio", "consent": True}))
    await said(server, setup)
    return setup, olaf, clients


async def test_an_organiser_who_is_not_staff_sees_nothing_of_another_dialogue(
    scene: tuple[Setup, User, dict[str, httpx.AsyncClient]], server: Server
) -> None:
    setup, olaf, c = scene
    d = setup.dialogue.id
    olaf_c = c["olaf"]

    await refused(await olaf_c.get(f"/api/v1/dialogues/{d}/transcript"), "transcript_not_allowed")
    await refused(await olaf_c.get(f"/dialogues/{d}/transcript"))
    await refused(await olaf_c.get(f"/api/v1/dialogues/{d}/report"), "report_not_allowed")
    await refused(await olaf_c.get(api(d, "/recordings")))
    await refused(await olaf_c.get(api(d)))
    await refused(await olaf_c.post(api(d, "/join"), json={"mode": "listen"}))
    await refused(await olaf_c.post(api(d, "/me/connect")))
    await refused(await olaf_c.get(api(d, "/chat")))
    assert await server.meetings.connections.may_use_janus(olaf, d) is False
    assert all(r["dialogue_id"] != d for r in await ok(await olaf_c.get("/api/v1/reports")))

    # The dialogue's staff do read it: its owner with names, its interpreter with pseudonyms.
    owner_view = await ok(await c["owner"].get(f"/api/v1/dialogues/{d}/transcript"))
    assert [line["speaker"] for line in owner_view["segments"]] == ["Amina Diallo"]
    interpreter_view = await ok(await c["ines"].get(f"/api/v1/dialogues/{d}/transcript"))
    assert [line["speaker"] for line in interpreter_view["segments"]] == ["#1"]
    await ok(await c["owner"].get(f"/api/v1/dialogues/{d}/report"))
    # Staff reading is their job: nothing in the access log.
    assert (await ok(await c["admin"].get("/api/v1/admin/access-log")))["entries"] == []


async def test_an_observer_grant_opens_reading_and_listening_and_every_use_is_audited(
    scene: tuple[Setup, User, dict[str, httpx.AsyncClient]], server: Server
) -> None:
    setup, olaf, c = scene
    d = setup.dialogue.id
    olaf_c = c["olaf"]

    # Only an admin or the dialogue's owner grants, and only to staff accounts.
    await refused(await olaf_c.post(f"/api/v1/dialogues/{d}/observers", json={"user_id": olaf.id}),
                  "not_dialogue_owner")
    await refused(await c["host"].post(f"/api/v1/dialogues/{d}/observers", json={"user_id": olaf.id}),
                  "not_dialogue_owner")
    participant = await c["owner"].post(f"/api/v1/dialogues/{d}/observers",
                                        json={"user_id": setup.people.amina.id})
    assert (participant.status_code, participant.json()["error"]["code"]) == (422, "observer_not_staff")
    granted = await ok(await c["owner"].post(f"/api/v1/dialogues/{d}/observers", json={"user_id": olaf.id}))
    assert [o["user_id"] for o in granted["observers"]] == [olaf.id]

    transcript = await ok(await olaf_c.get(f"/api/v1/dialogues/{d}/transcript"))
    assert [line["speaker"] for line in transcript["segments"]] == ["#1"]  # observers read no names
    text = await olaf_c.get(f"/api/v1/dialogues/{d}/transcript", params={"format": "txt"})
    assert text.status_code == 200 and "#1: Nous voulons" in text.text
    report = await ok(await olaf_c.get(f"/api/v1/dialogues/{d}/report"))
    assert report["permissions"]["can_edit"] is False
    await refused(await olaf_c.get(api(d, "/recordings")))  # recordings stay with those who run it

    # In the meeting Olaf listens only, and everyone sees him as an observer.
    joined = await ok(await olaf_c.post(api(d, "/join"), json={"mode": "video", "consent": False}))
    me = joined["you"]
    assert (me["role"], me["mode"], me["status"], me["force_muted"]) == ("observer", "listen", "admitted", True)
    await ok(await olaf_c.post(api(d, "/me/connect")))
    assert await server.meetings.connections.may_use_janus(olaf, d) is True
    await ok(await c["amina"].post(api(d, "/join"), json={"mode": "audio", "consent": True}))
    host_view = await ok(await c["host"].get(api(d)))
    await ok(await c["host"].post(api(d, f"/participants/{person(host_view, 'Amina Diallo')['id']}/admit")))
    amina_view = await ok(await c["amina"].get(api(d)))
    assert person(amina_view, "Olaf Other")["role"] == "observer"
    # He is present: the recording waits for his agreement too.
    assert (await ok(await c["host"].get(api(d))))["blockers"] == [me["id"]]

    log = (await ok(await c["admin"].get("/api/v1/admin/access-log")))["entries"]
    assert [(e["action"], e["actor_id"], e["dialogue_id"], e["detail"]) for e in reversed(log)] == [
        ("observer_granted", setup.people.organiser.id, d, ""),
        ("transcript_read", olaf.id, d, "json"),
        ("transcript_read", olaf.id, d, "txt"),
        ("report_read", olaf.id, d, ""),
        ("meeting_joined", olaf.id, d, ""),
    ]
    assert log[-1]["subject_id"] == olaf.id and log[-1]["subject_name"] == "Olaf Other"
    await refused(await c["owner"].get("/api/v1/admin/access-log"), "not_admin")
    page = await c["admin"].get("/admin/access-log", params={"dialogue": d})
    assert page.status_code == 200 and "Olaf Other" in page.text

    # Revoking closes everything again and sends him out of the meeting.
    await ok(await c["owner"].delete(f"/api/v1/dialogues/{d}/observers/{olaf.id}"))

    async def gone() -> bool:
        state = await ok(await c["host"].get(api(d)))
        return all(p["display_name"] != "Olaf Other" for p in state["participants"] + state["waiting"])

    async with asyncio.timeout(10):
        while not await gone():  # noqa: ASYNC110 - the meeting reacts to the bus event
            await asyncio.sleep(0.01)
    await refused(await olaf_c.get(f"/api/v1/dialogues/{d}/transcript"), "transcript_not_allowed")
    await refused(await olaf_c.get(f"/api/v1/dialogues/{d}/report"), "report_not_allowed")
    await refused(await olaf_c.post(api(d, "/join"), json={"mode": "listen"}))
    await refused(await olaf_c.post(api(d, "/me/connect")))
    assert await server.meetings.connections.may_use_janus(olaf, d) is False
    assert (await ok(await c["host"].get(api(d))))["blockers"] == []  # he no longer holds the recording up
    log = (await ok(await c["admin"].get("/api/v1/admin/access-log")))["entries"]
    assert (log[0]["action"], log[0]["subject_id"]) == ("observer_revoked", olaf.id)


async def test_the_owner_grants_and_revokes_from_the_dialogue_s_observers_page(
    scene: tuple[Setup, User, dict[str, httpx.AsyncClient]], server: Server
) -> None:
    setup, olaf, c = scene
    d = setup.dialogue.id
    assert f'href="/dialogues/{d}/observers"' in (await c["owner"].get(f"/dialogues/{d}")).text
    page = await c["owner"].get(f"/dialogues/{d}/observers")
    assert page.status_code == 200 and f'<option value="{olaf.id}">Olaf Other</option>' in page.text
    assert "Fatou Facilitator" not in page.text  # already its staff
    await refused(await c["host"].get(f"/dialogues/{d}/observers"))  # the facilitator does not choose them

    done = await c["owner"].post(f"/dialogues/{d}/observers", data={"action": "grant", "user_id": str(olaf.id)},
                                 follow_redirects=False)
    assert done.status_code == 303
    assert [o.user_id for o in await server.observers.of_dialogue(setup.people.organiser, d)] == [olaf.id]
    await ok(await c["olaf"].get(f"/api/v1/dialogues/{d}/report"))
    await c["owner"].post(f"/dialogues/{d}/observers", data={"action": "revoke", "user_id": str(olaf.id)})
    assert await server.observers.of_dialogue(setup.people.organiser, d) == []
    await refused(await c["olaf"].get(f"/api/v1/dialogues/{d}/report"))
