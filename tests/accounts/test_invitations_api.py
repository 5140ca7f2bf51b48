"""Staff invitations by link through the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select

from parley.security import hash_token
from parley.server import Server
from parley.storage.models import Dialogue, DialogueInterpreter, Invitation, Role, User
from tests.conftest import PASSWORD, login
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]
NEW = {"display_name": "Nadia Rahman", "password": "a long enough password"}


def token_of(link: str) -> str:
    assert "/invite/" in link
    return link.rsplit("/invite/", 1)[1]


async def invite(client: httpx.AsyncClient, email: str, role: str, **extra: object) -> str:
    response = await client.post("/api/v1/invitations", json={"email": email, "role": role, **extra})
    assert response.status_code == 201, response.text
    return token_of(response.json()["link"])


async def test_organiser_invites_a_facilitator_who_joins_by_link(
    server: Server, client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    organiser = await make_user(Role.ORGANISER, name="Olu")
    await login(client, organiser)
    response = await client.post("/api/v1/invitations", json={"email": "Nadia@Example.org", "role": "facilitator"})
    assert response.status_code == 201
    body = response.json()
    assert body["link"].startswith("http://testserver/invite/")
    inv = body["invitation"]
    assert (inv["email"], inv["role"], inv["state"], inv["invited_by_id"], inv["invited_by_name"]) == (
        "nadia@example.org", "facilitator", "pending", organiser.id, "Olu")
    token = token_of(body["link"])
    async with server.db.session() as s:
        row = await s.get(Invitation, inv["id"])
        assert row is not None and row.token_hash == hash_token(token)  # only the hash is stored

    newcomer = make_client()
    preview = await newcomer.get(f"/api/v1/invitations/preview/{token}")
    assert preview.status_code == 200
    assert preview.json()["account_exists"] is False and preview.json()["role"] == "facilitator"
    accepted = await newcomer.post("/api/v1/invitations/accept", json={"token": token, **NEW})
    assert accepted.status_code == 200
    assert accepted.json()["user"]["role"] == "facilitator"
    assert accepted.json()["user"]["email"] == "nadia@example.org"
    newcomer.headers["X-CSRF-Token"] = accepted.json()["csrf_token"]
    assert (await newcomer.get("/api/v1/me")).json()["display_name"] == "Nadia Rahman"
    # Single use.
    again = await make_client().post("/api/v1/invitations/accept", json={"token": token, **NEW})
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "invitation_used"
    assert (await client.get("/api/v1/invitations")).json()["invitations"] == []
    # The password chosen on the invitation page logs in.
    await login(make_client(), User(email="nadia@example.org"), NEW["password"])


@pytest.mark.parametrize(
    ("inviter", "role", "status", "code"),
    [
        (Role.ORGANISER, "organiser", 403, "role_not_invitable"),
        (Role.ORGANISER, "admin", 403, "role_not_invitable"),
        (Role.ORGANISER, "participant", 403, "role_not_invitable"),
        (Role.FACILITATOR, "organiser", 403, "role_required"),
        (Role.FACILITATOR, "interpreter", 403, "role_required"),
        (Role.INTERPRETER, "facilitator", 403, "role_required"),
        (Role.PARTICIPANT, "facilitator", 403, "role_required"),
        (Role.ADMIN, "participant", 403, "role_not_invitable"),
        (Role.ORGANISER, "interpreter", 201, None),
        (Role.ADMIN, "organiser", 201, None),
        (Role.ADMIN, "admin", 201, None),
    ],
)
async def test_who_may_invite_whom(client: httpx.AsyncClient, make_user: MakeUser, inviter: Role, role: str,
                                   status: int, code: str | None) -> None:
    await login(client, await make_user(inviter))
    response = await client.post("/api/v1/invitations", json={"email": "new@example.org", "role": role})
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code


async def test_participants_cannot_list_or_revoke_invitations(client: httpx.AsyncClient,
                                                               make_user: MakeUser) -> None:
    response = await client.get("/api/v1/invitations")
    assert response.status_code == 401
    await login(client, await make_user(Role.PARTICIPANT))
    for response in (await client.get("/api/v1/invitations"), await client.delete("/api/v1/invitations/1")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_required"


async def test_organisers_see_their_own_pending_invitations_and_admins_see_all(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    first, second = make_client(), make_client()
    await login(first, await make_user(Role.ORGANISER))
    await login(second, await make_user(Role.ORGANISER))
    await invite(first, "a@example.org", "facilitator")
    await invite(first, "b@example.org", "interpreter")
    await invite(second, "c@example.org", "facilitator")
    emails = [i["email"] for i in (await first.get("/api/v1/invitations")).json()["invitations"]]
    assert emails == ["b@example.org", "a@example.org"]
    await login(client, await make_user(Role.ADMIN))
    assert len((await client.get("/api/v1/invitations")).json()["invitations"]) == 3


async def test_revoked_invitation_is_refused(client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient],
                                             make_user: MakeUser) -> None:
    await login(client, await make_user(Role.ORGANISER))
    token = await invite(client, "x@example.org", "interpreter")
    inv_id = (await client.get("/api/v1/invitations")).json()["invitations"][0]["id"]
    other = make_client()
    await login(other, await make_user(Role.ORGANISER))
    assert (await other.delete(f"/api/v1/invitations/{inv_id}")).status_code == 404  # not theirs
    revoked = await client.delete(f"/api/v1/invitations/{inv_id}")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked" and revoked.json()["revoked_at"]
    again = await client.delete(f"/api/v1/invitations/{inv_id}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_closed"
    visitor = make_client()
    for response in (await visitor.get(f"/api/v1/invitations/preview/{token}"),
                     await visitor.post("/api/v1/invitations/accept", json={"token": token, **NEW})):
        assert response.status_code == 410
        assert response.json()["error"]["code"] == "invitation_revoked"


async def test_expired_invitation_is_refused(server: Server, client: httpx.AsyncClient, clock: FakeClock,
                                             make_client: Callable[[], httpx.AsyncClient],
                                             make_user: MakeUser) -> None:
    await login(client, await make_user(Role.ORGANISER))
    token = await invite(client, "late@example.org", "facilitator")
    clock.advance(server.config.auth.invite_days * 86400 - 60)
    assert (await make_client().get(f"/api/v1/invitations/preview/{token}")).status_code == 200
    clock.advance(120)
    response = await make_client().post("/api/v1/invitations/accept", json={"token": token, **NEW})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "invitation_expired"
    assert (await client.get("/api/v1/invitations")).json()["invitations"] == []


async def test_unknown_invitation_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/invitations/accept", json={"token": "made-up", **NEW})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invitation_not_found"


async def test_invalid_acceptance_reports_every_field_and_writes_nothing(
    server: Server, client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    await login(client, await make_user(Role.ORGANISER))
    token = await invite(client, "half@example.org", "facilitator")
    response = await make_client().post("/api/v1/invitations/accept",
                                        json={"token": token, "display_name": "", "password": "short"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"display_name": "length", "password": "too_short"}
    async with server.db.session() as s:
        count = (await s.execute(select(func.count()).select_from(User).where(User.email == "half@example.org")))
        assert count.scalar_one() == 0
    assert len((await client.get("/api/v1/invitations")).json()["invitations"]) == 1


async def test_invitation_input_is_validated(client: httpx.AsyncClient, make_user: MakeUser,
                                             make_dialogue: Callable[..., Awaitable[Dialogue]]) -> None:
    await login(client, await make_user(Role.ADMIN))
    bad_email = await client.post("/api/v1/invitations", json={"email": "not-an-email", "role": "facilitator"})
    assert bad_email.status_code == 422 and bad_email.json()["error"]["fields"] == {"email": "invalid"}
    bad_role = await client.post("/api/v1/invitations", json={"email": "a@example.org", "role": "king"})
    assert bad_role.status_code == 422
    missing = await client.post("/api/v1/invitations", json={"email": "a@example.org", "role": "facilitator",
                                                             "dialogue_id": 4242})
    assert missing.status_code == 422 and missing.json()["error"]["fields"] == {"dialogue_id": "not_found"}
    dialogue = await make_dialogue()
    wrong_role = await client.post("/api/v1/invitations", json={"email": "a@example.org", "role": "organiser",
                                                                "dialogue_id": dialogue.id})
    assert wrong_role.status_code == 422 and wrong_role.json()["error"]["fields"] == {"dialogue_id": "not_for_role"}
    both = await client.post("/api/v1/invitations", json={"email": "nope", "role": "organiser",
                                                          "dialogue_id": dialogue.id})
    assert both.json()["error"]["fields"] == {"email": "invalid", "dialogue_id": "not_for_role"}
    huge = await client.post("/api/v1/invitations", json={"email": "a@example.org", "role": "facilitator",
                                                          "dialogue_id": 2**40})
    assert huge.status_code == 422


async def test_an_interpreter_invitation_names_the_language_and_accepting_lists_them(
    server: Server, client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser,
    make_dialogue: Callable[..., Awaitable[Dialogue]],
) -> None:
    await login(client, await make_user(Role.ORGANISER))
    dialogue = await make_dialogue("Youth and climate")  # held in English
    base = {"email": "i@example.org", "role": "interpreter", "dialogue_id": dialogue.id}
    missing = await client.post("/api/v1/invitations", json=base)
    assert missing.status_code == 422 and missing.json()["error"]["fields"] == {"language": "required"}
    other = await client.post("/api/v1/invitations", json={**base, "language": "fr"})
    assert other.status_code == 422 and other.json()["error"]["fields"] == {"language": "not_offered"}
    stray = await client.post("/api/v1/invitations", json={"email": "f@example.org", "role": "facilitator",
                                                           "language": "en"})
    assert stray.status_code == 422 and stray.json()["error"]["fields"] == {"language": "not_for_role"}
    made = await client.post("/api/v1/invitations", json={**base, "language": "en"})
    assert made.status_code == 201 and made.json()["invitation"]["language"] == "en"
    accepted = await make_client().post("/api/v1/invitations/accept",
                                        json={"token": token_of(made.json()["link"]), **NEW})
    assert accepted.status_code == 200
    async with server.db.session() as s:
        rows = (await s.execute(select(DialogueInterpreter.user_id, DialogueInterpreter.language)
                                .where(DialogueInterpreter.dialogue_id == dialogue.id))).all()
    assert [tuple(r) for r in rows] == [(accepted.json()["user"]["id"], "en")]


async def test_facilitator_invitation_for_a_dialogue_assigns_it(
    server: Server, client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser,
    make_dialogue: Callable[..., Awaitable[Dialogue]],
) -> None:
    await login(client, await make_user(Role.ORGANISER))
    open_dialogue = await make_dialogue("Youth and climate")
    taken_by = await make_user(Role.FACILITATOR)
    taken = await make_dialogue("Already facilitated", facilitator_id=taken_by.id)
    token_open = await invite(client, "f1@example.org", "facilitator", dialogue_id=open_dialogue.id)
    token_taken = await invite(client, "f2@example.org", "facilitator", dialogue_id=taken.id)
    preview = (await make_client().get(f"/api/v1/invitations/preview/{token_open}")).json()
    assert preview["dialogue_title"] == "Youth and climate"
    first = (await make_client().post("/api/v1/invitations/accept", json={"token": token_open, **NEW})).json()
    await make_client().post("/api/v1/invitations/accept", json={"token": token_taken, **NEW})
    async with server.db.session() as s:
        assert (await s.get(Dialogue, open_dialogue.id)).facilitator_id == first["user"]["id"]  # type: ignore[union-attr]
        assert (await s.get(Dialogue, taken.id)).facilitator_id == taken_by.id  # type: ignore[union-attr]


async def test_existing_account_accepts_after_logging_in(
    server: Server, client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    """Decided behaviour: a link never takes over an account; the owner logs in and accepts."""
    await login(client, await make_user(Role.ORGANISER))
    existing = await make_user(Role.PARTICIPANT, email="sam@example.org")
    token = await invite(client, "sam@example.org", "interpreter")

    anonymous = make_client()
    assert (await anonymous.get(f"/api/v1/invitations/preview/{token}")).json()["account_exists"] is True
    refused = await anonymous.post("/api/v1/invitations/accept", json={"token": token, **NEW})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "email_taken"

    someone_else = make_client()
    await login(someone_else, await make_user(Role.PARTICIPANT))
    wrong = await someone_else.post("/api/v1/invitations/accept", json={"token": token})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "invitation_other_account"

    owner = make_client()
    await login(owner, existing)
    accepted = await owner.post("/api/v1/invitations/accept", json={"token": token})
    assert accepted.status_code == 200
    assert accepted.json()["user"]["role"] == "interpreter" and accepted.json()["csrf_token"] is None
    stored = await server.accounts.user(existing.id)
    assert stored is not None and stored.role == Role.INTERPRETER
    assert (await server.accounts.authenticate(existing.email, PASSWORD)).id == existing.id  # password kept


async def test_accepting_never_lowers_a_role(server: Server, client: httpx.AsyncClient,
                                             make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser,
                                             make_dialogue: Callable[..., Awaitable[Dialogue]]) -> None:
    await login(client, await make_user(Role.ADMIN))
    organiser = await make_user(Role.ORGANISER)
    dialogue = await make_dialogue()
    # Without a dialogue, inviting someone to a role they already outrank is pointless.
    pointless = await client.post("/api/v1/invitations", json={"email": organiser.email, "role": "facilitator"})
    assert pointless.status_code == 409 and pointless.json()["error"]["code"] == "already_has_role"
    token = await invite(client, organiser.email, "facilitator", dialogue_id=dialogue.id)
    owner = make_client()
    await login(owner, organiser)
    assert (await owner.post("/api/v1/invitations/accept", json={"token": token})).json()["user"]["role"] == "organiser"
    async with server.db.session() as s:
        assert (await s.get(Dialogue, dialogue.id)).facilitator_id == organiser.id  # type: ignore[union-attr]


async def test_a_disabled_account_cannot_be_invited(server: Server, client: httpx.AsyncClient,
                                                    make_user: MakeUser) -> None:
    admin = await make_user(Role.ADMIN)
    await login(client, admin)
    target = await make_user(Role.PARTICIPANT)
    await server.accounts.update_user(admin, target.id, disabled=True)
    response = await client.post("/api/v1/invitations", json={"email": target.email, "role": "organiser"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "account_disabled"


async def test_invitation_link_uses_the_public_url(server: Server, client: httpx.AsyncClient,
                                                   make_user: MakeUser) -> None:
    import dataclasses

    server.config = dataclasses.replace(
        server.config, server=dataclasses.replace(server.config.server, public_url="https://parley.example.net/")
    )
    await login(client, await make_user(Role.ORGANISER))
    response = await client.post("/api/v1/invitations", json={"email": "p@example.org", "role": "interpreter"})
    assert response.json()["link"].startswith("https://parley.example.net/invite/")


async def test_invitation_accepted_by_api_logs_in_with_the_new_password(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    await login(client, await make_user(Role.ORGANISER))
    token = await invite(client, "pw@example.org", "interpreter")
    await make_client().post("/api/v1/invitations/accept", json={"token": token, **NEW})
    response = await make_client().post("/api/v1/session", json={"email": "pw@example.org", "password": PASSWORD})
    assert response.status_code == 401


async def test_an_invitation_link_works_only_once_even_when_raced(
    server: Server, client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    import asyncio

    await login(client, await make_user(Role.ORGANISER))
    token = await invite(client, "race@example.org", "facilitator")
    responses = await asyncio.gather(*(
        make_client().post("/api/v1/invitations/accept", json={"token": token, **NEW}) for _ in range(4)
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 200 and statuses.count(200) == 1, [r.text for r in responses]
    assert all(s in (409, 410) for s in statuses[1:]), [r.text for r in responses]
    async with server.db.session() as s:
        count = await s.execute(select(func.count()).select_from(User).where(User.email == "race@example.org"))
        assert count.scalar_one() == 1
