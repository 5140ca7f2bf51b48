"""caption finals shown

Revision ID: 7949d21f482c
Revises: c3a9e5d71b42
Create Date: 2026-12-07 23:38:52.260687

The final caption lines shown to each open meeting (identifiers, no text): a meeting's next
interpretation owner, after a take-over, does not show a line its predecessor showed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7949d21f482c'
down_revision: str | None = 'c3a9e5d71b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('caption_finals',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('speaker_id', sa.String(length=64), nullable=False),
    sa.Column('utterance_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_caption_finals_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'speaker_id', 'utterance_id', 'role', 'language',
                            name=op.f('pk_caption_finals'))
    )


def downgrade() -> None:
    op.drop_table('caption_finals')
