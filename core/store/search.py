"""Full-text search over tasks: SQLite FTS5 and PostgreSQL ``tsvector``.

The document of a task is its title plus a body made of its description and
comments (``task.commented`` audit events), kept in ``task_search`` and written
in the same transaction as the change that alters it (``reindex``). SQLite
mirrors it into the FTS5 table ``task_search_fts`` (rowid = task id, porter
stemming); PostgreSQL matches the weighted ``tsvector`` expression that the
GIN index ``ix_task_search_document`` is built on. Both rank: title hits first
(FTS5 ``bm25`` with the title weighted 10:1, ``ts_rank`` with weights A/B).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from core.models import AuditEvent, Task
from core.models_search import TaskSearch
from core.store.base import StoreBase

_SEARCH: sa.Table = SQLModel.metadata.tables[TaskSearch.__tablename__]
_TASKS: sa.Table = SQLModel.metadata.tables[Task.__tablename__]
_AUDIT: sa.Table = SQLModel.metadata.tables[AuditEvent.__tablename__]

#: The PostgreSQL text search configuration (English stemming: "deploying" finds "deploy").
CONFIG = "english"
#: The indexed expression; the GIN index in migration 0011 is built on exactly this.
PG_DOCUMENT = (
    f"(setweight(to_tsvector('{CONFIG}'::regconfig, title), 'A') || "
    f"setweight(to_tsvector('{CONFIG}'::regconfig, body), 'B'))"
)
#: Words of a query: letters and digits only (no operator of either dialect gets through).
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_WORDS = 12


def query_words(text: str) -> list[str]:
    """The words to look for (every one must match, each as a prefix)."""
    return [w.lower() for w in _WORD.findall(text)][:_MAX_WORDS]


async def index_new(
    session: AsyncSession, dialect: str, task_id: int, values: dict[str, Any]
) -> None:
    """Index a task just inserted from ``values`` (no comments yet: nothing to read)."""
    await _write(
        session,
        dialect,
        {
            "task_id": task_id,
            "workspace_id": values["workspace_id"],
            "title": values.get("title") or "",
            "body": (values.get("description") or "").strip(),
        },
        fresh=True,
    )


async def reindex(session: AsyncSession, dialect: str, task_id: int) -> None:
    """Rewrite the search document of ``task_id`` from its row and comments."""
    row = (
        await session.execute(
            sa.select(_TASKS.c.workspace_id, _TASKS.c.title, _TASKS.c.description).where(
                _TASKS.c.id == task_id
            )
        )
    ).first()
    if row is None:
        return
    comments = (
        await session.scalars(
            sa.select(_AUDIT.c.details)
            .where(_AUDIT.c.task_id == task_id, _AUDIT.c.action == "task.commented")
            .order_by(_AUDIT.c.id)
        )
    ).all()
    texts = [str((c or {}).get("text", "")) for c in comments if isinstance(c, dict)]
    body = "\n".join([row.description or "", *texts]).strip()
    values: dict[str, Any] = {
        "task_id": task_id,
        "workspace_id": row.workspace_id,
        "title": row.title or "",
        "body": body,
    }
    await _write(session, dialect, values, fresh=False)


async def _write(
    session: AsyncSession, dialect: str, values: dict[str, Any], *, fresh: bool
) -> None:
    task_id = values["task_id"]
    if not fresh:
        await session.execute(sa.delete(_SEARCH).where(_SEARCH.c.task_id == task_id))
    await session.execute(sa.insert(_SEARCH), values)
    if dialect == "sqlite":
        if not fresh:
            await session.execute(
                sa.text("DELETE FROM task_search_fts WHERE rowid = :id"), {"id": task_id}
            )
        await session.execute(
            sa.text("INSERT INTO task_search_fts (rowid, title, body) VALUES (:id, :title, :body)"),
            {"id": task_id, "title": values["title"], "body": values["body"]},
        )


class SearchStore(StoreBase):
    """Ranked full-text search over a workspace's tasks."""

    async def search_task_ids(self, workspace_id: int, text: str, *, limit: int = 50) -> list[int]:
        """Ids of the workspace's tasks matching every word of ``text``, best first."""
        words = query_words(text)
        if not words:
            return []
        if self.dialect == "sqlite":
            match = " ".join(f'"{w}"*' for w in words)
            stmt = sa.text(
                "SELECT s.task_id FROM task_search_fts f "
                "JOIN task_search s ON s.task_id = f.rowid "
                "WHERE task_search_fts MATCH :match AND s.workspace_id = :ws "
                "ORDER BY bm25(task_search_fts, 10.0, 1.0), s.task_id LIMIT :limit"
            )
            params: dict[str, Any] = {"match": match, "ws": workspace_id, "limit": limit}
        else:
            query = " & ".join(f"{w}:*" for w in words)
            stmt = sa.text(
                f"SELECT task_id FROM task_search "
                f"WHERE workspace_id = :ws AND {PG_DOCUMENT} @@ to_tsquery('{CONFIG}', :query) "
                f"ORDER BY ts_rank({PG_DOCUMENT}, to_tsquery('{CONFIG}', :query)) DESC, task_id "
                "LIMIT :limit"
            )
            params = {"query": query, "ws": workspace_id, "limit": limit}
        async with self._session() as session:
            return [int(tid) for tid in (await session.scalars(stmt, params)).all()]
