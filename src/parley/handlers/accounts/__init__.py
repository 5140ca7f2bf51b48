"""Accounts, roles, login sessions, API tokens and staff invitations.

The rules live here, not in the web layer, so the pages, the JSON API and the CLI enforce
the same ones:

- Login is rate limited per client, per account and client, and (more loosely) per
  account (`parley.handlers.login_limits`), and every failure gets the same vague answer.
- Organisers invite facilitators and interpreters; admins also invite organisers and
  admins. An invitation is a random link (stored hashed), single use, revocable, and
  expires after ``auth.invite_days``.
- An invitation for an email that already has an account is accepted by that account
  once logged in: its role is raised to the invited one if that ranks higher (never
  lowered), and a facilitator invitation for a dialogue without a facilitator assigns
  it. Opening the link anonymously then asks the person to log in first; accounts are
  never taken over through a link.
- There is always at least one enabled admin.

Parts: `rules` (limits, field checks, errors), `views` (what callers get back), `base` (what the
parts share), `sessions` (logging in, own account, API tokens), `invitations`, `admin`, and
`service.Accounts` composing them.
"""

from __future__ import annotations

from parley.handlers.accounts.rules import (
    API_TOKEN_PREFIX,
    DIALOGUE_ROLES,
    EMAIL_MAX,
    EMAIL_RE,
    FIRST_ADMIN_EMAIL,
    INVITABLE,
    MAX_API_TOKENS,
    MAX_INVITABLE_DIALOGUES,
    MAX_PER_PAGE,
    PASSWORD_SHORT,
    ROLE_RANK,
    UNSET,
    FieldErrors,
    InvitationClosed,
    Problems,
    _Unset,
    can_invite,
    check_display_name,
    check_locale,
    check_search,
    check_time_zone,
    check_token_name,
    contact_email,
    has_control_chars,
    invitation_state,
    normalise_email,
    shared_email,
    time_zones,
)
from parley.handlers.accounts.service import Accounts
from parley.handlers.accounts.views import (
    Account,
    ActiveSession,
    ApiTokenInfo,
    InvitationView,
    LoginSession,
    NewApiToken,
    NewInvitation,
    UserPage,
    landing_path,
    uses_first_password,
)

__all__ = [
    "API_TOKEN_PREFIX", "Account", "Accounts", "ActiveSession", "ApiTokenInfo",
    "DIALOGUE_ROLES", "EMAIL_MAX", "EMAIL_RE", "FIRST_ADMIN_EMAIL",
    "FieldErrors", "INVITABLE", "InvitationClosed", "InvitationView", "LoginSession", "MAX_API_TOKENS",
    "MAX_INVITABLE_DIALOGUES", "MAX_PER_PAGE", "NewApiToken", "NewInvitation", "PASSWORD_SHORT", "Problems",
    "ROLE_RANK", "UNSET", "UserPage", "_Unset", "can_invite", "check_display_name", "check_locale",
    "check_search", "check_time_zone", "check_token_name", "contact_email", "has_control_chars",
    "invitation_state", "landing_path", "normalise_email", "shared_email", "time_zones",
    "uses_first_password",
]
