"""Who may look into a dialogue without being on its staff, and the trail of that access.

A `DialogueObserver` row is an explicit right, granted per dialogue by an admin or the
dialogue's owner, to read its transcript and report and to listen in its meeting. Every
grant, revoke and use of that right is an `AccessAudit` row; admins read the log. Audit
rows keep the ids of who did what on which dialogue, never any content.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parley.storage.models import Base, _enum

# The columns' vocabulary lives below storage (parley.vocabulary); re-exported for old importers.
from parley.vocabulary import AuditAction as AuditAction


class DialogueObserver(Base):
    __tablename__ = "dialogue_observers"
    __table_args__ = (UniqueConstraint("dialogue_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime]


class AccessAudit(Base):
    """One grant, revoke or use of an observer right. Kept when the dialogue or the people
    go (ids only, no foreign keys), so the trail outlives what it is about."""

    __tablename__ = "access_audit"
    __table_args__ = (Index("ix_access_audit_dialogue_at", "dialogue_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    dialogue_id: Mapped[int] = mapped_column(Integer)
    # Grants and revokes: whose right it is.
    subject_id: Mapped[int | None] = mapped_column(Integer)
    # What was read or joined, e.g. "json", "vtt", "page" (a format, never content).
    detail: Mapped[str] = mapped_column(String(64), default="")
