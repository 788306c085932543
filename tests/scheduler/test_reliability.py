"""Retries, misfires on restart, racing engines: every fire has exactly one outcome."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from core.clock import ManualClock
from core.db import Database
from core.enums import MisfirePolicy, RunStatus, RunTrigger
from core.errors import StoreError
from core.jobs import Job
from core.models import Run
from core.ports import ExecutionResult
from core.store.runs import RunStore

from .harness import RecordingExecutor, running, wait_for
from .helpers import add_task, once

REC = {"type": "record"}
START = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


async def test_retry_attempts_and_spacing(database: Database, workspace_id: int) -> None:
    clock = ManualClock(START)
    due = START + timedelta(seconds=5)
    policy = {"max_attempts": 3, "initial_delay_s": 10, "backoff": 2, "jitter": 0}
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        retry_policy=policy,
        next_fire_at=due,
        schedule=once(due),
    )
    executor = RecordingExecutor(fail_tasks=set())
    async with running(database, clock, executor=executor) as h:
        executor.fail_tasks.add(tid)
        h.clock.set(due)
        await _wait_attempts(h, tid, 1)
        h.clock.set(due + timedelta(seconds=9))
        await h.quiet()
        assert len(executor.calls) == 1  # back-off not over yet
        h.clock.set(due + timedelta(seconds=10))
        await _wait_attempts(h, tid, 2)
        h.clock.set(due + timedelta(seconds=30))  # 10 s, then 20 s
        await _wait_attempts(h, tid, 3)
        runs = await h.settle(tid, 3)
    assert [(r.attempt, r.status, r.trigger) for r in runs] == [
        (1, RunStatus.RETRYING, RunTrigger.SCHEDULE),
        (2, RunStatus.RETRYING, RunTrigger.RETRY),
        (3, RunStatus.FAILED, RunTrigger.RETRY),
    ]
    assert [r.not_before - due for r in runs] == [
        timedelta(0),
        timedelta(seconds=10),
        timedelta(seconds=30),
    ]
    assert {r.scheduled_for for r in runs} == {due}
    assert all(r.error == f"RuntimeError: task {tid} exploded" for r in runs)
    assert [c[2] for c in executor.calls] == [1, 2, 3]
    events = await RunStore(database).events_for(runs[0].id or 0)
    assert [e.status for e in events] == ["running", "retrying"]
    assert "attempt 2" in (events[-1].detail or "")


async def _wait_attempts(h, tid: int, n: int) -> None:  # type: ignore[no-untyped-def]
    async def finished() -> bool:
        runs = await h.runs(tid)
        return len([r for r in runs if r.status in ("retrying", "failed", "completed")]) >= n

    await wait_for(finished, what=f"attempt {n} to finish")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # 3 missed fires 2 h, 1 h and 0 h ago (hourly), grace 30 min.
        (MisfirePolicy.SKIP, ["skipped", "skipped", "completed"]),
        (MisfirePolicy.RUN_ONCE, ["skipped", "skipped", "completed"]),
        (MisfirePolicy.CATCH_UP, ["completed", "completed", "completed"]),
    ],
)
async def test_misfire_policies_on_restart(
    database: Database, workspace_id: int, policy: MisfirePolicy, expected: list[str]
) -> None:
    first = START - timedelta(hours=2)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=first,
        misfire_policy=policy,
        grace=1800,
        schedule={
            "kind": "interval",
            "every_seconds": 3600,
            "start": (first - timedelta(hours=1)).isoformat(),
            "timezone": "UTC",
        },
    )
    # The process was down from before `first` until START + 1 min.
    clock = ManualClock(START + timedelta(minutes=1))
    async with running(database, clock) as h:
        runs = await h.settle(tid, 3)
        assert [r.status for r in runs] == expected
        assert [r.scheduled_for for r in runs] == [first + timedelta(hours=i) for i in range(3)]
        for r in runs:
            if r.status == RunStatus.SKIPPED:
                assert r.error and r.error.startswith("misfired:")
        cursor = dict(await h.store.cursors())[tid]
        assert cursor == START + timedelta(hours=1)


async def test_a_long_outage_is_summarised_not_enumerated(
    database: Database, workspace_id: int
) -> None:
    first = START - timedelta(days=2)  # every 10 s for 2 days: 17,280 missed fires
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=first,
        grace=60,
        misfire_policy=MisfirePolicy.RUN_ONCE,
        schedule={
            "kind": "interval",
            "every_seconds": 10,
            "start": (first - timedelta(seconds=10)).isoformat(),
            "timezone": "UTC",
        },
    )
    clock = ManualClock(START + timedelta(seconds=5))
    async with running(database, clock) as h:

        async def latest_done() -> list[Run] | None:
            runs = await h.runs(tid)
            return runs if any(r.status == RunStatus.COMPLETED for r in runs) else None

        await wait_for(latest_done, what="the latest missed fire to run")
        await h.quiet()
        runs = await h.runs(tid)
    done = [r for r in runs if r.status == RunStatus.COMPLETED]
    assert [r.scheduled_for for r in done] == [START]  # the latest missed fire
    summary = [r for r in runs if r.error and "too many to list" in r.error]
    assert len(summary) == 1
    assert len(runs) <= 1002


async def test_two_engines_on_one_database_run_each_fire_once(
    database: Database, workspace_id: int
) -> None:
    due = START + timedelta(seconds=10)
    ids = []
    for i in range(40):
        at = due + timedelta(milliseconds=25 * i)
        ids.append(
            await add_task(
                database,
                workspace_id,
                action=REC,
                next_fire_at=at.replace(microsecond=0),
                schedule={
                    "kind": "interval",
                    "every_seconds": 10,
                    "start": (at - timedelta(seconds=10)).replace(microsecond=0).isoformat(),
                    "timezone": "UTC",
                },
            )
        )
    executor = RecordingExecutor()
    clock = ManualClock(START)
    async with (
        running(database, clock, executor=executor) as a,
        running(database, clock, executor=executor) as b,
    ):
        for step in range(1, 4):
            clock.set(due + timedelta(seconds=10 * (step - 1), milliseconds=999))

            async def fired(step: int = step) -> bool:
                total = sum([len(await a.runs(t)) for t in ids])
                return total >= 40 * step and len(executor.calls) >= 40 * step

            await wait_for(fired, what=f"step {step}'s fires")
        await a.quiet()
        await b.quiet()
    counts = Counter((t, s) for t, s, _ in executor.calls)
    assert len(counts) == 120
    assert set(counts.values()) == {1}
    for t in ids:
        runs = await RunStore(database).runs_for(t)
        assert len(runs) == 3
        assert {r.status for r in runs} == {"completed"}


async def test_recovery_waits_for_a_remote_lease_then_retries(
    database: Database, workspace_id: int
) -> None:
    from core.executors import ExecutorRegistry, NoopExecutor
    from core.scheduler.workers import WorkerPool

    clock = ManualClock(START)
    store = RunStore(database)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        next_fire_at=START,
        retry_policy={"max_attempts": 2, "initial_delay_s": 5, "jitter": 0},
        schedule=once(START),
    )
    fired = await store.fire(tid, START, next_fire_at=None, now=START)
    assert fired is not None
    await store.claim("elsewhere:1:dead", limit=1, now=START, lease=timedelta(seconds=60))
    pool = WorkerPool(
        store=store, executors=ExecutorRegistry({"noop": NoopExecutor()}), clock=clock
    )
    assert await pool.recover() == 0  # another host, lease still valid: hands off
    clock.advance(61)
    assert await pool.recover() == 1
    runs = sorted(await store.runs_for(tid), key=lambda r: r.attempt)
    assert [(r.attempt, r.status) for r in runs] == [
        (1, RunStatus.RETRYING),
        (2, RunStatus.PENDING),
    ]
    assert runs[0].error == (
        "crashed: worker elsewhere:1:dead stopped during attempt 1 (its lease expired)"
    )
    # Retried at once, not after the policy's 5 s: the worker died, not the action.
    assert runs[1].not_before == START + timedelta(seconds=61)


class _DatabaseAwayOnce(RecordingExecutor):
    """Attempts fail with the store's error for an unreachable database until told not to."""

    away: int = 2

    async def execute(self, job: Job) -> ExecutionResult:
        self.calls.append((job.task_id, job.scheduled_for, job.attempt))
        if self.away > 0:
            self.away -= 1
            try:
                raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
            except OperationalError as exc:
                raise StoreError("The database could not complete the operation.") from exc
        return ExecutionResult(output="ok")


async def test_attempts_cut_by_an_unavailable_database_do_not_use_up_the_retries(
    database: Database, workspace_id: int
) -> None:
    """A one-attempt reminder whose attempts meet a database outage is still delivered,
    at once after each failure (the outage is nobody's fault), not dropped as failed."""
    clock = ManualClock(START)
    due = START + timedelta(seconds=5)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        retry_policy={"max_attempts": 1, "initial_delay_s": 600},
        next_fire_at=due,
        schedule=once(due),
    )
    executor = _DatabaseAwayOnce()
    async with running(database, clock, executor=executor) as h:
        h.clock.set(due)
        runs = await h.settle(tid, 3)
    assert [(r.attempt, r.status) for r in runs] == [
        (1, RunStatus.RETRYING),
        (2, RunStatus.RETRYING),
        (3, RunStatus.COMPLETED),
    ]
    assert [r.not_before for r in runs[1:]] == [due, due]  # no policy delay: the clock stood
    assert "could not complete" in (runs[0].error or "")


class _ServiceDown(RecordingExecutor):
    """An action whose own service refuses the connection (an HTTP job's target, say)."""

    async def execute(self, job: Job) -> ExecutionResult:
        self.calls.append((job.task_id, job.scheduled_for, job.attempt))
        raise ConnectionRefusedError(111, "connection refused by the job's service")


async def test_another_services_network_error_follows_the_tasks_policy(
    database: Database, workspace_id: int
) -> None:
    """Only the database's outage is retried outside the policy: a job's own refused
    connection fails a one-attempt task (no hammering of a service that is down)."""
    clock = ManualClock(START)
    due = START + timedelta(seconds=5)
    tid = await add_task(
        database,
        workspace_id,
        action=REC,
        retry_policy={"max_attempts": 1},
        next_fire_at=due,
        schedule=once(due),
    )
    async with running(database, clock, executor=_ServiceDown()) as h:
        h.clock.set(due)
        runs = await h.settle(tid, 1)
    assert [(r.attempt, r.status) for r in runs] == [(1, RunStatus.FAILED)]
