"""Notification preferences, the notice outbox and the planner's mark.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 22:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notice_prefs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('route', sa.String(length=16), nullable=False),
        sa.Column('quiet_start', sa.String(length=5), nullable=True),
        sa.Column('quiet_end', sa.String(length=5), nullable=True),
        sa.Column('batch_minutes', sa.Integer(), nullable=True),
        sa.Column('muted', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_notice_prefs_member_id_members')),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_notice_prefs_workspace_id_workspaces')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_prefs')),
        sa.UniqueConstraint('member_id', name=op.f('uq_notice_prefs_member_id')),
    )
    op.create_index(op.f('ix_notice_prefs_workspace_id'), 'notice_prefs', ['workspace_id'])
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=False),
        sa.Column('instant', sa.DateTime(timezone=True), nullable=False),
        sa.Column('person', sa.String(length=64), nullable=False),
        sa.Column('low', sa.Boolean(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('deliver_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_notices_task_id_tasks')),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_notices_workspace_id_workspaces')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
        sa.UniqueConstraint('task_id', 'rule', 'instant', 'person', name='uq_notices_once'),
    )
    op.create_index('ix_notices_due', 'notices', ['status', 'deliver_at'])
    op.create_index(op.f('ix_notices_workspace_id'), 'notices', ['workspace_id'])
    op.create_table(
        'notice_marks',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_notice_marks')),
    )


def downgrade() -> None:
    op.drop_table('notice_marks')
    op.drop_index(op.f('ix_notices_workspace_id'), table_name='notices')
    op.drop_index('ix_notices_due', table_name='notices')
    op.drop_table('notices')
    op.drop_index(op.f('ix_notice_prefs_workspace_id'), table_name='notice_prefs')
    op.drop_table('notice_prefs')
