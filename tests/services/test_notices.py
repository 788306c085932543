"""Notices on SQLite and PostgreSQL: planned once, claimed once across two services
(replicas), the planner's mark never goes back, the workflow port, preferences."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.db import Database
from core.errors import StoreError
from core.models import Member, TaskPublic
from core.notices.prefs import Route
from core.services.notices import NoticeService
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.insight import InsightStore
from core.store.notices import NoticeStore


def _service(database: Database, clock: ManualClock) -> NoticeService:
    return NoticeService(store=SqlStore(database), notices=NoticeStore(database), clock=clock)


async def test_a_notice_is_planned_once_and_claimed_by_one_replica(
    database: Database,
    task_service: TaskService,
    member: Member,
    other_member: Member,
    clock: ManualClock,
) -> None:
    one, two = _service(database, clock), _service(database, clock)
    assert await one.plan() == 0  # the first look only sets the mark
    await task_service.create(
        {"title": "ship it", "assignees": ["U0002"], "due": clock.now() + timedelta(hours=3)},
        actor=member,
    )
    assert await one.plan() == 3  # assigned, due in 1 hour, overdue (1 day ahead has passed)
    assert await two.plan() == 0  # the other replica finds the mark moved on
    notices = NoticeStore(database)
    await notices.set_mark(0)  # re-reading everything plans nothing twice
    assert await two.plan() == 0
    assert await notices.mark() and await notices.mark() > 0  # type: ignore[operator]

    first, second = await one.deliverable(), await two.deliverable()
    assert [o.text for o in first + second] == [
        "📌 @U0001 assigned you #1 'ship it' (due Mon 02 Mar 07:00)."
    ]
    clock.advance(timedelta(hours=2))
    [soon] = await one.deliverable() + await two.deliverable()
    assert soon.person == "U0002" and "due in 1 hour" in soon.text
    clock.advance(timedelta(hours=2))
    [late] = await two.deliverable() + await one.deliverable()
    assert "is overdue" in late.text
    assert await one.deliverable() == [] and await two.deliverable() == []


async def test_workflow_outcome_port_and_preferences(
    database: Database, task_service: TaskService, member: Member, clock: ManualClock
) -> None:
    service = _service(database, clock)
    flow = await task_service.create({"title": "release train", "kind": "task"}, actor=member)
    await service.set_route(member, Route.DM)
    assert await service.workflow_finished(flow.id, ok=False, summary="step 3 failed") == 1
    assert await service.workflow_finished(flow.id, ok=False, summary="again") == 0  # same instant
    [out] = await service.deliverable()
    assert (
        out.person == "U0001"
        and out.text == "🛑 Workflow #1 'release train' failed: step 3 failed."
    )

    prefs = await service.set_quiet(member, "19:00", "08:00")
    assert prefs.timezone == "Europe/Berlin" and prefs.quiet is not None
    prefs = await service.set_muted(member, flow.id, muted=True)
    assert prefs.muted == frozenset({flow.id})
    clock.advance(timedelta(minutes=1))
    await service.workflow_finished(flow.id, ok=True, summary="done")
    assert await service.deliverable() == []  # muted: dropped, not held
    [dropped] = [n for n in await NoticeStore(database).for_task(flow.id) if n.status == "dropped"]
    assert dropped.note == "muted"


async def test_history_facts_read_back(
    database: Database, task_service: TaskService, member: Member, clock: ManualClock
) -> None:
    task = await task_service.create(
        {"title": "write docs", "assignees": ["U0002"], "due": clock.now() + timedelta(days=1)},
        actor=member,
    )
    clock.advance(timedelta(hours=5))
    await task_service.complete(task.id, actor=member)
    [fact] = await InsightStore(database).task_facts(
        member.workspace_id, since=clock.now() - timedelta(days=1)
    )
    assert fact.assignees == ("U0002",) and fact.duration_hours == 5.0 and fact.status == "done"


class _DatabaseAway(SqlStore):
    """A store whose task reads fail as they do while the database is away."""

    async def get_task(self, *args: object, **kwargs: object) -> TaskPublic:
        raise StoreError("The database could not complete the operation.")


async def test_a_database_failure_skips_no_event_and_drops_no_notice(
    database: Database, task_service: TaskService, member: Member, clock: ManualClock
) -> None:
    service = _service(database, clock)
    away = NoticeService(store=_DatabaseAway(database), notices=NoticeStore(database), clock=clock)
    assert await service.plan() == 0  # sets the mark
    await task_service.create(
        {"title": "ship it", "assignees": ["U0002"], "due": clock.now() + timedelta(hours=3)},
        actor=member,
    )
    notices = NoticeStore(database)
    mark = await notices.mark()
    with pytest.raises(StoreError):  # the round fails and is retried…
        await away.plan()
    assert await notices.mark() == mark  # …from the same event, not past it
    assert await service.plan() == 3
    with pytest.raises(StoreError):
        await away.deliverable()
    [assigned] = await service.deliverable()  # not dropped as "the task is gone"
    assert "assigned you #1 'ship it'" in assigned.text
