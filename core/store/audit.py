"""The audit trail: who did what to which task, and when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlmodel import SQLModel, col

from core.models import AuditEvent
from core.store.base import StoreBase, new_id
from core.store.completion import EFFECT_KEY
from core.store.search import reindex

_AUDIT: sa.Table = SQLModel.metadata.tables["audit_events"]
_INSERT_AUDIT = sa.insert(_AUDIT)


def _audit_values(
    workspace_id: int,
    action: str,
    at: datetime,
    actor_id: int | None,
    task_id: int | None,
    details: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "actor_id": actor_id,
        "action": action,
        "task_id": task_id,
        "details": dict(details) if details is not None else None,
        "at": at,
    }


class AuditStore(StoreBase):
    """Append-only audit events. Write them inside the mutation's ``transaction()``."""

    async def add_audit(
        self,
        *,
        workspace_id: int,
        action: str,
        at: datetime,
        actor_id: int | None = None,
        task_id: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Record one event; ``details`` must be JSON-serialisable."""
        values = _audit_values(workspace_id, action, at, actor_id, task_id, details)
        return AuditEvent(id=await self._insert_audit(values), **values)

    async def record_audit(
        self,
        *,
        workspace_id: int,
        action: str,
        at: datetime,
        actor_id: int | None = None,
        task_id: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """``add_audit`` returning only the new event's id (no model object is built:
        the task service writes one event per change and never looks at it)."""
        return await self._insert_audit(
            _audit_values(workspace_id, action, at, actor_id, task_id, details)
        )

    async def _insert_audit(self, values: dict[str, Any]) -> int:
        # A Core INSERT: no ORM unit of work for an append-only row. The new id is
        # SQLite's lastrowid or PostgreSQL's implicit RETURNING.
        async with self._session() as session:
            session.info[EFFECT_KEY] = True  # a received command is marked done with it
            result = cast("CursorResult[Any]", await session.execute(_INSERT_AUDIT, values))
            if values["action"] == "task.commented" and values["task_id"] is not None:
                await reindex(
                    session, self.dialect, int(values["task_id"])
                )  # comments are searched
            return new_id(result)

    async def audit_for_task(
        self, task_id: int, *, workspace_id: int | None = None
    ) -> Sequence[AuditEvent]:
        """A task's events, oldest first."""
        stmt = sa.select(AuditEvent).where(col(AuditEvent.task_id) == task_id)
        if workspace_id is not None:
            stmt = stmt.where(col(AuditEvent.workspace_id) == workspace_id)
        async with self._session() as session:
            return (await session.scalars(stmt.order_by(col(AuditEvent.id)))).all()

    async def audit_for_workspace(
        self,
        workspace_id: int,
        *,
        since: datetime | None = None,
        actor_id: int | None = None,
        limit: int = 200,
    ) -> Sequence[AuditEvent]:
        """The workspace's latest ``limit`` events (optionally since / by one actor),
        oldest first."""
        stmt = sa.select(AuditEvent).where(col(AuditEvent.workspace_id) == workspace_id)
        if since is not None:
            stmt = stmt.where(col(AuditEvent.at) >= since)
        if actor_id is not None:
            stmt = stmt.where(col(AuditEvent.actor_id) == actor_id)
        async with self._session() as session:
            newest = (
                await session.scalars(stmt.order_by(col(AuditEvent.id).desc()).limit(limit))
            ).all()
            return list(reversed(newest))
