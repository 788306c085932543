"""Workflows: named task graphs, their runs, trigger rules, runs.workflow_run_id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workflows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('on_failure', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=32), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('channel_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'],
                            name=op.f('fk_workflows_owner_id_members')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                            name=op.f('fk_workflows_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflows')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_workflows_workspace_id_name'))
    )
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflows_workspace_id'), ['workspace_id'],
                              unique=False)
    op.create_table('workflow_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_task_id', sa.Integer(), nullable=True),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('failed_step', sa.String(length=500), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'],
                            name=op.f('fk_workflow_runs_workflow_id_workflows')),
    sa.ForeignKeyConstraint(['start_task_id'], ['tasks.id'],
                            name=op.f('fk_workflow_runs_start_task_id_tasks')),
    sa.ForeignKeyConstraint(['started_by'], ['members.id'],
                            name=op.f('fk_workflow_runs_started_by_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_runs'))
    )
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_runs_workflow_id'), ['workflow_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_runs_notified_at'), ['notified_at'],
                              unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trigger_rule', sa.String(length=16), nullable=False,
                                      server_default='all_success'))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_workflow_id_workflows'), 'workflows',
                                    ['workflow_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_tasks_workflow_id'), ['workflow_id'], unique=False)
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_run_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_runs_workflow_run_id_workflow_runs'),
                                    'workflow_runs', ['workflow_run_id'], ['id'])
        batch_op.create_index('ix_runs_workflow_run_task', ['workflow_run_id', 'task_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_workflow_run_task')
        batch_op.drop_constraint(batch_op.f('fk_runs_workflow_run_id_workflow_runs'),
                                 type_='foreignkey')
        batch_op.drop_column('workflow_run_id')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_workflow_id'))
        batch_op.drop_constraint(batch_op.f('fk_tasks_workflow_id_workflows'), type_='foreignkey')
        batch_op.drop_column('trigger_rule')
        batch_op.drop_column('workflow_id')
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_runs_notified_at'))
        batch_op.drop_index(batch_op.f('ix_workflow_runs_workflow_id'))
    op.drop_table('workflow_runs')
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflows_workspace_id'))
    op.drop_table('workflows')
