"""Tasks with their assignees and dependencies."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from core.enums import TaskStatus
from core.errors import NotFound
from core.mentions import bare
from core.models import Member, Task, TaskAssignee, TaskDependency, TaskPublic, UtcDateTime
from core.store.base import StoreBase, new_id
from core.store.changes import SCHEDULING_COLUMNS, cancel_staged, collect, next_change_seq
from core.store.query import TaskQuery
from core.store.search import index_new, reindex

#: Fields callers may change through ``update_task`` (ids and workspace never move).
_MUTABLE = frozenset(Task.model_fields) - {"id", "workspace_id", "created_at", "created_by"}

_TASKS: sa.Table = SQLModel.metadata.tables["tasks"]
_ASSIGNEES: sa.Table = SQLModel.metadata.tables["task_assignees"]
_DEPENDENCIES: sa.Table = SQLModel.metadata.tables["task_dependencies"]
#: The columns ``insert_task`` writes (the id comes from the database).
_INSERT_FIELDS = tuple(c.name for c in _TASKS.columns if c.name not in ("id", "change_seq"))
_FIELDS = Task.model_fields
#: Built once, so its compiled form is cached. The new id is SQLite's lastrowid or
#: PostgreSQL's implicit ``RETURNING id``.
_INSERT_TASK = {
    dialect: sa.insert(_TASKS).values(change_seq=next_change_seq(dialect))
    for dialect in ("sqlite", "postgresql")
}
_UTC_COLUMNS = frozenset(c.name for c in _TASKS.columns if isinstance(c.type, UtcDateTime))
_JSON_COLUMNS = frozenset(c.name for c in _TASKS.columns if isinstance(c.type, sa.JSON))


def _task_values(task: Task | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(task, Task):
        return {name: getattr(task, name) for name in _INSERT_FIELDS}
    unknown = set(task) - set(_INSERT_FIELDS)
    if unknown:
        raise ValueError(f"not insertable task fields: {sorted(unknown)}")
    return {
        name: task[name] if name in task else _FIELDS[name].get_default(call_default_factory=True)
        for name in _INSERT_FIELDS
    }


def _as_stored(name: str, value: Any) -> Any:
    """A written value as reading it back yields it (``UtcDateTime`` and ``JSON`` round trips)."""
    if value is None:
        return None
    if name in _UTC_COLUMNS:
        return value.astimezone(UTC)
    if name in _JSON_COLUMNS:
        return json.loads(json.dumps(value))
    return value


def task_not_found(task_id: int) -> NotFound:
    return NotFound(
        f"Task #{task_id} does not exist.",
        hint="List your tasks to see their numbers.",
    )


class TaskStore(StoreBase):
    """Task rows, their assignees (members) and dependency edges."""

    async def insert_task(
        self,
        task: Task | Mapping[str, Any],
        *,
        assignee_ids: Iterable[int] = (),
        depends_on: Iterable[int] = (),
    ) -> TaskPublic:
        """Store a new task with its assignees and edges.

        ``task`` is a ``Task`` whose ``id`` is unset, or its column values as a
        mapping (fields left out take the model's defaults): the task service
        passes a mapping, which spares building an ORM object per create.

        Nothing is read back: the result is built from the values written, in the
        form the database hands them back (datetimes in UTC, JSON as decoded from
        its stored text). A new task has no links to replace, so assignees and
        edges are plain inserts, sent only when given.
        """
        values = _task_values(task)
        async with self._session() as session:
            result = cast(
                "CursorResult[Any]", await session.execute(_INSERT_TASK[self.dialect], values)
            )
            task_id = new_id(result)
            collect(session, [task_id])
            if isinstance(task, Task):
                task.id = task_id
            members = list(dict.fromkeys(assignee_ids))
            predecessors = list(dict.fromkeys(depends_on))
            assignees: list[str] = []
            if members:
                await session.execute(
                    sa.insert(_ASSIGNEES), [{"task_id": task_id, "member_id": m} for m in members]
                )
                assignees = list(
                    await session.scalars(
                        sa.select(col(Member.platform_user_id))
                        .where(col(Member.id).in_(members))
                        .order_by(col(Member.id))
                    )
                )
            if predecessors:
                await session.execute(
                    sa.insert(_DEPENDENCIES),
                    [{"predecessor_id": p, "successor_id": task_id} for p in predecessors],
                )
            await index_new(session, self.dialect, task_id, values)
            stored = {name: _as_stored(name, value) for name, value in values.items()}
            stored.update(id=task_id, assignees=assignees, depends_on=sorted(predecessors))
            return TaskPublic.model_validate(stored)

    async def find_task(
        self, task_id: int, *, workspace_id: int | None = None
    ) -> TaskPublic | None:
        """The task (deleted ones included), or ``None`` — also when it is in another workspace."""
        async with self._session() as session:
            task = await session.get(Task, task_id)
            if task is None or (workspace_id is not None and task.workspace_id != workspace_id):
                return None
            return (await self._public(session, [task]))[0]

    async def find_tasks(self, task_ids: Collection[int]) -> dict[int, TaskPublic]:
        """``find_task`` for many ids in one read: the ones that exist, by id."""
        if not task_ids:
            return {}
        async with self._session() as session:
            rows = (
                await session.scalars(sa.select(Task).where(col(Task.id).in_(list(task_ids))))
            ).all()
            return {int(t.id or 0): t for t in await self._public(session, list(rows))}

    async def tasks_in_order(
        self, task_ids: Sequence[int], *, workspace_id: int
    ) -> list[TaskPublic]:
        """The workspace's tasks with these ids, in the order given (unknown ids left out)."""
        if not task_ids:
            return []
        async with self._session() as session:
            rows = (
                await session.scalars(
                    sa.select(Task).where(
                        col(Task.id).in_(list(task_ids)), col(Task.workspace_id) == workspace_id
                    )
                )
            ).all()
            by_id = {task.id: task for task in await self._public(session, list(rows))}
        return [by_id[i] for i in task_ids if i in by_id]

    async def get_task(self, task_id: int, *, workspace_id: int | None = None) -> TaskPublic:
        """Like ``find_task`` but raises ``NotFound`` ("Task #42 does not exist.")."""
        found = await self.find_task(task_id, workspace_id=workspace_id)
        if found is None:
            raise task_not_found(task_id)
        return found

    async def update_task(
        self,
        task_id: int,
        changes: Mapping[str, Any],
        *,
        workspace_id: int | None = None,
        assignee_ids: Iterable[int] | None = None,
        depends_on: Iterable[int] | None = None,
    ) -> TaskPublic:
        """Apply ``changes`` (column → value); replace assignees/edges when given."""
        unknown = set(changes) - _MUTABLE
        if unknown:
            raise ValueError(f"not updatable task fields: {sorted(unknown)}")
        async with self._session() as session:
            task = await session.get(Task, task_id, with_for_update=self.dialect == "postgresql")
            if task is None or (workspace_id is not None and task.workspace_id != workspace_id):
                raise task_not_found(task_id)
            for name, value in changes.items():
                setattr(task, name, value)
            scheduling = not SCHEDULING_COLUMNS.isdisjoint(changes)
            if scheduling:
                task.change_seq = next_change_seq(self.dialect)  # type: ignore[assignment]
            await session.flush()
            await session.refresh(task)
            if "title" in changes or "description" in changes:
                await reindex(session, self.dialect, task_id)
            if scheduling:
                collect(session, [task_id])
                # The edit wins over runs some engine (in any process, maybe dead by
                # now) wrote ahead of their time.
                live = task.enabled and task.status == TaskStatus.OPEN and task.deleted_at is None
                await cancel_staged(
                    session,
                    [task_id],
                    now=changes.get("updated_at") or datetime.now(UTC),
                    keep=task.next_fire_at if live else None,
                )
            if assignee_ids is not None:
                await self._replace_assignees(session, task_id, assignee_ids)
            if depends_on is not None:
                await self._replace_dependencies(session, task_id, depends_on)
            return (await self._public(session, [task]))[0]

    async def soft_delete_task(
        self,
        task_id: int,
        *,
        at: datetime,
        workspace_id: int | None = None,
        actor_id: int | None = None,
    ) -> TaskPublic:
        """Mark deleted (recoverable): it leaves lists and the engine's schedule."""
        return await self.update_task(
            task_id,
            {"status": TaskStatus.DELETED, "deleted_at": at, "next_fire_at": None,
             "updated_at": at, "last_modified_by": actor_id},
            workspace_id=workspace_id,
        )  # fmt: skip

    async def restore_task(
        self,
        task_id: int,
        *,
        status: TaskStatus,
        at: datetime,
        next_fire_at: datetime | None = None,
        workspace_id: int | None = None,
        actor_id: int | None = None,
    ) -> TaskPublic:
        """Undo ``soft_delete_task``, back to ``status`` with the given cursor."""
        return await self.update_task(
            task_id,
            {"status": status, "deleted_at": None, "next_fire_at": next_fire_at,
             "updated_at": at, "last_modified_by": actor_id},
            workspace_id=workspace_id,
        )  # fmt: skip

    async def existing_task_ids(self, workspace_id: int, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` are live (not deleted) tasks of this workspace."""
        wanted = set(ids)
        if not wanted:
            return set()
        async with self._session() as session:
            rows = await session.scalars(
                sa.select(col(Task.id)).where(
                    col(Task.id).in_(wanted),
                    col(Task.workspace_id) == workspace_id,
                    col(Task.deleted_at).is_(None),
                )
            )
            return {int(i) for i in rows if i is not None}

    async def dependency_edges(self, workspace_id: int) -> list[tuple[int, int]]:
        """Every ``(predecessor, successor)`` edge between tasks of this workspace."""
        async with self._session() as session:
            rows = await session.execute(
                sa.select(col(TaskDependency.predecessor_id), col(TaskDependency.successor_id))
                .join(Task, col(Task.id) == col(TaskDependency.successor_id))
                .where(col(Task.workspace_id) == workspace_id)
            )
            return [(int(p), int(s)) for p, s in rows]

    async def query_tasks(
        self, workspace_id: int, query: TaskQuery, *, now: datetime
    ) -> list[TaskPublic]:
        """Tasks matching ``query``; ``now`` decides what sorts as overdue."""
        conditions: list[sa.ColumnElement[bool]] = [col(Task.workspace_id) == workspace_id]
        if query.statuses:
            conditions.append(col(Task.status).in_([str(s) for s in query.statuses]))
        if not query.include_deleted and not (
            query.statuses and TaskStatus.DELETED in query.statuses
        ):
            conditions.append(col(Task.deleted_at).is_(None))
        if query.kinds:
            conditions.append(col(Task.kind).in_([str(k) for k in query.kinds]))
        if query.priorities:
            conditions.append(col(Task.priority).in_([str(p) for p in query.priorities]))
        if query.due_after is not None:
            conditions.append(col(Task.due) >= query.due_after)
        if query.due_before is not None:
            conditions.append(col(Task.due) < query.due_before)
        if query.overdue_at is not None:
            conditions.append(col(Task.status) == str(TaskStatus.OPEN))
            conditions.append(col(Task.due) < query.overdue_at)
        if query.thread_ref is not None:
            conditions.append(col(Task.thread_ref) == query.thread_ref)
        if query.channel_ref is not None:
            conditions.append(col(Task.channel_ref) == query.channel_ref)
        if query.text and query.text.strip():
            needle = query.text.strip()
            conditions.append(
                sa.or_(
                    col(Task.title).icontains(needle, autoescape=True),
                    col(Task.description).icontains(needle, autoescape=True),
                )
            )
        async with self._session() as session:
            if query.assignee is not None:
                member = await self.find_member_id(session, workspace_id, query.assignee)
                if member is None:
                    return []
                conditions.append(
                    col(Task.id).in_(
                        sa.select(col(TaskAssignee.task_id)).where(
                            col(TaskAssignee.member_id) == member
                        )
                    )
                )
            overdue = sa.and_(col(Task.status) == str(TaskStatus.OPEN), col(Task.due) < now)
            stmt = (
                sa.select(Task)
                .where(*conditions)
                .order_by(
                    sa.case((overdue, 0), else_=1),
                    sa.case((col(Task.due).is_(None), 1), else_=0),
                    col(Task.due),
                    col(Task.id),
                )
                .limit(query.limit)
                .offset(query.offset)
            )
            tasks = list((await session.scalars(stmt)).all())
            return await self._public(session, tasks)

    async def scheduled_tasks(self, *, before: datetime | None = None) -> list[TaskPublic]:
        """Active tasks with a next fire time (all workspaces), soonest first.

        Active means open, enabled and not deleted. ``before`` limits to fires
        earlier than that instant.
        """
        conditions: list[sa.ColumnElement[bool]] = [
            col(Task.next_fire_at).is_not(None),
            col(Task.status) == str(TaskStatus.OPEN),
            col(Task.enabled).is_(True),
            col(Task.deleted_at).is_(None),
        ]
        if before is not None:
            conditions.append(col(Task.next_fire_at) < before)
        async with self._session() as session:
            stmt = sa.select(Task).where(*conditions).order_by(col(Task.next_fire_at), col(Task.id))
            return await self._public(session, list((await session.scalars(stmt)).all()))

    async def complete_fired(self, task_ids: Collection[int], *, at: datetime) -> dict[int, int]:
        """Mark done the still-open tasks among ``task_ids`` (one-off reminders that have
        fired) in one statement; their id → workspace id. The caller audits them."""
        if not task_ids:
            return {}
        async with self._session() as session:
            rows = await session.execute(
                sa.update(Task)
                .where(col(Task.id).in_(list(task_ids)), col(Task.status) == TaskStatus.OPEN)
                .values(
                    status=TaskStatus.DONE,
                    completed_at=at,
                    updated_at=at,
                    next_fire_at=None,
                    change_seq=next_change_seq(self.dialect),
                )
                .returning(col(Task.id), col(Task.workspace_id))
            )
            done = {int(task_id): int(workspace_id) for task_id, workspace_id in rows.all()}
            if done:
                collect(session, done)
                await cancel_staged(session, done, now=at, keep=None)
            return done

    async def set_next_fire_at(
        self,
        task_id: int,
        new: datetime | None,
        *,
        expected: datetime | None = None,
        check: bool = False,
    ) -> bool:
        """Move the engine's cursor; with ``check``, only if it still equals ``expected``.

        Returns whether the row changed, so of several replicas advancing the same
        cursor exactly one wins.
        """
        stmt = (
            sa.update(Task)
            .where(col(Task.id) == task_id)
            .values(next_fire_at=new, change_seq=next_change_seq(self.dialect))
        )
        if check:
            stmt = stmt.where(
                col(Task.next_fire_at).is_(None)
                if expected is None
                else col(Task.next_fire_at) == expected
            )
        async with self._session() as session:
            result = await session.execute(stmt)
            moved = bool(getattr(result, "rowcount", 0))
            if moved:
                collect(session, [task_id])
            return moved

    # --- helpers -----------------------------------------------------------------

    async def find_member_id(
        self, session: AsyncSession, workspace_id: int, ref: str
    ) -> int | None:
        """A member id by platform user id (preferred) or display name, in ``session``."""
        ref = bare(ref)
        found = await session.scalar(
            sa.select(col(Member.id))
            .where(
                col(Member.workspace_id) == workspace_id,
                sa.or_(
                    col(Member.platform_user_id) == ref,
                    sa.func.lower(col(Member.display_name)) == ref.lower(),
                ),
            )
            # A platform id match wins over a display-name match.
            .order_by(sa.case((col(Member.platform_user_id) == ref, 0), else_=1), col(Member.id))
            .limit(1)
        )
        return int(found) if found is not None else None

    async def _replace_assignees(
        self, session: AsyncSession, task_id: int, member_ids: Iterable[int]
    ) -> None:
        await session.execute(sa.delete(TaskAssignee).where(col(TaskAssignee.task_id) == task_id))
        for member_id in dict.fromkeys(member_ids):
            session.add(TaskAssignee(task_id=task_id, member_id=member_id))
        await session.flush()

    async def _replace_dependencies(
        self, session: AsyncSession, task_id: int, predecessors: Iterable[int]
    ) -> None:
        await session.execute(
            sa.delete(TaskDependency).where(col(TaskDependency.successor_id) == task_id)
        )
        for predecessor in dict.fromkeys(predecessors):
            session.add(TaskDependency(predecessor_id=predecessor, successor_id=task_id))
        await session.flush()

    async def _public(self, session: AsyncSession, tasks: Sequence[Task]) -> list[TaskPublic]:
        """Tasks with their assignees' platform ids and predecessor ids (two queries)."""
        ids = [t.id for t in tasks if t.id is not None]
        assignees: dict[int, list[str]] = defaultdict(list)
        predecessors: dict[int, list[int]] = defaultdict(list)
        if ids:
            rows = await session.execute(
                sa.select(col(TaskAssignee.task_id), col(Member.platform_user_id))
                .join(Member, col(Member.id) == col(TaskAssignee.member_id))
                .where(col(TaskAssignee.task_id).in_(ids))
                .order_by(col(TaskAssignee.task_id), col(Member.id))
            )
            for task_id, user_id in rows:
                assignees[task_id].append(user_id)
            edges = await session.execute(
                sa.select(col(TaskDependency.successor_id), col(TaskDependency.predecessor_id))
                .where(col(TaskDependency.successor_id).in_(ids))
                .order_by(col(TaskDependency.successor_id), col(TaskDependency.predecessor_id))
            )
            for successor, predecessor in edges:
                predecessors[successor].append(predecessor)
        return [
            TaskPublic.model_validate(
                t,
                update={
                    "assignees": assignees.get(t.id or 0, []),
                    "depends_on": predecessors.get(t.id or 0, []),
                },
            )
            for t in tasks
        ]
