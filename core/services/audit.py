"""Audit events the services write on a member's behalf: "who did what, and when"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.models import Member
from core.ports import Clock
from core.store.audit import AuditStore


async def record_action(
    trail: AuditStore,
    clock: Clock,
    actor: Member,
    action: str,
    *,
    task_id: int | None = None,
    details: Mapping[str, Any],
) -> None:
    """Record that ``actor`` did ``action`` (to task ``task_id``) in their workspace, now.

    ``trail`` is the ``SqlStore`` (its ``AuditStore`` part).
    """
    await trail.record_audit(
        workspace_id=actor.workspace_id,
        action=action,
        at=clock.now(),
        actor_id=actor.id,
        task_id=task_id,
        details=details,
    )
