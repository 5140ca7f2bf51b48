"""Consent decides what is kept; withdrawal removes a response from everything."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import func, select

from parley.consultation.dashboard import Filters
from parley.server import Server
from parley.storage.consultation_models import SurveyResponse, SurveyRollup, SurveyText
from parley.storage.models import Role
from tests.survey.conftest import StaffFactory, submit

pytestmark = pytest.mark.integration


async def table_count(server: Server, model: type) -> int:
    async with server.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_without_consent_nothing_answered_is_kept(client: httpx.AsyncClient, server: Server,
                                                        staff: StaffFactory) -> None:
    response = await submit(client, "no-consent-1", consent_analysis=False)
    assert response.status_code == 201
    assert response.json()["status"] == "declined"
    assert response.json()["withdrawal_code"]
    assert await table_count(server, SurveyResponse) == 0
    assert await table_count(server, SurveyText) == 0
    organiser, _ = await staff(Role.ORGANISER)
    summary = (await organiser.get("/api/v1/dashboard/summary")).json()
    assert (summary["responses"], summary["declined"]) == (0, 1)
    assert all(q["answered"] == 0 for q in summary["questions"])


async def test_declining_needs_no_valid_answers(client: httpx.AsyncClient) -> None:
    response = await submit(client, "no-consent-2", consent_analysis=False, country="Atlantis",
                            answers={"future": "nonsense"})
    assert response.status_code == 201


async def test_consent_must_be_answered(client: httpx.AsyncClient) -> None:
    page = await client.get("/survey", headers={"Accept": "text/html"})
    from tests.conftest import csrf_from

    response = await client.post("/survey", data={"csrf_token": csrf_from(page.text), "key": "k-consent-01",
                                                  "answers.future": "better"}, headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert "Tell us whether we may use your answers." in response.text


async def test_free_text_is_analysed_with_consent_but_exported_only_if_quotable(
        client: httpx.AsyncClient, server: Server, staff: StaffFactory) -> None:
    await submit(client, "quote-yes-1", answers={"advice": "Quote me"}, consent_quotes=True)
    await submit(client, "quote-no-01", answers={"advice": "Do not quote me"}, consent_quotes=False)
    await submit(client, "declined-01", answers={"advice": "Never stored"}, consent_analysis=False)
    bodies = {t.body: t.quotable for t in await server.survey.texts()}
    assert bodies == {"Quote me": True, "Do not quote me": False}
    organiser, _ = await staff(Role.ORGANISER)
    exported = (await organiser.get("/api/v1/survey/export.csv")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert sorted(r["advice"] for r in rows) == ["", "Quote me"]
    assert "Never stored" not in exported and "Do not quote me" not in exported
    api = (await organiser.get("/api/v1/survey/texts")).json()
    assert {i["body"] for i in api["items"]} == {"Quote me", "Do not quote me"}


async def test_withdrawal_removes_answers_from_counts_texts_and_exports(
        client: httpx.AsyncClient, server: Server, staff: StaffFactory) -> None:
    keep = await submit(client, "keep-000001", country="BR", age_group="35-44")
    gone = await submit(client, "gone-000001", country="FR", age_group="18-24",
                        answers={"future": "worse", "advice": "Delete me later"})
    assert keep.status_code == gone.status_code == 201
    organiser, _ = await staff(Role.ORGANISER)
    before = (await organiser.get("/api/v1/dashboard/summary")).json()
    assert before["responses"] == 2

    page = await client.get("/survey/withdraw?code=" + gone.json()["withdrawal_code"],
                            headers={"Accept": "text/html"})
    from tests.conftest import csrf_from

    done = await client.post("/survey/withdraw", data={"csrf_token": csrf_from(page.text),
                                                       "code": gone.json()["withdrawal_code"]},
                             headers={"Accept": "text/html"})
    assert done.status_code == 200
    assert "Your answers have been deleted" in done.text

    after = (await organiser.get("/api/v1/dashboard/summary")).json()
    assert (after["responses"], after["withdrawn"]) == (1, 1)
    future = next(q for q in after["questions"] if q["key"] == "future")
    assert {o["key"]: o["count"] for o in future["options"]}["worse"] == 0
    for by in ("region", "country", "age", "gender", "education"):
        breakdown = (await organiser.get(f"/api/v1/dashboard/questions/future/{by}")).json()
        assert breakdown["total"] == 1, by
    fr = (await organiser.get("/api/v1/dashboard/summary?country=FR&age=18-24&from=2000-01-01")).json()
    assert fr["responses"] == 0
    trend = (await organiser.get("/api/v1/dashboard/trend?interval=day")).json()
    assert sum(p["responses"] for p in trend["points"]) == 1
    exported = (await organiser.get("/api/v1/survey/export.csv")).content.decode("utf-8-sig")
    assert "Delete me later" not in exported and ",FR," not in exported
    assert all(t.body != "Delete me later" for t in await server.survey.texts())
    async with server.db.session() as s:
        zero = (await s.execute(select(func.count()).where(SurveyRollup.n <= 0))).scalar_one()
        fr_cells = (await s.execute(select(func.count()).where(SurveyRollup.v1 == "FR"))).scalar_one()
    assert zero == 0 and fr_cells == 0

    # A late retry of the withdrawn submission is not counted again; withdrawing twice is harmless.
    retry = await submit(client, "gone-000001", country="FR", age_group="18-24",
                         answers={"future": "worse", "advice": "Delete me later"})
    assert retry.json()["status"] == "withdrawn" and retry.json()["withdrawal_code"] is None
    again = await client.post("/api/v1/survey/withdrawals", json={"code": gone.json()["withdrawal_code"]})
    assert again.json() == {"withdrawn": False}
    assert (await organiser.get("/api/v1/dashboard/summary")).json()["responses"] == 1


async def test_withdrawing_a_declined_response_uncounts_it(client: httpx.AsyncClient, staff: StaffFactory) -> None:
    declined = await submit(client, "declined-02", consent_analysis=False)
    response = await client.post("/api/v1/survey/withdrawals", json={"code": declined.json()["withdrawal_code"]})
    assert response.json() == {"withdrawn": True}
    organiser, _ = await staff(Role.ORGANISER)
    summary = (await organiser.get("/api/v1/dashboard/summary")).json()
    assert (summary["declined"], summary["withdrawn"]) == (0, 1)


async def test_an_invalid_withdrawal_code_is_explained(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/survey/withdrawals", json={"code": "AAAA-BBBB-CCCC-DDDD-EE"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_withdrawal_code"


async def test_rollups_after_submissions_and_withdrawals_equal_a_rebuild(client: httpx.AsyncClient,
                                                                        server: Server) -> None:
    codes = []
    for i, (country, age) in enumerate([("FR", "18-24"), ("FR", "25-34"), ("IN", "18-24"), ("US", "65-plus")] * 3):
        r = await submit(client, f"rebuild-{i:04d}", country=country, age_group=age)
        codes.append(r.json()["withdrawal_code"])
    for code in codes[::3]:
        assert await server.survey.withdraw(code)

    async def snapshot() -> list[tuple[object, ...]]:
        async with server.db.session() as s:
            rows = await s.execute(select(SurveyRollup.cuboid, SurveyRollup.question, SurveyRollup.v1,
                                          SurveyRollup.v2, SurveyRollup.v3, SurveyRollup.v4, SurveyRollup.day,
                                          SurveyRollup.option, SurveyRollup.n))
            return sorted(tuple(r) for r in rows.all())

    incremental = await snapshot()
    await server.survey.rebuild_rollups()
    assert await snapshot() == incremental
    counts, _ = await server.dashboard.counts(["_n"], Filters(), None)
    assert counts["_n"][None][""] == 8
