"""The account pages, driven like a browser without JavaScript: forms, redirects, errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from html import unescape

import httpx
import pytest

from parley.handlers.accounts import FIRST_ADMIN_EMAIL
from parley.server import Server
from parley.storage.models import Role, User
from tests.accounts.conftest import HTML, page_csrf
from tests.conftest import PASSWORD, csrf_from, login

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]
NEW_PASSWORD = "another good passphrase"


async def page_login(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> None:
    token = await page_csrf(client, "/login")
    response = await client.post("/login", data={"email": user.email, "password": password, "csrf_token": token,
                                                 "next": "/account"}, headers=HTML)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account"


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', html)
    assert match, f"no error shown for {field_id}"
    return unescape(match.group(1))


def input_value(html: str, field_id: str) -> str:
    match = re.search(rf'<input id="{field_id}"[^>]*?value="([^"]*)"', html)
    assert match, f"no value for {field_id}"
    return unescape(match.group(1))


# --- login and logout ---------------------------------------------------------------------------


async def test_login_page_logs_in_and_goes_to_next(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user(Role.ORGANISER)
    page = await client.get("/login?next=/account", headers=HTML)
    assert page.status_code == 200
    assert 'name="next" value="/account"' in page.text and 'autocomplete="current-password"' in page.text
    await page_login(client, user)
    account = await client.get("/account", headers=HTML)
    assert account.status_code == 200 and user.email in account.text
    # Already logged in: the login page sends you on.
    again = await client.get("/login?next=/account", headers=HTML)
    assert again.status_code == 303 and again.headers["location"] == "/account"


async def test_with_nowhere_asked_for_a_login_lands_where_the_work_is(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    for role, landing in ((Role.ORGANISER, "/organise"), (Role.FACILITATOR, "/organise"),
                          (Role.PARTICIPANT, "/my/dialogues")):
        person = make_client()
        user = await make_user(role)
        token = await page_csrf(person, "/login")
        response = await person.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                                     "next": "/"}, headers=HTML)
        assert response.status_code == 303 and response.headers["location"] == landing, role


async def test_the_first_start_admin_is_asked_to_replace_the_printed_password(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user(Role.ADMIN, email=FIRST_ADMIN_EMAIL)
    token = await page_csrf(client, "/login")
    response = await client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token,
                                                 "next": "/"}, headers=HTML)
    assert response.headers["location"] == "/organise"
    overview = await client.get("/organise", headers=HTML)
    assert 'id="first-password"' in overview.text and 'href="/dialogues/new"' in overview.text
    csrf = csrf_from(overview.text)
    changed = await client.post("/account/password", data={
        "csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert changed.status_code == 303
    assert 'id="first-password"' not in (await client.get("/organise", headers=HTML)).text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x",
                                    "/%0d%0aSet-Cookie:x", ""])
async def test_login_only_redirects_within_the_site(client: httpx.AsyncClient, make_user: MakeUser,
                                                    target: str) -> None:
    user = await make_user()
    token = await page_csrf(client)
    response = await client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                                 "next": target})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location.replace("%", "")


async def test_failed_login_keeps_the_email_and_says_one_vague_thing(client: httpx.AsyncClient,
                                                                      make_user: MakeUser) -> None:
    user = await make_user()
    token = await page_csrf(client)
    response = await client.post("/login", data={"email": user.email, "password": "wrong wrong",
                                                  "csrf_token": token, "next": "/account"}, headers=HTML)
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert input_value(response.text, "f-email") == user.email
    assert 'name="next" value="/account"' in response.text
    assert "parley_session" not in response.headers.get("set-cookie", "")


async def test_login_form_is_rate_limited(server: Server, client: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user()
    token = await page_csrf(client)
    for _ in range(server.config.auth.login_attempts_per_minute):
        await client.post("/login", data={"email": user.email, "password": "nope", "csrf_token": token})
    response = await client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token},
                                 headers=HTML)
    assert response.status_code == 429
    assert 'data-code="rate_limited"' in response.text and "Retry-After" in response.headers


async def test_login_form_without_csrf_is_refused(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user()
    await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "parley_session" not in client.cookies


async def test_logout_form(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await page_login(client, await make_user())
    token = csrf_from((await client.get("/account", headers=HTML)).text)
    assert (await client.post("/logout", data={}, headers=HTML)).status_code == 403
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/"
    account = await client.get("/account", headers=HTML)
    assert account.status_code == 303 and account.headers["location"] == "/login?next=%2Faccount"


async def test_login_page_in_arabic_is_right_to_left(client: httpx.AsyncClient) -> None:
    page = await client.get("/login", headers={**HTML, "Accept-Language": "ar"})
    assert 'dir="rtl"' in page.text and 'lang="ar"' in page.text


# --- my account -----------------------------------------------------------------------------------


async def test_profile_form_shows_every_error_and_keeps_what_was_typed(client: httpx.AsyncClient,
                                                                        make_user: MakeUser) -> None:
    await page_login(client, await make_user(name="Juan"))
    token = csrf_from((await client.get("/account", headers=HTML)).text)
    response = await client.post("/account/profile", headers=HTML, data={
        "csrf_token": token, "display_name": "", "locale": "xx", "time_zone": "Nowhere/Land"})
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "profile-display_name") == "Enter a name of 1 to 120 characters."
    assert field_error(html, "profile-locale") == "Choose one of the offered languages."
    assert "Choose a time zone from the list" in field_error(html, "profile-time_zone")
    assert input_value(html, "profile-time_zone") == "Nowhere/Land"
    assert 'aria-invalid="true"' in html and 'role="alert"' in html


async def test_profile_form_saves_and_switches_language(server: Server, client: httpx.AsyncClient,
                                                        make_user: MakeUser) -> None:
    user = await make_user(name="Juan")
    await page_login(client, user)
    token = csrf_from((await client.get("/account", headers=HTML)).text)
    response = await client.post("/account/profile", data={
        "csrf_token": token, "display_name": "Juan Pérez", "locale": "es", "time_zone": "America/Lima"})
    assert response.status_code == 303 and response.headers["location"] == "/account?done=profile"
    assert client.cookies.get("parley_locale") == "es"
    page = await client.get("/account?done=profile", headers=HTML)
    assert 'lang="es"' in page.text and 'class="flash"' in page.text
    assert input_value(page.text, "profile-time_zone") == "America/Lima"
    stored = await server.accounts.user(user.id)
    assert stored is not None and (stored.display_name, stored.locale, stored.time_zone) == (
        "Juan Pérez", "es", "America/Lima")


async def test_password_form(client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient],
                             make_user: MakeUser) -> None:
    user = await make_user()
    await page_login(client, user)
    token = csrf_from((await client.get("/account", headers=HTML)).text)
    mismatch = await client.post("/account/password", headers=HTML, data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": "something else entirely"})
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "password-new_password_confirm") == "The two new passwords are not the same."
    short = await client.post("/account/password", headers=HTML, data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"})
    assert "at least 10 characters" in field_error(short.text, "password-new_password")
    wrong = await client.post("/account/password", headers=HTML, data={
        "csrf_token": token, "current_password": "not it at all", "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert field_error(wrong.text, "password-current_password") == "The current password is not right."
    assert 'value="not it at all"' not in wrong.text  # passwords are never echoed back
    done = await client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password"
    assert (await client.get("/account", headers=HTML)).status_code == 200
    await login(make_client(), user, NEW_PASSWORD)


async def test_api_token_page_shows_the_secret_once(client: httpx.AsyncClient,
                                                    make_client: Callable[[], httpx.AsyncClient],
                                                    make_user: MakeUser) -> None:
    await page_login(client, await make_user())
    token = csrf_from((await client.get("/account", headers=HTML)).text)
    empty = await client.post("/account/tokens", headers=HTML, data={"csrf_token": token, "name": ""})
    assert empty.status_code == 422 and field_error(empty.text, "token-name")
    created = await client.post("/account/tokens", headers=HTML, data={"csrf_token": token, "name": "Dashboard"})
    assert created.status_code == 201
    secret = input_value(created.text, "new-token-secret")
    assert secret.startswith("prl_") and 'data-copy="new-token-secret"' in created.text
    later = await client.get("/account", headers=HTML)
    assert secret not in later.text and "Dashboard" in later.text
    integration = make_client()
    assert (await integration.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', later.text)
    assert token_id
    revoked = await client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert (await integration.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 401


async def test_account_pages_need_login(client: httpx.AsyncClient) -> None:
    for path in ("/account", "/invitations", "/admin/users"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


# --- invitations ------------------------------------------------------------------------------------


async def create_invitation(client: httpx.AsyncClient, email: str, role: str = "facilitator") -> str:
    token = csrf_from((await client.get("/invitations", headers=HTML)).text)
    response = await client.post("/invitations", headers=HTML, data={
        "csrf_token": token, "email": email, "role": role, "dialogue_id": ""})
    assert response.status_code == 201, response.text
    link = input_value(response.text, "invite-link")
    assert 'data-copy="invite-link"' in response.text
    return link.rsplit("/invite/", 1)[1]


async def test_invitations_page_creates_lists_and_withdraws(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await page_login(client, await make_user(Role.ORGANISER))
    page = await client.get("/invitations", headers=HTML)
    select = re.search(r'<select id="f-role".*?</select>', page.text, re.S)
    assert select
    options = re.findall(r'<option value="(\w+)"', select.group(0))
    assert options == ["facilitator", "interpreter"]  # organisers cannot invite organisers
    token = csrf_from(page.text)
    bad = await client.post("/invitations", headers=HTML, data={
        "csrf_token": token, "email": "not an email", "role": "organiser", "dialogue_id": "abc"})
    assert bad.status_code == 422
    assert field_error(bad.text, "f-role") == "Your role cannot invite people with that role."
    assert input_value(bad.text, "f-email") == "not an email"
    bad = await client.post("/invitations", headers=HTML, data={
        "csrf_token": token, "email": "not an email", "role": "facilitator", "dialogue_id": "abc"})
    assert bad.status_code == 422
    assert field_error(bad.text, "f-email") == "Enter a valid email address."
    assert field_error(bad.text, "f-dialogue_id")

    await create_invitation(client, "amina@example.org")
    listing = await client.get("/invitations", headers=HTML)
    assert "amina@example.org" in listing.text
    inv_id = re.search(r'action="/invitations/(\d+)/revoke"', listing.text)
    assert inv_id
    response = await client.post(f"/invitations/{inv_id.group(1)}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert "amina@example.org" not in (await client.get("/invitations", headers=HTML)).text


async def test_participants_get_a_forbidden_page_for_invitations(client: httpx.AsyncClient,
                                                                 make_user: MakeUser) -> None:
    await page_login(client, await make_user(Role.PARTICIPANT))
    response = await client.get("/invitations", headers=HTML)
    assert response.status_code == 403 and 'data-code="role_required"' in response.text
    response = await client.get("/admin/users", headers=HTML)
    assert response.status_code == 403 and 'data-code="admin_only"' in response.text


async def test_invite_page_creates_the_account(client: httpx.AsyncClient,
                                               make_client: Callable[[], httpx.AsyncClient],
                                               make_user: MakeUser) -> None:
    await page_login(client, await make_user(Role.ADMIN))
    token = await create_invitation(client, "li.wei@example.org", "organiser")
    newcomer = make_client()
    page = await newcomer.get(f"/invite/{token}", headers=HTML)
    assert page.status_code == 200 and "li.wei@example.org" in page.text and "Organiser" in page.text
    csrf = csrf_from(page.text)
    mismatch = await newcomer.post(f"/invite/{token}", headers=HTML, data={
        "csrf_token": csrf, "display_name": "Li Wei", "password": NEW_PASSWORD, "password_confirm": "different"})
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "f-password_confirm") == "The two passwords are not the same."
    assert input_value(mismatch.text, "f-display_name") == "Li Wei"
    done = await newcomer.post(f"/invite/{token}", data={
        "csrf_token": csrf, "display_name": "Li Wei", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    # A new organiser lands where their work starts: the overview, with "New dialogue".
    assert done.status_code == 303 and done.headers["location"] == "/organise?done=invitation"
    overview = await newcomer.get("/organise?done=invitation", headers=HTML)
    assert overview.status_code == 200 and "Welcome!" in overview.text and 'href="/dialogues/new"' in overview.text
    account = await newcomer.get("/account", headers=HTML)
    assert account.status_code == 200 and "Organiser" in account.text
    used = await make_client().get(f"/invite/{token}", headers=HTML)
    assert used.status_code == 410 and 'data-code="invitation_used"' in used.text
    unknown = await make_client().get("/invite/not-a-real-token", headers=HTML)
    assert unknown.status_code == 404 and 'data-code="invitation_not_found"' in unknown.text


async def test_invite_page_for_an_existing_account(server: Server, client: httpx.AsyncClient,
                                                   make_client: Callable[[], httpx.AsyncClient],
                                                   make_user: MakeUser) -> None:
    await page_login(client, await make_user(Role.ORGANISER))
    existing = await make_user(Role.PARTICIPANT, email="joy@example.org")
    token = await create_invitation(client, "joy@example.org", "interpreter")
    visitor = make_client()
    page = await visitor.get(f"/invite/{token}", headers=HTML)
    assert f'href="/login?next=%2Finvite%2F{token}"' in page.text
    assert 'name="password"' not in page.text

    other = make_client()
    await page_login(other, await make_user(Role.PARTICIPANT))
    page = await other.get(f"/invite/{token}", headers=HTML)
    assert 'data-code="invitation_other_account"' in page.text

    await page_login(visitor, existing)
    page = await visitor.get(f"/invite/{token}", headers=HTML)
    assert "Accept the invitation" in page.text
    response = await visitor.post(f"/invite/{token}", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    stored = await server.accounts.user(existing.id)
    assert stored is not None and stored.role == Role.INTERPRETER


# --- user administration -------------------------------------------------------------------------


async def test_admin_users_page(server: Server, client: httpx.AsyncClient,
                                make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser) -> None:
    admin = await make_user(Role.ADMIN, name="Ada Admin")
    target = await make_user(Role.PARTICIPANT, name="Tomás Díaz", email="tomas@example.org")
    for n in range(30):
        await server.accounts.create_user(email=f"bulk{n}@example.org", display_name=f"Bulk {n}",
                                          role=Role.PARTICIPANT)
    await page_login(client, admin)
    page = await client.get("/admin/users", headers=HTML)
    assert "32 users" in page.text and "Page 1 of 2" in page.text and 'rel="next"' in page.text
    search = await client.get("/admin/users?q=tom%C3%A1s", headers=HTML)
    assert "tomas@example.org" in search.text and "bulk1@" not in search.text
    token = csrf_from(search.text)

    response = await client.post(f"/admin/users/{target.id}", data={
        "csrf_token": token, "action": "role", "role": "facilitator", "back": "/admin/users?q=tom%C3%A1s&page=1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users?q=tom%C3%A1s&page=1&done=saved"
    stored = await server.accounts.user(target.id)
    assert stored is not None and stored.role == Role.FACILITATOR

    response = await client.post(f"/admin/users/{target.id}", data={
        "csrf_token": token, "action": "disable", "back": "https://evil.example/"})
    assert response.headers["location"] == "/admin/users?done=saved"
    stored = await server.accounts.user(target.id)
    assert stored is not None and stored.disabled

    last = await client.post(f"/admin/users/{admin.id}", headers=HTML, data={"csrf_token": token, "action": "disable"})
    assert last.status_code == 409 and "This is the last admin." in last.text
