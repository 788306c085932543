"""``kairos bench scheduler``: the scheduler's figures, next to APScheduler 3's in the same run.

Everything runs on the embedded SQLite store in a temporary directory, through
the real code paths: tasks are created by ``TaskService`` (with the engine as its
listener), fired by ``SchedulerEngine``, executed by ``WorkerPool`` with the
no-op executor. Figures:

* ``add_rate`` — one-off tasks created per second by sequential ``TaskService.create``
  calls (validation, schedule check, task + audit rows in one transaction, engine
  notified after the commit), over ALL ``tasks`` background tasks;
* the burst tasks (not part of ``add_rate``) are bulk-inserted as the same rows
  and announced to the engine with ``tasks_changed``: written through the service
  they would need longer than the lead time before their due second;
* ``heap_bytes_per_task`` — memory the engine holds per scheduled task;
* ``startup_100k_s`` — rebuilding an engine from the database with all tasks scheduled;
* ``burst_1000_p99_ms`` / ``burst_1000_max_ms`` / ``burst_10000_max_ms`` — lateness
  from the due instant to "run row committed and handed to the worker pool", for
  1,000 (10,000) tasks due in the same second while all the others stay scheduled
  (with the default lookahead the rows are committed ahead of the instant, so this
  is the hand-off; ``lookahead=0`` measures writing the rows at the instant);
* ``runs_per_sec`` — durable no-op runs per second for the 10,000 burst, from the
  due instant until every run row is ``completed``;
* ``apscheduler_burst_*`` — APScheduler 3's ``AsyncIOScheduler`` (memory job
  store) with the same number of scheduled jobs and the same bursts, lateness
  measured when each job starts.
"""

from __future__ import annotations

import asyncio
import gc
import math
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.clock import SystemClock
from core.db import Database
from core.enums import Platform, Role, TaskKind
from core.executors import ExecutorRegistry, NoopExecutor
from core.migrate import upgrade
from core.models import Member
from core.scheduler.engine import LOOKAHEAD_SECONDS, SchedulerEngine
from core.scheduler.workers import PoolSettings, WorkerPool
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.runs import RUNS, TASKS, FiredRun, RunStore

Progress = Callable[[str], None]


class LatencySink:
    """Forwards fired runs to the pool, noting when each was handed over."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self.handed: dict[int, float] = {}  # task id → lateness in ms
        self.arrived = asyncio.Event()

    def submit(self, runs: Sequence[FiredRun]) -> None:
        wall = time.time()
        for run in runs:
            self.handed[run.task_id] = (wall - run.scheduled_for.timestamp()) * 1000
        self._pool.submit(runs)
        self.arrived.set()


class NullSink:
    """A sink for an engine that is only measured, never fired."""

    def submit(self, runs: Sequence[FiredRun]) -> None:
        return None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _once(at: datetime) -> dict[str, Any]:
    return {
        "kind": TaskKind.JOB.value,
        "title": "bench",
        "schedule": {"kind": "once", "at": at.isoformat(), "timezone": "UTC"},
        "action": {"type": "noop"},
        "timezone": "UTC",
    }


async def _create(
    service: TaskService, actor: Member, times: Sequence[datetime], say: Progress
) -> list[int]:
    """One ``TaskService.create`` after the other, as people add tasks."""
    ids = []
    started = time.perf_counter()
    for n, at in enumerate(times, 1):
        ids.append((await service.create(_once(at), actor=actor)).id)
        if n % 20_000 == 0:
            say(f"  {n:,} created ({n / (time.perf_counter() - started):,.0f}/s)")
    return ids


async def _wait_until(probe: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(0.005)


async def _bulk(db: Database, workspace_id: int, times: Sequence[datetime]) -> list[int]:
    """Insert one-off task rows as ``TaskService.create`` stores them (burst tasks only:
    they are not part of ``add_rate``)."""
    now = datetime.now(UTC)
    ids: list[int] = []
    for start in range(0, len(times), 5000):
        rows = [
            {
                "workspace_id": workspace_id,
                "kind": TaskKind.JOB.value,
                "title": "bench",
                "description": "",
                "priority": "normal",
                "timezone": "UTC",
                "misfire_policy": "run_once",
                "misfire_grace_seconds": 3600,
                "status": "open",
                "enabled": True,
                "action": {"type": "noop"},
                "schedule": {
                    "kind": "once",
                    "at": at.isoformat(),
                    "timezone": "UTC",
                    "gap_policy": "shift",
                },
                "next_fire_at": at.replace(microsecond=0),
                "created_at": now,
                "updated_at": now,
            }
            for at in times[start : start + 5000]
        ]
        async with db.engine.begin() as conn:
            result = await conn.execute(sa.insert(TASKS).returning(TASKS.c.id), rows)
            ids.extend(r[0] for r in result)
    return ids


async def _burst(
    *, db: Database, workspace_id: int, engine: SchedulerEngine, sink: LatencySink, size: int
) -> tuple[list[float], datetime, list[int]]:
    # Due at a whole second far enough ahead for the inserts to finish first.
    lead = size / 1000 + 3
    due = datetime.fromtimestamp(math.ceil(time.time() + lead), UTC)
    ids = await _bulk(db, workspace_id, [due] * size)
    await engine.tasks_changed(ids)
    if time.time() > due.timestamp() - 0.5:
        raise RuntimeError("the burst was set up too late to measure; rerun on a quieter machine")
    wanted = set(ids)
    await _wait_until(lambda: wanted <= sink.handed.keys(), lead + 60)
    return [sink.handed[i] for i in ids], due, ids


async def run_scheduler_bench(
    *,
    tasks: int = 100_000,
    lookahead: float = LOOKAHEAD_SECONDS,
    apscheduler: bool = True,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Run every measurement and return the figures (see the module docstring)."""
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="kairos-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        db = Database(url)
        try:
            figures = await _kairos(db, tasks=tasks, lookahead=lookahead, say=say)
        finally:
            await db.dispose()
    if apscheduler:
        say("APScheduler 3 AsyncIOScheduler bursts …")
        figures.update(await apscheduler_bursts(tasks=tasks))
    return figures


async def _kairos(db: Database, *, tasks: int, lookahead: float, say: Progress) -> dict[str, float]:
    clock = SystemClock()
    store = SqlStore(db)
    runs = RunStore(db)
    workspace = await store.ensure_workspace(Platform.CONSOLE, "bench", name="bench")
    assert workspace.id is not None
    actor = await store.ensure_member(workspace.id, "bench", role=Role.ADMIN)
    pool = WorkerPool(
        store=runs,
        executors=ExecutorRegistry({"noop": NoopExecutor()}),
        clock=clock,
        settings=PoolSettings(concurrency=512, poll_seconds=1.0),
    )
    sink = LatencySink(pool)
    engine = SchedulerEngine(store=runs, clock=clock, sink=sink, lookahead_seconds=lookahead)
    service = TaskService(store=store, clock=clock, listener=engine)
    await pool.start()
    await engine.start()
    figures: dict[str, float] = {"tasks": tasks, "lookahead_s": lookahead}
    try:
        say(f"creating {tasks:,} one-off tasks through TaskService.create …")
        far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        times = [far + timedelta(seconds=i) for i in range(tasks)]
        started = time.perf_counter()
        await _create(service, actor, times, say)
        figures["add_rate"] = round(tasks / (time.perf_counter() - started), 1)
        if engine.scheduled != tasks:
            raise RuntimeError(f"the engine holds {engine.scheduled:,} of {tasks:,} new tasks")

        say("rebuilding an engine from the database …")
        figures.update(await _startup(runs, clock))

        for size in (1000, 10_000):
            say(f"burst of {size:,} tasks due in the same second …")
            lateness, due, ids = await _burst(
                db=db, workspace_id=workspace.id, engine=engine, sink=sink, size=size
            )
            figures[f"burst_{size}_p99_ms"] = round(percentile(lateness, 99), 2)
            figures[f"burst_{size}_max_ms"] = round(max(lateness), 2)
            if size == 10_000:
                figures["runs_per_sec"] = round(await _durable_rate(runs, ids, due), 1)
    finally:
        await engine.stop()
        await pool.stop()
    return figures


async def _startup(runs: RunStore, clock: SystemClock) -> dict[str, float]:
    times = []
    for _ in range(3):
        engine = SchedulerEngine(store=runs, clock=clock, sink=NullSink())
        started = time.perf_counter()
        await engine.start()
        times.append(time.perf_counter() - started)
        await engine.stop()
    # Memory: what the engine keeps after a rebuild (heap, index, timestamps).
    engine = SchedulerEngine(store=runs, clock=clock, sink=NullSink())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    count = await engine.rebuild()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return {
        "startup_100k_s": round(sorted(times)[1], 3),
        "heap_bytes_per_task": round(held / max(count, 1), 1),
    }


async def _durable_rate(runs: RunStore, ids: Sequence[int], due: datetime) -> float:
    done_stmt = (
        sa.select(sa.func.count())
        .select_from(RUNS)
        .where(RUNS.c.task_id.in_(ids), RUNS.c.status == "completed")
    )
    while True:
        async with runs.db.engine.connect() as conn:
            done = (await conn.execute(done_stmt)).scalar_one()
        if done >= len(ids):
            break
        await asyncio.sleep(0.01)
    return len(ids) / (time.time() - due.timestamp())


async def apscheduler_bursts(*, tasks: int) -> dict[str, float]:
    """APScheduler 3 ``AsyncIOScheduler`` (memory store): same background load, same bursts."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    lateness: dict[str, float] = {}

    async def job(key: str, due_ts: float) -> None:
        lateness[key] = (time.time() - due_ts) * 1000

    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 3600})
    far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    for i in range(tasks):
        scheduler.add_job(
            job, "date", run_date=far + timedelta(seconds=i), args=[f"bg{i}", 0.0], id=f"bg{i}"
        )
    scheduler.start()
    figures: dict[str, float] = {}
    try:
        for size in (1000, 10_000):
            due = datetime.fromtimestamp(math.ceil(time.time() + 2 + size / 20_000), UTC)
            keys = [f"b{size}-{i}" for i in range(size)]
            for key in keys:
                scheduler.add_job(job, "date", run_date=due, args=[key, due.timestamp()], id=key)
            await _wait_until(lambda keys=keys: all(k in lateness for k in keys), 120)  # type: ignore[misc]
            values = [lateness[k] for k in keys]
            figures[f"apscheduler_burst_{size}_p99_ms"] = round(percentile(values, 99), 2)
            figures[f"apscheduler_burst_{size}_max_ms"] = round(max(values), 2)
    finally:
        scheduler.shutdown(wait=False)
    return figures
