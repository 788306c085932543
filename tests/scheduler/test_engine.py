"""The engine end to end on a ManualClock: schedule kinds, commands, waking, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock
from core.db import Database
from core.enums import RunStatus, RunTrigger
from core.scheduler.workers import PoolSettings

from .harness import RecordingExecutor, running, wait_for
from .helpers import add_task, once

REC = {"type": "record"}
START = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # two days before Berlin's DST change


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


KINDS = {
    "once": (
        {"kind": "once", "at": "2026-03-27T12:00:30+00:00", "timezone": "UTC"},
        ["2026-03-27T12:00:30+00:00"],
    ),
    "interval": (
        {
            "kind": "interval",
            "every_seconds": 3600,
            "start": "2026-03-27T11:30:00+00:00",
            "timezone": "UTC",
        },
        ["2026-03-27T12:30:00+00:00", "2026-03-27T13:30:00+00:00", "2026-03-27T14:30:00+00:00"],
    ),
    # 09:00 Berlin across the spring-forward change: 08:00Z, then 07:00Z.
    "cron_dst": (
        {"kind": "cron", "cron": "0 9 * * *", "timezone": "Europe/Berlin"},
        ["2026-03-28T08:00:00+00:00", "2026-03-29T07:00:00+00:00", "2026-03-30T07:00:00+00:00"],
    ),
    "rrule": (
        {
            "kind": "rrule",
            "rrule": "FREQ=DAILY;BYHOUR=18;BYMINUTE=0;COUNT=2",
            "dtstart": "2026-03-27T18:00:00",
            "timezone": "Europe/Berlin",
        },
        ["2026-03-27T17:00:00+00:00", "2026-03-28T17:00:00+00:00"],
    ),
    "mixed": (
        {
            "kind": "mixed",
            "timezone": "UTC",
            "parts": [
                {"kind": "once", "at": "2026-03-27T12:10:00+00:00", "timezone": "UTC"},
                {"kind": "cron", "cron": "30 12 * * *", "timezone": "UTC"},
            ],
        },
        ["2026-03-27T12:10:00+00:00", "2026-03-27T12:30:00+00:00", "2026-03-28T12:30:00+00:00"],
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_schedule_kind_fires_at_its_times(sqlite_database: Database, kind: str) -> None:
    from core.models import Workspace

    async with sqlite_database.session() as s:
        ws = Workspace(platform="console", external_id="k", name="k")
        s.add(ws)
        await s.flush()
        wid = ws.id
    assert wid is not None
    schedule, expected_text = KINDS[kind]
    expected = [_z(t) for t in expected_text]
    clock = ManualClock(START)
    tid = await add_task(
        sqlite_database, wid, schedule=schedule, next_fire_at=expected[0], action=REC
    )
    async with running(sqlite_database, clock) as h:
        for i, due in enumerate(expected):
            # Just before the fire: written ahead (pending until its instant), not run.
            h.clock.set(due - timedelta(seconds=1))
            await h.quiet()
            assert len(h.executor.calls) == i
            assert [r.status for r in (await h.runs(tid))[i:]] == ["pending"]
            h.clock.set(due)
            runs = await h.settle(tid, i + 1)
            assert runs[-1].scheduled_for == due
            assert runs[-1].status == RunStatus.COMPLETED
        h.clock.set(expected[-1] + timedelta(minutes=59))
        await h.quiet()
        assert [r.scheduled_for for r in await h.runs(tid)] == expected
        assert [c[1] for c in h.executor.calls] == expected


async def test_event_schedule_fires_on_emit(database: Database, workspace_id: int) -> None:
    clock = ManualClock(START)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=None,
        schedule={"kind": "event", "event": "deploy", "timezone": "UTC"},
    )
    other = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=None,
        schedule={"kind": "event", "event": "deploy-staging", "timezone": "UTC"},
    )
    async with running(database, clock) as h:
        fired = await h.engine.emit("deploy")
        assert [f.task_id for f in fired] == [tid]
        runs = await h.settle(tid, 1)
        assert runs[0].trigger == RunTrigger.EVENT
        assert await h.runs(other) == []


async def test_run_now_pause_resume_and_cancel(database: Database, workspace_id: int) -> None:
    clock = ManualClock(START)
    due = START + timedelta(minutes=5)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=due,
        schedule={"kind": "cron", "cron": "*/5 * * * *", "timezone": "UTC"},
    )
    async with running(database, clock) as h:
        manual = await h.engine.run_now(tid)
        runs = await h.settle(tid, 1)
        assert (runs[0].id, runs[0].trigger) == (manual.run_id, RunTrigger.MANUAL)

        await h.pause(tid)
        await h.advance(300)
        assert len(await h.runs(tid)) == 1  # paused: no fire
        await h.resume(tid)
        # From now on: the fire missed while paused is not caught up, the next one runs.
        await h.advance(300)
        runs = await h.settle(tid, 2)
        assert runs[-1].scheduled_for == due + timedelta(minutes=5)
        assert due not in [r.scheduled_for for r in runs]

    # Cancel: with the pool stopped, a fired run stays pending and can be cancelled.
    async with running(database, clock, start_pool=False) as h:
        h.clock.set(due + timedelta(minutes=10))  # the fire after the one that ran
        pending = await wait_for(lambda: _pending(h, tid))
        assert await h.engine.cancel(pending)
        assert not await h.engine.cancel(pending)
    async with running(database, clock) as h:
        await h.quiet()
        runs = {r.id: r for r in await h.runs(tid)}
        assert runs[pending].status == RunStatus.CANCELLED
        assert len(h.executor.calls) == 0


async def _pending(h, tid):  # type: ignore[no-untyped-def]
    for r in await h.runs(tid):
        if r.status == RunStatus.PENDING:
            return r.id
    return None


async def test_wakes_early_for_an_earlier_task(database: Database, workspace_id: int) -> None:
    clock = ManualClock(START)
    late = START + timedelta(hours=1)
    await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=late,
        schedule=once(late),
    )
    async with running(database, clock) as h:
        await h.quiet()  # the engine now sleeps towards `late`
        soon = START + timedelta(seconds=10)
        tid = await add_task(
            database,
            workspace_id,
            action=REC,
            next_fire_at=soon,
            schedule=once(soon),
        )
        await h.engine.task_changed(tid)
        h.clock.set(soon)
        runs = await h.settle(tid, 1)
        assert runs[0].scheduled_for == soon


async def test_executor_exception_fails_only_that_run(
    database: Database, workspace_id: int
) -> None:
    clock = ManualClock(START)
    due = START + timedelta(seconds=5)
    at_due = once(due)
    no_retry = {"max_attempts": 1}
    bad = await add_task(
        database, workspace_id, action=REC, schedule=at_due, next_fire_at=due, retry_policy=no_retry
    )
    good = await add_task(database, workspace_id, action=REC, schedule=at_due, next_fire_at=due)
    unknown = await add_task(
        database, workspace_id, action={"type": "teleport"}, schedule=at_due, next_fire_at=due
    )
    executor = RecordingExecutor(fail_tasks={bad})
    async with running(database, clock, executor=executor) as h:
        h.clock.set(due)
        [bad_run] = await h.settle(bad, 1)
        [good_run] = await h.settle(good, 1)
        [unknown_run] = await h.settle(unknown, 1)
        assert bad_run.status == RunStatus.FAILED
        assert bad_run.error == f"RuntimeError: task {bad} exploded"
        assert good_run.status == RunStatus.COMPLETED
        assert unknown_run.status == RunStatus.FAILED
        assert "No executor for action type 'teleport'" in (unknown_run.error or "")
        # The engine is still alive: a later task fires.
        later = due + timedelta(seconds=5)
        tid = await add_task(
            database,
            workspace_id,
            action=REC,
            next_fire_at=later,
            schedule=once(later),
        )
        await h.engine.task_changed(tid)
        h.clock.set(later)
        await h.settle(tid, 1)


async def test_timeout_fails_the_run(database: Database, workspace_id: int) -> None:
    clock = ManualClock(START)
    due = START + timedelta(seconds=5)
    tid = await add_task(
        database,
        workspace_id,
        next_fire_at=due,
        action={"type": "record", "timeout_seconds": 0.2},
        retry_policy={"max_attempts": 1},
        schedule=once(due),
    )
    executor = RecordingExecutor(sleep_seconds=30)
    async with running(
        database, clock, executor=executor, settings=PoolSettings(drain_seconds=0.5)
    ) as h:
        h.clock.set(due)
        [run] = await h.settle(tid, 1)
        assert run.status == RunStatus.FAILED
        assert run.error == "timeout: no result after 0.2 s"
        assert run.duration_ms is not None and 150 <= run.duration_ms < 5000


async def test_a_run_written_ahead_is_cancelled_when_the_task_pauses(
    database: Database, workspace_id: int
) -> None:
    clock = ManualClock(START)
    due = START + timedelta(seconds=30)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=due,
        schedule=once(due),
    )
    async with running(database, clock) as h:
        h.clock.set(due - timedelta(seconds=1))
        [staged] = await wait_for(lambda: _some_runs(h, tid))
        assert staged.status == RunStatus.PENDING and staged.not_before == due
        await h.pause(tid)
        h.clock.set(due + timedelta(seconds=5))
        await h.quiet()
        [run] = await h.runs(tid)
        assert run.status == RunStatus.CANCELLED
        assert "paused" in (run.error or "")
        assert h.executor.calls == []


async def _some_runs(h, tid):  # type: ignore[no-untyped-def]
    return (await h.runs(tid)) or None


async def test_task_created_schedules_without_reading(sqlite_database: Database) -> None:
    """The service hands a new task's committed cursor over; no read is needed, and a
    task the engine already holds is re-read instead of trusting the handed cursor."""
    from core.enums import Platform
    from core.scheduler.engine import SchedulerEngine
    from core.store import SqlStore
    from core.store.runs import FireInfo, RunStore

    clock = ManualClock(START)
    store = SqlStore(sqlite_database)
    ws = await store.ensure_workspace(Platform.CONSOLE, "w")
    assert ws.id is not None
    runs = RunStore(sqlite_database)
    reads: list[list[int]] = []

    class CountingRuns(RunStore):
        async def fire_info(self, task_ids: list[int]) -> list[FireInfo]:  # type: ignore[override]
            reads.append(list(task_ids))
            return await runs.fire_info(task_ids)

    class Sink:
        def submit(self, fired: object) -> None:
            pass

    engine = SchedulerEngine(store=CountingRuns(sqlite_database), clock=clock, sink=Sink())
    at = START + timedelta(minutes=5)
    tid = await add_task(
        sqlite_database, ws.id, schedule={"kind": "once", "at": at.isoformat()}, next_fire_at=at
    )
    await engine.task_created(tid, at)
    assert reads == [] and engine.scheduled == 1 and engine.next_due() == at.timestamp()
    await engine.task_created(tid + 1000, None)  # nothing to schedule
    assert reads == [] and engine.scheduled == 1
    await engine.task_created(tid, at + timedelta(hours=1))  # already held: re-read
    assert reads == [[tid]] and engine.next_due() == at.timestamp()
