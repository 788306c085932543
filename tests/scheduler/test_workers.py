"""The worker pool: claim back-off and its log, per-type concurrency, outcome writes that
outlive a database outage (a real connection cut on PostgreSQL), and the ``_live`` guard."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.engine import make_url

from core.clock import ManualClock, SystemClock
from core.db import Database
from core.enums import RunStatus
from core.executors import ExecutorRegistry
from core.jobs import Job
from core.models import Run
from core.ports import ExecutionResult, NullMetrics
from core.scheduler.engine import SchedulerEngine
from core.scheduler.workers import PoolSettings, WorkerPool
from core.store.runs import TASKS, ClaimedRun, NewRun, RunStore

from .harness import RecordingExecutor, running, wait_for
from .helpers import T0, add_task, once


class FlakyRuns(RunStore):
    """A run store whose claims fail while ``down`` is set (an unreachable database)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.down = False
        self.attempts: list[float] = []

    async def claim(self, worker_id: str, **kwargs: Any) -> list[ClaimedRun]:
        if self.down:
            self.attempts.append(asyncio.get_running_loop().time())
            raise sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
        return await super().claim(worker_id, **kwargs)


class CountingMetrics(NullMetrics):
    def __init__(self) -> None:
        self.db_errors: list[str] = []
        self.started: list[str] = []
        self.finished: list[tuple[str, str]] = []

    def db_error(self, component: str) -> None:
        self.db_errors.append(component)

    def run_started(self, executor: str, lateness_seconds: float) -> None:
        self.started.append(executor)

    def run_finished(self, executor: str, status: str, duration_seconds: float) -> None:
        self.finished.append((executor, status))


async def test_failed_claims_back_off_and_log_once_per_state_change(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyRuns(sqlite_database)
    store.down = True
    metrics = CountingMetrics()
    pool = WorkerPool(
        store=store,
        executors=ExecutorRegistry({}),
        clock=SystemClock(),
        settings=PoolSettings(poll_seconds=0.01),
        rng=random.Random(1),
        metrics=metrics,
    )
    caplog.set_level(logging.DEBUG, logger="core.scheduler")
    await pool.start()
    try:

        async def four_failures() -> bool | None:
            return True if len(store.attempts) >= 4 else None

        await wait_for(four_failures, 30)
        store.down = False

        async def back() -> bool | None:
            return True if any("database back after" in r.message for r in caplog.records) else None

        await wait_for(back, 30)
    finally:
        await pool.stop()
    gaps = [b - a for a, b in zip(store.attempts, store.attempts[1:], strict=False)]
    # 0.5 s · 2ⁿ with jitter in [½, 1]: each wait at least a quarter second, and growing.
    assert all(gap >= 0.2 for gap in gaps), gaps
    assert gaps[2] > gaps[0], gaps
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in warnings[:1]] == [
        "workers: database unavailable"
    ]
    assert "retrying with back-off up to every 30 s" in warnings[0].getMessage()
    assert sum("database back after" in r.getMessage() for r in warnings) == 1
    assert len(warnings) == 2  # down, back: nothing per attempt
    assert not any(r.exc_info for r in caplog.records)  # no traceback for an outage
    assert metrics.db_errors.count("workers") == len(store.attempts)


class GatedExecutor:
    """Counts executions in flight per gate; each waits until released."""

    def __init__(self) -> None:
        self.inflight = 0
        self.peak = 0
        self.release = asyncio.Event()
        self.done = 0

    async def execute(self, job: Job) -> ExecutionResult:
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        try:
            await self.release.wait()
        finally:
            self.inflight -= 1
            self.done += 1
        return ExecutionResult(output="ok")


async def test_concurrency_is_bounded_per_executor_type(
    database: Database, workspace_id: int
) -> None:
    store = RunStore(database)
    slow, fast = GatedExecutor(), GatedExecutor()
    fast.release.set()
    metrics = CountingMetrics()
    pool = WorkerPool(
        store=store,
        executors=ExecutorRegistry({"shell": slow, "notify": fast}),
        clock=SystemClock(),
        settings=PoolSettings(per_type={"shell": 2, "notify": 256}, poll_seconds=0.05),
        metrics=metrics,
    )
    now = datetime.now(UTC)
    shell = [
        await add_task(
            database, workspace_id, schedule=None, next_fire_at=None, action={"type": "shell"}
        )
        for _ in range(6)
    ]
    notify = [
        await add_task(
            database, workspace_id, schedule=None, next_fire_at=None, action={"type": "notify"}
        )
        for _ in range(40)
    ]
    await store.fire_many([NewRun(t, now) for t in shell + notify], now=now)
    await pool.start()
    try:

        async def notified() -> bool | None:
            return True if fast.done == 40 else None

        # Forty notifications go through while the two shell slots stay busy.
        await wait_for(notified, 30)
        assert slow.inflight == 2 and slow.peak == 2
        slow.release.set()

        async def all_done() -> bool | None:
            return True if slow.done == 6 else None

        await wait_for(all_done, 30)
        assert slow.peak == 2
    finally:
        await pool.stop()
    assert metrics.started.count("shell") == 6 and metrics.started.count("notify") == 40
    assert ("shell", "completed") in metrics.finished


def test_defaults_allow_many_chat_posts_and_few_scripts() -> None:
    settings = PoolSettings()
    assert settings.limit("notify") == 256 and settings.limit("http") == 256
    assert settings.limit("shell") == 4 and settings.limit("sql") == 16


async def test_live_check_skips_a_run_whose_task_was_paused_elsewhere(
    database: Database, workspace_id: int
) -> None:
    """A pending run claimed from the database re-reads its task: paused → skipped."""
    store = RunStore(database)
    executor = RecordingExecutor()
    tid = await add_task(
        database, workspace_id, schedule=once(T0), next_fire_at=None, action={"type": "record"}
    )
    await store.fire_many([NewRun(tid, T0)], now=T0)
    # Another process pauses the task after the run was written (nothing tells us).
    async with database.engine.begin() as conn:
        await conn.execute(sa.update(TASKS).where(TASKS.c.id == tid).values(enabled=False))
    pool = WorkerPool(
        store=store,
        executors=ExecutorRegistry({"record": executor}),
        clock=ManualClock(T0 + timedelta(seconds=1)),
        settings=PoolSettings(poll_seconds=0.05),
    )
    await pool.start()
    try:

        async def settled() -> list[Run] | None:
            runs = await store.runs_for(tid)
            return runs if runs and RunStatus(runs[0].status).is_final else None

        runs = await wait_for(settled, 10)
    finally:
        await pool.stop()
    assert runs[0].status == RunStatus.SKIPPED
    assert "paused" in (runs[0].error or "")
    assert executor.calls == []


async def test_a_prepared_run_whose_task_is_paused_before_its_instant_never_runs(
    database: Database, workspace_id: int
) -> None:
    clock = ManualClock(T0)
    due = T0 + timedelta(minutes=1)
    tid = await add_task(
        database, workspace_id, schedule=once(due), next_fire_at=due, action={"type": "record"}
    )
    async with running(database, clock) as h:
        h.clock.set(due - timedelta(seconds=1))  # inside the lookahead: staged and prepared

        async def reserved() -> list[Run] | None:
            runs = await h.runs(tid)
            return runs if runs and runs[0].lease_owner == h.pool.worker_id else None

        runs = await wait_for(reserved, 10)
        assert runs[0].status == RunStatus.PENDING  # reserved, not started
        await h.pause(tid)
        h.clock.set(due + timedelta(seconds=1))

        async def cancelled() -> list[Run] | None:
            runs = await h.runs(tid)
            return runs if runs[0].status == RunStatus.CANCELLED else None

        await wait_for(cancelled, 10)
        await h.quiet()  # the engine and the pool have done all they will at this instant
        assert h.executor.calls == []


async def test_a_prepared_run_starts_from_memory_and_its_start_is_recorded(
    database: Database, workspace_id: int
) -> None:
    clock = ManualClock(T0)
    due = T0 + timedelta(minutes=1)
    tid = await add_task(
        database, workspace_id, schedule=once(due), next_fire_at=due, action={"type": "record"}
    )
    async with running(database, clock) as h:
        h.clock.set(due - timedelta(seconds=1))

        async def reserved() -> bool | None:
            runs = await h.runs(tid)
            return True if runs and runs[0].lease_owner == h.pool.worker_id else None

        await wait_for(reserved, 10)
        h.clock.set(due)
        runs = await h.settle(tid, 1)
    assert runs[0].status == RunStatus.COMPLETED and runs[0].started_at == due
    events = [e.status for e in await RunStore(database).events_for(runs[0].id or 0)]
    assert events == [RunStatus.RUNNING, RunStatus.COMPLETED]


# --- outcome writes through a real connection cut (PostgreSQL) ------------------------


class CuttableProxy:
    """A TCP proxy to PostgreSQL that the test can cut (every connection dropped,
    new ones refused) and restore: the database "goes away" for the client."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.up = True
        self.cuts = 0
        self._pairs: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.up = False
        self.cuts += 1
        for writer in list(self._pairs):
            writer.transport.abort()
        self._pairs.clear()

    def restore(self) -> None:
        self.up = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._pairs.update({writer, up_writer})
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._pairs.discard(writer)
            with suppress(Exception):
                writer.transport.abort()


class WriteCountingRuns(RunStore):
    """Counts outcome writes that failed."""

    failed_writes = 0

    async def finish_many(self, outcomes: Any, **kwargs: Any) -> Any:
        try:
            return await super().finish_many(outcomes, **kwargs)
        except Exception:
            if outcomes:
                self.failed_writes += 1
            raise


@asynccontextmanager
async def proxied(url: str) -> AsyncIterator[tuple[Database, CuttableProxy]]:
    parsed = make_url(url)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    await proxy.start()
    db = Database(parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
    try:
        yield db, proxy
    finally:
        await db.dispose()
        await proxy.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_an_outcome_is_written_after_the_connection_comes_back(
    database_url: str, database: Database, workspace_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The database goes away while a run executes: its outcome waits (lease renewed),
    is retried with back-off and lands when the database is back — executed once."""
    direct = RunStore(database)
    gate = GatedExecutor()
    tid = await add_task(
        database, workspace_id, schedule=None, next_fire_at=None, action={"type": "gated"}
    )
    now = datetime.now(UTC)
    await direct.fire_many([NewRun(tid, now)], now=now)
    caplog.set_level(logging.WARNING, logger="core.scheduler")
    async with proxied(database_url) as (db, proxy):
        store = WriteCountingRuns(db)
        pool = WorkerPool(
            store=store,
            executors=ExecutorRegistry({"gated": gate}),
            clock=SystemClock(),
            settings=PoolSettings(lease_seconds=3, poll_seconds=0.05),
        )
        await pool.start()
        try:

            async def executing() -> bool | None:
                return True if gate.inflight == 1 else None

            await wait_for(executing, 30)
            proxy.cut()  # every pooled connection dies; new ones are refused
            gate.release.set()

            async def retried() -> bool | None:
                return True if store.failed_writes >= 3 else None

            await wait_for(retried, 30)  # three failed writes: it was not dropped
            runs = await direct.runs_for(tid)
            assert runs[0].status == RunStatus.RUNNING
            proxy.restore()

            async def written() -> list[Run] | None:
                runs = await direct.runs_for(tid)
                return runs if runs[0].status == RunStatus.COMPLETED else None

            runs = await wait_for(written, 60)
        finally:
            await pool.stop()
    assert [(r.attempt, r.status) for r in runs] == [(1, RunStatus.COMPLETED)]
    assert gate.done == 1
    assert any("database back after" in r.getMessage() for r in caplog.records)


def test_concurrency_settings_merge_over_the_defaults_and_refuse_bad_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from bot.settings import Settings
    from core.scheduler.workers import DEFAULT_PER_TYPE

    monkeypatch.setenv("KAIROS_CONCURRENCY", '{"shell": 2}')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    merged = PoolSettings(
        concurrency=settings.workers, per_type={**DEFAULT_PER_TYPE, **settings.concurrency}
    )
    assert merged.limit("shell") == 2 and merged.limit("notify") == 256
    assert merged.limit("digest") == 16
    for bad, says in [("shell=2", "JSON object"), ('{"shell": 0}', "between 1 and 4096")]:
        monkeypatch.setenv("KAIROS_CONCURRENCY", bad)
        with pytest.raises(ValidationError, match=says):
            Settings(_env_file=None)  # type: ignore[call-arg]


class _LostAnswers(RunStore):
    """The database commits each reservation and the connection is cut before the answer;
    the first claim at the runs' instant meets the cut too."""

    claims_cut = 1

    async def reserve(self, worker_id: str, run_ids: Any, *, until: datetime) -> Any:
        await super().reserve(worker_id, run_ids, until=until)
        raise ConnectionResetError(104, "connection reset before the answer")

    async def claim_ids(self, worker_id: str, run_ids: Any, **kw: Any) -> Any:
        if self.claims_cut > 0:
            self.claims_cut -= 1
            raise ConnectionRefusedError(111, "refused")
        return await super().claim_ids(worker_id, run_ids, **kw)


async def test_a_reservation_whose_answer_was_lost_is_run_soon_not_after_its_lease(
    database: Database, workspace_id: int
) -> None:
    """Staged runs whose reserve committed but whose answer never came back stay
    reserved by this pool, which no longer knows them: recovery releases them and
    they run within seconds — not when the 60 s reservation expires."""
    clock = SystemClock()
    store = _LostAnswers(database)
    executor = RecordingExecutor()
    pool = WorkerPool(
        store=store,
        executors=ExecutorRegistry({"record": executor}),
        clock=clock,
        settings=PoolSettings(poll_seconds=0.2, lease_seconds=60),
    )
    engine = SchedulerEngine(store=store, clock=clock, sink=pool)
    at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    ids = [
        await add_task(
            database, workspace_id, action={"type": "record"}, next_fire_at=at, schedule=once(at)
        )
        for _ in range(3)
    ]
    await pool.start()
    await engine.start()
    try:
        await wait_for(lambda: {c[0] for c in executor.calls} >= set(ids), 15, "the runs")
    finally:
        await engine.stop()
        await pool.stop()
    assert sorted(c[0] for c in executor.calls) == sorted(ids)  # each once


class _SlowReservations(RunStore):
    """``reservations()`` reads only when told: a run can be reserved meanwhile."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def reservations(self) -> Any:
        self.asked.set()
        await self.answer.wait()
        return await super().reservations()


async def test_recovery_never_releases_a_reservation_made_while_it_looked(
    database: Database, workspace_id: int
) -> None:
    """A run reserved while recovery's query was out is this pool's, not a forgotten one."""
    clock = ManualClock(T0)
    store = _SlowReservations(database)
    pool = WorkerPool(
        store=store, executors=ExecutorRegistry({}), clock=clock, settings=PoolSettings()
    )
    at = T0 + timedelta(seconds=30)
    tid = await add_task(
        database, workspace_id, action={"type": "record"}, next_fire_at=at, schedule=once(at)
    )
    [fired] = await store.fire_many([NewRun(tid, at)], now=T0)
    recovering = asyncio.create_task(pool.recover())
    await store.asked.wait()  # recovery is asking
    pool.prepare([fired])
    await wait_for(lambda: fired.run_id in pool._prepared, 10, "the reservation")
    store.answer.set()
    await recovering
    [(run_id, owner, _expires, _at)] = await RunStore(database).reservations()
    assert (run_id, owner) == (fired.run_id, pool.worker_id)
