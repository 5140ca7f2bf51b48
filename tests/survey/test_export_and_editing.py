"""Exports (CSV and Parquet, no personal data) and versioned editing of the survey."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from parley.server import Server
from parley.storage.models import Role
from tests.conftest import csrf_from
from tests.survey.conftest import StaffFactory, submit

pytestmark = pytest.mark.integration


async def test_csv_export_has_answers_and_no_personal_data(client: httpx.AsyncClient, staff: StaffFactory) -> None:
    first = await submit(client, "export-0001", answers={"priorities": ["less_conflict", "environment"]})
    await submit(client, "export-0002", country="CN", language="zh", answers={"advice": "多听年轻人的意见"})
    organiser, _ = await staff(Role.ORGANISER)
    response = await organiser.get("/api/v1/survey/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2
    assert set(rows[0]) == {"response_id", "survey_version", "date", "language", "country", "region", "age_group",
                            "gender", "education", "future", "priorities", "priorities_other", "trends",
                            "trends_other", "cooperation", "advice"}
    assert rows[0]["priorities"].split(";") == ["less_conflict", "environment"]
    assert rows[1]["advice"] == "多听年轻人的意见" and rows[1]["region"] == "asia"
    code = first.json()["withdrawal_code"]
    assert code not in text and code.replace("-", "") not in text
    assert "export-0001" not in text and "127.0.0.1" not in text
    filtered = list(csv.DictReader(io.StringIO(
        (await organiser.get("/api/v1/survey/export.csv?country=CN")).content.decode("utf-8-sig"))))
    assert [r["country"] for r in filtered] == ["CN"]


async def test_parquet_export_reads_back(client: httpx.AsyncClient, staff: StaffFactory) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    for i in range(3):
        await submit(client, f"parquet-{i:04d}", answers={"trends": ["climate", "terrorism"]})
    organiser, _ = await staff(Role.ADMIN)
    response = await organiser.get("/api/v1/survey/export.parquet")
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == 3
    assert table.column("trends").to_pylist()[0] == ["climate", "terrorism"]
    assert table.column("country").to_pylist() == ["FR"] * 3
    assert "key_hash" not in table.column_names and "fingerprint" not in table.column_names


async def test_empty_parquet_export_is_a_valid_file(staff: StaffFactory) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    organiser, _ = await staff(Role.ORGANISER)
    response = await organiser.get("/api/v1/survey/export.parquet")
    assert pq.read_table(io.BytesIO(response.content)).num_rows == 0


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.PARTICIPANT, Role.INTERPRETER])
async def test_exports_are_for_organisers_and_admins(staff: StaffFactory, role: Role) -> None:
    c, _ = await staff(role)
    assert (await c.get("/api/v1/survey/export.csv")).status_code == 403
    assert (await c.get("/api/v1/survey/export.parquet")).status_code == 403


async def test_editing_creates_a_version_and_old_answers_stay_readable(
        client: httpx.AsyncClient, server: Server, staff: StaffFactory) -> None:
    await submit(client, "before-edit-1", answers={"priorities": ["employment", "less_conflict"]})
    organiser, _ = await staff(Role.ORGANISER)
    current = (await organiser.get("/api/v1/survey/definition")).json()
    assert current["version"] == 1 and current["missing_translations"] == []
    definition = current["definition"]
    priorities = definition["questions"][1]
    priorities["options"] = [o for o in priorities["options"] if o["key"] != "employment"]
    priorities["options"].insert(0, {"key": "decent_work", "text": {"en": "Decent work for all", "fr": "Travail"}})
    priorities["text"]["en"] = "Which three things matter most to you for 2045?"
    saved = await organiser.put("/api/v1/survey/definition",
                                json={"definition": definition, "note": "work option", "base_version": 1})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    assert "priorities.decent_work [es]" in saved.json()["missing_translations"]

    await submit(client, "after-edit-1", answers={"priorities": ["decent_work"]})
    old_key = await submit(client, "after-edit-2", answers={"priorities": ["employment"]})
    assert old_key.status_code == 422  # no longer offered

    summary = (await organiser.get("/api/v1/dashboard/summary")).json()
    result = next(q for q in summary["questions"] if q["key"] == "priorities")
    assert result["text"] == "Which three things matter most to you for 2045?"
    counts = {o["key"]: (o["label"], o["count"]) for o in result["options"]}
    assert counts["decent_work"] == ("Decent work for all", 1)
    assert counts["employment"] == ("More employment opportunities", 1)  # label from version 1
    versions = (await organiser.get("/api/v1/survey/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    rows = list(csv.DictReader(io.StringIO(
        (await organiser.get("/api/v1/survey/export.csv")).content.decode("utf-8-sig"))))
    assert sorted(r["survey_version"] for r in rows) == ["1", "2"]

    stale = await organiser.put("/api/v1/survey/definition", json={"definition": definition, "base_version": 1})
    assert stale.status_code == 409


async def test_invalid_edits_are_refused_with_paths(staff: StaffFactory) -> None:
    organiser, _ = await staff(Role.ORGANISER)
    definition = (await organiser.get("/api/v1/survey/definition")).json()["definition"]
    definition["questions"][0]["options"] = definition["questions"][0]["options"][:1]
    definition["questions"][4]["kind"] = "single"
    response = await organiser.put("/api/v1/survey/definition", json={"definition": definition})
    assert response.status_code == 422
    assert {"questions.0.options", "questions.4.options"} <= set(response.json()["error"]["fields"])


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.PARTICIPANT])
async def test_only_organisers_and_admins_edit(staff: StaffFactory, role: Role) -> None:
    c, _ = await staff(role)
    definition = {"languages": ["en"], "title": {"en": "x"}, "questions": []}
    assert (await c.put("/api/v1/survey/definition", json={"definition": definition})).status_code == 403
    assert (await c.get("/survey/edit", headers={"Accept": "text/html"})).status_code == 403


async def test_the_html_editor_saves_a_new_wording(staff: StaffFactory, server: Server) -> None:
    organiser, _ = await staff(Role.ORGANISER)
    page = await organiser.get("/survey/edit", headers={"Accept": "text/html"})
    assert page.status_code == 200
    import re

    form: dict[str, str] = {}
    for name, value in re.findall(r'<input type="(?:text|hidden|number)"[^>]*?name="([^"]+)" value="([^"]*)"',
                                  page.text):
        form[name] = value
    for name, value in re.findall(r'<input type="(?:text|number)" id="[^"]*" name="([^"]+)"[^>]*? value="([^"]*)"',
                                  page.text):
        form[name] = value
    for name, value in re.findall(r'<textarea id="[^"]*" name="([^"]+)"[^>]*>([^<]*)</textarea>', page.text):
        form[name] = value
    for name, value in re.findall(r'<select id="[^"]*" name="([^"]+)">.*?<option value="([^"]*)" selected',
                                  page.text, re.S):
        form[name] = value
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" value="1" checked', page.text):
        form[name] = "1"
    form["q-0-text-en"] = "In 2045, will people be better off than today?"
    form["csrf_token"] = csrf_from(page.text)
    import html

    form = {k: html.unescape(v) for k, v in form.items()}
    saved = await organiser.post("/survey/edit", data=form, headers={"Accept": "text/html"})
    assert saved.status_code == 303, saved.text[:3000]
    survey = await server.survey.current()
    assert survey.version_number == 2
    assert survey.definition.questions[0].text["en"] == "In 2045, will people be better off than today?"
    assert survey.definition.questions[0].text["fr"].startswith("Dans l'ensemble")
    assert [q.key for q in survey.definition.questions] == ["future", "priorities", "trends", "cooperation",
                                                            "advice"]
    assert survey.definition.question("priorities").randomise  # type: ignore[union-attr]
    assert len(survey.definition.question("trends").options) == 12  # type: ignore[union-attr]


async def test_csv_export_shows_formula_like_answers_as_text(client: httpx.AsyncClient, staff: StaffFactory) -> None:
    await submit(client, "formula-0001", answers={"advice": "=HYPERLINK(\"http://127.0.0.1/x\",\"click\")"})
    await submit(client, "formula-0002", answers={"advice": "-1 is my score\tand +2"})
    organiser, _ = await staff(Role.ORGANISER)
    text = (await organiser.get("/api/v1/survey/export.csv")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["advice"] for r in rows] == ["'=HYPERLINK(\"http://127.0.0.1/x\",\"click\")", "'-1 is my score\tand +2"]
