"""One input rule over the whole API (`parley.web.input_policy`): every JSON text field of
every body model, and every integer anywhere, checked from the OpenAPI document itself, so
a new route or field is covered the day it is added."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from parley.security import hash_token, new_token
from parley.server import Server
from parley.storage.models import ApiToken, Role

pytestmark = pytest.mark.integration

SURROGATE = "\ud800"
HUGE = 2**63
Schema = dict[str, Any]


class Document:
    def __init__(self, openapi: Schema) -> None:
        self.openapi = openapi

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key] if s.get("type") != "null"]
                return options[0] if options else {}
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.resolve(schema["allOf"][0])
        return schema

    def sample(self, schema: Schema) -> Any:
        """A value of the schema's shape (not necessarily valid for the route)."""
        schema = self.resolve(schema)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object":
            required = schema.get("required", [])
            return {k: self.sample(v) for k, v in schema.get("properties", {}).items() if k in required}
        return {"string": "x", "integer": 1, "number": 1.0, "boolean": True, "array": []}.get(kind, "x")

    def operations(self) -> Iterator[tuple[str, str, Schema]]:
        for path, item in self.openapi["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield path, method, op

    def bad_bodies(self, schema: Schema) -> Iterator[tuple[str, Schema]]:
        """(field key in the error, body) for every text and integer in the body model."""
        schema = self.resolve(schema)
        base = self.sample(schema)
        for name, prop in schema.get("properties", {}).items():
            prop = self.resolve(prop)
            kind = prop.get("type")
            if kind == "string" or "enum" in prop:
                yield name, {**base, name: SURROGATE}
            elif kind in ("integer", "number"):
                yield name, {**base, name: HUGE}
            elif kind == "array":
                item = self.resolve(prop.get("items", {}))
                if item.get("type") in ("string", "integer"):
                    yield f"{name}.0", {**base, name: [SURROGATE if item["type"] == "string" else HUGE]}
            elif kind == "object":
                yield f"{name}.{SURROGATE.encode('utf-8', 'backslashreplace').decode()}", {**base, name: {SURROGATE: 1}}
                yield f"{name}.k", {**base, name: {"k": SURROGATE}}


def url_of(path: str, params: list[Schema], bad: str | None, value: str) -> tuple[str, dict[str, str]]:
    query: dict[str, str] = {}
    for p in params:
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", quote(value, safe="") if p["name"] == bad else "1")
        elif p["in"] == "query" and p["name"] == bad:
            query[p["name"]] = value
    return path, query


@pytest.fixture
async def admin(server: Server, client: httpx.AsyncClient, make_user: Any) -> httpx.AsyncClient:
    user = await make_user(Role.ADMIN)
    token = new_token()
    async with server.db.session() as s:
        s.add(ApiToken(user_id=user.id, name="policy", token_hash=hash_token(token), created_at=server.clock.now()))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


async def test_every_body_field_refuses_lone_surrogates_and_huge_integers(admin: httpx.AsyncClient) -> None:
    doc = Document((await admin.get("/api/openapi.json")).json())
    failures: list[str] = []
    checked = 0
    for path, method, op in doc.operations():
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        url, _ = url_of(path, op.get("parameters", []), None, "")
        for key, body in doc.bad_bodies(schema):
            checked += 1
            response = await admin.request(method.upper(), url, content=json.dumps(body),
                                           headers={"Content-Type": "application/json"})
            fields = response.json().get("error", {}).get("fields") or {} if response.content else {}
            if response.status_code != 422 or key not in fields:
                failures.append(f"{method.upper()} {path} {key}: {response.status_code} {response.text[:160]}")
    assert checked > 100
    assert failures == []


async def test_every_parameter_refuses_nul_and_integers_the_database_cannot_hold(admin: httpx.AsyncClient) -> None:
    doc = Document((await admin.get("/api/openapi.json")).json())
    failures: list[str] = []
    checked = 0
    for path, method, op in doc.operations():
        params = op.get("parameters", [])
        for p in params:
            schema = doc.resolve(p.get("schema", {}))
            if p["in"] not in ("path", "query"):
                continue
            value = str(HUGE) if schema.get("type") == "integer" else "a\x00b" if schema.get("type") == "string" \
                else None
            if value is None:
                continue
            checked += 1
            url, query = url_of(path, params, p["name"], value)
            response = await admin.request(method.upper(), url, params=query,
                                           headers={"Content-Type": "application/json"}, content=b"{}")
            error = response.json().get("error", {}) if response.content else {}
            if p["in"] == "path" and value == str(HUGE):
                # An id no row can have: not found, or invalid where the route bounds it itself.
                if response.status_code not in (404, 422) or error.get("code") not in ("not_found", "invalid_input"):
                    failures.append(f"{method.upper()} {path} {p['name']}={value}: {response.status_code}")
                continue
            if response.status_code != 422 or p["name"] not in (error.get("fields") or {}):
                failures.append(f"{method.upper()} {path} {p['name']}={value!r}: {response.status_code} "
                                f"{response.text[:160]}")
    assert checked > 50
    assert failures == []


async def test_surrogate_pairs_and_ordinary_text_still_pass(admin: httpx.AsyncClient) -> None:
    response = await admin.patch("/api/v1/me", json={"display_name": "Amina 😀 أمينة"})
    assert response.status_code == 200 and response.json()["display_name"] == "Amina 😀 أمينة"


async def test_the_reported_cases(client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    texts = await admin.get("/api/v1/survey/texts", params={"after_id": "9223372036854775808"})
    assert texts.status_code == 422 and texts.json()["error"]["fields"] == {"after_id": "int_range"}
    anonymous = httpx.AsyncClient(transport=admin._transport, base_url="http://testserver")
    async with anonymous:
        register = await anonymous.post("/api/v1/dialogues/1/registrations", content=json.dumps(
            {"display_name": SURROGATE, "email": "a@example.org"}), headers={"Content-Type": "application/json"})
    assert register.status_code == 422 and register.json()["error"]["fields"]["display_name"] == "text"
    for body in ('{"title": NaN}', '{"title": "x", "capacity": Infinity}', '{"title": "x", "facilitator_id": 1e300}'):
        response = await admin.post("/api/v1/dialogues", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422
