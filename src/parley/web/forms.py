"""What every HTML form page shares: reading form fields, per-field messages in the reader's
language, the one-line notice after a redirect (``?done=``), the login redirect, and the
helpers templates use to name countries and languages.

Pages in `parley.web.pages` and the page parts of `parley.web.routes` use these; the JSON API
needs none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from parley.errors import ClientError
from parley.reference import country_name, is_time_zone, language_label
from parley.server import Server
from parley.vocabulary import DialogueState
from parley.web.auth import Viewer
from parley.web.templating import lang_of


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


FIELD_MESSAGES: dict[tuple[str, str], str] = {
    ("title", "length"): N_("Use 3 to 200 characters."),
    ("description", "length"): N_("Use at most 5,000 characters."),
    ("questions", "length"): N_("Each question needs 3 to 500 characters."),
    ("questions", "count"): N_("Give 1 to 12 questions, one per line."),
    ("starts_at", "past"): N_("Choose a time in the future."),
    ("starts_at", "required"): N_("Choose when the dialogue starts."),
    ("starts_at", "nonexistent_time"): N_(
        "That time does not exist in this time zone (the clocks change). Choose another."
    ),
    ("starts_at", "locked_live"): N_("The dialogue has started; its start time cannot change."),
    ("starts_at", "out_of_range"): N_("Choose a date between 2000 and 2200."),
    ("duration_minutes", "range"): N_("Choose between 15 and 480 minutes."),
    ("capacity", "range"): N_("Choose between 2 and 500 places."),
    ("capacity", "below_registrations"): N_("More people have already registered than that."),
    ("languages", "count"): N_("Choose 1 to 12 languages."),
    ("languages", "unknown_language"): N_("Use language codes such as pt, sw or pt-BR."),
    ("languages", "in_use"): N_("A registered participant chose a language you removed."),
    ("interpreters", "count"): N_("At most 24 interpreters."),
    ("interpreters", "invalid"): N_("Choose both the interpreter and their language."),
    ("display_name", "length"): N_("Enter a name of 1 to 120 characters."),
    ("email", "invalid"): N_("Enter a valid email address."),
    ("email", "taken"): N_("This email already has a Parley account: open your personal link to register."),
    ("email", "mismatch"): N_("You are logged in: you can only register yourself."),
    ("consent_participate", "required"): N_("You need to agree to take part to register."),
    ("date_to", "before_start"): N_("The end date is before the start date."),
}
CODE_MESSAGES: dict[str, str] = {
    "unknown_country": N_("Choose a country from the list."),
    "unknown_time_zone": N_("Choose a time zone from the list, such as Europe/Paris."),
    "unknown_language": N_("Choose a language from the list."),
    "not_facilitator": N_("Choose a facilitator from the list."),
    "not_interpreter": N_("Choose interpreters from the list."),
    "language_not_in_dialogue": N_("An interpreter's language must be one of the dialogue's languages."),
    "not_offered": N_("Choose one of the dialogue's languages."),
    "invalid_date": N_("Use a date like 2026-06-30."),
    "required": N_("This is required."),
    "range": N_("This number is out of range."),
    "length": N_("This is too short or too long."),
    "count": N_("Too few or too many."),
}
FALLBACK_MESSAGE = N_("This value is not valid.")


def field_messages(request: Request, exc: ClientError) -> dict[str, str]:
    """Per-field sentences in the viewer's language, for re-rendering a form."""
    gettext = lang_of(request).gettext
    out: dict[str, str] = {}
    for name, code in exc.fields.items():
        message = FIELD_MESSAGES.get((name, code)) or CODE_MESSAGES.get(code) or FALLBACK_MESSAGE
        out[name] = gettext(message)
    if not out:
        out["_form"] = gettext(exc.message)
    return out


def form_str(form: Any, name: str, limit: int = 10_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def form_list(form: Any, name: str, limit: int = 1000) -> list[str]:
    return [v[:limit] for v in form.getlist(name)[:100] if isinstance(v, str)]


def base_url(request: Request, server: Server) -> str:
    return server.config.server.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page_helpers(request: Request) -> dict[str, Any]:
    """Functions templates use to name countries and languages in the reader's language."""
    code = lang_of(request).code
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    user_tz = viewer.user.time_zone if viewer is not None and viewer.user is not None else None
    return {
        "country_name": lambda c: country_name(c, code) if c else "",
        "lang_label": lambda c: language_label(c, code),
        "viewer_tz": user_tz if user_tz and is_time_zone(user_tz) else None,
        "State": DialogueState,
    }


def flash_of(request: Request, done: Mapping[str, str]) -> str:
    """The notice a page shows after a redirect with ``?done=<key>``, from that page's table."""
    message = done.get(request.query_params.get("done", ""))
    return lang_of(request).gettext(message) if message else ""


def int_param(value: str, default: int, high: int) -> int:
    """A page number or size from a query string: 1..high, else the default."""
    text = value.strip()
    if not text.isdigit() or len(text) > 6:
        return default
    return min(max(1, int(text)), high)
