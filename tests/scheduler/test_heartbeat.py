"""Leases with real processes: a live worker's long run is never declared crashed, a
killed worker's run is recovered; a reminder delivered just before a kill -9 is not
posted again by the retry."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.db import Database
from core.enums import Platform, RunStatus, TaskKind
from core.models import Run, Workspace
from core.store.runs import NewRun, RunStore

from .harness import wait_for
from .helpers import add_task, once
from .procs import spawn_ready

pytestmark = pytest.mark.slow
PROC = Path(__file__).with_name("worker_proc.py")
RETRY = {"max_attempts": 3, "initial_delay_s": 0.2, "jitter": 0}


async def _spawn(url: str, log: Path, lease: float) -> asyncio.subprocess.Process:
    return await spawn_ready(PROC, url, str(log), str(lease))


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)


def _lines(log: Path, word: str) -> list[list[str]]:
    if not log.exists():
        return []
    return [line.split() for line in log.read_text().splitlines() if line.startswith(word + " ")]


async def _workspace(db: Database) -> int:
    async with db.session() as s:
        ws = Workspace(platform=Platform.CONSOLE, external_id="hb", name="hb")
        s.add(ws)
        await s.flush()
        assert ws.id is not None
        return ws.id


async def _due_now(db: Database, tid: int) -> None:
    now = datetime.now(UTC)
    assert await RunStore(db).fire_many([NewRun(tid, now)], now=now)


async def _runs(db: Database, tid: int) -> list[Run]:
    return sorted(await RunStore(db).runs_for(tid), key=lambda r: r.attempt)


async def test_a_live_workers_long_run_is_never_declared_crashed(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    log = tmp_path / "log"
    lease = 1.5
    procs = [await _spawn(database_url, log, lease) for _ in range(2)]
    try:
        wid = await _workspace(db)
        now = datetime.now(UTC)
        # Four leases long: without a heartbeat the other process recovers it as crashed.
        tid = await add_task(
            db,
            wid,
            schedule=once(now),
            next_fire_at=None,
            action={"type": "slow", "seconds": 4 * lease},
            retry_policy=RETRY,
        )
        await _due_now(db, tid)

        async def finished() -> list[Run] | None:
            runs = await _runs(db, tid)
            return runs if runs and RunStatus(runs[-1].status).is_final else None

        runs = await wait_for(finished, 60)
        assert [(r.attempt, r.status, r.error) for r in runs] == [(1, RunStatus.COMPLETED, None)]
        assert len(_lines(log, "start")) == 1 and len(_lines(log, "end")) == 1
    finally:
        for proc in procs:
            await _stop(proc)
        await db.dispose()


async def test_a_killed_workers_run_is_recovered_by_another(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    log = tmp_path / "log"
    first = await _spawn(database_url, log, 2.0)
    second: asyncio.subprocess.Process | None = None
    try:
        wid = await _workspace(db)
        now = datetime.now(UTC)
        tid = await add_task(
            db,
            wid,
            schedule=once(now),
            next_fire_at=None,
            action={"type": "slow", "seconds": 2},
            retry_policy=RETRY,
        )
        await _due_now(db, tid)

        async def started() -> bool | None:
            return True if _lines(log, "start") else None

        await wait_for(started, 30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        second = await _spawn(database_url, log, 2.0)

        async def retried() -> list[Run] | None:
            runs = await _runs(db, tid)
            return runs if len(runs) == 2 and runs[1].status == RunStatus.COMPLETED else None

        runs = await wait_for(retried, 60)
        assert runs[0].status == RunStatus.RETRYING
        assert (runs[0].error or "").startswith("crashed: worker")
        starts = _lines(log, "start")
        assert [(s[2], s[3]) for s in starts] == [("1", str(first.pid)), ("2", str(second.pid))]
    finally:
        await _stop(second) if second is not None else None
        await db.dispose()


async def test_a_crash_retry_does_not_post_a_delivered_reminder_again(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    log = tmp_path / "log"
    first = await _spawn(database_url, log, 30.0)
    second: asyncio.subprocess.Process | None = None
    try:
        wid = await _workspace(db)
        now = datetime.now(UTC)
        tid = await add_task(
            db,
            wid,
            kind=TaskKind.REMINDER,
            schedule=once(now),
            next_fire_at=None,
            action={},
            retry_policy=RETRY,
        )
        await _due_now(db, tid)

        async def delivered() -> Run | None:
            runs = await _runs(db, tid)
            # Recorded right after the post, while the attempt is still running.
            return runs[0] if runs and runs[0].delivered_at is not None else None

        first_run = await wait_for(delivered, 30)
        assert first_run.status == RunStatus.RUNNING
        assert first_run.delivery_ref is not None and f"msg-{first.pid}-1" in first_run.delivery_ref
        first.send_signal(signal.SIGKILL)  # after the post, before the outcome
        await first.wait()
        second = await _spawn(database_url, log, 30.0)

        async def retried() -> list[Run] | None:
            runs = await _runs(db, tid)
            return runs if len(runs) == 2 and runs[1].status == RunStatus.COMPLETED else None

        runs = await wait_for(retried, 60)
        assert (runs[0].error or "").startswith("crashed: worker")
        assert "already delivered in attempt 1" in (runs[1].output or "")
        assert len(_lines(log, "post")) == 1  # posted once, by the first process
        done = _lines(log, "done")
        assert [(d[2], d[3]) for d in done] == [("1", "False"), ("2", "True")]
    finally:
        await _stop(second) if second is not None else None
        await db.dispose()


async def test_a_survivor_takes_over_a_killed_workers_run_within_seconds(
    database_url: str, tmp_path: Path
) -> None:
    """With a 60 s lease, a run of a worker killed on this host is retried by a worker
    that was already running within a few seconds (its pid is gone), not after the lease."""
    db = Database(database_url)
    log = tmp_path / "log"
    procs = [await _spawn(database_url, log, 60.0) for _ in range(2)]
    try:
        wid = await _workspace(db)
        tid = await add_task(
            db,
            wid,
            schedule=once(datetime.now(UTC)),
            next_fire_at=None,
            action={"type": "slow", "seconds": 30},
            retry_policy=RETRY,
        )
        await _due_now(db, tid)
        [start] = await wait_for(lambda: _lines(log, "start") or None, 30, "the first attempt")
        victim = next(p for p in procs if str(p.pid) == start[-1])
        survivor = next(p for p in procs if p is not victim)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()

        async def retried() -> list[list[str]] | None:
            return [s for s in _lines(log, "start") if s[2] == "2"] or None

        [again] = await wait_for(retried, 15, "the survivor's retry (a lease is 60 s)")
        assert again[-1] == str(survivor.pid)
        runs = await _runs(db, tid)
        assert (runs[0].error or "").startswith("crashed: worker")
    finally:
        for proc in procs:
            await _stop(proc)
        await db.dispose()
