"""theme threshold

Revision ID: b7d41c2e9a10
Revises: 3666feb4c010
Create Date: 2026-12-07 14:00:00

An adopted theme keeps its own threshold, calibrated on the cluster it came from, so it takes
the answers that look like that cluster instead of most of the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d41c2e9a10'
down_revision: str | None = '3666feb4c010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('analysis_themes') as batch_op:
        batch_op.add_column(sa.Column('threshold', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('analysis_themes') as batch_op:
        batch_op.drop_column('threshold')
