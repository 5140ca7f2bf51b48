"""Answering the survey: the web form, the JSON API, idempotency, validation, languages."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.consultation.dashboard import Filters
from parley.server import Server
from tests.conftest import behind_proxy, csrf_from, trust_proxies
from tests.survey.conftest import StaffFactory, answer, submit

pytestmark = pytest.mark.integration

FORM_BASE = {
    "language": "en",
    "answers.future": "worse",
    "answers.priorities": ["human_rights", "less_corruption"],
    "answers.trends": ["climate"],
    "answers.cooperation": "very",
    "answers.advice": "Make the Security Council more representative.",
    "age_group": "25-34",
    "gender": "male",
    "country": "KE",
    "education": "secondary",
    "consent_analysis": "yes",
    "consent_quotes": "yes",
}


async def form_fields(client: httpx.AsyncClient, url: str = "/survey") -> tuple[str, str]:
    page = await client.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 200
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    return csrf_from(page.text), key.group(1)


async def responses(server: Server) -> int:
    counts, _plan = await server.dashboard.counts(["_n"], Filters(), None)
    return counts["_n"].get(None, {}).get("", 0)


@pytest.mark.parametrize("lang,text", [
    ("en", "What three things would you most like to see"),
    ("fr", "Quelles sont les trois choses"),
    ("es", "¿Cuáles son las tres cosas"),
    ("ar", "ما هي الأشياء الثلاثة"),
    ("ru", "Какие три вещи"),
    ("zh", "25年后，您最希望看到哪三件事"),
])
async def test_the_form_speaks_each_un_language(client: httpx.AsyncClient, lang: str, text: str) -> None:
    page = await client.get(f"/survey?lang={lang}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert text in page.text
    assert f'<div class="survey" lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text


async def test_arabic_page_is_right_to_left(client: httpx.AsyncClient) -> None:
    page = await client.get("/survey", headers={"Accept": "text/html", "Accept-Language": "ar"})
    assert 'dir="rtl"' in page.text
    api = await client.get("/api/v1/survey", params={"lang": "ar"})
    assert api.json()["direction"] == "rtl"
    assert api.json()["questions"][0]["text"].startswith("بشكل عام")


async def test_form_submission_is_counted_and_gives_a_withdrawal_code(client: httpx.AsyncClient,
                                                                       server: Server) -> None:
    csrf, key = await form_fields(client)
    response = await client.post("/survey", data={**FORM_BASE, "csrf_token": csrf, "key": key},
                                 headers={"Accept": "text/html"})
    assert response.status_code == 201
    code = re.search(r"<code>([0-9A-Z-]{22})</code>", response.text)
    assert code, response.text
    assert await responses(server) == 1
    texts = await server.survey.texts()
    assert [t.body for t in texts] == ["Make the Security Council more representative."]
    assert texts[0].country == "KE" and texts[0].language == "en"


async def test_resubmitting_the_same_form_is_not_counted_twice(client: httpx.AsyncClient, server: Server) -> None:
    csrf, key = await form_fields(client)
    data = {**FORM_BASE, "csrf_token": csrf, "key": key}
    first = await client.post("/survey", data=data, headers={"Accept": "text/html"})
    second = await client.post("/survey", data=data, headers={"Accept": "text/html"})
    assert (first.status_code, second.status_code) == (201, 200)
    code = re.compile(r"<code>([0-9A-Z-]{22})</code>")
    assert code.findall(first.text) == code.findall(second.text)
    assert await responses(server) == 1


async def test_invalid_form_shows_errors_and_keeps_everything_typed(client: httpx.AsyncClient,
                                                                     server: Server) -> None:
    csrf, key = await form_fields(client)
    data = {**FORM_BASE, "csrf_token": csrf, "key": key, "country": "XX",
            "answers.priorities": ["human_rights", "less_corruption", "employment", "migration"]}
    data.pop("answers.future")
    page = await client.post("/survey", data=data, headers={"Accept": "text/html"})
    assert page.status_code == 422
    assert "Please answer this question." in page.text  # future
    assert "You chose too many answers." in page.text  # priorities
    assert "Choose a country from the list." in page.text
    assert "Make the Security Council more representative.</textarea>" in page.text
    assert re.search(r'value="employment"\s+checked', page.text)
    assert re.search(r'<option value="secondary" selected>', page.text)
    assert f'name="key" value="{key}"' in page.text
    assert await responses(server) == 0


async def test_form_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    _csrf, key = await form_fields(client)
    response = await client.post("/survey", data={**FORM_BASE, "key": key})
    assert response.status_code == 403


async def test_the_form_shows_options_in_a_different_order_to_different_respondents(
        make_client: Callable[[], httpx.AsyncClient]) -> None:
    orders = set()
    for _ in range(8):
        c = make_client()
        page = await c.get("/survey", headers={"Accept": "text/html"})
        orders.add(tuple(re.findall(r'name="answers.priorities" value="([a-z_]+)"', page.text)))
    assert len(orders) > 1
    assert all(o[-1] == "other" and len(o) == 12 for o in orders)


async def test_api_submission_is_idempotent(client: httpx.AsyncClient, server: Server) -> None:
    first = await submit(client, "api-key-0001")
    assert first.status_code == 201, first.text
    again = await submit(client, "api-key-0001")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["withdrawal_code"] == first.json()["withdrawal_code"]
    assert again.json()["replayed"] is True
    assert await responses(server) == 1


async def test_api_needs_an_idempotency_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/survey/responses", json=answer())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_required"


async def test_reusing_a_key_with_other_answers_is_a_conflict(client: httpx.AsyncClient, server: Server) -> None:
    assert (await submit(client, "api-key-0002")).status_code == 201
    response = await submit(client, "api-key-0002", answers={"future": "worse"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_mismatch"
    assert await responses(server) == 1


async def test_api_validation_names_each_field(client: httpx.AsyncClient) -> None:
    response = await submit(client, "api-key-0003", country="Atlantis", gender="robot",
                            answers={"priorities": ["less_conflict", "nope"], "bogus": "x"})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"country", "gender", "answers.priorities", "answers.bogus"}


async def test_an_own_answer_counts_as_other(client: httpx.AsyncClient, server: Server) -> None:
    response = await submit(client, "api-key-0004", answers={"trends": ["climate"]},
                            other={"trends": "Loss of trust in facts"})
    assert response.status_code == 201
    texts = await server.survey.texts()
    assert ("trends", "other", "Loss of trust in facts") in [(t.question, t.kind, t.body) for t in texts]
    counts, _ = await server.dashboard.counts(["trends"], Filters(), None)
    assert counts["trends"][None]["other"] == 1


async def test_gateways_use_a_token_and_their_own_key_space(client: httpx.AsyncClient, server: Server,
                                                            gateway_token: Callable[[], Awaitable[str]]) -> None:
    token = await gateway_token()
    anonymous = await submit(client, "shared-key-1")
    gateway = await client.post("/api/v1/survey/responses", json=answer(channel="sms"),
                                headers={"Idempotency-Key": "shared-key-1", "Authorization": f"Bearer {token}"})
    assert (anonymous.status_code, gateway.status_code) == (201, 201)
    assert gateway.json()["withdrawal_code"] != anonymous.json()["withdrawal_code"]
    async with server.db.session() as s:
        from sqlalchemy import select

        from parley.storage.consultation_models import SurveyResponse

        channels = sorted((await s.execute(select(SurveyResponse.channel))).scalars())
    assert channels == ["sms", "web"]


async def test_a_bad_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/survey/responses", json=answer(),
                                 headers={"Idempotency-Key": "k-00000001", "Authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_anonymous_submissions_are_rate_limited_per_address(client: httpx.AsyncClient,
                                                                  server: Server) -> None:
    limit = server.survey.options.submissions_per_hour
    for i in range(limit):
        assert (await submit(client, f"flood-{i:06d}")).status_code == 201
    response = await submit(client, "flood-last")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


async def test_behind_a_trusted_proxy_submissions_are_limited_per_client(app: Any, server: Server) -> None:
    trust_proxies(server, "10.0.0.0/8")
    async with behind_proxy(app, "198.51.100.7") as flood, behind_proxy(app, "198.51.100.8") as other:
        for i in range(server.survey.options.submissions_per_hour):
            assert (await submit(flood, f"flood-{i:06d}")).status_code == 201
        assert (await submit(flood, "flood-last")).status_code == 429
        assert (await submit(other, "someone-else")).status_code == 201


async def test_staff_logged_in_can_still_answer_anonymously(staff: StaffFactory, server: Server) -> None:
    organiser, _user = await staff()
    response = await submit(organiser, "staff-answer-1")
    assert response.status_code == 201
    assert await responses(server) == 1


async def test_simultaneous_submissions_are_committed_together_and_counted_once(server: Server) -> None:
    import asyncio

    from parley.consultation.survey import RawSubmission

    surveys = server.survey
    raw = RawSubmission(answers={"future": "same", "priorities": ["migration"], "trends": ["population"],
                                 "cooperation": "fairly"}, country="JP", consent_analysis=True)
    submission = await surveys.validate(raw)
    keys = [f"together-{i % 40:04d}" for i in range(60)]  # 20 keys sent twice at the same time
    receipts = await asyncio.gather(*(surveys.submit(k, "public", submission) for k in keys))
    codes: dict[str, str] = {}
    for key, receipt in zip(keys, receipts, strict=True):
        assert receipt.status == "counted" and receipt.withdrawal_code
        assert codes.setdefault(key, receipt.withdrawal_code) == receipt.withdrawal_code
    assert len(set(codes.values())) == 40
    assert sum(not r.replayed for r in receipts) == 40
    assert await responses(server) == 40
