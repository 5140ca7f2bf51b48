"""The one error body every JSON route answers with: a stable ``code`` clients switch on, a
message people read, and per-field problem codes for forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `bad_credentials`, `meeting_locked`.")
    message: str
    fields: dict[str, str] | None = Field(
        None, description="Per-field problem codes, e.g. `capacity`: `range`; for CSV, `line.<n>.<field>`: code.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


def error_docs(texts: Mapping[int, str]) -> Callable[..., dict[int | str, dict[str, Any]]]:
    """``errors(401, 404)``: OpenAPI ``responses`` for those statuses, each this body with the
    route module's description of when it happens."""
    def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
        return {status: {"model": ErrorResponse, "description": texts[status]} for status in statuses}
    return errors
