"""Who may use the analysis: organisers and admins (every service method checks)."""

from __future__ import annotations

from parley.errors import Forbidden
from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

ANALYSTS = frozenset({Role.ADMIN, Role.ORGANISER})


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def check_analyst(user: Account) -> None:
    if user.role not in ANALYSTS:
        raise Forbidden(N_("The analysis is for organisers and admins."), code="analysts_only")
