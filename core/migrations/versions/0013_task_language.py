"""The language a task's creator spoke, for Kairos's own words in its later posts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(
            sa.Column('language', sa.String(length=8), nullable=False, server_default='en')
        )


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('language')
