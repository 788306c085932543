"""Chat platform state: app installations, seen inbound event ids, OAuth states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chat_installations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('enterprise_id', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('installed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_installations')),
    sa.UniqueConstraint('platform', 'enterprise_id', 'team_id', 'user_id',
                        name=op.f('uq_chat_installations_platform_enterprise_id_team_id_user_id'))
    )
    with op.batch_alter_table('chat_installations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_installations_team_id'), ['team_id'], unique=False)

    op.create_table('chat_seen_events',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'event_id', name=op.f('pk_chat_seen_events'))
    )
    with op.batch_alter_table('chat_seen_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_seen_events_seen_at'), ['seen_at'], unique=False)

    op.create_table('chat_oauth_states',
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_chat_oauth_states'))
    )


def downgrade() -> None:
    op.drop_table('chat_oauth_states')
    with op.batch_alter_table('chat_seen_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_seen_events_seen_at'))
    op.drop_table('chat_seen_events')
    with op.batch_alter_table('chat_installations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_installations_team_id'))
    op.drop_table('chat_installations')
