"""What an account may hold and who may invite whom: the limits, the field checks every
entry point shares (pages, JSON API, CLI), and the errors they raise, naming each field."""

from __future__ import annotations

import enum
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Collection
from datetime import datetime
from functools import cache
from typing import TypeVar
from zoneinfo import available_timezones

from parley.errors import ClientError, InvalidInput
from parley.storage.stores.accounts import Account, InvitationInfo
from parley.vocabulary import Role

log = logging.getLogger(__name__)

# RFC 5321's longest address; the column holds 320, room for `shared_email`'s tag.
EMAIL_MAX = 254
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")
PASSWORD_SHORT = "Use a password of at least %(n)s characters."
API_TOKEN_PREFIX = "prl_"
MAX_API_TOKENS = 25
MAX_PER_PAGE = 100
MAX_INVITABLE_DIALOGUES = 500

# Higher ranks may do more; accepting an invitation only ever raises a role.
ROLE_RANK = {Role.PARTICIPANT: 0, Role.INTERPRETER: 1, Role.FACILITATOR: 2, Role.ORGANISER: 3, Role.ADMIN: 4}
INVITABLE: dict[Role, tuple[Role, ...]] = {
    Role.ADMIN: (Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER, Role.ADMIN),
    Role.ORGANISER: (Role.FACILITATOR, Role.INTERPRETER),
}
DIALOGUE_ROLES = frozenset({Role.FACILITATOR, Role.INTERPRETER})
# The administrator that the very first start creates, with a password printed once.
FIRST_ADMIN_EMAIL = "admin@parley.local"

T = TypeVar("T")


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


class InvitationClosed(ClientError):
    """The link was valid once but cannot be used any more (used, revoked, expired)."""

    status = 410
    code = "invitation_closed"


class FieldErrors(InvalidInput):
    """Several fields wrong at once; ``messages`` gives each field's sentence for forms,
    ``fields`` the stable codes for API clients."""

    def __init__(self, errors: dict[str, InvalidInput]) -> None:
        first = next(iter(errors.values()))
        single = len(errors) == 1
        fields: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        for name, exc in errors.items():
            # Keyed by the form's field name, whatever name the shared check used.
            fields[name] = next(iter(exc.fields.values()), exc.code)
            self.messages[name] = exc.message
        super().__init__(
            first.message if single else "Some fields are not valid.",
            fields=fields,
            code=first.code if single else "invalid_input",
        )


class Problems:
    """Runs each field's check and raises all failures together, so a form shows every
    problem at once instead of one per submit."""

    def __init__(self) -> None:
        self.errors: dict[str, InvalidInput] = {}

    def check(self, field: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except InvalidInput as exc:
            self.errors[field] = exc
            return None

    def add(self, field: str, exc: InvalidInput) -> None:
        self.errors[field] = exc

    def raise_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


# --- field checks -----------------------------------------------------------------------------


def has_control_chars(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in value)


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > EMAIL_MAX or not EMAIL_RE.match(value):
        raise InvalidInput("Enter a valid email address.", fields={"email": "invalid"}, code="invalid_email")
    return value


def shared_email(email: str) -> str:
    """What a link-only participant account stores when another account already has the
    address it was registered with (see `parley.handlers.registration`): the address, a
    space and a random tag. No address `normalise_email` accepts has a space, so it never
    equals a real one, logs in, or receives an invitation."""
    return f"{email} {secrets.token_hex(4)}"


def contact_email(stored: str) -> str:
    """The address a person gave, as shown to them and to organisers."""
    return stored.split(" ", 1)[0]


def check_display_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= 120:
        raise InvalidInput("Enter a name of 1 to 120 characters.", fields={"display_name": "length"})
    if has_control_chars(value):
        raise InvalidInput("The name contains characters that are not allowed.", fields={"display_name": "invalid"})
    return value


def check_locale(value: str | None, allowed: Collection[str]) -> str | None:
    """An interface language from ``allowed``, or None to follow the browser."""
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput("Choose one of the offered languages.", fields={"locale": "unknown"},
                           code="unknown_locale")
    return value


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zones() -> list[str]:
    """Every IANA time zone name, sorted (for pickers)."""
    return sorted(_time_zones())


def check_time_zone(value: str | None) -> str | None:
    """An IANA zone name such as ``Africa/Nairobi``, or None to use the browser's."""
    if not value:
        return None
    value = value.strip()
    if value not in _time_zones():
        raise InvalidInput("Choose a time zone from the list, such as Europe/Paris.",
                           fields={"time_zone": "unknown"}, code="unknown_time_zone")
    return value


def check_token_name(name: str) -> str:
    value = " ".join(name.split())
    if not 1 <= len(value) <= 120 or has_control_chars(value):
        raise InvalidInput("Give the token a name of 1 to 120 characters.", fields={"name": "length"})
    return value


def check_search(value: str) -> str:
    value = value.strip()
    if len(value) > 200 or has_control_chars(value):
        raise InvalidInput("Search for at most 200 characters.", fields={"q": "invalid"})
    return value


def invitation_state(invitation: InvitationInfo, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def can_invite(actor: Account, role: Role) -> bool:
    return role in INVITABLE.get(actor.role, ())
