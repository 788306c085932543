"""``kairos bench scheduler``: the scheduler's figures, next to APScheduler 3's in the same run.

Every lateness here is measured to the same point for every scheduler: **the
moment the job's own code starts** — Kairos's executor ``execute`` entered,
APScheduler's job function entered — minus the instant the job was due; per
job, then p50 / p99 / max over every job of the burst.

Kairos runs on the embedded SQLite store in a temporary directory through the
real code paths and **default pool settings**: tasks created by ``TaskService``
(with the engine as its listener), fired by ``SchedulerEngine``, executed by
``WorkerPool``. Figures (``--json`` keys):

* ``add_rate`` — tasks created per second by sequential ``TaskService.create``;
* ``startup_100k_s`` — rebuilding an engine from the database with all tasks
  scheduled; ``heap_bytes_per_task`` — engine memory per scheduled task;
* ``burst_{1000,10000}_job_start_{p50,p99,max}_ms`` — 1,000 (10,000) tasks due in
  the same second while all the others stay scheduled;
* ``runs_per_sec`` — durable runs per second for the 10,000 burst, from the due
  instant until every run row is ``completed``;
* ``apscheduler_memory_burst_*`` — APScheduler 3 ``AsyncIOScheduler`` with its
  memory job store, the same number of scheduled jobs, the same bursts;
* ``apscheduler_sqlalchemy_burst_1000_*`` — the same with its SQLAlchemy job
  store on a SQLite file (the durable peer; WAL, synchronous=NORMAL as Kairos);
* ``shell_overhead_ratio``, ``http_runs_per_sec`` — real executors
  (``bench/executor_runs.py``);
* ``delivery_1000_slow_chat_s`` / ``delivery_1000_slow_chat_p99_ms`` — 1,000
  reminders due at once, posted through the real ``ChatNotifier`` to a chat
  adapter that answers in 300 ms: due instant → last (p99) post returned, with
  ``Kairos.open`` on default settings.

Each measurement is one function returning its figures, listed in
``MEASUREMENTS``: adding one (shell overhead, HTTP rate) is a function and a line.
"""

from __future__ import annotations

import asyncio
import gc
import math
import pickle
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.clock import SystemClock
from core.db import Database
from core.enums import Platform, Role, TaskKind
from core.executors import ExecutorRegistry
from core.jobs import Job
from core.migrate import upgrade
from core.models import Member
from core.ports import ExecutionResult
from core.scheduler.engine import LOOKAHEAD_SECONDS, SchedulerEngine
from core.scheduler.workers import WorkerPool
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.runs import RUNS, TASKS, FiredRun, RunStore

Progress = Callable[[str], None]
Figures = dict[str, float]

BURSTS = (1000, 10_000)


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What every measurement gets: the background load and where to report progress."""

    tasks: int
    lookahead: float
    say: Progress


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(prefix: str, lateness_ms: Sequence[float]) -> Figures:
    """``{prefix}_p50_ms``, ``_p99_ms``, ``_max_ms`` over every job."""
    return {
        f"{prefix}_p50_ms": round(percentile(lateness_ms, 50), 2),
        f"{prefix}_p99_ms": round(percentile(lateness_ms, 99), 2),
        f"{prefix}_max_ms": round(max(lateness_ms), 2),
    }


async def wait_until(probe: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(0.005)


def due_second(lead: float) -> datetime:
    """A whole second at least ``lead`` seconds ahead."""
    return datetime.fromtimestamp(math.ceil(time.time() + lead), UTC)


# --- Kairos -------------------------------------------------------------------


class StartTimer:
    """An executor that notes when each job's code starts (ms after its due instant)."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}  # task id → lateness in ms

    async def execute(self, job: Job) -> ExecutionResult:
        self.started[job.task_id] = (time.time() - job.scheduled_for.timestamp()) * 1000
        return ExecutionResult(output="")


class NullSink:
    """A sink for an engine that is only measured, never fired."""

    def submit(self, runs: Sequence[FiredRun]) -> None:
        return None

    def prepare(self, runs: Sequence[FiredRun]) -> None:
        return None


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
) -> None:
    """One ``TaskService.create`` after the other, as people add tasks."""
    started = time.perf_counter()
    for n, at in enumerate(times, 1):
        await service.create(_once(at), actor=actor)
        if n % 20_000 == 0:
            say(f"  {n:,} created ({n / (time.perf_counter() - started):,.0f}/s)")


async def bulk_tasks(
    db: Database,
    workspace_id: int,
    times: Sequence[datetime],
    *,
    kind: TaskKind = TaskKind.JOB,
    action: dict[str, Any] | None = None,
    created_by: int | None = None,
) -> list[int]:
    """Insert one-off task rows as ``TaskService.create`` stores them (burst tasks:
    written through the service they would need longer than their lead time)."""
    now = datetime.now(UTC)
    ids: list[int] = []
    for start in range(0, len(times), 5000):
        rows = [
            {
                "workspace_id": workspace_id,
                "kind": kind.value,
                "title": "bench",
                "description": "",
                "priority": "normal",
                "timezone": "UTC",
                "misfire_policy": "run_once",
                "misfire_grace_seconds": 3600,
                "status": "open",
                "enabled": True,
                "action": action if action is not None else {"type": "noop"},
                "schedule": {
                    "kind": "once",
                    "at": at.isoformat(),
                    "timezone": "UTC",
                    "gap_policy": "shift",
                },
                "next_fire_at": at.replace(microsecond=0),
                "created_by": created_by,
                "created_at": now,
                "updated_at": now,
            }
            for at in times[start : start + 5000]
        ]
        async with db.engine.begin() as conn:
            result = await conn.execute(sa.insert(TASKS).returning(TASKS.c.id), rows)
            ids.extend(r[0] for r in result)
    return ids


async def kairos(options: BenchOptions) -> Figures:
    """Kairos: add rate, startup, memory, bursts timed to ``execute`` entered, run rate."""
    with tempfile.TemporaryDirectory(prefix="kairos-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        db = Database(url)
        try:
            return await _kairos(db, options)
        finally:
            await db.dispose()


async def _kairos(db: Database, options: BenchOptions) -> Figures:
    say, tasks = options.say, options.tasks
    clock = SystemClock()
    store = SqlStore(db)
    runs = RunStore(db)
    workspace = await store.ensure_workspace(Platform.CONSOLE, "bench", name="bench")
    assert workspace.id is not None
    actor = await store.ensure_member(workspace.id, "bench", role=Role.ADMIN)
    timer = StartTimer()
    pool = WorkerPool(store=runs, executors=ExecutorRegistry({"noop": timer}), clock=clock)
    engine = SchedulerEngine(
        store=runs, clock=clock, sink=pool, lookahead_seconds=options.lookahead
    )
    service = TaskService(store=store, clock=clock, listener=engine)
    await pool.start()
    await engine.start()
    figures: Figures = {"tasks": tasks, "lookahead_s": options.lookahead}
    try:
        say(f"creating {tasks:,} one-off tasks through TaskService.create …")
        far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        started = time.perf_counter()
        await _create(service, actor, [far + timedelta(seconds=i) for i in range(tasks)], say)
        figures["add_rate"] = round(tasks / (time.perf_counter() - started), 1)
        if engine.scheduled != tasks:
            raise RuntimeError(f"the engine holds {engine.scheduled:,} of {tasks:,} new tasks")

        say("rebuilding an engine from the database …")
        figures.update(await _startup(runs, clock))

        for size in BURSTS:
            say(f"Kairos: burst of {size:,} tasks due in the same second …")
            due = due_second(size / 1000 + 3)
            ids = await bulk_tasks(db, workspace.id, [due] * size)
            await engine.tasks_changed(ids)
            if time.time() > due.timestamp() - 0.5:
                raise RuntimeError("the burst was set up too late; rerun on a quieter machine")
            wanted = set(ids)
            await wait_until(lambda wanted=wanted: wanted <= timer.started.keys(), 120)  # type: ignore[misc]
            figures.update(summarise(f"burst_{size}_job_start", [timer.started[i] for i in ids]))
            if size == 10_000:
                figures["runs_per_sec"] = round(await _durable_rate(runs, ids, due), 1)
    finally:
        await engine.stop()
        await pool.stop()
    return figures


async def _startup(runs: RunStore, clock: SystemClock) -> Figures:
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


# --- APScheduler 3 --------------------------------------------------------------

#: Job key → lateness in ms when the APScheduler job function was entered. Module
#: level: the SQLAlchemy store pickles jobs and finds their function by reference.
APS_STARTED: dict[str, float] = {}


async def aps_job(key: str, due_ts: float) -> None:
    """The APScheduler peer's job: note when it started."""
    APS_STARTED[key] = (time.time() - due_ts) * 1000


async def apscheduler_memory(options: BenchOptions) -> Figures:
    """APScheduler 3 ``AsyncIOScheduler``, memory job store: same load, same bursts."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    options.say("APScheduler 3, memory job store …")
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 3600})
    far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    for i in range(options.tasks):
        scheduler.add_job(
            aps_job, "date", run_date=far + timedelta(seconds=i), args=[f"bg{i}", 0.0], id=f"bg{i}"
        )
    scheduler.start()
    try:
        return await _aps_bursts(scheduler, "apscheduler_memory", BURSTS, lead=2)
    finally:
        scheduler.shutdown(wait=False)


async def apscheduler_sqlalchemy(options: BenchOptions) -> Figures:
    """APScheduler 3 with its SQLAlchemy job store on a SQLite file (the durable peer)."""
    from apscheduler.job import Job as ApsJob
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.util import datetime_to_utc_timestamp

    options.say("APScheduler 3, SQLAlchemy job store on SQLite …")
    with tempfile.TemporaryDirectory(prefix="kairos-bench-aps-") as tmp:
        engine = sa.create_engine(f"sqlite:///{Path(tmp) / 'aps.db'}")

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        store = SQLAlchemyJobStore(engine=engine)
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            jobstores={"default": store},
            job_defaults={"misfire_grace_time": 3600},
        )
        store.jobs_t.create(engine, checkfirst=True)
        # The background jobs go in as the store writes them, in bulk: one
        # ``add_job`` (a commit) each would take minutes and measures nothing.
        far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        rows = []
        for i in range(options.tasks):
            at = far + timedelta(seconds=i)
            job = ApsJob(
                scheduler,
                id=f"bg{i}",
                func=aps_job,
                trigger=DateTrigger(at, timezone=UTC),
                executor="default",
                args=(f"bg{i}", 0.0),
                kwargs={},
                name="bg",
                misfire_grace_time=3600,
                coalesce=True,
                max_instances=1,
                next_run_time=at,
            )
            rows.append(
                {
                    "id": job.id,
                    "next_run_time": datetime_to_utc_timestamp(at),
                    "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol),
                }
            )
        with engine.begin() as conn:
            conn.execute(store.jobs_t.insert(), rows)
        scheduler.start()
        try:
            return await _aps_bursts(scheduler, "apscheduler_sqlalchemy", (1000,), lead=4)
        finally:
            scheduler.shutdown(wait=False)
            engine.dispose()


async def _aps_bursts(scheduler: Any, prefix: str, sizes: Sequence[int], *, lead: float) -> Figures:
    figures: Figures = {}
    for size in sizes:
        due = due_second(lead + size / 5000)
        keys = [f"{prefix}-{size}-{i}" for i in range(size)]
        for key in keys:
            scheduler.add_job(aps_job, "date", run_date=due, args=[key, due.timestamp()], id=key)
        if time.time() > due.timestamp() - 0.2:
            raise RuntimeError(f"{prefix}: the burst was set up too late to measure")
        await wait_until(lambda keys=keys: all(k in APS_STARTED for k in keys), 300)  # type: ignore[misc]
        figures.update(summarise(f"{prefix}_burst_{size}", [APS_STARTED[k] for k in keys]))
    return figures


# --- delivery under a slow chat API ---------------------------------------------


class SlowChat:
    """A chat adapter whose every post takes ``latency`` seconds (as Slack under load)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.posted: list[float] = []  # seconds after the due instant, per post
        self.due_ts = 0.0

    async def send(self, reply: Any) -> str | None:
        await asyncio.sleep(self.latency)
        self.posted.append(time.time() - self.due_ts)
        return f"m{len(self.posted)}"


async def delivery_slow_chat(options: BenchOptions, *, size: int = 1000) -> Figures:
    """1,000 reminders due at once, chat answering in 300 ms, ``Kairos.open`` defaults."""
    from bot.app import Kairos
    from bot.settings import Settings

    options.say(f"delivery: {size:,} reminders due at once, chat API answering in 300 ms …")
    with tempfile.TemporaryDirectory(prefix="kairos-bench-chat-") as tmp:
        app = await Kairos.open(Settings(database_url=f"sqlite:///{Path(tmp) / 'k.db'}"))
        chat = SlowChat(0.3)
        app.add_chat(Platform.CONSOLE, chat)
        await app.start()
        try:
            workspace = await app.store.ensure_workspace(Platform.CONSOLE, "bench", name="bench")
            assert workspace.id is not None
            person = await app.store.ensure_member(workspace.id, "me", role=Role.ADMIN)
            due = due_second(3)
            chat.due_ts = due.timestamp()
            ids = await bulk_tasks(
                app.db,
                workspace.id,
                [due] * size,
                kind=TaskKind.REMINDER,
                action={},
                created_by=person.id,
            )
            await app.scheduler.engine.tasks_changed(ids)
            await wait_until(lambda: len(chat.posted) >= size, 120)
        finally:
            await app.close()
    return {
        f"delivery_{size}_slow_chat_s": round(max(chat.posted), 2),
        f"delivery_{size}_slow_chat_p99_ms": round(percentile(chat.posted, 99) * 1000, 1),
    }


async def shell(options: BenchOptions) -> Figures:
    """``shell_overhead_ratio`` (``bench.executor_runs``)."""
    from bench.executor_runs import shell_overhead

    return await shell_overhead(options)


async def http(options: BenchOptions) -> Figures:
    """``http_runs_per_sec`` (``bench.executor_runs``)."""
    from bench.executor_runs import http_runs

    return await http_runs(options)


#: Every measurement, in order: one function each (name → coroutine function).
#: ``delivery`` goes first: it starts a whole Kairos and is timed to the second, so it
#: should not inherit the garbage of 100,000 APScheduler jobs.
MEASUREMENTS: dict[str, Callable[[BenchOptions], Awaitable[Figures]]] = {
    "delivery": delivery_slow_chat,
    "kairos": kairos,
    "apscheduler_memory": apscheduler_memory,
    "apscheduler_sqlalchemy": apscheduler_sqlalchemy,
    "shell": shell,
    "http": http,
}


async def run_scheduler_bench(
    *,
    tasks: int = 100_000,
    lookahead: float = LOOKAHEAD_SECONDS,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Figures:
    """Run the measurements (all, or those named in ``only``) and merge their figures."""
    options = BenchOptions(tasks=tasks, lookahead=lookahead, say=progress or (lambda _m: None))
    figures: Figures = {}
    for name, measure in MEASUREMENTS.items():
        if only is None or name in only:
            figures.update(await measure(options))
    return figures
