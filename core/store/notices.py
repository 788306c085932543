"""The notice outbox, notification preferences and the planner's audit mark."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlmodel import col

from core.models import AuditEvent, Member, Task, TaskDependency
from core.models_notices import Notice, NoticeMark, NoticePref
from core.store.base import StoreBase

NOTICES: sa.Table = Notice.__table__  # type: ignore[attr-defined]
PREFS: sa.Table = NoticePref.__table__  # type: ignore[attr-defined]
MARKS: sa.Table = NoticeMark.__table__  # type: ignore[attr-defined]
#: The audit trail mark of the planner.
AUDIT_MARK = "audit"


class NoticeStore(StoreBase):
    """Reads and writes notices; every write is idempotent or guarded by the status."""

    async def add(self, rows: Sequence[dict[str, Any]]) -> int:
        """Plan notices; one already planned (same task, rule, instant, person) is kept."""
        if not rows:
            return 0
        stmt = self._insert(NOTICES).on_conflict_do_nothing(
            index_elements=["task_id", "rule", "instant", "person"]
        )
        added = 0
        async with self._session() as session:
            for row in rows:
                result = cast("CursorResult[Any]", await session.execute(stmt, row))
                added += result.rowcount or 0
        return added

    async def due(self, now: datetime, *, limit: int = 200) -> list[Notice]:
        """Pending notices whose delivery time has come, oldest first."""
        stmt = (
            sa.select(Notice)
            .where(col(Notice.status) == "pending", col(Notice.deliver_at) <= now)
            .order_by(col(Notice.deliver_at), col(Notice.id))
            .limit(limit)
        )
        async with self._session() as session:
            return list((await session.scalars(stmt)).all())

    async def claim(self, notice_id: int, now: datetime) -> bool:
        """Mark a pending notice sent; ``False`` when another process did first."""
        return await self._move(notice_id, status="sent", sent_at=now)

    async def hold(self, notice_id: int, until: datetime, note: str) -> None:
        await self._update(notice_id, deliver_at=until, note=note[:200])

    async def drop(self, notice_id: int, note: str) -> None:
        await self._move(notice_id, status="dropped", note=note[:200])

    async def unsend(self, notice_id: int, retry_at: datetime, note: str) -> None:
        """A claimed notice could not be posted: pending again, later."""
        await self._update(
            notice_id, status="pending", sent_at=None, deliver_at=retry_at, note=note[:200]
        )

    async def _move(self, notice_id: int, **values: Any) -> bool:
        stmt = (
            sa.update(NOTICES)
            .where(NOTICES.c.id == notice_id, NOTICES.c.status == "pending")
            .values(**values)
        )
        async with self._session() as session:
            result = cast("CursorResult[Any]", await session.execute(stmt))
            return bool(result.rowcount)

    async def _update(self, notice_id: int, **values: Any) -> None:
        async with self._session() as session:
            await session.execute(
                sa.update(NOTICES).where(NOTICES.c.id == notice_id).values(**values)
            )

    async def next_due(self) -> datetime | None:
        """The earliest delivery time of a pending notice."""
        async with self._session() as session:
            value = await session.scalar(
                sa.select(sa.func.min(col(Notice.deliver_at))).where(
                    col(Notice.status) == "pending"
                )
            )
        if isinstance(value, str):  # SQLite aggregates come back as text
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value if isinstance(value, datetime) else None

    async def for_task(self, task_id: int) -> list[Notice]:
        async with self._session() as session:
            stmt = sa.select(Notice).where(col(Notice.task_id) == task_id).order_by(col(Notice.id))
            return list((await session.scalars(stmt)).all())

    # --- what the planner reads ------------------------------------------------------

    async def mark(self, name: str = AUDIT_MARK) -> int | None:
        async with self._session() as session:
            value = await session.scalar(sa.select(MARKS.c.value).where(MARKS.c.name == name))
        return None if value is None else int(value)

    async def set_mark(self, value: int, name: str = AUDIT_MARK) -> None:
        """Move the mark forward (never back: replicas may race)."""
        async with self._session() as session:
            stmt = self._insert(MARKS).values(name=name, value=value)
            stmt = stmt.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": sa.func.max(MARKS.c.value, value)}
                if self.dialect == "sqlite"
                else {"value": sa.func.greatest(MARKS.c.value, value)},
            )
            await session.execute(stmt)

    async def last_audit_id(self) -> int:
        async with self._session() as session:
            return int(await session.scalar(sa.select(sa.func.max(col(AuditEvent.id)))) or 0)

    async def audit_after(self, mark: int, *, limit: int = 500) -> list[AuditEvent]:
        stmt = (
            sa.select(AuditEvent)
            .where(col(AuditEvent.id) > mark)
            .order_by(col(AuditEvent.id))
            .limit(limit)
        )
        async with self._session() as session:
            return list((await session.scalars(stmt)).all())

    async def workspaces_due_before(self, when: datetime) -> list[int]:
        """Workspaces with open tasks due before ``when`` (and not yet past due)."""
        stmt = (
            sa.select(col(Task.workspace_id))
            .where(
                col(Task.status) == "open",
                col(Task.due).is_not(None),
                col(Task.due) <= when,
                col(Task.deleted_at).is_(None),
            )
            .distinct()
        )
        async with self._session() as session:
            return sorted((await session.scalars(stmt)).all())

    async def having_successors(self, task_ids: Collection[int]) -> set[int]:
        """Which of ``task_ids`` other tasks depend on."""
        if not task_ids:
            return set()
        stmt = sa.select(col(TaskDependency.predecessor_id)).where(
            col(TaskDependency.predecessor_id).in_(list(task_ids))
        )
        async with self._session() as session:
            return set((await session.scalars(stmt)).all())

    async def successors(self, task_id: int) -> list[int]:
        stmt = sa.select(col(TaskDependency.successor_id)).where(
            col(TaskDependency.predecessor_id) == task_id
        )
        async with self._session() as session:
            return sorted((await session.scalars(stmt)).all())

    # --- preferences ------------------------------------------------------------------

    async def prefs(self, member_id: int) -> NoticePref | None:
        async with self._session() as session:
            stmt = sa.select(NoticePref).where(col(NoticePref.member_id) == member_id)
            return (await session.scalars(stmt)).first()

    async def save_prefs(self, member: Member, now: datetime, **values: Any) -> NoticePref:
        """Change some of a member's preferences (the row is made on first change)."""
        assert member.id is not None
        row = {"workspace_id": member.workspace_id, "member_id": member.id, "muted": []}
        async with self._session() as session:
            await session.execute(
                self._insert(PREFS)
                .values(**row, route="dm", updated_at=now)
                .on_conflict_do_nothing(index_elements=["member_id"])
            )
            await session.execute(
                sa.update(PREFS)
                .where(PREFS.c.member_id == member.id)
                .values(**values, updated_at=now)
            )
        found = await self.prefs(member.id)
        assert found is not None
        return found
