"""The accounts service: one object (`Accounts`) composed of its parts, built once by the
composition root and used by the pages, the JSON API and the CLI alike."""

from __future__ import annotations

from parley.handlers.accounts.admin import Administration
from parley.handlers.accounts.invitations import Invitations
from parley.handlers.accounts.sessions import Sessions


class Accounts(Sessions, Invitations, Administration):
    """Users, login sessions, API tokens, invitations and administration (see the parts)."""
