"""What the account handlers return: plain values the web layer and the CLI show."""

from __future__ import annotations

from dataclasses import dataclass

from parley.handlers.accounts.rules import FIRST_ADMIN_EMAIL
from parley.storage.models import Invitation, Role
from parley.storage.stores.accounts import Account, ActiveSession, ApiTokenInfo

__all__ = ["Account", "ActiveSession", "ApiTokenInfo", "InvitationView", "LoginSession", "NewApiToken",
           "NewInvitation", "UserPage", "landing_path", "uses_first_password"]


@dataclass(frozen=True)
class LoginSession:
    token: str
    csrf_token: str
    user: Account


def landing_path(user: Account) -> str:
    """Where a person lands after logging in with nowhere else to go: the staff's overview
    (new dialogues, what is on, reports owed), a participant's own dialogues."""
    return "/my/dialogues" if user.role == Role.PARTICIPANT else "/organise"


def uses_first_password(user: Account) -> bool:
    """The first-start administrator still logs in with the password the console printed."""
    return user.email == FIRST_ADMIN_EMAIL and user.credentials_version == 1


@dataclass(frozen=True)
class NewApiToken:
    token: ApiTokenInfo
    # Shown to the user once; only its hash is stored.
    secret: str


@dataclass(frozen=True)
class InvitationView:
    invitation: Invitation
    state: str
    invited_by_name: str | None = None
    # Whether the invited email already has an account (decides the accept flow).
    account_exists: bool = False
    dialogue_title: str | None = None


@dataclass(frozen=True)
class NewInvitation:
    view: InvitationView
    # The secret part of the link; only its hash is stored.
    token: str


@dataclass(frozen=True)
class UserPage:
    users: list[Account]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
