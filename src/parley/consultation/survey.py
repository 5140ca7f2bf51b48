"""The public survey: validating answers, idempotent submission, consent, withdrawal, and
versioned editing of the questions.

Consent, as implemented:

* Consent to analysis is a required yes/no choice. **Yes**: the response is stored and
  counted. **No**: nothing the respondent answered is kept, not even demographics; a receipt
  records only that a response arrived (shown as "declined" in participation figures).
* Free text (open answers, "other" answers) is stored only with consent to analysis, is the
  input of theme coding (`Surveys.texts`), and is exported or quoted only when the respondent
  also ticked the separate quotation consent.
* Withdrawal deletes the response, its free text (and so the text's theme coding) and its
  counts in every rollup, themes included, in one transaction; exports and dashboards read
  only what remains.

Idempotency: every submission carries a client key (hidden form field, or the API's
``Idempotency-Key`` header). Its hash is unique per survey, so a retry finds the first
result and returns it (same withdrawal code, nothing counted twice). Keys from API tokens
are scoped to the token's user, so two gateways cannot collide.

Withdrawal codes are not stored: a code is the response id with an HMAC tag, so a retried
submission can show the same code again and the database holds nothing that could link a
code to a person.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.consultation.questionnaire import (
    DEMOGRAPHICS,
    OTHER,
    Codebook,
    Definition,
    Question,
    parse_definition,
)
from parley.consultation.regions import COUNTRIES, UNKNOWN_COUNTRY, region_of
from parley.consultation.survey_content import default_definition
from parley.errors import Conflict, Forbidden, InvalidInput
from parley.reference import UNSTATED
from parley.storage.consultation_models import Survey, SurveyVersion
from parley.storage.database import Database
from parley.storage.models import Role
from parley.storage.stores import survey as store
from parley.storage.stores.accounts import Account

log = logging.getLogger(__name__)

Status = Literal["counted", "declined", "withdrawn"]
EPOCH = date(1970, 1, 1)
KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")
CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LEN = 18
GROUP_COMMIT_MAX = 500
EDITORS = frozenset({Role.ADMIN, Role.ORGANISER})
VIEWERS = frozenset({Role.ADMIN, Role.ORGANISER, Role.FACILITATOR})


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def day_number(when: datetime) -> int:
    return (when.astimezone(UTC).date() - EPOCH).days


def day_date(day: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + day)


def week_start(day: int) -> int:
    """The Monday starting the week of ``day`` (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


def month_of(day: int) -> int:
    """The day number of the first of the month ``day`` is in."""
    return (day_date(day).replace(day=1) - EPOCH).days


@dataclass(frozen=True)
class SurveyOptions:
    slug: str = "global"
    # How long a process may keep answering with the version it last read (edits made by
    # another process show up after at most this long; edits here show up at once).
    version_check_seconds: float = 5.0
    # Per client address, for anonymous submissions (API tokens are not limited).
    submissions_per_hour: int = 120
    withdrawals_per_hour: int = 30


@dataclass(frozen=True)
class LoadedSurvey:
    """The current version of a survey, as the handler caches it."""

    id: int
    slug: str
    version_id: int
    version_number: int
    definition: Definition
    codebook: Codebook


@dataclass(frozen=True)
class Submission:
    """Validated answers. Choice answers are option keys; texts are already cleaned."""

    version_id: int
    language: str
    consent_analysis: bool
    consent_quotes: bool = False
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    others: Mapping[str, str] = field(default_factory=dict)
    country: str = UNKNOWN_COUNTRY
    age_group: str = UNSTATED
    gender: str = UNSTATED
    education: str = UNSTATED
    channel: str = "web"

    def fingerprint(self) -> str:
        data = {
            "language": self.language, "consent": [self.consent_analysis, self.consent_quotes],
            "choices": {k: sorted(v) for k, v in sorted(self.choices.items())},
            "texts": dict(sorted(self.texts.items())), "others": dict(sorted(self.others.items())),
            "demographics": [self.country, self.age_group, self.gender, self.education],
        }
        if not self.consent_analysis:
            data = {"consent": [False]}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Receipt:
    status: Status
    withdrawal_code: str | None
    replayed: bool = False
    # The same key came back with different answers: the first ones stand.
    mismatch: bool = False


@dataclass(frozen=True)
class TextAnswer:
    """A consented free-text answer, for theme coding."""

    id: int
    response_id: int
    question: str
    kind: str
    body: str
    language: str
    country: str
    quotable: bool
    created_at: datetime


@dataclass
class RawSubmission:
    """Answers as typed, from a form or JSON; validated by `Surveys.validate`."""

    language: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    age_group: str | None = None
    gender: str | None = None
    country: str | None = None
    education: str | None = None
    consent_analysis: Any = None
    consent_quotes: Any = None
    channel: str | None = None


def clean_text(value: str, limit: int) -> str:
    """Trim, normalise and drop control characters (keeping new lines)."""
    text = unicodedata.normalize("NFC", value)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())[: limit + 1]


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in {"yes", "true", "1", "on"}:
            return True
        if v in {"no", "false", "0", "off"}:
            return False
    return None


def scoped_key_hash(survey_id: int, scope: str, key: str) -> str:
    return hashlib.sha256(f"{survey_id}:{scope}:{key}".encode()).hexdigest()[:32]


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


class Surveys:
    def __init__(self, db: Database, clock: Clock, secret: str, options: SurveyOptions | None = None) -> None:
        self.db = db
        self.clock = clock
        self.options = options or SurveyOptions()
        self.codes = WithdrawalCodes(secret)
        self._current: LoadedSurvey | None = None
        self._checked_at = float("-inf")
        self._versions: dict[int, tuple[int, Definition]] = {}
        # One survey write at a time per process: SQLite has one writer anyway (better to
        # queue here than to sleep in its busy handler), and on both databases the queue lets
        # `submit` commit concurrent submissions together.
        self._write_lock = asyncio.Lock()
        self._queue: list[tuple[str, str, Submission, asyncio.Future[Receipt]]] = []

    # --- loading -----------------------------------------------------------------------

    async def current(self) -> LoadedSurvey:
        """The survey as new respondents see it (created from the default on first use)."""
        now = self.clock.monotonic()
        if self._current is not None and now - self._checked_at < self.options.version_check_seconds:
            return self._current
        self._checked_at = now
        async with self.db.session() as s:
            state = await store.survey_state(s, self.options.slug)
            if state is not None and state[1] is not None:
                if self._current is not None and self._current.version_id == state[1]:
                    return self._current
                return await self._load(s, state[0])
        try:
            async with self.db.session() as s:
                await self._create_default(s)
        except IntegrityError:
            # Another process created it first.
            pass
        async with self.db.session() as s:
            state = await store.survey_state(s, self.options.slug)
            assert state is not None
            return await self._load(s, state[0])

    async def _create_default(self, s: AsyncSession) -> Survey:
        now = self.clock.now()
        definition = parse_definition(default_definition())
        codebook = Codebook.from_json(None).extended(definition)
        survey = await store.add_survey(
            s, Survey(slug=self.options.slug, codebook=codebook.to_json(), created_at=now, updated_at=now))
        version = await store.add_version(s, SurveyVersion(survey_id=survey.id, number=1,
                                                           definition=definition.to_json(),
                                                           note="UN75 default questionnaire", created_at=now))
        survey.current_version_id = version.id
        await store.sync_codes(s, survey.id, codebook.slots, codebook.bits)
        log.info("survey %s created with its default questionnaire", self.options.slug)
        return survey

    async def _load(self, s: AsyncSession, survey_id: int) -> LoadedSurvey:
        survey = await store.survey_by_id(s, survey_id)
        assert survey is not None and survey.current_version_id is not None
        version = await store.version_by_id(s, survey.current_version_id)
        assert version is not None
        loaded = LoadedSurvey(
            id=survey.id, slug=survey.slug, version_id=version.id, version_number=version.number,
            definition=parse_definition(version.definition), codebook=Codebook.from_json(survey.codebook),
        )
        self._current = loaded
        return loaded

    async def versions(self) -> list[tuple[int, int, Definition, datetime, str]]:
        """(version id, number, definition, created at, note) newest first."""
        survey = await self.current()
        async with self.db.session() as s:
            rows = await store.versions(s, survey.id)
        out = []
        for v in rows:
            cached = self._versions.get(v.id)
            if cached is None:
                cached = self._versions[v.id] = (v.number, parse_definition(v.definition))
            out.append((v.id, v.number, cached[1], v.created_at, v.note))
        return out

    async def labels(self, lang: str) -> dict[tuple[str, str], str]:
        """(question, option) -> label, and (question, "") -> question text, in ``lang``, from
        the newest version that has each key: old answers stay readable after edits."""
        out: dict[tuple[str, str], str] = {}
        for _vid, _n, definition, _at, _note in await self.versions():
            for q in definition.questions:
                out.setdefault((q.key, ""), definition.pick(q.text, lang))
                for o in q.options:
                    out.setdefault((q.key, o.key), definition.pick(o.text, lang))
        return out

    async def question_order(self) -> list[tuple[str, list[str], str]]:
        """Every choice question ever asked, (key, option keys, kind): current ones first, in
        their current order, then retired ones."""
        seen: dict[str, tuple[list[str], str]] = {}
        for _vid, _n, definition, _at, _note in await self.versions():
            for q in definition.choice_questions:
                opts, _kind = seen.setdefault(q.key, ([], q.kind))
                opts.extend(o.key for o in q.options if o.key not in opts)
        return [(k, opts, kind) for k, (opts, kind) in seen.items()]

    # --- validation --------------------------------------------------------------------

    async def validate(self, raw: RawSubmission, *, trusted_channel: bool = False,
                       survey: LoadedSurvey | None = None) -> Submission:
        """Check answers against the current version (or ``survey``, for batches); `InvalidInput`
        names every bad field."""
        survey = survey or await self.current()
        d = survey.definition
        fields: dict[str, str] = {}
        language = d.language(raw.language)
        if raw.language and raw.language.split("-")[0].lower() not in d.languages and raw.language not in d.languages:
            fields["language"] = N_("This survey is not available in that language.")
        consent = _as_bool(raw.consent_analysis)
        if consent is None:
            fields["consent_analysis"] = N_("Tell us whether we may use your answers.")
        quotes = bool(_as_bool(raw.consent_quotes))
        channel = "web"
        if trusted_channel and raw.channel:
            if not CHANNEL_RE.match(raw.channel):
                fields["channel"] = N_("Use up to 16 lowercase letters, digits, - or _.")
            channel = raw.channel
        elif trusted_channel:
            channel = "api"
        if consent is False:
            # Nothing they answered is kept, so nothing else needs checking.
            if fields:
                raise InvalidInput(N_("Some answers need another look."), fields=fields)
            return Submission(version_id=survey.version_id, language=language, consent_analysis=False,
                              channel=channel)

        choices: dict[str, tuple[str, ...]] = {}
        texts: dict[str, str] = {}
        others: dict[str, str] = {}
        known = {q.key for q in d.questions}
        for key in raw.answers:
            if key not in known:
                fields[f"answers.{key}"] = N_("This survey has no such question.")
        for q in d.questions:
            self._check_answer(q, raw, fields, choices, texts, others)
        demographics: dict[str, str] = {}
        for name, allowed in DEMOGRAPHICS.items():
            value = getattr(raw, name)
            value = (value or "").strip() if isinstance(value, str) else value
            if value in (None, "", UNSTATED):
                demographics[name] = UNSTATED
            elif value in allowed:
                demographics[name] = value
            else:
                fields[name] = N_("Choose one of the listed answers.")
        country = (raw.country or "").strip().upper() if isinstance(raw.country, str) else ""
        if country in ("", UNKNOWN_COUNTRY, UNSTATED.upper()):
            country = UNKNOWN_COUNTRY
        elif country not in COUNTRIES:
            fields["country"] = N_("Choose a country from the list.")
        if fields:
            raise InvalidInput(N_("Some answers need another look."), fields=fields)
        return Submission(
            version_id=survey.version_id, language=language, consent_analysis=True, consent_quotes=quotes,
            choices=choices, texts=texts, others=others, country=country, channel=channel, **demographics,
        )

    @staticmethod
    def _check_answer(q: Question, raw: RawSubmission, fields: dict[str, str],
                      choices: dict[str, tuple[str, ...]], texts: dict[str, str], others: dict[str, str]) -> None:
        name = f"answers.{q.key}"
        value = raw.answers.get(q.key)
        if q.kind == "text":
            if value is not None and not isinstance(value, str):
                fields[name] = N_("Write your answer as text.")
                return
            text = clean_text(value or "", q.max_length)
            if len(text) > q.max_length:
                fields[name] = N_("Your answer is too long; please shorten it.")
            elif text:
                texts[q.key] = text
            elif q.required:
                fields[name] = N_("Please answer this question.")
            return
        if value is None or value == "":
            picked: list[str] = []
        elif isinstance(value, str):
            picked = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            picked = [v for v in value if v]
        else:
            fields[name] = N_("Choose from the listed answers.")
            return
        other_raw = raw.other.get(q.key)
        other_text = clean_text(other_raw, 500) if isinstance(other_raw, str) and q.allow_other else ""
        if other_text and OTHER not in picked:
            # Typing an own answer is choosing "other".
            picked.append(OTHER)
        picked = list(dict.fromkeys(picked))
        keys = set(q.option_keys)
        if any(p not in keys for p in picked):
            fields[name] = N_("Choose from the listed answers.")
            return
        limit = q.max_choices if q.kind == "multi" else 1
        if len(picked) > limit:
            fields[name] = N_("Choose one answer.") if limit == 1 else N_("You chose too many answers.")
            return
        if not picked:
            if q.required:
                fields[name] = N_("Please answer this question.")
            return
        if len(other_text) > 500:
            fields[f"other.{q.key}"] = N_("Your answer is too long; please shorten it.")
            return
        choices[q.key] = tuple(picked)
        if other_text:
            others[q.key] = other_text

    # --- submitting --------------------------------------------------------------------

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
        survey = await self.current()
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

    # --- withdrawing -------------------------------------------------------------------

    async def withdraw(self, code: str) -> bool:
        """Delete everything stored under a withdrawal code. True if something was deleted;
        False if nothing is stored under it any more (already withdrawn)."""
        parsed = self.codes.read(code)
        if parsed is None:
            raise InvalidInput(N_("That is not a valid withdrawal code. Check it and try again."),
                               fields={"code": "invalid"}, code="invalid_withdrawal_code")
        kind, record_id = parsed
        survey = await self.current()
        now = self.clock.now()
        async with self._write_lock, self.db.session() as s:
            if kind == "receipt":
                receipt = await store.receipt_by_id(s, record_id)
                if receipt is None or receipt.status == "withdrawn":
                    return False
                receipt.status = "withdrawn"
                receipt.withdrawn_at = now
                return True
            response = await store.response_by_id(s, record_id, lock=True)
            if response is None:
                return False
            await store.add_to_rollups(s, response.survey_id, [response.id], sign=-1)
            await store.prune_rollups(s, response, survey.codebook.slots)
            await store.delete_response(s, response)
            await store.add_receipt(s, survey_id=response.survey_id, key_hash=response.key_hash,
                                    fingerprint=response.fingerprint, status="withdrawn", day=response.day,
                                    created_at=now, withdrawn_at=now)
        log.info("survey response withdrawn")
        return True

    # --- editing -----------------------------------------------------------------------

    @staticmethod
    def check_editor(user: Account) -> None:
        if user.role not in EDITORS:
            raise Forbidden(N_("Only organisers and admins can edit the survey."), code="role_required")

    @staticmethod
    def check_viewer(user: Account) -> None:
        if user.role not in VIEWERS:
            raise Forbidden(N_("Survey results are for organisers, facilitators and admins."),
                            code="role_required")

    async def update_definition(self, user: Account, data: Any, *, note: str = "",
                                base_version: int | None = None) -> LoadedSurvey:
        """Save an edited survey as a new version; earlier responses keep their version."""
        self.check_editor(user)
        definition = parse_definition(data)
        current = await self.current()
        now = self.clock.now()
        try:
            async with self._write_lock, self.db.session() as s:
                survey = await store.survey_by_id(s, current.id)
                assert survey is not None
                latest = await store.latest_version_number(s, survey.id)
                if base_version is not None and base_version != latest:
                    raise Conflict(N_("Someone saved a newer version meanwhile. Reload and edit that one."),
                                   code="version_conflict")
                codebook = Codebook.from_json(survey.codebook).extended(definition)
                version = await store.add_version(s, SurveyVersion(
                    survey_id=survey.id, number=latest + 1, definition=definition.to_json(),
                    note=note.strip()[:200], created_at=now, created_by_id=user.id))
                survey.current_version_id = version.id
                survey.codebook = codebook.to_json()
                survey.updated_at = now
                await store.sync_codes(s, survey.id, codebook.slots, codebook.bits)
        except IntegrityError:
            raise Conflict(N_("Someone saved a newer version meanwhile. Reload and edit that one."),
                           code="version_conflict") from None
        log.info("survey %s: version %d saved by user %d", current.slug, latest + 1, user.id)
        self._checked_at = float("-inf")
        return await self.current()

    # --- free text for analysis ----------------------------------------------------------

    async def texts(self, *, after_id: int = 0, limit: int = 1000, since: datetime | None = None,
                    quotable_only: bool = False) -> list[TextAnswer]:
        """Consented free-text answers in id order (page with ``after_id``). Every stored text
        has consent to analysis; ``quotable_only`` keeps those that may also be quoted."""
        survey = await self.current()
        async with self.db.session() as s:
            rows = await store.texts_page(s, survey.id, after_id, min(max(limit, 1), 10_000), since=since,
                                          quotable_only=quotable_only)
        return [TextAnswer(r.id, r.response_id, r.question, r.kind, r.body, r.language, r.country, r.quotable,
                           r.created_at) for r in rows]

    async def iter_texts(self, *, batch: int = 1000, since: datetime | None = None) -> AsyncIterator[TextAnswer]:
        after = 0
        while True:
            page = await self.texts(after_id=after, limit=batch, since=since)
            for item in page:
                yield item
            if len(page) < batch:
                return
            after = page[-1].id

    async def rebuild_rollups(self) -> None:
        survey = await self.current()
        async with self._write_lock, self.db.session() as s:
            await store.rebuild_rollups(s, survey.id)
