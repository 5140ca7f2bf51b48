"""Health, version, the home page and the interface-language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from parley import __version__
from parley.web.auth import LOCALE_COOKIE, Viewer, server_of, viewer_checked
from parley.web.templating import render

router = APIRouter()


class HealthOut(BaseModel):
    status: str = Field(description="`ok` while Parley answers.")
    version: str | None = Field(None, description="Parley's version; staff only.")
    database: str | None = Field(None, description="`sqlite` or `postgresql`; staff only.")


@router.get("/api/v1/health", tags=["meta"], response_model=HealthOut, response_model_exclude_none=True)
async def health(request: Request, viewer: Viewer = Depends(viewer_checked)) -> HealthOut:
    """Anyone may ask whether Parley is up; only staff learn the version and database, so an
    anonymous scan cannot match this server against known vulnerable releases."""
    if not viewer.is_staff:
        return HealthOut(status="ok")
    server = server_of(request)
    return HealthOut(status="ok", version=__version__, database="sqlite" if server.db.is_sqlite else "postgresql")


@router.get("/", include_in_schema=False)
async def home(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    return render(request, "home.html")


@router.post("/language", include_in_schema=False)
async def set_language(
    request: Request,
    locale: str = Form(...),
    next: str = Form("/"),
    viewer: Viewer = Depends(viewer_checked),
) -> Response:
    server = server_of(request)
    lang = server.catalogues.pick(locale)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LOCALE_COOKIE, lang.code, max_age=365 * 86400, samesite="lax",
                        secure=server.config.server.secure_cookies)
    return response


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: point them at the icon."""
    return RedirectResponse("/static/img/favicon.svg", status_code=301)
