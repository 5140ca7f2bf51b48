"""What the registration parts share: the personal link's purpose and size bound, who has
a personal link at all, and how a form's tick box reads as yes.
"""

from __future__ import annotations

from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

LINK_PURPOSE = "participant"
TOKEN_MAX = 512


def flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes")


def link_only(user: Account) -> bool:
    """A participant without a password: the personal link is how they log in."""
    return user.role == Role.PARTICIPANT and not user.has_password
