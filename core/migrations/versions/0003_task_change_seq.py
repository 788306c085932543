"""Task change counter: engines in other processes see edits (rescan + NOTIFY).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('change_seq', sa.BigInteger(), nullable=False, server_default='0')
        )
        batch_op.create_index(batch_op.f('ix_tasks_change_seq'), ['change_seq'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.schema.CreateSequence(sa.Sequence('task_change_seq')))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.schema.DropSequence(sa.Sequence('task_change_seq')))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_change_seq'))
        batch_op.drop_column('change_seq')
