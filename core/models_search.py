"""The full-text search document of each task (``core.store.search`` keeps it current).

One row per task: its title, and its description and comments as one body. On
PostgreSQL a GIN index over their weighted ``tsvector`` serves the search; on
SQLite an FTS5 table (``task_search_fts``, created by the migration: SQLModel
cannot declare virtual tables) holds the same two columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class TaskSearch(SQLModel, table=True):
    """What full-text search reads for one task (title weighs more than the body)."""

    __tablename__ = "task_search"

    task_id: int = Field(foreign_key="tasks.id", primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    title: str = Field(default="", sa_type=sa.Text)
    body: str = Field(default="", sa_type=sa.Text)


#: SQLite's FTS5 table and its shadow tables: made by migration 0011, unknown to the models.
FTS_TABLE = "task_search_fts"


def unmodelled(name: str | None) -> bool:
    """Whether a database table is one the models do not declare (the FTS5 tables)."""
    return name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))


#: PostgreSQL's GIN index over an expression (the models cannot declare it portably).
DOCUMENT_INDEX = "ix_task_search_document"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object`` hook: autogenerate leaves the search extras alone."""
    if not reflected:
        return True
    if type_ == "table":
        return not unmodelled(name)
    return not (type_ == "index" and name == DOCUMENT_INDEX)
