"""A real scheduler process is ``kill -9``'d mid-run and restarted: no fire lost or doubled."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.db import Database
from core.enums import MisfirePolicy, Platform, RunStatus
from core.executors import ExecutorRegistry
from core.jobs import Job
from core.models import Workspace
from core.ports import ExecutionResult
from core.scheduler.workers import PoolSettings, WorkerPool
from core.store.runs import RunStore

from .harness import wait_for
from .helpers import add_task, once
from .procs import spawn_ready

pytestmark = pytest.mark.slow
PROC = Path(__file__).with_name("engine_proc.py")


async def _spawn(url: str, log: Path) -> asyncio.subprocess.Process:
    return await spawn_ready(PROC, url, str(log), within=30)


async def _workspace(db: Database, name: str) -> int:
    async with db.session() as s:
        ws = Workspace(platform=Platform.CONSOLE, external_id=name, name=name)
        s.add(ws)
        await s.flush()
        assert ws.id is not None
        return ws.id


def _lines(log: Path, word: str) -> list[tuple[int, str, int, int]]:
    """The ``word`` lines of the executor's log: (task id, fire instant, attempt, pid)."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == word:
            out.append((int(parts[1]), parts[2], int(parts[3]), int(parts[4])))
    return out


async def test_kill_9_mid_run_then_restart(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    log = tmp_path / "executions.log"
    try:
        wid = await _workspace(db, "crash")
        now = datetime.now(UTC).replace(microsecond=0)
        ids = []
        for i in range(24):
            at = now + timedelta(seconds=2 + i // 4)
            ids.append(
                await add_task(
                    db,
                    wid,
                    action={"type": "slow"},
                    next_fire_at=at,
                    grace=3600,
                    misfire_policy=MisfirePolicy.CATCH_UP,
                    retry_policy={"max_attempts": 3, "initial_delay_s": 0.5, "jitter": 0},
                    schedule=once(at),
                )
            )

        first = await _spawn(database_url, log)
        # Wait until some runs are mid-flight.
        await wait_for(lambda: len(_lines(log, "start")) >= 6, 20, "runs to start")
        first.send_signal(signal.SIGKILL)
        await first.wait()
        started_before = len(_lines(log, "start"))
        assert 0 < started_before < 24

        second = await _spawn(database_url, log)
        store = RunStore(db)
        try:

            async def all_final() -> bool:
                finals = 0
                for tid in ids:
                    runs = await store.runs_for(tid)
                    last = max(runs, key=lambda r: r.attempt) if runs else None
                    if last and last.status in (RunStatus.COMPLETED, RunStatus.FAILED):
                        finals += 1
                return finals == len(ids)

            await wait_for(all_final, 60, "every task's final outcome")
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)

        ends = _lines(log, "end")
        crashed = 0
        for tid in ids:
            runs = sorted(await store.runs_for(tid), key=lambda r: r.attempt)
            # One fire per task, one final outcome per fire.
            assert len({r.scheduled_for for r in runs}) == 1
            assert [r.attempt for r in runs] == list(range(1, len(runs) + 1))
            assert runs[-1].status == RunStatus.COMPLETED, runs
            for r in runs[:-1]:
                assert r.status == RunStatus.RETRYING
                assert (r.error or "").startswith("crashed: worker")
                crashed += 1
            # The attempt that counts ran to its end exactly once. An attempt the kill
            # cut may have ended just before it, its outcome not yet stored (the window
            # of at-least-once every job queue has) — only ever in the killed process.
            ended = Counter(attempt for t, _, attempt, _ in ends if t == tid)
            assert ended[runs[-1].attempt] == 1, ended
            assert all(
                pid == first.pid
                for t, _, attempt, pid in ends
                if t == tid and attempt != runs[-1].attempt
            )
        assert crashed >= 1
    finally:
        await db.dispose()


class _Started:
    """An executor that notes when each run started here (and by which attempt)."""

    def __init__(self) -> None:
        self.started: list[tuple[int, int, float]] = []

    async def execute(self, job: Job) -> ExecutionResult:
        late = (datetime.now(UTC) - job.scheduled_for).total_seconds()
        self.started.append((job.task_id, job.attempt, late))
        return ExecutionResult(output="ok")


async def test_a_killed_peers_runs_staged_ahead_start_here_at_their_instant(
    database_url: str, tmp_path: Path
) -> None:
    """A process reserves runs ahead of their instant and is killed before it: a peer
    on this host sees the death at once and starts them at their instant — not
    after its next recovery pass or poll (both set to 30 s here)."""
    db = Database(database_url)
    log = tmp_path / "executions.log"
    other: asyncio.subprocess.Process | None = None
    pool: WorkerPool | None = None
    try:
        wid = await _workspace(db, "peer")
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
        ids = [
            await add_task(db, wid, action={"type": "slow"}, next_fire_at=at, schedule=once(at))
            for _ in range(3)
        ]
        # Looks 10 s ahead: the runs are reserved there well before their instant.
        other = await spawn_ready(PROC, database_url, str(log), "10", within=30)
        store = RunStore(db)

        async def reserved() -> bool:
            rows = await store.reservations()
            return len([r for r in rows if r[3] == at]) == len(ids)

        await wait_for(reserved, 20, "the other process to reserve the runs")
        started = _Started()
        pool = WorkerPool(
            store=store,
            executors=ExecutorRegistry({"slow": started}),
            clock=SystemClock(),
            settings=PoolSettings(recover_seconds=30, poll_seconds=30, prepare=False),
        )
        await pool.start()  # its recovery pass sees the other process alive, holding them
        other.send_signal(signal.SIGKILL)
        await other.wait()
        other = None
        assert datetime.now(UTC) < at, "the machine was too slow to kill before the instant"

        await wait_for(lambda: len(started.started) == len(ids), 25, "the runs to start here")
        assert sorted(t for t, _, _ in started.started) == sorted(ids)
        # First attempts (nobody started them: released, not crashed), none early,
        # none a recovery pass or poll (30 s) late.
        assert all(attempt == 1 for _, attempt, _ in started.started)
        assert all(0 <= late < 5 for _, _, late in started.started), started.started
        assert not _lines(log, "start")
    finally:
        if other is not None:
            other.send_signal(signal.SIGKILL)
            await other.wait()
        if pool is not None:
            await pool.stop()
        await db.dispose()
