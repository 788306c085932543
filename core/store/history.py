"""Run history beyond the scheduler's needs: executor output, listing, search.

The worker records a run's status, summary output and error (``RunStore``);
what an executor captured (exit or HTTP status, output excerpt, log file, rows,
traceback) is recorded here right after it happens, in columns the worker never
writes, so the two writes cannot overwrite each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from core.db import Database
from core.errors import NotFound
from core.models import Run, Task

RUNS = Run.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class RunOutput:
    """What an executor captured during one attempt."""

    exit_code: int | None = None
    http_status: int | None = None
    log_excerpt: str | None = None
    log_path: str | None = None
    result: Mapping[str, Any] | None = None
    traceback: str | None = None


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run with the title of its task (history listings)."""

    run: Run
    task_title: str


class RunHistory:
    """Reads and writes the history columns of runs, scoped to a workspace."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_output(self, run_id: int, output: RunOutput) -> None:
        values = {
            "exit_code": output.exit_code,
            "http_status": output.http_status,
            "log_excerpt": output.log_excerpt,
            "log_path": output.log_path,
            "result": dict(output.result) if output.result is not None else None,
            "traceback": output.traceback,
        }
        async with self.db.engine.begin() as conn:
            await conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(**values))

    async def runs(
        self,
        workspace_id: int | None,
        *,
        task_id: int | None = None,
        statuses: tuple[str, ...] = (),
        since: datetime | None = None,
        text: str | None = None,
        limit: int = 50,
    ) -> list[RunRow]:
        """Runs of the workspace's tasks (every workspace: ``None``), newest first.

        ``text`` is a case-insensitive substring of the output, error or log excerpt.
        """
        stmt = select(Run, col(Task.title)).join(Task, col(Task.id) == col(Run.task_id))
        if workspace_id is not None:
            stmt = stmt.where(col(Task.workspace_id) == workspace_id)
        if task_id is not None:
            stmt = stmt.where(col(Run.task_id) == task_id)
        if statuses:
            stmt = stmt.where(col(Run.status).in_(statuses))
        if since is not None:
            stmt = stmt.where(col(Run.scheduled_for) >= since)
        if text:
            stmt = stmt.where(
                sa.or_(
                    col(Run.error).icontains(text, autoescape=True),
                    col(Run.output).icontains(text, autoescape=True),
                    col(Run.log_excerpt).icontains(text, autoescape=True),
                )
            )
        stmt = stmt.order_by(col(Run.scheduled_for).desc(), col(Run.id).desc()).limit(limit)
        async with self.db.sessions() as session:
            rows = (await session.execute(stmt)).all()
        return [RunRow(run, title) for run, title in rows]

    async def get(self, run_id: int, *, workspace_id: int | None) -> RunRow:
        """One run of the workspace (any: ``None``), or ``NotFound``."""
        stmt = (
            select(Run, col(Task.title))
            .join(Task, col(Task.id) == col(Run.task_id))
            .where(col(Run.id) == run_id)
        )
        if workspace_id is not None:
            stmt = stmt.where(col(Task.workspace_id) == workspace_id)
        async with self.db.sessions() as session:
            row = (await session.execute(stmt)).first()
        if row is None:
            raise NotFound(
                f"Run {run_id} does not exist in this workspace.",
                hint="See 'kairos runs list' for run numbers.",
            )
        return RunRow(row[0], row[1])
