"""Release through the real engine and worker pool: no polling, branches side by side."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from scheduler.harness import running, wait_for

from core.clock import ManualClock
from core.enums import RunStatus, TaskStatus
from core.jobs import Job
from core.ports import ExecutionResult
from core.scheduler.workers import PoolSettings
from core.store import SqlStore
from core.store.passes import PassStore
from core.store.runs import RunStore

from .helpers import Driver, build


@dataclass
class TimedExecutor:
    """Records when each task's execution started and ended (monotonic), fails on demand."""

    spans: dict[int, tuple[float, float]] = field(default_factory=dict)
    fail: set[int] = field(default_factory=set)
    seconds: float = 0.3

    async def execute(self, job: Job) -> ExecutionResult:
        began = time.monotonic()
        await asyncio.sleep(self.seconds)
        self.spans[job.task_id] = (began, time.monotonic())
        if job.task_id in self.fail:
            raise RuntimeError("exploded")
        return ExecutionResult(output="ok")


async def test_a_diamond_runs_its_branches_in_parallel_and_joins(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    workflow_id, ids = await build(store, workspace_id, "a>b a>c b>d c>d", action="record")
    executor = TimedExecutor()
    # A long poll interval: only the release hand-off can start b, c and d quickly.
    settings = PoolSettings(concurrency=8, poll_seconds=3600.0)
    async with running(store.db, clock, executor=executor, settings=settings) as h:  # type: ignore[arg-type]
        passes = PassStore(store.db, h.store)
        pass_id, fired = await passes.start(workflow_id, started_by=None, now=clock.now())
        h.pool.submit(fired)
        await wait_for(lambda: ids["d"] in executor.spans, 15, "d to run")
        view = await wait_for(lambda: _ended(passes, pass_id), 10, "the pass to be marked finished")
    assert view == "succeeded"
    a, b, c, d = (executor.spans[ids[n]] for n in "abcd")
    assert b[0] >= a[1] and c[0] >= a[1]  # released by a's end
    assert b[0] < c[1] and c[0] < b[1]  # b and c overlapped: independent branches
    assert d[0] >= max(b[1], c[1])  # d waited for both


async def test_a_failure_blocks_the_rest_under_the_scheduler(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    workflow_id, ids = await build(store, workspace_id, "build>test test>deploy", action="record")
    executor = TimedExecutor(fail={ids["build"]}, seconds=0.0)
    async with running(store.db, clock, executor=executor) as h:  # type: ignore[arg-type]
        passes = PassStore(store.db, h.store)
        pass_id, fired = await passes.start(workflow_id, started_by=None, now=clock.now())
        h.pool.submit(fired)
        assert await wait_for(lambda: _ended(passes, pass_id), 15) == "failed"
        deploy = (await h.store.runs_for(ids["deploy"]))[0]
    assert deploy.status == RunStatus.BLOCKED
    assert deploy.error is not None and "'build' failed in run" in deploy.error
    assert set(executor.spans) == {ids["build"]}  # nothing after the failure executed


async def _ended(passes: PassStore, pass_id: int) -> str | None:
    view = await passes.view(pass_id)
    return view.status if view.finished_at is not None else None


async def test_a_paused_step_is_blocked_not_run_and_a_deleted_one_skipped(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    workflow_id, ids = await build(
        store, workspace_id, "build>deploy deploy>report build>docs", action="record"
    )
    await store.update_task(ids["deploy"], {"status": TaskStatus.PAUSED})
    await store.soft_delete_task(ids["docs"], at=clock.now())
    executor = TimedExecutor(seconds=0.0)
    async with running(store.db, clock, executor=executor) as h:  # type: ignore[arg-type]
        passes = PassStore(store.db, h.store)
        pass_id, fired = await passes.start(workflow_id, started_by=None, now=clock.now())
        h.pool.submit(fired)
        assert await wait_for(lambda: _ended(passes, pass_id), 15) == "failed"
        deploy = (await h.store.runs_for(ids["deploy"]))[0]
        report = (await h.store.runs_for(ids["report"]))[0]
        docs = await h.store.runs_for(ids["docs"])
        view = await passes.view(pass_id)
    assert set(executor.spans) == {ids["build"]}  # neither the paused nor the deleted step ran
    assert deploy.status == RunStatus.BLOCKED
    assert deploy.error == "blocked: 'deploy' is paused (resume it, then rerun it to go on)"
    assert report.status == RunStatus.BLOCKED and "(via 'deploy')" in (report.error or "")
    assert view.failed_step == "deploy"
    assert all(r.status == RunStatus.SKIPPED for r in docs)


async def test_a_step_paused_after_its_release_does_not_run(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    workflow_id, ids = await build(store, workspace_id, "build>deploy", action="record")
    runs = RunStore(store.db)
    passes = PassStore(store.db, runs)
    pass_id, _ = await passes.start(workflow_id, started_by=None, now=clock.now())
    await Driver(runs, passes, clock, ids).finish("build")  # deploy is released: pending
    assert (await runs.runs_for(ids["deploy"]))[0].status == RunStatus.PENDING
    await store.update_task(ids["deploy"], {"status": TaskStatus.PAUSED})
    executor = TimedExecutor(seconds=0.0)
    async with running(store.db, clock, executor=executor) as h:  # type: ignore[arg-type]
        # the pool's poll claims the pending run; the paused task is not executed
        assert await wait_for(lambda: _ended(passes, pass_id), 15) == "failed"
        deploy = (await h.store.runs_for(ids["deploy"]))[0]
    assert executor.spans == {}
    assert deploy.status == RunStatus.BLOCKED and "is paused" in (deploy.error or "")
