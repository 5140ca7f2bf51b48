"""Storing submissions: idempotent per client key, concurrent ones committed together
(group commit), declined consent kept only as a receipt.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from parley.clock import Clock
from parley.consultation.regions import region_of
from parley.consultation.survey.days import day_number, month_of, week_start
from parley.consultation.survey.loading import Loader
from parley.consultation.survey.views import LoadedSurvey, Receipt, Submission
from parley.consultation.survey.withdrawal import WithdrawalCodes
from parley.errors import InvalidInput
from parley.reference import N_
from parley.storage.database import Database
from parley.storage.stores import survey as store

log = logging.getLogger(__name__)


KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")
GROUP_COMMIT_MAX = 500


def scoped_key_hash(survey_id: int, scope: str, key: str) -> str:
    return hashlib.sha256(f"{survey_id}:{scope}:{key}".encode()).hexdigest()[:32]


class Submitter:
    """Stores validated submissions, one transaction per batch of concurrent ones."""

    def __init__(self, db: Database, clock: Clock, codes: WithdrawalCodes, loader: Loader,
                 write_lock: asyncio.Lock) -> None:
        self.db = db
        self.clock = clock
        self.codes = codes
        self.loader = loader
        self._write_lock = write_lock
        self._queue: list[tuple[str, str, Submission, asyncio.Future[Receipt]]] = []

    async def submit(self, key: str, scope: str, submission: Submission) -> Receipt:
        """Store one submission. Concurrent submissions are committed together: whoever gets
        the write lock writes everything queued meanwhile in one transaction (group commit),
        which is what lets one SQLite file keep up with many simultaneous respondents."""
        self._check_keys([(key, scope, submission)])
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._queue.append((key, scope, submission, future))
        async with self._write_lock:
            if not future.done():
                batch, self._queue = self._queue[:GROUP_COMMIT_MAX], self._queue[GROUP_COMMIT_MAX:]
                try:
                    receipts = await self._submit_retrying([(k, sc, sub) for k, sc, sub, _ in batch])
                except asyncio.CancelledError:
                    # This request went away; the others wait for the lock and write their own
                    # (if the commit had happened, their retry is a replay).
                    self._queue[:0] = [item for item in batch if item[3] is not future]
                    raise
                except Exception as exc:
                    for *_, f in batch:
                        if not f.done():
                            f.set_exception(exc)
                else:
                    for (*_, f), receipt in zip(batch, receipts, strict=True):
                        if not f.done():
                            f.set_result(receipt)
        return await future

    async def submit_many(self, items: Sequence[tuple[str, str, Submission]]) -> list[Receipt]:
        """Store validated submissions in one transaction (gateways and the bulk loader send
        batches; `submit` groups concurrent single ones into the same call). Retries are
        answered from what the first attempt stored."""
        self._check_keys(items)
        async with self._write_lock:
            return await self._submit_retrying(items)

    @staticmethod
    def _check_keys(items: Sequence[tuple[str, str, Submission]]) -> None:
        for key, _scope, _sub in items:
            if not KEY_RE.match(key):
                raise InvalidInput(N_("The idempotency key must be 8 to 128 letters, digits or -_.:"),
                                   fields={"idempotency_key": "invalid"}, code="invalid_idempotency_key")

    async def _submit_retrying(self, items: Sequence[tuple[str, str, Submission]]) -> list[Receipt]:
        for attempt in range(3):
            try:
                return await self._submit_once(items)
            except IntegrityError:
                # A concurrent retry of the same key (another process) won the race; the next
                # pass replays it.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _submit_once(self, items: Sequence[tuple[str, str, Submission]]) -> list[Receipt]:
        survey = await self.loader.current()
        now = self.clock.now()
        day = day_number(now)
        hashes = [scoped_key_hash(survey.id, scope, key) for key, scope, _ in items]
        prints = [sub.fingerprint() for _, _, sub in items]
        responses: list[dict[str, Any]] = []
        receipts: list[dict[str, Any]] = []
        texts: dict[str, list[dict[str, Any]]] = {}
        async with self.db.session() as s:
            found = await store.existing(s, survey.id, hashes)
            first_in_batch: dict[str, int] = {}
            for i, ((_key, _scope, sub), kh, fp) in enumerate(zip(items, hashes, prints, strict=True)):
                if kh in found or kh in first_in_batch:
                    first_in_batch.setdefault(kh, i)
                    continue
                first_in_batch[kh] = i
                if sub.consent_analysis:
                    responses.append(self._response_row(survey, sub, kh, fp, now, day))
                    texts[kh] = self._text_rows(survey.id, sub, now)
                else:
                    receipts.append({"survey_id": survey.id, "key_hash": kh, "fingerprint": fp,
                                     "status": "declined", "day": day, "created_at": now, "withdrawn_at": None})
            new_ids = await store.insert_responses(s, responses)
            new_receipts = await store.insert_receipts(s, receipts)
            text_rows = [dict(row, response_id=new_ids[kh]) for kh, rows in texts.items() for row in rows]
            await store.insert_texts(s, text_rows)
            if new_ids:
                # New responses have no coded texts yet: their themes are counted when coded.
                await store.add_to_rollups(s, survey.id, list(new_ids.values()), themes=False)
        out: list[Receipt] = []
        for i, (kh, fp) in enumerate(zip(hashes, prints, strict=True)):
            replayed = kh in found or first_in_batch.get(kh) != i
            if kh in new_ids:
                out.append(Receipt("counted", self.codes.make("response", new_ids[kh]), replayed))
            elif kh in new_receipts:
                out.append(Receipt("declined", self.codes.make("receipt", new_receipts[kh]), replayed))
            else:
                prior = found[kh]
                out.append(Receipt(
                    prior.status,  # type: ignore[arg-type]
                    None if prior.status == "withdrawn" else self.codes.make(prior.kind, prior.id),
                    replayed=True, mismatch=prior.fingerprint != fp,
                ))
        if new_ids or new_receipts:
            log.debug("survey %s: %d counted, %d declined", survey.slug, len(new_ids), len(new_receipts))
        return out

    def _response_row(self, survey: LoadedSurvey, sub: Submission, key_hash: str, fingerprint: str,
                      now: datetime, day: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "survey_id": survey.id, "version_id": sub.version_id, "created_at": now, "day": day,
            "week": week_start(day), "month": month_of(day),
            "language": sub.language, "country": sub.country, "region": region_of(sub.country),
            "age_group": sub.age_group, "gender": sub.gender, "education": sub.education,
            "consent_quotes": sub.consent_quotes, "channel": sub.channel, "key_hash": key_hash,
            "fingerprint": fingerprint,
        }
        for i in range(1, store.SLOTS + 1):
            row[f"c{i}"] = None
        for question, options in sub.choices.items():
            row[f"c{survey.codebook.slots[question]}"] = survey.codebook.encode(question, options)
        return row

    @staticmethod
    def _text_rows(survey_id: int, sub: Submission, now: datetime) -> list[dict[str, Any]]:
        common = {"survey_id": survey_id, "language": sub.language, "country": sub.country,
                  "quotable": sub.consent_quotes, "created_at": now}
        rows = [dict(common, question=q, kind="answer", body=t) for q, t in sub.texts.items()]
        rows += [dict(common, question=q, kind="other", body=t) for q, t in sub.others.items()]
        return rows
