"""caption finals published

Revision ID: d6cd277ae0e3
Revises: 7949d21f482c
Create Date: 2026-12-08 02:52:37.041439

A final caption line is claimed by a meeting's interpretation owner (its lease generation) and
marked published once it is on the bus: a next owner shows a claimed line its predecessor died
before showing. Rows from before were recorded as shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd6cd277ae0e3'
down_revision: str | None = '7949d21f482c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('caption_finals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenure', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('published', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('caption_finals', schema=None) as batch_op:
        batch_op.drop_column('published')
        batch_op.drop_column('tenure')
