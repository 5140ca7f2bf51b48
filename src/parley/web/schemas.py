"""Shapes every JSON route shares: the one error body (a stable ``code`` clients switch on, a
message people read, per-field problem codes for forms), and the base of the shapes read off
handler views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from parley.clock import iso


class ViewOut(BaseModel):
    """A JSON shape read off a handler's view (a dataclass), field by field: the names match, so
    no mapper is written by hand, and a field the view lacks fails loudly in the tests. Nested
    shapes that are ViewOut too are read the same way; extra view fields are left out.

    ``flatten`` names a value the view holds whose fields the shape shows beside the view's own
    (an invitation's, beside its state): a flat JSON shape over a nested view. ``whole`` names
    fields whose nested shape is read off the view itself (a registration's three consents as
    one ``consent`` object): a nested JSON shape over a flat view. Where the API names a field
    differently from the view, ``Field(validation_alias=...)`` says which it reads; where it
    shows a value differently, an annotated type (`IsoTime`, `rounded`) says how. What the view
    cannot know (the filters the route read from the query) the route gives to `of` by name."""

    model_config = ConfigDict(from_attributes=True)
    flatten: ClassVar[str | None] = None
    whole: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def of(cls, view: object, **beside: Any) -> Self:
        """The shape of ``view``, with the ``beside`` values the route adds to it."""
        return cls.model_validate(_Through(view, cls.flatten, cls.whole, beside) if beside else view)

    @model_validator(mode="before")
    @classmethod
    def _flattened(cls, data: Any) -> Any:
        if cls.flatten is None and not cls.whole or isinstance(data, (Mapping, _Through)):
            return data
        return _Through(data, cls.flatten, cls.whole)


def _iso_text(value: object) -> object:
    return iso(value) if isinstance(value, datetime) else value


def _offset_text(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


# A view's time as a string, as each route has always written it: ``...Z`` (`parley.clock.iso`),
# or ``...+00:00`` (`datetime.isoformat`). The document shows a string, as before.
IsoTime = Annotated[str, BeforeValidator(_iso_text)]
OffsetTime = Annotated[str, BeforeValidator(_offset_text)]


def rounded(digits: int) -> AfterValidator:
    """``Annotated[float, rounded(1)]``: a view's number shown to ``digits`` places."""
    return AfterValidator(lambda value: round(value, digits))


class _Through:
    """The view's attributes, and those of its ``inner`` value where the view has none; the
    ``whole`` names stand for the view itself, the ``beside`` ones for the route's values."""

    def __init__(self, view: object, inner: str | None, whole: tuple[str, ...],
                 beside: Mapping[str, Any] | None = None) -> None:
        self._view = view
        self._inner = getattr(view, inner) if inner is not None else None
        self._whole = whole
        self._beside = beside or {}

    def __getattr__(self, name: str) -> Any:
        if name in self._beside:
            return self._beside[name]
        if name in self._whole:
            return self._view
        try:
            return getattr(self._view, name)
        except AttributeError:
            if self._inner is None:
                raise
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
