"""All SQL lives in `parley.storage.stores`: the domain (`handlers`, `consultation`) opens a unit
of work (`Database.session()`), calls store functions with it and commits, but builds no query
and reads or writes no row through the session itself.

import-linter cannot say this: it sees an external package only as a whole (`sqlalchemy`),
and the domain may keep `sqlalchemy.exc` (to turn a lost race into a `Conflict`) and
`sqlalchemy.ext.asyncio` (the `AsyncSession` type it hands to the stores). So this test reads
the source. No domain module is exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import parley

pytestmark = pytest.mark.unit

SRC = Path(parley.__file__).parent
DOMAIN = ("handlers", "consultation")
ALLOWED_SQLALCHEMY = frozenset({"sqlalchemy.exc", "sqlalchemy.ext.asyncio"})
# Session methods that read or write rows; flush, commit and rollback stay with whoever owns
# the unit of work.
QUERY_METHODS = frozenset({
    "execute", "scalar", "scalars", "stream", "stream_scalars", "get", "get_one", "add", "add_all",
    "delete", "merge", "refresh", "run_sync", "connection",
})


def _is_session_type(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = annotation.value if isinstance(annotation, ast.Constant) else ast.unparse(annotation)
    return isinstance(text, str) and "AsyncSession" in text


def _opens_session(expr: ast.expr) -> bool:
    """``db.session()``, ``self.db.session()``, ``db.sessions()``: a unit of work."""
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in ("session", "sessions"))


def sql_outside_stores(source: str) -> list[str]:
    """Where ``source`` builds SQL itself: imports from sqlalchemy beyond the exceptions and the
    session type, and query or write calls on a session it was given or opened."""
    tree = ast.parse(source)
    found: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy" and alias.name not in ALLOWED_SQLALCHEMY:
                    found.add((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "sqlalchemy" and node.module not in ALLOWED_SQLALCHEMY:
                found.add((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            sessions = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
                        if _is_session_type(a.annotation)}
            for inner in ast.walk(node):
                if isinstance(inner, ast.AsyncWith):
                    for item in inner.items:
                        if _opens_session(item.context_expr) and isinstance(item.optional_vars, ast.Name):
                            sessions.add(item.optional_vars.id)
                elif isinstance(inner, ast.AnnAssign) and isinstance(inner.target, ast.Name) \
                        and _is_session_type(inner.annotation):
                    sessions.add(inner.target.id)
            for inner in ast.walk(node):
                if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                        and isinstance(inner.func.value, ast.Name) and inner.func.value.id in sessions
                        and inner.func.attr in QUERY_METHODS):
                    found.add((inner.lineno, f"{inner.func.value.id}.{inner.func.attr}()"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def domain_modules() -> list[str]:
    return sorted(str(p.relative_to(SRC)) for package in DOMAIN for p in (SRC / package).rglob("*.py"))


@pytest.mark.parametrize("module", domain_modules())
def test_the_domain_leaves_sql_to_the_stores(module: str) -> None:
    problems = sql_outside_stores((SRC / module).read_text(encoding="utf-8"))
    assert not problems, (f"{module} builds SQL itself; move it into parley/storage/stores/<domain>.py: "
                          + "; ".join(problems))


def test_the_check_sees_queries_and_session_writes() -> None:
    bad = '''
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

async def helper(s: AsyncSession, row: object) -> None:
    s.add(row)

class Handler:
    async def run(self) -> None:
        async with self.lock, self.db.session() as s:
            await s.execute(select(1))
            await s.delete(s.get(int, 1))
            await s.flush()
'''
    assert sql_outside_stores(bad) == [
        "line 2: from sqlalchemy import ...",
        "line 6: s.add()",
        "line 11: s.execute()",
        "line 12: s.delete()",
        "line 12: s.get()",
    ]


def test_the_check_lets_the_unit_of_work_and_its_types_through() -> None:
    good = '''
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.stores import accounts as store

async def helper(s: AsyncSession, email: str) -> None:
    await store.user_by_email(s, email)
    await s.flush()

class Handler:
    async def run(self, settings: dict[str, str]) -> None:
        settings.get("x")
        try:
            async with self.db.session() as s:
                await store.add_user(s, None)
                await s.commit()
        except IntegrityError:
            pass
'''
    assert sql_outside_stores(good) == []
