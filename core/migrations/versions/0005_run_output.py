"""Run output: exit/HTTP status, captured output, log file, result rows, traceback.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exit_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('http_status', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('log_excerpt', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('log_path', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('traceback', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('traceback')
        batch_op.drop_column('result')
        batch_op.drop_column('log_path')
        batch_op.drop_column('log_excerpt')
        batch_op.drop_column('http_status')
        batch_op.drop_column('exit_code')
