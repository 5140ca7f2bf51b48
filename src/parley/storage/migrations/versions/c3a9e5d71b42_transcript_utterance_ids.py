"""transcript utterance ids

Revision ID: c3a9e5d71b42
Revises: e5c8a1f40b27
Create Date: 2026-12-07 17:00:00

A transcript row keeps the worker's id of its caption line, unique per dialogue: a final
re-sent after a lost acknowledgement, or to a meeting's next interpretation owner, finds its
row instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3a9e5d71b42'
down_revision: str | None = 'e5c8a1f40b27'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('transcript_segments') as batch_op:
        batch_op.add_column(sa.Column('utterance_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_transcript_segments_utterance', ['dialogue_id', 'utterance_id'])


def downgrade() -> None:
    with op.batch_alter_table('transcript_segments') as batch_op:
        batch_op.drop_constraint('uq_transcript_segments_utterance', type_='unique')
        batch_op.drop_column('utterance_id')
