"""The audit trail: who did what to which task, and when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from core.models import AuditEvent
from core.store.base import StoreBase


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
        event = AuditEvent(
            workspace_id=workspace_id,
            actor_id=actor_id,
            action=action,
            task_id=task_id,
            details=dict(details) if details is not None else None,
            at=at,
        )
        async with self._session() as session:
            session.add(event)
            await session.flush()
            return event

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
