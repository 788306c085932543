"""Helpers for the service tests: a whole-database snapshot to prove nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from core.db import Database

#: The ``clock`` fixture's start (as in tests/conftest.py): Monday 2026-03-02 09:00 UTC.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = ["workspaces", "members", "tasks", "task_assignees", "task_dependencies", "audit_events"]


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the task-related tables, in a stable order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with db.engine.connect() as conn:
        for table in TABLES:
            result = await conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 2"))
            rows[table] = [tuple(r) for r in result]
    return rows
