"""Audit events the services write on a member's behalf: "who did what, and when"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from core.models import Member
from core.ports import Clock


class AuditTrail(Protocol):
    """Where audit events go (``core.store.audit.AuditStore``, part of ``SqlStore``)."""

    async def record_audit(
        self,
        *,
        workspace_id: int,
        action: str,
        at: datetime,
        actor_id: int | None = None,
        task_id: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int: ...


async def record_action(
    trail: AuditTrail,
    clock: Clock,
    actor: Member,
    action: str,
    *,
    task_id: int | None = None,
    details: Mapping[str, Any],
) -> None:
    """Record that ``actor`` did ``action`` (to task ``task_id``) in their workspace, now."""
    await trail.record_audit(
        workspace_id=actor.workspace_id,
        action=action,
        at=clock.now(),
        actor_id=actor.id,
        task_id=task_id,
        details=details,
    )
