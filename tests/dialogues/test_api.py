"""The JSON API for dialogues, registration, my data and the overview: status codes,
stable error codes, authorisation, cookies and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.handlers.dialogues import DialogueView
from parley.server import Server
from parley.storage.models import User
from tests.conftest import behind_proxy, trust_proxies
from tests.dialogues.conftest import People, future_start, registration
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]
MakeDialogue = Callable[..., Awaitable[DialogueView]]


def body(server: Server, people: People, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Our oceans in 2045",
        "description": "A dialogue for coastal communities.",
        "starts_at": future_start(server),
        "time_zone": "Pacific/Fiji",
        "duration_minutes": 120,
        "capacity": 10,
        "languages": ["en", "fr"],
        "country": "FJ",
        "facilitator_id": people.facilitator.id,
        "interpreters": [{"user_id": people.interpreter.id, "language": "fr"}],
    }
    data.update(changes)
    return data


def error(response: httpx.Response) -> dict[str, Any]:
    payload: dict[str, Any] = response.json()["error"]
    return payload


# --- dialogues ---------------------------------------------------------------------------------


async def test_an_organiser_creates_edits_and_runs_a_dialogue(
    server: Server, people: People, as_user: AsUser, client: httpx.AsyncClient
) -> None:
    organiser = await as_user(people.organiser)
    created = await organiser.post("/api/v1/dialogues", json=body(server, people))
    assert created.status_code == 201, created.text
    d = created.json()
    assert d["state"] == "draft" and d["questions"][2] == "What action is needed to close the gap?"
    assert d["starts_local"] == future_start(server) and d["time_zone"] == "Pacific/Fiji"
    assert d["starts_at"].endswith("Z")
    assert d["interpreters"] == [
        {"user_id": people.interpreter.id, "display_name": "Ines Interpreter", "language": "fr"}
    ]
    assert d["permissions"]["can_publish"] and d["invite_code"]

    patched = await organiser.patch(f"/api/v1/dialogues/{d['id']}", json={"capacity": 20, "questions": ["Why?"]})
    assert patched.status_code == 200 and patched.json()["capacity"] == 20
    assert patched.json()["questions"] == ["Why?"] and patched.json()["title"] == "Our oceans in 2045"

    for action, state in (
        ("publish", "scheduled"),
        ("start", "live"),
        ("end", "ended"),
        ("submit-report", "report_submitted"),
    ):
        response = await organiser.post(f"/api/v1/dialogues/{d['id']}/{action}")
        assert response.status_code == 200, response.text
        assert response.json()["state"] == state
    again = await organiser.post(f"/api/v1/dialogues/{d['id']}/start")
    assert again.status_code == 409 and error(again)["code"] == "invalid_transition"

    public = await client.get(f"/api/v1/dialogues/{d['id']}")
    assert public.status_code == 200
    assert public.json()["invite_code"] is None and not public.json()["permissions"]["can_edit"]


async def test_dialogue_validation_errors_carry_field_codes(server: Server, people: People, as_user: AsUser) -> None:
    organiser = await as_user(people.organiser)
    response = await organiser.post(
        "/api/v1/dialogues",
        json=body(
            server,
            people,
            capacity=501,
            duration_minutes=5,
            time_zone="Nowhere/Land",
            languages=["zz-Invalid-xx"],
            country="ZZ",
        ),
    )
    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input"
    assert error(response)["fields"] == {
        "capacity": "range",
        "duration_minutes": "range",
        "time_zone": "unknown_time_zone",
        "languages": "unknown_language",
        "country": "unknown_country",
    }
    unknown = await organiser.post("/api/v1/dialogues", json=body(server, people, colour="blue"))
    assert unknown.status_code == 422 and "colour" in error(unknown)["fields"]
    listing = await organiser.get("/api/v1/overview")
    assert listing.json()["counts"]["draft"] == 0


async def test_dialogue_authorisation(
    server: Server, people: People, as_user: AsUser, client: httpx.AsyncClient, make_dialogue: MakeDialogue
) -> None:
    anonymous = await client.post("/api/v1/dialogues", json=body(server, people))
    assert anonymous.status_code == 401
    participant = await as_user(people.participant)
    refused = await participant.post("/api/v1/dialogues", json=body(server, people))
    assert refused.status_code == 403 and error(refused)["code"] == "role_required"

    d = await make_dialogue("scheduled")
    facilitator = await as_user(people.facilitator)
    edit = await facilitator.patch(f"/api/v1/dialogues/{d.id}", json={"title": "Hijacked"})
    assert edit.status_code == 403 and error(edit)["code"] == "not_organiser"
    other = await as_user(people.other_organiser)
    assert (await other.patch(f"/api/v1/dialogues/{d.id}", json={"title": "Hijacked"})).status_code == 403
    assert (await facilitator.post(f"/api/v1/dialogues/{d.id}/cancel")).status_code == 403
    assert (await facilitator.post(f"/api/v1/dialogues/{d.id}/start")).json()["state"] == "live"
    admin = await as_user(people.admin)
    assert (await admin.patch(f"/api/v1/dialogues/{d.id}", json={"title": "Admin fix"})).status_code == 200
    assert (await participant.patch(f"/api/v1/dialogues/{d.id}", json={"title": "x"})).status_code == 403


async def test_csrf_is_required_for_cookie_sessions(server: Server, people: People, as_user: AsUser) -> None:
    organiser = await as_user(people.organiser)
    del organiser.headers["X-CSRF-Token"]
    response = await organiser.post("/api/v1/dialogues", json=body(server, people))
    assert response.status_code == 403 and error(response)["code"] == "csrf_failed"


async def test_invite_only_dialogues_over_the_api(
    people: People, as_user: AsUser, client: httpx.AsyncClient, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled", visibility="invite_only")
    assert (await client.get(f"/api/v1/dialogues/{d.id}")).status_code == 404
    seen = await client.get(f"/api/v1/dialogues/{d.id}", params={"code": d.invite_code})
    assert seen.status_code == 200 and seen.json()["invite_code"] is None
    organiser = await as_user(people.organiser)
    mine = (await organiser.get(f"/api/v1/dialogues/{d.id}")).json()
    assert mine["register_url"] == f"http://testserver/dialogues/{d.id}/register?code={d.invite_code}"
    fresh = await organiser.post(f"/api/v1/dialogues/{d.id}/invite-code")
    assert fresh.status_code == 200 and fresh.json()["invite_code"] != d.invite_code
    assert (await client.get(f"/api/v1/dialogues/{d.id}", params={"code": d.invite_code})).status_code == 404


async def test_the_public_listing_api(client: httpx.AsyncClient, make_dialogue: MakeDialogue) -> None:
    await make_dialogue("scheduled", title="Water", languages=["es"], country="PE")
    await make_dialogue("scheduled", title="Food", languages=["fr"], country="ML")
    await make_dialogue("ended", country="PE", languages=["es"])
    response = await client.get("/api/v1/dialogues", params={"language": "es", "per_page": 5})
    assert response.status_code == 200
    data = response.json()
    assert [x["title"] for x in data["items"]] == ["Water"]
    assert data["items"][0]["seats_left"] == 12
    assert data["filters"]["language"] == "es" and data["pages"] == 1
    assert data["countries"] == [{"country": "PE", "name": "Peru", "dialogues": 1}]
    french = await client.get("/api/v1/dialogues", params={"country": "PE"}, headers={"Accept-Language": "fr"})
    assert french.json()["countries"][0]["name"] == "Pérou"
    bad = await client.get("/api/v1/dialogues", params={"country": "QQ", "date_from": "soon"})
    assert bad.status_code == 422
    assert error(bad) == {
        "code": "invalid_filter",
        "message": "Some filters are not valid.",
        "fields": {"country": "unknown_country", "date_from": "invalid_date"},
    }
    assert (await client.get("/api/v1/dialogues", params={"page": 0})).status_code == 422


async def test_overview_and_staff_choices(
    people: People, as_user: AsUser, client: httpx.AsyncClient, make_dialogue: MakeDialogue, clock: FakeClock
) -> None:
    await make_dialogue("ended")
    clock.advance(10 * 86400)
    await make_dialogue("ended")
    await make_dialogue("report_submitted")
    organiser = await as_user(people.organiser)
    o = (await organiser.get("/api/v1/overview")).json()
    assert o["reports"] == {"held": 3, "received": 1, "missing": 2, "percent": 33, "overdue": 1, "due_days": 7}
    assert [r["overdue"] for r in o["awaiting_report"]] == [True, False]
    assert (await client.get("/api/v1/overview")).status_code == 401
    participant = await as_user(people.participant)
    assert (await participant.get("/api/v1/overview")).status_code == 403
    assert (await organiser.get("/api/v1/overview", params={"scope": "weird"})).status_code == 422
    staff = (await organiser.get("/api/v1/dialogues/staff")).json()
    assert [p["id"] for p in staff["facilitators"]] == [people.facilitator.id, people.other_facilitator.id]
    facilitator = await as_user(people.facilitator)
    assert (await facilitator.get("/api/v1/dialogues/staff")).status_code == 403


async def test_dialogue_ids_out_of_range_are_not_found(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/dialogues/0", "/api/v1/dialogues/99999999999999999999", "/api/v1/dialogues/-1"):
        response = await client.get(path)
        assert response.status_code == 404, path


# --- registration --------------------------------------------------------------------------------


async def test_register_update_and_use_the_personal_link(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled")
    first = await client.post(f"/api/v1/dialogues/{d.id}/registrations", json=registration())
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["created"] and result["personal_link"].startswith("http://testserver/p/")
    assert client.cookies.get("parley_session")  # registering logged this browser in

    mine = await client.get("/api/v1/me/registrations")
    assert [r["dialogue_id"] for r in mine.json()["items"]] == [d.id]

    # Later, on another device: the personal link logs in.
    phone = make_client()
    opened = await phone.get(result["personal_link"].removeprefix("http://testserver"))
    assert opened.status_code == 303 and opened.headers["location"] == "/my/dialogues"
    data = await phone.get("/api/v1/me/data")
    assert data.status_code == 200
    assert data.headers["content-disposition"].startswith("attachment")
    exported = data.json()
    assert exported["account"]["email"] == "amina@example.org"
    assert (exported["registrations"][0]["age_group"], exported["registrations"][0]["education"]) == (
        "18-24", "secondary")

    # Registering again from a logged-in browser updates the registration.
    page = await phone.get("/my/dialogues")
    phone.headers["X-CSRF-Token"] = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    again = await phone.post(
        f"/api/v1/dialogues/{d.id}/registrations", json=registration(email="", display_name="", preferred_language="en")
    )
    assert again.status_code == 200 and not again.json()["created"]
    assert again.json()["registration"]["preferred_language"] == "en"


async def test_registration_errors(
    client: httpx.AsyncClient, make_dialogue: MakeDialogue, make_client: Callable[[], httpx.AsyncClient]
) -> None:
    full = await make_dialogue("scheduled", capacity=2)
    for n in range(2):
        ok = await make_client().post(
            f"/api/v1/dialogues/{full.id}/registrations", json=registration(email=f"p{n}@example.org")
        )
        assert ok.status_code == 201
    refused = await client.post(f"/api/v1/dialogues/{full.id}/registrations", json=registration())
    assert refused.status_code == 409 and error(refused)["code"] == "dialogue_full"
    assert "parley_session" not in client.cookies

    # A known address gets what a new one gets (a separate account): nothing tells them apart.
    other = (await make_dialogue()).id
    url = f"/api/v1/dialogues/{other}/registrations"
    known = await make_client().post(url, json=registration(email="p0@example.org"))
    new = await make_client().post(url, json=registration(email="p9@example.org"))
    assert known.status_code == new.status_code == 201
    assert set(known.json()) == set(new.json()) and known.json()["personal_link"]
    assert known.json()["user_id"] > ok.json()["user_id"]  # a new account, not p0's

    ended = await make_dialogue("ended")
    closed = await client.post(f"/api/v1/dialogues/{ended.id}/registrations", json=registration())
    assert closed.status_code == 409 and error(closed)["code"] == "registration_closed"

    invite = await make_dialogue("scheduled", visibility="invite_only")
    no_code = await client.post(f"/api/v1/dialogues/{invite.id}/registrations", json=registration())
    assert no_code.status_code == 403 and error(no_code)["code"] == "invite_required"
    with_code = await client.post(
        f"/api/v1/dialogues/{invite.id}/registrations", json=registration(invite_code=invite.invite_code)
    )
    assert with_code.status_code == 201

    open_one = await make_dialogue("scheduled")
    invalid = await make_client().post(
        f"/api/v1/dialogues/{open_one.id}/registrations",
        json=registration(email="x@example.org", consent_participate=False, preferred_language="zh"),
    )
    assert invalid.status_code == 422
    assert error(invalid)["fields"] == {"consent_participate": "required", "preferred_language": "not_offered"}
    missing = await make_client().post(f"/api/v1/dialogues/{open_one.id}/registrations", json={"email": "a@b.org"})
    assert missing.status_code == 422 and "country" in error(missing)["fields"]
    nowhere = await make_client().post("/api/v1/dialogues/424242/registrations", json=registration())
    assert nowhere.status_code == 404


async def test_registration_is_rate_limited_per_address(
    server: Server, make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled")
    limit = server.config.auth.registrations_per_hour
    for _ in range(limit):
        response = await make_client().post(f"/api/v1/dialogues/{d.id}/registrations", json=registration(gender="?"))
        assert response.status_code == 422
    blocked = await make_client().post(f"/api/v1/dialogues/{d.id}/registrations", json=registration())
    assert blocked.status_code == 429 and error(blocked)["code"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) > 0


async def test_behind_a_trusted_proxy_registrations_are_limited_per_client(
    server: Server, app: Any, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled")
    trust_proxies(server, "10.0.0.0/8")
    url = f"/api/v1/dialogues/{d.id}/registrations"
    for _ in range(server.config.auth.registrations_per_hour):
        async with behind_proxy(app, "198.51.100.7") as c:
            assert (await c.post(url, json=registration(gender="?"))).status_code == 422
    async with behind_proxy(app, "198.51.100.7") as c:
        assert (await c.post(url, json=registration())).status_code == 429
    async with behind_proxy(app, "198.51.100.8") as c:
        assert (await c.post(url, json=registration())).status_code == 201


async def test_my_data_is_mine_alone(
    client: httpx.AsyncClient,
    make_client: Callable[[], httpx.AsyncClient],
    make_dialogue: MakeDialogue,
    people: People,
    as_user: AsUser,
) -> None:
    d = await make_dialogue("scheduled")
    amina = make_client()
    result = (await amina.post(f"/api/v1/dialogues/{d.id}/registrations", json=registration())).json()
    bo = make_client()
    await bo.post(f"/api/v1/dialogues/{d.id}/registrations", json=registration(email="bo@example.org"))
    bo_data = (await bo.get("/api/v1/me/data")).json()
    assert [r["dialogue_id"] for r in bo_data["registrations"]] == [d.id]
    assert bo_data["account"]["email"] == "bo@example.org"  # never Amina's
    participant = await as_user(people.participant)
    assert (await participant.get(f"/api/v1/me/registrations/{d.id}")).status_code == 404
    assert (await participant.get(f"/api/v1/dialogues/{d.id}/registrations")).status_code == 403
    assert (await client.get("/api/v1/me/data")).status_code == 401
    # Organiser sees names; facilitator only aggregates.
    organiser = await as_user(people.organiser)
    listing = (await organiser.get(f"/api/v1/dialogues/{d.id}/registrations")).json()
    assert {a["email"] for a in listing["attendees"]} == {"amina@example.org", "bo@example.org"}
    facilitator = await as_user(people.facilitator)
    aggregated = (await facilitator.get(f"/api/v1/dialogues/{d.id}/registrations")).json()
    assert aggregated["attendees"] is None and aggregated["total"] == 2
    assert "amina" not in str(aggregated)
    assert result["user_id"] not in [a.get("user_id") for a in aggregated.get("attendees") or []]


async def test_consent_withdrawal_and_deletion(
    make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled")
    other = await make_dialogue("scheduled", title="Second")
    c = make_client()
    result = (await c.post(f"/api/v1/dialogues/{d.id}/registrations", json=registration())).json()
    page = await c.get("/my/dialogues")
    c.headers["X-CSRF-Token"] = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    await c.post(f"/api/v1/dialogues/{other.id}/registrations", json=registration(email=""))

    consent = await c.patch(
        f"/api/v1/me/registrations/{d.id}", json={"consent_transcript": False, "consent_quotes": True}
    )
    assert consent.status_code == 200
    assert consent.json()["consent"] == {"participate": True, "transcript": False, "quotes": True}
    assert (await c.delete(f"/api/v1/me/registrations/{d.id}")).status_code == 204
    assert (await c.get(f"/api/v1/me/registrations/{d.id}")).status_code == 404
    assert [r["dialogue_id"] for r in (await c.get("/api/v1/me/registrations")).json()["items"]] == [other.id]

    link = (await c.get("/api/v1/me/personal-link")).json()["personal_link"]
    assert link.startswith("http://testserver/p/")
    assert (await c.delete("/api/v1/me/data")).status_code == 204
    assert (await c.get("/api/v1/me/registrations")).status_code == 401
    stale = await make_client().get(result["personal_link"].removeprefix("http://testserver"))
    assert stale.status_code == 401 and error(stale)["code"] == "link_invalid"


async def test_revoking_the_personal_link(
    make_client: Callable[[], httpx.AsyncClient], make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled")
    c = make_client()
    old = (await c.post(f"/api/v1/dialogues/{d.id}/registrations", json=registration())).json()["personal_link"]
    page = await c.get("/my/dialogues")
    c.headers["X-CSRF-Token"] = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    fresh = await c.post("/api/v1/me/personal-link/revoke")
    assert fresh.status_code == 200
    assert (await make_client().get(old.removeprefix("http://testserver"))).status_code == 401
    assert (await make_client().get(fresh.json()["personal_link"].removeprefix("http://testserver"))).status_code == 303
    assert (await c.get("/api/v1/me/registrations")).status_code == 200  # this browser stays logged in


async def test_staff_have_no_personal_link(people: People, as_user: AsUser) -> None:
    organiser = await as_user(people.organiser)
    response = await organiser.get("/api/v1/me/personal-link")
    assert response.status_code == 403 and error(response)["code"] == "participants_only"


# --- the OpenAPI document ----------------------------------------------------------------------


async def test_the_api_is_documented(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    paths = doc["paths"]
    expected = {
        "/api/v1/dialogues": {"get", "post"},
        "/api/v1/dialogues/staff": {"get"},
        "/api/v1/dialogues/{dialogue_id}": {"get", "patch"},
        "/api/v1/dialogues/{dialogue_id}/publish": {"post"},
        "/api/v1/dialogues/{dialogue_id}/cancel": {"post"},
        "/api/v1/dialogues/{dialogue_id}/start": {"post"},
        "/api/v1/dialogues/{dialogue_id}/end": {"post"},
        "/api/v1/dialogues/{dialogue_id}/submit-report": {"post"},
        "/api/v1/dialogues/{dialogue_id}/invite-code": {"post"},
        "/api/v1/dialogues/{dialogue_id}/registrations": {"get", "post"},
        "/api/v1/overview": {"get"},
        "/api/v1/me/registrations": {"get"},
        "/api/v1/me/registrations/{dialogue_id}": {"get", "patch", "delete"},
        "/api/v1/me/data": {"get", "delete"},
        "/api/v1/me/personal-link": {"get"},
        "/api/v1/me/personal-link/revoke": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
        for method in methods:
            op = paths[path][method]
            assert op.get("tags"), (path, method)
            codes = set(op["responses"])
            assert codes & {"200", "201", "204"}, (path, method)
    assert not any(p.startswith(("/dialogues", "/my", "/p/", "/organise")) for p in paths)
