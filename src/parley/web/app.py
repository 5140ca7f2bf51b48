"""The ASGI application: routers, error mapping, security headers, and the lifespan that
starts and stops the one `Server`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from parley.errors import ClientError, EngineError
from parley.handlers.glossary import CSV_MAX_CHARS
from parley.server import Server
from parley.web import body_limit
from parley.web.auth import CSRF_COOKIE, SESSION_COOKIE, Viewer
from parley.web.input_policy import check_input
from parley.web.pages import accounts as account_pages
from parley.web.pages import analysis as analysis_pages
from parley.web.pages import dashboard as dashboard_pages
from parley.web.pages import dialogues as dialogue_pages
from parley.web.pages import glossary as glossary_pages
from parley.web.pages import meetings as meetings_pages
from parley.web.pages import registration as registration_pages
from parley.web.pages import reports as report_pages
from parley.web.pages import survey as survey_pages
from parley.web.pages import transcripts as transcript_pages
from parley.web.pages import workspace as workspace_pages
from parley.web.routes import (
    access,
    accounts,
    analysis,
    dashboard,
    dialogues,
    glossary,
    interpretation,
    janus_proxy,
    media_nodes,
    meeting_chat,
    meeting_recordings,
    meeting_socket,
    meetings,
    meta,
    overview,
    registration,
    reports,
    survey,
    transcripts,
    workspace,
)
from parley.web.templating import render

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
API_VERSION = "1"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def create_app(server: Server) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = FastAPI(
        title="Parley",
        # The API's version, not Parley's: the document is public, the release is for staff.
        version=API_VERSION,
        description="Dialogues, organisers' workspace, meetings, interpretation and consultation.",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(check_input)],
    )
    app.state.server = server
    # The JSON API under /api/v1 and the sockets (web.routes), then the pages over the same calls
    # (web.pages; access and media_nodes keep their two admin pages beside their API).
    api = (meta, accounts, dialogues, overview, registration, workspace, survey, dashboard, meetings,
           meeting_recordings, meeting_chat, meeting_socket, janus_proxy, interpretation, transcripts, reports,
           analysis, glossary, access, media_nodes)
    pages = (account_pages, dialogue_pages, registration_pages, survey_pages, workspace_pages, meetings_pages,
             analysis_pages, transcript_pages, dashboard_pages, report_pages, glossary_pages)
    for module in (*api, *pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_handlers(app)
    _install_body_limit(app, server.config.server.max_body_bytes)
    _install_headers(app, secure=server.config.server.secure_cookies)
    return app


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, message: str,
                   fields: dict[str, str] | None = None) -> Response:
    if wants_html(request):
        return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status)
    body: dict[str, object] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClientError)
    async def client_error(request: Request, exc: ClientError) -> Response:
        response = error_response(request, exc.status, exc.code, exc.message, exc.fields)
        retry_after = getattr(exc, "retry_after", None)  # RateLimited, a transcript not translated yet
        if isinstance(retry_after, int | float):
            response.headers["Retry-After"] = str(int(retry_after + 0.999))
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields: dict[str, str] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
            fields[".".join(loc) or "body"] = str(err.get("msg", "invalid"))
        return error_response(request, 422, "invalid_input", "Some fields are not valid.", fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden",
                 413: body_limit.CODE}
        return error_response(request, exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> Response:
        log.error("engine %s failed (retryable=%s)", exc.engine, exc.retryable)
        return error_response(request, 503, "engine_unavailable", "A service Parley needs is not available.")


def _install_body_limit(app: FastAPI, default: int) -> None:
    """``server.max_body_bytes`` for every body but a glossary import: a paste of up to
    CSV_MAX_CHARS characters, up to 12 bytes each once UTF-8 and percent-encoded."""
    larger = max(default, CSV_MAX_CHARS * 12 + 65_536)

    def limit_for(path: str) -> int:
        return larger if path.endswith("/glossary/import") else default

    async def respond(request: Request) -> Response:
        return error_response(request, 413, body_limit.CODE, body_limit.MESSAGE)

    app.add_middleware(body_limit.BodyLimit, limit_for=limit_for, respond=respond)


def _install_headers(app: FastAPI, *, secure: bool) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CSP)
        viewer = getattr(request.state, "viewer", None)
        if _private(request, viewer):
            response.headers["Cache-Control"] = "no-store"
        if viewer is not None and viewer.new_csrf_cookie:
            response.set_cookie(CSRF_COOKIE, viewer.csrf_token, httponly=True, samesite="lax",
                                secure=secure, path="/")
        return response


def _private(request: Request, viewer: Viewer | None) -> bool:
    """Whether no cache (browser, proxy) may keep the response: every API answer (they carry
    accounts, registrations, answers' withdrawal codes) and anything asked with credentials;
    static files stay cacheable."""
    if request.url.path.startswith("/static/"):
        return False
    return (request.url.path.startswith("/api/") or (viewer is not None and viewer.user is not None)
            or SESSION_COOKIE in request.cookies or "authorization" in request.headers)
