"""No ORM row reaches web code.

Two checks. At run time, every test app sees the server through `tests.boundary` (the `app`
fixture): what handlers return to web code, what templates receive and what JSON routes
serialise is walked, and a row fails the test. That covers the paths the tests take; this
module checks the guard itself, and, for the paths no test takes, reads the return annotations
of every method on the server's handlers that web code names: none may promise a row, in a
dataclass field or a container either.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from tests import boundary
from tests.boundary import RowGuard, rows_in

import parley
from parley.config import Config
from parley.handlers.interpretation import peer
from parley.interpretation.protocol import SetTargets
from parley.server import Server
from parley.signalling import messages
from parley.storage.models import Base, Invitation
from parley.vocabulary import Role
from parley.web.socket import SocketEndpoint

pytestmark = pytest.mark.unit

WEB = Path(parley.__file__).parent / "web"
ORM_NAMES = frozenset(m.class_.__name__ for m in Base.registry.mappers)


def _invitation() -> Invitation:
    now = datetime(2025, 1, 1)
    return Invitation(id=1, token_hash="x", email="a@example.org", role=Role.FACILITATOR, invited_by_id=None,
                      dialogue_id=None, created_at=now, expires_at=now, accepted_at=None, accepted_user_id=None,
                      revoked_at=None)


@dataclass(frozen=True)
class _View:
    title: str
    held: Any


class _Service:
    def __init__(self, held: Any) -> None:
        self.held = held

    async def view(self) -> _View:
        return _View("t", self.held)

    def part(self) -> _Service:
        return self


def test_the_walk_finds_a_row_however_deep() -> None:
    row = _invitation()
    assert list(rows_in({"k": [(_View("t", row),)]}, "ctx")) == ["ctx['k'][0][0].held: Invitation row"]
    assert list(rows_in({"k": [(_View("t", "no row"),)]}, "ctx")) == []


async def test_the_guard_sees_a_row_a_service_returns() -> None:
    guard = RowGuard(packages=(__name__,))
    server = guard.wrap(_Service(_invitation()), "server")
    await server.part().view()
    assert guard.problems == ["server.part().view().held: Invitation row"]
    clean = RowGuard(packages=(__name__,))
    await clean.wrap(_Service(None), "server").view()
    assert clean.problems == []


class _Socket(SocketEndpoint):
    """An endpoint with no connection behind it: only its `send` is used."""

    name = "test-socket"

    def __init__(self) -> None:
        self.sent: list[str] = []

        class _Connection:
            @staticmethod
            async def send_text(text: str) -> None:
                self.sent.append(text)

        self.websocket = _Connection()  # type: ignore[assignment]


async def test_the_guard_sees_a_row_in_a_frame_each_socket_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames are built past the proxy (from bus events, by the workspace hub and the worker
    peers): the guard walks them where they are still values. A row is no JSON either, so the
    frame never leaves; the guard says where it was."""
    row = _invitation()
    guard = boundary.install(monkeypatch)
    try:
        endpoint = _Socket()
        await endpoint.send({"type": "pong"})
        with pytest.raises(TypeError):
            await endpoint.send({"type": "chat", "message": row})
        with pytest.raises(TypeError):
            messages.serialise(messages.Error(ref="", code="x", message=row))  # type: ignore[arg-type]
        with pytest.raises(TypeError):  # as the worker peers write commands (imported by name)
            peer.command_to_json(1, SetTargets(1, (row,)))  # type: ignore[attr-defined,arg-type]
    finally:
        boundary.uninstall(guard)
    assert endpoint.sent == ['{"type":"pong"}']
    assert guard.problems == [
        "test-socket frame['message']: Invitation row",
        "workspace-socket frame Error.message: Invitation row",
        "worker-socket frame SetTargets.targets[0]: Invitation row",
    ]


def _names_web_uses() -> set[str]:
    names: set[str] = set()
    for path in WEB.rglob("*.py"):
        names.update(node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute))
    return names


def _rows_in_type(tp: Any, path: str, seen: frozenset[type] = frozenset()) -> Iterator[str]:
    if isinstance(tp, str):  # an annotation that could not be resolved: read its names
        for name in sorted(ORM_NAMES & set(re.findall(r"\w+", tp))):
            yield f"{path}: {name}"
        return
    if typing.get_origin(tp) is not None:
        for arg in typing.get_args(tp):
            yield from _rows_in_type(arg, path, seen)
        return
    if not isinstance(tp, type):
        return
    if issubclass(tp, Base):
        yield f"{path}: {tp.__name__}"
    elif dataclasses.is_dataclass(tp) and tp not in seen:
        hints = typing.get_type_hints(tp)
        for f in dataclasses.fields(tp):
            yield from _rows_in_type(hints.get(f.name), f"{path}.{f.name}", seen | {tp})


def _returns(function: Any) -> Any:
    try:
        return typing.get_type_hints(function).get("return")
    except NameError:  # a name imported only for type checking
        return str(function.__annotations__.get("return", ""))


def _promised_rows(obj: object, path: str, used: set[str], seen: set[int]) -> Iterator[str]:
    """Rows the methods of ``obj`` (and of the parts it holds) that web code names promise."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    for name, member in inspect.getmembers(type(obj)):
        function = member.fget if isinstance(member, property) else member
        if name.startswith("_") or name not in used or not inspect.isfunction(function):
            continue
        yield from _rows_in_type(_returns(function), f"{path}.{name}()")
    for name, part in vars(obj).items():
        if _is_part(part):
            yield from _promised_rows(part, f"{path}.{name}", used, seen)


def _is_part(value: object) -> bool:
    return (type(value).__module__.startswith("parley.") and hasattr(value, "__dict__")
            and not dataclasses.is_dataclass(value) and not isinstance(value, type))


def test_no_handler_method_web_calls_promises_a_row(tmp_path: Path) -> None:
    config = Config.load(env={}, overrides={
        "server": {"data_dir": str(tmp_path), "secret_key": "test-secret-key"},
        "database": {"url": f"sqlite:///{tmp_path / 'parley.sqlite3'}"},
        "analysis": {"enabled": False}, "janus": {"enabled": False}, "interpretation": {"enabled": False},
    })
    server = Server(config, schema="none")
    used = _names_web_uses()
    found: list[str] = []
    seen: set[int] = set()
    for name, member in vars(Server).items():
        if isinstance(member, cached_property) and name in used:
            service = getattr(server, name)
            if _is_part(service):
                found.extend(_promised_rows(service, f"server.{name}", used, seen))
    assert found == []
