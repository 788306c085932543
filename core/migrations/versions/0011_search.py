"""Full-text search over task titles, descriptions and comments.

``task_search`` holds each task's document (title; description and comments as
the body), backfilled here and kept current by ``core.store.search``. SQLite
gets an FTS5 table ``task_search_fts`` (porter stemming, rowid = task id);
PostgreSQL a GIN index over the weighted ``tsvector`` of the two columns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Must stay the expression ``core.store.search.PG_DOCUMENT`` queries with.
_PG_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, body), 'B'))"
)


def upgrade() -> None:
    op.create_table('task_search',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_search_task_id_tasks')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                            name=op.f('fk_task_search_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_search'))
    )
    with op.batch_alter_table('task_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_search_workspace_id'), ['workspace_id'],
                              unique=False)
    sqlite = op.get_bind().dialect.name == 'sqlite'
    comments = (
        "SELECT task_id, group_concat(json_extract(details, '$.text'), char(10)) AS text "
        "FROM (SELECT task_id, details FROM audit_events "
        "WHERE action = 'task.commented' AND task_id IS NOT NULL ORDER BY id) GROUP BY task_id"
        if sqlite
        else "SELECT task_id, string_agg(details->>'text', E'\\n' ORDER BY id) AS text "
        "FROM audit_events WHERE action = 'task.commented' AND task_id IS NOT NULL "
        "GROUP BY task_id"
    )
    op.execute(
        "INSERT INTO task_search (task_id, workspace_id, title, body) "
        f"SELECT t.id, t.workspace_id, t.title, trim(coalesce(t.description, '') || "
        f"CASE WHEN c.text IS NULL THEN '' ELSE char_nl || c.text END) "
        f"FROM tasks t LEFT JOIN ({comments}) c ON c.task_id = t.id".replace(
            "char_nl", "char(10)" if sqlite else "E'\\n'"
        )
    )
    if sqlite:
        op.execute(
            "CREATE VIRTUAL TABLE task_search_fts USING fts5("
            "title, body, tokenize = 'porter unicode61')"
        )
        op.execute(
            "INSERT INTO task_search_fts (rowid, title, body) "
            "SELECT task_id, title, body FROM task_search"
        )
    else:
        op.execute(
            f"CREATE INDEX ix_task_search_document ON task_search USING gin ({_PG_DOCUMENT})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS task_search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_task_search_document")
    with op.batch_alter_table('task_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_search_workspace_id'))
    op.drop_table('task_search')
