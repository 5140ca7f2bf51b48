"""leases: jobs that must run once across processes

Revision ID: 5c1e0d7a2b94
Revises: b7e2c41d9a03
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parley.storage.models

revision: str = '5c1e0d7a2b94'
down_revision: str | None = 'b7e2c41d9a03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('acquired_at', parley.storage.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', parley.storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )


def downgrade() -> None:
    op.drop_table('leases')
