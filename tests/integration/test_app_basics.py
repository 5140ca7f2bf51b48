from collections.abc import Awaitable, Callable

import httpx
import pytest
from tests.conftest import login

from parley import __version__
from parley.storage.models import Role, User

pytestmark = pytest.mark.integration


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_unknown_api_path_has_a_stable_error_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_home_page_follows_accept_language_and_sets_direction(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "ar,en;q=0.5", "Accept": "text/html"})
    assert response.status_code == 200
    assert 'lang="ar"' in response.text
    assert 'dir="rtl"' in response.text


async def test_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_form_post_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/language", data={"locale": "fr"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


async def test_language_switch_with_csrf_token_sets_cookie(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    from tests.conftest import csrf_from

    token = csrf_from(page.text)
    response = await client.post("/language", data={"locale": "fr", "csrf_token": token, "next": "/"})
    assert response.status_code == 303
    assert client.cookies.get("parley_locale") == "fr"
    page = await client.get("/")
    assert 'lang="fr"' in page.text


async def test_every_page_has_an_icon(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert '<link rel="icon" href="/static/img/favicon.svg"' in home.text
    legacy = await client.get("/favicon.ico", follow_redirects=True)
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("image/svg+xml")


async def test_health_tells_the_version_to_staff_only(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: Callable[..., Awaitable[User]]
) -> None:
    assert (await client.get("/api/v1/health")).json() == {"status": "ok"}
    assert __version__ not in (await client.get("/api/openapi.json")).text.split('"paths"')[0]
    participant = make_client()
    await login(participant, await make_user(Role.PARTICIPANT))
    assert "version" not in (await participant.get("/api/v1/health")).json()
    await login(client, await make_user(Role.FACILITATOR))
    body = (await client.get("/api/v1/health")).json()
    assert body["version"] == __version__ and body["database"] in ("sqlite", "postgresql")


async def test_nothing_personal_is_cacheable(
    client: httpx.AsyncClient, make_user: Callable[..., Awaitable[User]]
) -> None:
    assert (await client.get("/api/v1/health")).headers["cache-control"] == "no-store"
    assert "cache-control" not in (await client.get("/", headers={"Accept": "text/html"})).headers
    await login(client, await make_user(Role.ORGANISER))
    for path in ("/api/v1/me", "/", "/api/v1/me/tokens", "/workspace"):
        response = await client.get(path, headers={"Accept": "text/html"})
        assert response.headers["cache-control"] == "no-store", path
    static = await client.get("/static/build/" + next(iter(_static_files())))
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def _static_files() -> list[str]:
    from parley.web.app import STATIC

    return sorted(p.name for p in (STATIC / "build").iterdir() if p.is_file())
