"""How many login attempts Parley lets through, and to whom.

Limits that count per account alone let anyone lock an account's owner out by failing on
purpose; limits per client address alone let a network of clients guess one password
forever, and behind a proxy that is not declared in ``server.trusted_proxies`` every person
is one client. So three limits, each aimed at one attack:

- per client, every attempt (``auth.login_attempts_per_minute`` a minute): one source
  trying many accounts (credential stuffing) is slowed, whatever the answers;
- per account and client, failures only (``auth.login_failures_per_client`` in 15
  minutes): one source guessing one password stops soon, and only that source;
  a success clears it, so the owner's own typos never add up;
- per account, failures from every client (``auth.login_failures_per_account`` in 15
  minutes, several times the above): many sources guessing one password together get a
  bounded number of tries. This is the one limit an attacker can turn against the owner,
  so it is loose, counts failures only, and lets go 15 minutes after the guessing stops.

Limits apply to the email as typed (lower-cased), whether or not it has an account, so a
429 says nothing about which emails exist.
"""

from __future__ import annotations

from parley.config import AuthConfig
from parley.handlers.ratelimit import RateLimiter, client_key

FAILURE_WINDOW_S = 900.0


class LoginLimits:
    def __init__(self, limiter: RateLimiter, config: AuthConfig) -> None:
        self.limiter = limiter
        self.config = config

    def before(self, email: str, client: str) -> None:
        """Raise `RateLimited` if this attempt may not be made; count it for its client."""
        self.limiter.hit(f"login:client:{client_key(client)}", limit=self.config.login_attempts_per_minute,
                         window=60.0)
        self.limiter.check(self._pair(email, client), limit=self.config.login_failures_per_client,
                           window=FAILURE_WINDOW_S)
        self.limiter.check(self._account(email), limit=self.config.login_failures_per_account,
                           window=FAILURE_WINDOW_S)

    def failed(self, email: str, client: str) -> None:
        self.limiter.add(self._pair(email, client), window=FAILURE_WINDOW_S)
        self.limiter.add(self._account(email), window=FAILURE_WINDOW_S)

    def succeeded(self, email: str, client: str) -> None:
        self.limiter.reset(self._pair(email, client))

    @staticmethod
    def _account(email: str) -> str:
        return f"login:account:{email.strip().lower()[:320]}"

    @classmethod
    def _pair(cls, email: str, client: str) -> str:
        return f"{cls._account(email)}:client:{client_key(client)}"
