"""The one error body every JSON route answers with: a stable ``code`` clients switch on, a
message people read, and per-field problem codes for forms."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `bad_credentials`, `meeting_locked`.")
    message: str
    fields: dict[str, str] | None = Field(
        None, description="Per-field problem codes, e.g. `capacity`: `range`; for CSV, `line.<n>.<field>`: code.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
