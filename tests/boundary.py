"""A guard, for the test app, that no ORM row reaches web code.

The web layer never imports `parley.storage` (an import-linter contract), but a row can still
reach it as a value: a handler returns one, or a view holds one. Web code reaches the domain
only through ``app.state.server``, so the test app gets a `Server` seen through a proxy: every
handler it hands out is proxied too, and what their methods return (awaited, iterated) is
walked, dataclass field by field and item by item. What a page template receives
(`parley.web.templating.render`), what a JSON route returns to FastAPI and what is read into a
`ViewOut` are walked as well, and so is every frame a socket sends, before it becomes text:
the meeting socket's (`SocketEndpoint.send` and the frame a close carries), the workspace
socket's (the typed frames of `parley.signalling.messages`, whichever module serialises them)
and the worker socket's (the commands `command_to_json` writes). Those frames are built past
the proxy (from bus events, by the hub and the worker peers), so only this sees them. A row
anywhere is recorded with its path (``server.meetings.access().dialogue: Dialogue row``,
``meeting-socket frame['message']: MeetingMessage row``) and the test fails when the app is
torn down. Nothing is exempt.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from uuid import UUID

import pytest
from fastapi import routing
from pydantic import BaseModel

from parley.interpretation import protocol
from parley.signalling import messages
from parley.storage.models import Base
from parley.web import schemas, socket, templating

ATOMS = (str, bytes, int, float, bool, type(None), datetime, date, time, timedelta, Decimal, UUID, PurePath,
         enum.Enum)
# A proxy cannot stand in for these (Python looks them up on the type): such objects pass as they are.
PROTOCOLS = ("__aenter__", "__enter__", "__iter__", "__aiter__", "__anext__", "__len__", "__call__",
             "__getitem__", "__contains__", "__await__")
PACKAGES = ("parley.",)
# How deep a value is walked: views nest a few levels (a detail holds views holding people).
MAX_DEPTH = 12


def rows_in(value: Any, path: str = "", *, depth: int = 0, seen: set[int] | None = None) -> Iterator[str]:
    """Where ``value`` holds an ORM row: ``path: ClassName`` for each one found."""
    if isinstance(value, Base):
        yield f"{path or '(value)'}: {type(value).__name__} row"
        return
    if isinstance(value, ATOMS) or depth > MAX_DEPTH or callable(value) and not _is_value(value):
        return
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    for where, item in _parts(value):
        yield from rows_in(item, f"{path}{where}", depth=depth + 1, seen=seen)


def _is_value(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _parts(value: Any) -> Iterator[tuple[str, Any]]:
    if _is_value(value):
        for f in dataclasses.fields(value):
            yield f".{f.name}", getattr(value, f.name, None)
    elif isinstance(value, BaseModel):
        for name, item in vars(value).items():
            yield f".{name}", item
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield f"[{key!r}]", key
            yield f"[{key!r}]", item
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            yield f"[{i}]", item
    elif _is_domain_object(value, PACKAGES):
        # A live domain object (a meeting room, a language) handed to a template: what it holds.
        for name, item in vars(value).items():
            if not name.startswith("__"):
                yield f".{name}", item


def _is_domain_object(value: Any, packages: tuple[str, ...]) -> bool:
    return type(value).__module__.startswith(packages) and hasattr(value, "__dict__")


class RowGuard:
    """Watches one test app; `problems` lists every row that reached web code."""

    def __init__(self, packages: tuple[str, ...] = PACKAGES) -> None:
        self.problems: list[str] = []
        # Objects of classes from these packages are services: proxied, their results checked.
        self.packages = packages

    def check(self, value: Any, where: str) -> None:
        for found in rows_in(value, where):
            if found not in self.problems:
                self.problems.append(found)

    def wrap(self, target: Any, where: str) -> Any:
        """What web code gets instead of ``target``: a checked value, or a proxy of a service."""
        if isinstance(target, Base):
            self.check(target, where)
            return target
        if inspect.ismethod(target) or inspect.isfunction(target):
            return self._checked_call(target, where)
        if isinstance(target, ATOMS) or _is_value(target) or isinstance(target, (Mapping, list, tuple, set,
                                                                                  frozenset, BaseModel)):
            self.check(target, where)
            return target
        if _is_domain_object(target, self.packages) and not isinstance(target, (type, BaseException)) \
                and not any(name in vars(k) for k in type(target).__mro__[:-1] for name in PROTOCOLS):
            return Watched(target, self, where)
        return target

    def _checked_call(self, method: Callable[..., Any], where: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            # What web code hands back to the domain (a worker peer it was given) is the real
            # object again: the domain compares and keys by identity.
            args = tuple(unwrapped(a) for a in args)
            kwargs = {k: unwrapped(v) for k, v in kwargs.items()}
            result = method(*args, **kwargs)
            here = f"{where}()"
            if inspect.isawaitable(result):
                return self._awaited(result, here)
            if inspect.isasyncgen(result) or isinstance(result, AsyncIterator):
                return self._async_items(result, here)
            return self.wrap(result, here)

        return call

    async def _awaited(self, result: Any, where: str) -> Any:
        return self.wrap(await result, where)

    async def _async_items(self, items: AsyncIterator[Any], where: str) -> AsyncIterator[Any]:
        async for item in items:
            self.check(item, f"{where} item")
            yield item


def unwrapped(value: Any) -> Any:
    """The object a `Watched` proxy stands for (any other value as it is)."""
    return object.__getattribute__(value, "_target") if isinstance(value, Watched) else value


class Watched:
    """A domain object as web code sees it in the tests: attributes and call results checked."""

    def __init__(self, target: Any, guard: RowGuard, where: str) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_guard", guard)
        object.__setattr__(self, "_where", where)

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        guard: RowGuard = object.__getattribute__(self, "_guard")
        where = object.__getattribute__(self, "_where")
        return guard.wrap(getattr(target, name), f"{where}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, value)

    def __repr__(self) -> str:
        return f"Watched({object.__getattribute__(self, '_target')!r})"


_guards: list[RowGuard] = []


def _report(value: Any, where: str) -> None:
    for guard in _guards:
        guard.check(value, where)


class _CheckedTemplates:
    """`templating.env` for `render`: the context is walked before the real template renders it."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def get_template(self, name: str) -> Any:
        template = self._env.get_template(name)

        class Checked:
            @staticmethod
            def render(context: Mapping[str, Any]) -> str:
                for key, value in context.items():
                    if key != "request":
                        _report(value, f"template {name}: {key}")
                return str(template.render(context))

        return Checked()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


def install(monkeypatch: pytest.MonkeyPatch) -> RowGuard:
    """Watch what templates, JSON routes and `ViewOut` receive while this test runs."""
    guard = RowGuard()
    if not _guards:
        monkeypatch.setattr(templating, "env", _CheckedTemplates(templating.env))
        real_serialize = routing.serialize_response

        async def serialize_response(*args: Any, **kwargs: Any) -> Any:
            _report(kwargs.get("response_content"), "JSON response")
            return await real_serialize(*args, **kwargs)

        monkeypatch.setattr(routing, "serialize_response", serialize_response)
        real_of = schemas.ViewOut.of.__func__  # type: ignore[attr-defined]

        def of(cls: type[schemas.ViewOut], /, view: object, **beside: Any) -> Any:
            _report(view, f"{cls.__name__}.of")
            _report(beside, f"{cls.__name__}.of beside")
            return real_of(cls, view, **beside)

        monkeypatch.setattr(schemas.ViewOut, "of", classmethod(of))
        _check_frames(monkeypatch)
    _guards.append(guard)
    return guard


def _check_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Walk each frame a socket sends where it is still a value: the endpoints' `send` and
    closing frame, and the two serialisers the domain writes socket text with."""
    real_send = socket.SocketEndpoint.send
    real_end = socket.SocketEndpoint._end

    async def send(self: socket.SocketEndpoint, frame: Mapping[str, Any]) -> None:
        _report(frame, f"{self.name} frame")
        await real_send(self, frame)

    async def end(self: socket.SocketEndpoint, refused: socket.CloseSocket) -> None:
        _report(refused.frame, f"{self.name} closing frame")
        await real_end(self, refused)

    monkeypatch.setattr(socket.SocketEndpoint, "send", send)
    monkeypatch.setattr(socket.SocketEndpoint, "_end", end)
    real_to_dict = messages.to_dict
    real_command_to_json = protocol.command_to_json

    def to_dict(frame: Any) -> dict[str, Any]:
        _report(frame, f"workspace-socket frame {type(frame).__name__}")
        return real_to_dict(frame)

    def command_to_json(command_id: int, command: Any) -> str:
        _report(command, f"worker-socket frame {type(command).__name__}")
        return real_command_to_json(command_id, command)

    _everywhere(monkeypatch, real_to_dict, to_dict)
    _everywhere(monkeypatch, real_command_to_json, command_to_json)


def _everywhere(monkeypatch: pytest.MonkeyPatch, real: Callable[..., Any], checked: Callable[..., Any]) -> None:
    """``checked`` instead of ``real`` in every loaded Parley module that holds it (its own and
    those that imported it by name)."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "parley" or name.startswith(PACKAGES)):
            continue
        for attr, value in list(vars(module).items()):
            if value is real:
                monkeypatch.setattr(module, attr, checked)


def uninstall(guard: RowGuard) -> None:
    if guard in _guards:
        _guards.remove(guard)
