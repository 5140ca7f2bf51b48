"""Secrets, hashes and signed links.

Random tokens are stored only as SHA-256 hashes; passwords with argon2id; links that work
without a password (participants' personal links) are signed, expiring and bound to the
user's credentials version so they can be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from parley.clock import Clock

_hasher = PasswordHasher()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check so timing does not reveal the account.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


class LinkSigner:
    """Signed, expiring tokens for one purpose each ("participant", "unsubscribe", ...)."""

    def __init__(self, secret: str, clock: Clock) -> None:
        self._secret = secret
        self._clock = clock

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        clock = self._clock

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        return URLSafeTimedSerializer(self._secret, salt=f"parley:{purpose}", signer=_Signer)

    def sign(self, purpose: str, payload: Any) -> str:
        return self._serializer(purpose).dumps(payload)

    def unsign(self, purpose: str, token: str, max_age_seconds: int) -> Any | None:
        """The payload, or None when the token is forged, for another purpose, or expired."""
        serializer = self._serializer(purpose)
        try:
            payload, signed_at = serializer.loads(token, max_age=None, return_timestamp=True)
        except (BadSignature, SignatureExpired):
            return None
        age = self._clock.now().timestamp() - signed_at.timestamp()
        if age > max_age_seconds or age < -60:
            return None
        return payload
