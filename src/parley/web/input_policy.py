"""One rule for every value a request carries, applied before any route reads it.

Whatever a field's own checks, no request may bring:

- text that is not Unicode characters: a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON,
  and Python keeps it, but no database can store it as UTF-8) or NUL (PostgreSQL refuses
  it); in JSON strings and object keys, query and path parameters, and form fields;
- integers outside a signed 32-bit INTEGER, what the database's id and count columns hold
  (every id and count Parley takes fits; narrower ranges stay the fields' own, and a
  parameter that declares its own bound keeps its 422); an id in a path without one names
  nothing, so it is a 404 like any missing resource;
- JSON numbers that are not finite (``NaN``, ``Infinity``: Python's JSON reader takes them)
  or beyond that range (pydantic turns ``1e300`` into an int).

It runs as a dependency of the whole application (`FastAPI(dependencies=...)`), so every
route, page and future model gets it without opting in, and answers like any validation
error: 422 ``invalid_input`` with ``fields`` naming each value (``display_name``,
``questions.2``, ``translations.fr``) by the code ``text``, ``int_range`` or ``number``.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_ok(value: str) -> bool:
    return _NOT_TEXT.search(value) is None


def int_ok(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def json_problems(value: Any, loc: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Every value in a parsed JSON document that breaks the rule, by its location."""
    out: dict[tuple[str, ...], str] = {}
    stack: list[tuple[tuple[str, ...], Any]] = [(loc, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if not text_ok(item):
                out[where] = "text"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not int_ok(item):
                out[where] = "int_range"
        elif isinstance(item, float):
            if not math.isfinite(item) or abs(item) > INT_MAX:  # 1e300 would pass as an int
                out[where] = "number"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not text_ok(key):
                    out[(*where, _printable(key))] = "text"
                else:
                    stack.append(((*where, key), child))
        elif isinstance(item, list):
            stack.extend(((*where, str(i)), child) for i, child in enumerate(item))
    return out


async def check_input(conn: HTTPConnection) -> None:
    """The application-wide dependency: raise a 422 for any value breaking the rule (for a
    WebSocket, in its path and query; its frames are the socket's own protocol to check)."""
    problems = _url_problems(conn)
    if isinstance(conn, Request) and conn.scope["type"] == "http":
        problems.update(await _body_problems(conn))
    if any(loc[0] == "path" and code == "int_range" for loc, code in problems.items()):
        # An id no row can have names nothing: the same 404 as any missing resource.
        raise HTTPException(404, "Not found.")
    if problems:
        raise RequestValidationError([
            {"type": code, "loc": loc, "msg": code, "input": None} for loc, code in problems.items()])


def _url_problems(request: HTTPConnection) -> dict[tuple[str, ...], str]:
    problems: dict[tuple[str, ...], str] = {}
    route = request.scope.get("route")
    int_params = _int_params(route) if isinstance(route, APIRoute) else frozenset()
    for kind, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        problems.update(_param_problems(kind, items, int_params))
    return problems


async def _body_problems(request: Request) -> dict[tuple[str, ...], str]:
    problems: dict[tuple[str, ...], str] = {}
    content_type = request.headers.get("content-type", "")
    if _is_json(content_type):
        body = await request.body()
        if body:
            try:
                parsed = await request.json()  # parsed once: FastAPI reads the same cached value
            except ValueError:
                parsed = None  # FastAPI answers malformed JSON itself
            problems.update(json_problems(parsed, ("body",)))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        form = await request.form()  # cached for the route and the CSRF check
        for name, value in form.multi_items():
            if isinstance(value, str) and not (text_ok(value) and text_ok(name)):
                problems[("form", _printable(name))] = "text"
    return problems


def _param_problems(kind: str, items: Iterable[tuple[str, Any]],
                    int_params: frozenset[tuple[str, str]]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for name, value in items:
        if isinstance(value, int) and not isinstance(value, bool):
            if not int_ok(value):
                out[(kind, name)] = "int_range"
        elif isinstance(value, str):
            if not text_ok(value) or not text_ok(name):
                out[(kind, _printable(name))] = "text"
            elif (kind, name) in int_params and re.fullmatch(r"\s*[-+]?\d+\s*", value) and not int_ok(int(value)):
                out[(kind, name)] = "int_range"
    return out


def _int_params(route: APIRoute) -> frozenset[tuple[str, str]]:
    cached: frozenset[tuple[str, str]] | None = getattr(route, "_parley_int_params", None)
    if cached is None:
        dependant = route.dependant
        fields = [("path", f) for f in dependant.path_params] + [("query", f) for f in dependant.query_params]
        for sub in _sub_dependants(dependant):
            fields += [("path", f) for f in sub.path_params] + [("query", f) for f in sub.query_params]
        cached = frozenset((kind, f.alias) for kind, f in fields
                           if _is_int(f.field_info.annotation) and not _bounded(f.field_info.metadata))
        route._parley_int_params = cached  # type: ignore[attr-defined]
    return cached


def _sub_dependants(dependant: Any) -> list[Any]:
    out: list[Any] = []
    stack = list(dependant.dependencies)
    while stack:
        sub = stack.pop()
        out.append(sub)
        stack.extend(sub.dependencies)
    return out


def _bounded(metadata: Iterable[Any]) -> bool:
    """Whether the parameter declares its own upper bound within the rule (then its 422 stands)."""
    for m in metadata:
        top = getattr(m, "le", None)
        top = getattr(m, "lt", None) if top is None else top
        if isinstance(top, int) and top <= INT_MAX + 1:
            return True
    return False


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_int(arg) for arg in typing.get_args(annotation))
    return False


def _is_json(content_type: str) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _printable(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
