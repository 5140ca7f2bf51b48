"""Glossary tables: terms that interpretation must recognise and translate a fixed way.

An entry with no dialogue belongs to the whole installation (managed by admins and
organisers); an entry with a dialogue belongs to that dialogue (managed by its organiser
and facilitator) and overrides an installation entry for the same term. ``term_key`` is the
term case-folded with its spaces collapsed: matching is case-insensitive, so "UN75" and
"un75" are the same entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from parley.storage.models import Base


class GlossaryEntry(Base):
    __tablename__ = "glossary_entries"
    __table_args__ = (
        UniqueConstraint("dialogue_id", "language", "term_key"),
        # NULLs are distinct in a unique constraint: installation-wide entries need their own.
        Index(
            "uq_glossary_entries_installation",
            "language",
            "term_key",
            unique=True,
            sqlite_where=text("dialogue_id IS NULL"),
            postgresql_where=text("dialogue_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null: the installation-wide glossary.
    dialogue_id: Mapped[int | None] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), index=True)
    # The text as spoken in `language`.
    term: Mapped[str] = mapped_column(String(100))
    term_key: Mapped[str] = mapped_column(String(300))
    # A BCP 47 code, or "*" for a term that reads the same in every language.
    language: Mapped[str] = mapped_column(String(16))
    # {language: fixed rendering}; "*" is the rendering for languages not listed; empty
    # means the term is kept as written in every language (a name such as "UN75").
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
