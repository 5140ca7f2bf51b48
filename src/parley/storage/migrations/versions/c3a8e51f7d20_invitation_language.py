"""invitation language

Revision ID: c3a8e51f7d20
Revises: b7d41c2e9a10
Create Date: 2026-12-09 10:00:00

An interpreter invited to a dialogue is invited into a language: accepting the invitation
adds them to the dialogue's interpreters, so the organiser does not edit the dialogue again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3a8e51f7d20'
down_revision: str | None = 'b7d41c2e9a10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invitations') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invitations') as batch_op:
        batch_op.drop_column('language')
