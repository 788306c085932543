"""A received command's inbox entry is marked done in its effect's own transaction, only
by the process holding it (SQLite and PostgreSQL): the effect commits if and only if the
mark does, so a takeover never repeats a committed effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.errors import KairosError
from core.models import Task, Workspace
from core.store import SqlStore
from core.store.completion import CommandTakenOver, Completion, doing
from core.store.inbox import InboxStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ME = "host:1:me"
OTHER = "host:2:other"


def _completion(store: SqlStore, key: str = "trigger-1") -> Completion:
    row: dict[str, Any] = {
        "platform": "slack",
        "dedupe_key": key,
        "workspace": "T1",
        "channel": "C1",
        "user": "U1",
        "user_name": "ada",
        "text": "remind me to water the plants",
        "response_url": "https://hooks.example/response",
        "received_at": T0,
        "status": "pending",
        "claimed_by": ME,
        "lease_until": T0 + timedelta(minutes=1),
        "attempts": 1,
    }
    return Completion(engine=store.db.engine, row=row, now=lambda: T0 + timedelta(seconds=5))


async def _effect(store: SqlStore, workspace: Workspace, title: str = "water") -> None:
    """A command's effect: a task and its audit event, in one transaction."""
    assert workspace.id is not None
    async with store.transaction():
        task = await store.insert_task(Task(workspace_id=workspace.id, title=title))
        await store.add_audit(
            workspace_id=workspace.id, action="task.created", at=T0, task_id=task.id
        )


async def _state(store: SqlStore) -> tuple[list[tuple[str, str]], int]:
    async with store.db.engine.connect() as conn:
        entries = (await conn.execute(sa.text("SELECT status, claimed_by FROM chat_inbox"))).all()
        tasks = (await conn.execute(sa.text("SELECT count(*) FROM tasks"))).scalar_one()
    return [(str(s), str(c)) for s, c in entries], int(tasks)


async def test_an_effect_before_the_entry_was_written_writes_it_done(
    store: SqlStore, workspace: Workspace
) -> None:
    completion = _completion(store)
    with doing(completion):
        await _effect(store, workspace)
    assert completion.done
    assert await _state(store) == ([("done", ME)], 1)
    # The edge's later write of the entry finds it there: nothing left to take over.
    assert not await InboxStore(store.db).accept(completion.row)
    assert await _state(store) == ([("done", ME)], 1)


async def test_a_held_pending_entry_is_marked_done_with_the_effect(
    store: SqlStore, workspace: Workspace
) -> None:
    completion = _completion(store)
    assert await InboxStore(store.db).accept(completion.row)
    with doing(completion):
        await store.find_task(1)  # a read marks nothing
        assert await _state(store) == ([("pending", ME)], 0)
        await _effect(store, workspace)
        await _effect(store, workspace, "second")  # marked once; later effects pass
    assert await _state(store) == ([("done", ME)], 2)


@pytest.mark.parametrize("status", ["pending", "done"])
async def test_an_entry_taken_over_or_finished_elsewhere_rolls_the_effect_back(
    store: SqlStore, workspace: Workspace, status: str
) -> None:
    completion = _completion(store)
    elsewhere = completion.row | {"claimed_by": OTHER, "status": status}
    assert await InboxStore(store.db).accept(elsewhere)
    with doing(completion), pytest.raises(CommandTakenOver) as refused:
        await _effect(store, workspace)
    assert not completion.done
    assert await _state(store) == ([(status, OTHER)], 0)  # no task: the work is theirs
    # What the person reads: a duplicate delivery is not "taken over".
    assert refused.value.done is (status == "done")
    expected = (
        "arrived twice and was already done" if status == "done" else "took this command over"
    )
    assert expected in refused.value.message


async def test_an_effect_that_fails_after_the_mark_leaves_neither(
    store: SqlStore, workspace: Workspace
) -> None:
    completion = _completion(store)
    assert await InboxStore(store.db).accept(completion.row)

    class Crash(KairosError):
        pass

    assert workspace.id is not None
    with doing(completion), pytest.raises(Crash):
        async with store.transaction():
            task = await store.insert_task(Task(workspace_id=workspace.id, title="t"))
            await store.add_audit(
                workspace_id=workspace.id, action="task.created", at=T0, task_id=task.id
            )
            raise Crash("killed at the seam")
    assert not completion.done
    assert await _state(store) == ([("pending", ME)], 0)  # a takeover does it, once


async def test_the_edge_cannot_finish_an_entry_another_process_took_over(
    store: SqlStore,
) -> None:
    completion = _completion(store)
    inbox = InboxStore(store.db)
    assert await inbox.accept(completion.row)
    assert await inbox.take(1, previous=ME, owner=OTHER, until=T0 + timedelta(minutes=2))
    done = await inbox.finish(platform="slack", dedupe_key="trigger-1", owner=ME, now=T0)
    assert not done
    assert await _state(store) == ([("pending", OTHER)], 0)
