"""Withdrawal: the codes a respondent keeps (the record id under an HMAC tag, so nothing
stored links a code to a person) and the withdrawal itself, which deletes the response, its
free text and its counts in every rollup in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re

from parley.clock import Clock
from parley.consultation.survey.loading import Loader
from parley.errors import InvalidInput
from parley.reference import N_
from parley.storage.database import Database
from parley.storage.stores import survey as store

log = logging.getLogger(__name__)


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LEN = 18


class WithdrawalCodes:
    """Codes of 18 Crockford base32 symbols: a 40-bit HMAC tag, then ``kind | id`` (6 bytes)
    masked with a keystream derived from the tag, so codes look random and reveal no id."""

    KINDS = {"response": 0, "receipt": 1}

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"parley:survey-withdrawal", hashlib.sha256).digest()

    def _mac(self, label: bytes, data: bytes, size: int) -> bytes:
        return hmac.new(self._key, label + data, hashlib.sha256).digest()[:size]

    def make(self, kind: str, record_id: int) -> str:
        head = bytes([self.KINDS[kind]]) + record_id.to_bytes(5, "big")
        tag = self._mac(b"tag", head, 5)
        masked = bytes(a ^ b for a, b in zip(head, self._mac(b"mask", tag, 6), strict=True))
        value = int.from_bytes(tag + masked, "big")
        symbols = "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LEN)))
        return "-".join(symbols[i:i + 4] for i in range(0, CODE_LEN, 4))

    def read(self, code: str) -> tuple[str, int] | None:
        text = re.sub(r"[\s\-]", "", code).upper().translate(str.maketrans("ILO", "110"))
        if len(text) != CODE_LEN or any(ch not in CROCKFORD for ch in text):
            return None
        value = 0
        for ch in text:
            value = value << 5 | CROCKFORD.index(ch)
        if value >> 88:
            return None
        raw = value.to_bytes(11, "big")
        tag, masked = raw[:5], raw[5:]
        head = bytes(a ^ b for a, b in zip(masked, self._mac(b"mask", tag, 6), strict=True))
        if not hmac.compare_digest(tag, self._mac(b"tag", head, 5)):
            return None
        kinds = {v: k for k, v in self.KINDS.items()}
        if head[0] not in kinds:
            return None
        return kinds[head[0]], int.from_bytes(head[1:], "big")


class Withdrawals:
    """Deletes what a withdrawal code stands for."""

    def __init__(self, db: Database, clock: Clock, codes: WithdrawalCodes, loader: Loader,
                 write_lock: asyncio.Lock) -> None:
        self.db = db
        self.clock = clock
        self.codes = codes
        self.loader = loader
        self._write_lock = write_lock

    async def withdraw(self, code: str) -> bool:
        """Delete everything stored under a withdrawal code. True if something was deleted;
        False if nothing is stored under it any more (already withdrawn)."""
        parsed = self.codes.read(code)
        if parsed is None:
            raise InvalidInput(N_("That is not a valid withdrawal code. Check it and try again."),
                               fields={"code": "invalid"}, code="invalid_withdrawal_code")
        kind, record_id = parsed
        survey = await self.loader.current()
        now = self.clock.now()
        async with self._write_lock, self.db.session() as s:
            if kind == "receipt":
                receipt = await store.receipt_by_id(s, record_id)
                if receipt is None or receipt.status == "withdrawn":
                    return False
                await store.withdraw_receipt(s, receipt.id, now)
                return True
            response = await store.response_by_id(s, record_id, lock=True)
            if response is None:
                return False
            await store.add_to_rollups(s, response.survey_id, [response.id], sign=-1)
            await store.prune_rollups(s, response, survey.codebook.slots)
            await store.delete_response(s, response.id)
            await store.add_receipt(s, survey_id=response.survey_id, key_hash=response.key_hash,
                                    fingerprint=response.fingerprint, status="withdrawn", day=response.day,
                                    created_at=now, withdrawn_at=now)
        log.info("survey response withdrawn")
        return True
