"""Page rendering: Jinja2 templates with the viewer's language, CSRF token and formatters.

Templates call ``_("text")`` / ``_("Hello %(name)s", name=x)`` and ``ngettext``; the strings
are extracted into the gettext catalogues (`make messages`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from parley.i18n import NATIVE_NAMES, Lang, language_name
from parley.web.auth import LOCALE_COOKIE, Viewer, server_of

TEMPLATES = Path(__file__).with_name("templates")

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def lang_of(request: Request) -> Lang:
    cached: Lang | None = getattr(request.state, "lang", None)
    if cached is not None:
        return cached
    server = server_of(request)
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    user_locale = viewer.user.locale if viewer is not None and viewer.user is not None else None
    lang = server.catalogues.pick(
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        user_locale,
        accept_language=request.headers.get("accept-language"),
    )
    request.state.lang = lang
    return lang


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    lang = lang_of(request)
    server = server_of(request)
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    ctx: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "user": viewer.user if viewer else None,
        "csrf_token": viewer.csrf_token if viewer else "",
        "lang": lang,
        "_": lang.gettext,
        "gettext": lang.gettext,
        "ngettext": lang.ngettext,
        "fmt_dt": lang.datetime,
        "fmt_num": lang.number,
        "fmt_date": lang.date,
        "language_name": lambda code: language_name(code, lang.code),
        "locales": [(code, NATIVE_NAMES.get(code, code)) for code in server.catalogues.locales],
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status)
