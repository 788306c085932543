"""Task events and mixed triggers: a task's outcome fires its watchers; one task can have
a schedule, events and manual runs at once, and every run says what triggered it."""

from __future__ import annotations

from datetime import timedelta

from scheduler.harness import wait_for

from core.clock import ManualClock
from core.db import Database
from core.enums import RunStatus, RunTrigger
from core.events.model import EventIn, SourceKind

from .harness import on_event, subscriber, with_events


async def test_completed_failed_and_failure_streak_events(
    database: Database, clock: ManualClock
) -> None:
    async with with_events(database, clock) as ev:
        build = await subscriber(database, None)
        flaky = await subscriber(database, None, retry_policy={"max_attempts": 1})
        ev.keeper.fail_tasks.add(flaky)
        after_build = await subscriber(database, f"task_completed:{build}")
        on_fail = await subscriber(database, f"task_failed:{flaky}")
        three = await subscriber(database, f"task_failed_streak:{flaky}:3")

        await ev.harness.engine.run_now(build)
        await wait_for(lambda: len(ev.keeper.events_of(after_build)) == 1, what="after build")
        event = ev.keeper.events_of(after_build)[0]
        assert event["task_id"] == build and event["status"] == "completed"

        for n in range(1, 5):
            clock.advance(1)
            await ev.harness.engine.run_now(flaky)
            await wait_for(lambda n=n: len(ev.keeper.events_of(on_fail)) == n, what="a failure")
        await ev.layer.task_events.drain()
        await wait_for(lambda: len(ev.keeper.events_of(three)) == 1, what="the streak of 3")
        # The 4th failure is a streak of 4, not 3: no second streak event.
        assert len(ev.keeper.events_of(three)) == 1
        assert not ev.keeper.events_of(after_build)[1:]


async def test_a_task_with_a_schedule_events_and_manual_runs(
    database: Database, clock: ManualClock
) -> None:
    every = {
        "kind": "interval",
        "every_seconds": 60,
        "timezone": "UTC",
        "start": clock.now().isoformat(),
    }
    task = await subscriber(
        database,
        None,
        schedule=on_event("webhook:deploy", every),
        next_fire_at=clock.now() + timedelta(seconds=60),
    )
    async with with_events(database, clock) as ev:
        await ev.harness.advance(60)
        await ev.layer.bus.record(
            EventIn(SourceKind.WEBHOOK, "deploy", "d1", {"v": 1}, clock.now())
        )
        clock.advance(1)
        await ev.harness.engine.run_now(task)
        runs = await ev.harness.settle(task, 3)
    by_trigger = {RunTrigger(r.trigger): r for r in runs}
    assert set(by_trigger) == {RunTrigger.SCHEDULE, RunTrigger.EVENT, RunTrigger.MANUAL}
    assert all(RunStatus(r.status) is RunStatus.COMPLETED for r in runs)
    assert by_trigger[RunTrigger.EVENT].event_id is not None
    assert by_trigger[RunTrigger.SCHEDULE].event_id is None
    assert sorted((j.trigger, j.event) for j in ev.keeper.jobs if j.event) == [
        (RunTrigger.EVENT, {"v": 1})
    ]
