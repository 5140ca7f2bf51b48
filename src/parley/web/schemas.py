"""Shapes every JSON route shares: the one error body (a stable ``code`` clients switch on, a
message people read, per-field problem codes for forms), and the base of the shapes read off
handler views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ViewOut(BaseModel):
    """A JSON shape read off a handler's view (a dataclass), field by field: the names match, so
    no mapper is written by hand, and a field the view lacks fails loudly in the tests. Nested
    shapes that are ViewOut too are read the same way; extra view fields are left out.

    ``flatten`` names a value the view holds whose fields the shape shows beside the view's own
    (an invitation's, beside its state): a flat JSON shape over a nested view."""

    model_config = ConfigDict(from_attributes=True)
    flatten: ClassVar[str | None] = None

    @classmethod
    def of(cls, view: object) -> Self:
        return cls.model_validate(view)

    @model_validator(mode="before")
    @classmethod
    def _flattened(cls, data: Any) -> Any:
        if cls.flatten is None or isinstance(data, Mapping):
            return data
        return _Through(data, cls.flatten)


class _Through:
    """The view's attributes, and those of its ``inner`` value where the view has none."""

    def __init__(self, view: object, inner: str) -> None:
        self._view = view
        self._inner = getattr(view, inner)

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._view, name)
        except AttributeError:
            return getattr(self._inner, name)


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
