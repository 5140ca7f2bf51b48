"""Consultation tables: the survey, its versions, responses, free text and rollups.

Sizing: a consultation can collect millions of responses (UN75: 1.5 million), so a response is
one narrow row: demographics as short codes, each choice question as a bit mask in one of
the columns ``c1``..``c8`` (the survey's codebook says which), and free text in a separate
table. `SurveyRollup` holds counts per question option for small combinations of breakdown
dimensions, updated in the same transaction as each submission or withdrawal, so the
dashboard reads a few hundred rows instead of scanning every response.

Nothing here identifies a respondent: no IP address, no account, and the idempotency key is
stored only as a hash. Withdrawal codes are not stored at all (they are signed response ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.schema import Table

from parley.storage.models import Base


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # The version new respondents get; null only while the first version is being created.
    # (No foreign key: surveys and versions would point at each other.)
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    # parley.consultation.questionnaire.Codebook as JSON: slots and bits, only ever growing.
    codebook: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SurveyVersion(Base):
    """One immutable wording of the survey; every response points at the one it answered."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SurveyCode(Base):
    """The codebook as rows, so rollups can be computed in SQL: a response counts for
    (question, option) when ``c<slot> & mask != 0``. Option ``''`` with every bit set means
    "answered the question"; question ``_n`` (slot 0) counts responses."""

    __tablename__ = "survey_codes"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(64), primary_key=True)
    option: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger)
    mask: Mapped[int] = mapped_column(BigInteger)


class SurveyResponse(Base):
    """One respondent's answers (given with consent to analysis)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "key_hash"),
        Index("ix_survey_responses_survey_day", "survey_id", "day"),
        Index("ix_survey_responses_survey_country_day", "survey_id", "country", "day"),
        # Ids are never reused, so a withdrawal code (a signed id) can never hit someone else.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    created_at: Mapped[datetime]
    # Days since 1970-01-01 (UTC) of created_at: the grain of every time breakdown.
    day: Mapped[int] = mapped_column(Integer)
    # The day numbers of the Monday of that week and the first of that month (rollups by
    # week and by month).
    week: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(16))
    age_group: Mapped[str] = mapped_column(String(16))
    gender: Mapped[str] = mapped_column(String(16))
    education: Mapped[str] = mapped_column(String(16))
    # Free text may be quoted and exported only when this is true.
    consent_quotes: Mapped[bool] = mapped_column(Boolean)
    # web | api | sms | partner ...
    channel: Mapped[str] = mapped_column(String(16))
    # Hash of the scoped idempotency key, and of the validated request, for replays.
    key_hash: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(16))
    c1: Mapped[int | None] = mapped_column(BigInteger)
    c2: Mapped[int | None] = mapped_column(BigInteger)
    c3: Mapped[int | None] = mapped_column(BigInteger)
    c4: Mapped[int | None] = mapped_column(BigInteger)
    c5: Mapped[int | None] = mapped_column(BigInteger)
    c6: Mapped[int | None] = mapped_column(BigInteger)
    c7: Mapped[int | None] = mapped_column(BigInteger)
    c8: Mapped[int | None] = mapped_column(BigInteger)


class SurveyText(Base):
    """A free-text answer (an open question, or an "other" choice's own words)."""

    __tablename__ = "survey_texts"
    __table_args__ = (Index("ix_survey_texts_survey_id_id", "survey_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(64))
    # "answer" for a text question, "other" for an own answer to a choice question.
    kind: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    quotable: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class SurveyReceipt(Base):
    """A submission that has no response row: declined analysis (counted, answers discarded)
    or withdrawn. Keeps the idempotency key hash so a late retry is not counted again."""

    __tablename__ = "survey_receipts"
    __table_args__ = (
        UniqueConstraint("survey_id", "key_hash"),
        Index("ix_survey_receipts_survey_status_day", "survey_id", "status", "day"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(16))
    # declined | withdrawn
    status: Mapped[str] = mapped_column(String(16))
    day: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class SurveyRollup(Base):
    """Count of responses per (question, option) in one cell of one cuboid.

    A cuboid is a fixed set of breakdown dimensions (see
    ``parley.storage.stores.survey.CUBOIDS``); ``v1``..``v4`` hold its dimension values in
    order ('' when unused) and ``day`` its day, or for weekly and monthly cuboids the day number
    of the Monday or the first of the month (-1 when the cuboid has no time), so every key column is non-null and
    upserts can match on the primary key. The key puts the cell before the question: one
    response's rows in a cuboid are then neighbours in the B-tree, so a small transaction
    dirties about one page per cuboid instead of one per cuboid and question.
    """

    __tablename__ = "survey_rollups"
    __table_args__ = {"sqlite_with_rowid": False}

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    cuboid: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    v1: Mapped[str] = mapped_column(String(16), primary_key=True)
    v2: Mapped[str] = mapped_column(String(16), primary_key=True)
    v3: Mapped[str] = mapped_column(String(16), primary_key=True)
    v4: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(64), primary_key=True)
    option: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


def cast_table(model: type[Base]) -> Table:
    """The model's table, typed as a `Table` (for Core inserts with RETURNING)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
