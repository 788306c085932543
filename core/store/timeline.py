"""When the next thing is due, and whether anything due is still unsettled.

Used by whoever drives a manual clock (``kairos chat --script``): it steps the
clock from one due instant to the next so that every fire happens at its own
time, and waits until the scheduler has settled each instant before moving on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col

from core.enums import RunStatus, TaskStatus
from core.models import AuditEvent, Run, Task
from core.models_notices import Notice, NoticeMark
from core.store.base import StoreBase
from core.store.notices import AUDIT_MARK

_WAITING = (RunStatus.PENDING.value, RunStatus.RUNNING.value)


def _schedulable() -> sa.ColumnElement[bool]:
    return sa.and_(
        col(Task.enabled).is_(True),
        col(Task.status) == TaskStatus.OPEN.value,
        col(Task.deleted_at).is_(None),
        col(Task.next_fire_at).is_not(None),
    )


class TimelineStore(StoreBase):
    """Read-only questions about the schedule as a whole."""

    async def next_due(self) -> datetime | None:
        """The earliest task cursor or waiting run (pending or running), if any."""
        async with self._session() as session:
            cursor = await session.scalar(
                sa.select(sa.func.min(col(Task.next_fire_at))).where(_schedulable())
            )
            run = await session.scalar(
                sa.select(sa.func.min(col(Run.not_before))).where(
                    col(Run.status) == RunStatus.PENDING.value
                )
            )
            # Notifications waiting for their time (core.services.notices).
            notice = await session.scalar(
                sa.select(sa.func.min(col(Notice.deliver_at))).where(
                    col(Notice.status) == "pending"
                )
            )
        found = [_aware(v) for v in (cursor, run, notice) if v is not None]
        return min(found, default=None)

    async def unsettled(self, now: datetime) -> int:
        """How many fires or runs due at ``now`` have not finished yet."""
        async with self._session() as session:
            tasks = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Task)
                .where(_schedulable(), col(Task.next_fire_at) <= now)
            )
            runs = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Run)
                .where(col(Run.status).in_(_WAITING), col(Run.not_before) <= now)
            )
            notices = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Notice)
                .where(col(Notice.status) == "pending", col(Notice.deliver_at) <= now)
            )
            # Changes the notification planner has not read yet (once it has started).
            mark = await session.scalar(
                sa.select(col(NoticeMark.value)).where(col(NoticeMark.name) == AUDIT_MARK)
            )
            unread: int | None = 0
            if mark is not None:
                unread = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(AuditEvent)
                    .where(col(AuditEvent.id) > mark)
                )
        return int(tasks or 0) + int(runs or 0) + int(notices or 0) + int(unread or 0)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
