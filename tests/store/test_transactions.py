"""Store contract: one transaction per change, nothing half-written (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest

from core.errors import Conflict, KairosError
from core.models import Member, Task, Workspace
from core.store import SqlStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_transaction_commits_everything_together(
    store: SqlStore, workspace: Workspace, member: Member
) -> None:
    assert workspace.id is not None
    async with store.transaction():
        task = await store.insert_task(Task(workspace_id=workspace.id, title="t"))
        await store.add_audit(
            workspace_id=workspace.id,
            action="task.created",
            at=T0,
            actor_id=member.id,
            task_id=task.id,
        )
        # Reads inside the block see the block's own writes.
        assert (await store.get_task(task.id)).title == "t"
    assert len(await store.audit_for_task(task.id)) == 1


async def test_error_in_transaction_rolls_everything_back(
    store: SqlStore, workspace: Workspace, member: Member
) -> None:
    assert workspace.id is not None

    class Boom(KairosError):
        pass

    with pytest.raises(Boom):
        async with store.transaction():
            task = await store.insert_task(Task(workspace_id=workspace.id, title="t"))
            await store.add_audit(
                workspace_id=workspace.id, action="task.created", at=T0, task_id=task.id
            )
            await store.ensure_member(workspace.id, "U-new")
            raise Boom("stop")
    assert await store.find_task(task.id) is None
    assert await store.audit_for_workspace(workspace.id) == []
    assert await store.find_member(workspace.id, "U-new") is None


async def test_nested_transactions_join_the_outer_one(
    store: SqlStore, workspace: Workspace
) -> None:
    assert workspace.id is not None
    with pytest.raises(RuntimeError):
        async with store.transaction():
            async with store.transaction():
                task = await store.insert_task(Task(workspace_id=workspace.id, title="inner"))
            raise RuntimeError("outer fails after inner finished")
    assert await store.find_task(task.id) is None


async def test_constraint_violation_is_a_conflict_and_writes_nothing(
    store: SqlStore, workspace: Workspace
) -> None:
    assert workspace.id is not None
    with pytest.raises(Conflict) as info:
        async with store.transaction():
            task = await store.insert_task(Task(workspace_id=workspace.id, title="t"))
            # A dependency on a task that does not exist violates a foreign key.
            await store.update_task(task.id, {}, depends_on=[987654])
    assert info.value.user_message() == (
        "That change conflicts with data already stored. Reload the task and try again."
    )
    assert await store.find_task(task.id) is None


async def test_separate_stores_do_not_share_a_transaction(
    store: SqlStore, workspace: Workspace
) -> None:
    other = SqlStore(store.db)
    assert workspace.id is not None
    async with store.transaction():
        task = await store.insert_task(Task(workspace_id=workspace.id, title="not yet committed"))
        # ``other`` runs in its own session: it cannot see the uncommitted row.
        assert await other.find_task(task.id) is None
    assert (await other.get_task(task.id)).title == "not yet committed"


async def test_after_commit_waits_for_the_outer_commit_and_never_runs_on_rollback(
    store: SqlStore, workspace: Workspace
) -> None:
    assert workspace.id is not None
    seen: list[int] = []

    async def note(task_id: int) -> None:
        # Runs after the commit: a new session reads the committed row.
        assert await store.find_task(task_id) is not None
        seen.append(task_id)

    async with store.transaction():
        kept = await store.insert_task(Task(workspace_id=workspace.id, title="kept"))
        async with store.transaction():  # a nested block defers to the outer commit
            await store.after_commit(partial(note, kept.id))
        assert seen == []
    assert seen == [kept.id]

    with pytest.raises(Conflict):
        async with store.transaction():
            gone = await store.insert_task(Task(workspace_id=workspace.id, title="gone"))
            await store.after_commit(partial(note, gone.id))
            await store.update_task(gone.id, {}, depends_on=[987654])  # a foreign key fails
    assert seen == [kept.id]
    await store.after_commit(partial(note, kept.id))  # outside a transaction: at once
    assert seen == [kept.id, kept.id]
