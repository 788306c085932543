"""The write side of change propagation and the engine's back-off, in one process.

Every write path bumps ``tasks.change_seq`` (what the rescan reads) and, on
PostgreSQL, sends one NOTIFY per transaction; an edit cancels runs staged ahead
of it even when no engine is alive to hear of it; the worker skips a due run of
a paused task; a failing database makes the engine back off instead of spinning.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.clock import ManualClock
from core.db import Database
from core.enums import RunStatus, RunTrigger, TaskKind
from core.models import Member
from core.scheduler.changes import ChangeWatcher
from core.scheduler.engine import SchedulerEngine
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.changes import CHANGED_REASON, CHANNEL, RESCAN, ChangeFeed, parse_payload, payload
from core.store.runs import CursorMove, FiredRun, NewRun, RunStore

from .harness import RecordingMetrics, quiet, running, wait_for

POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


class Recorder:
    """A ``ChangeTarget`` that remembers what it was told."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def tasks_changed(self, task_ids: Sequence[int]) -> None:
        self.batches.append(list(task_ids))


def _once(at: datetime) -> dict[str, Any]:
    return {"kind": "once", "at": at.isoformat(), "timezone": "UTC"}


async def _reminder(service: TaskService, actor: Member, at: datetime) -> int:
    task = await service.create(
        {"kind": TaskKind.REMINDER, "title": "r", "schedule": _once(at)}, actor=actor
    )
    return task.id


def test_a_payload_too_long_for_notify_says_rescan() -> None:
    assert payload([3, 1, 2, 2]) == "1,2,3"
    assert parse_payload("1,2,3") == [1, 2, 3]
    assert payload(range(1_000_000, 1_002_000)) == RESCAN
    assert parse_payload(RESCAN) is None


async def test_every_write_that_moves_fires_is_seen_by_the_rescan(
    store: SqlStore, database: Database, clock: ManualClock, member: Member
) -> None:
    service = TaskService(store=store, clock=clock)
    feed = ChangeFeed(database)
    watcher = ChangeWatcher(feed=feed, target=Recorder())
    await watcher.prime()
    task_id = await _reminder(service, member, clock.now() + timedelta(hours=1))

    async def seen() -> list[int]:
        return sorted(await watcher.rescan())

    assert await seen() == [task_id]  # created
    assert await seen() == []  # each change is forwarded once
    writes = {
        "reschedule": lambda: service.update(
            task_id, {"schedule": _once(clock.now() + timedelta(hours=2))}, actor=member
        ),
        "pause": lambda: service.pause(task_id, actor=member),
        "resume": lambda: service.resume(task_id, actor=member),
        "complete": lambda: service.complete(task_id, actor=member),
        "reopen": lambda: service.reopen(task_id, actor=member),
        "delete": lambda: service.delete(task_id, actor=member),
        "restore": lambda: service.restore(task_id, actor=member),
        "pause as an update": lambda: service.update(task_id, {"enabled": False}, actor=member),
        "resume as an update": lambda: service.update(task_id, {"enabled": True}, actor=member),
        "cursor": lambda: store.set_next_fire_at(task_id, clock.now() + timedelta(hours=3)),
    }
    for name, write in writes.items():
        await write()
        assert await seen() == [task_id], name
    # Edits the engine does not care about are not announced.
    await service.update(task_id, {"title": "renamed"}, actor=member)
    assert await seen() == []


async def test_the_rescan_rereads_an_overlap_for_late_commits(
    store: SqlStore, database: Database, clock: ManualClock, member: Member
) -> None:
    """A transaction may commit a counter value below one already seen (it took its
    value first): the rescan reads the last ``overlap_seconds`` of values again."""
    timer = ManualClock(clock.now())
    service = TaskService(store=store, clock=clock)
    watcher = ChangeWatcher(
        feed=ChangeFeed(database), target=Recorder(), timer=timer, overlap_seconds=5
    )
    await watcher.prime()
    early = await _reminder(service, member, clock.now() + timedelta(hours=1))
    late = await _reminder(service, member, clock.now() + timedelta(hours=1))
    # Make `early` look like it committed after the rescan below, with its older value.
    async with database.engine.begin() as conn:
        seq = (
            await conn.execute(sa.text(f"SELECT change_seq FROM tasks WHERE id = {early}"))
        ).scalar()
        await conn.execute(sa.text(f"UPDATE tasks SET change_seq = 0 WHERE id = {early}"))
    assert await watcher.rescan() == [late]
    timer.advance(1)
    async with database.engine.begin() as conn:
        await conn.execute(sa.text(f"UPDATE tasks SET change_seq = {seq} WHERE id = {early}"))
    assert await watcher.rescan() == [early]


@POSTGRES_ONLY
async def test_one_notify_per_transaction_carries_the_changed_ids(
    store: SqlStore, database: Database, clock: ManualClock, member: Member
) -> None:
    heard: list[str] = []
    dsn = make_url(database.url).set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    await conn.add_listener(CHANNEL, lambda *args: heard.append(args[3]))
    try:
        service = TaskService(store=store, clock=clock)
        at = clock.now() + timedelta(hours=1)
        async with store.transaction():  # a bulk create: three tasks, one commit
            ids = [await _reminder(service, member, at) for _ in range(3)]
        await wait_for(lambda: heard, what="the notification")
        await service.update(ids[0], {"title": "renamed"}, actor=member)  # not announced
        await service.pause(ids[1], actor=member)
        await wait_for(lambda: len(heard) >= 2, what="the second notification")
        assert heard == [",".join(map(str, sorted(ids))), str(ids[1])]
    finally:
        await conn.close()


async def _stage(runs: RunStore, task_id: int, at: datetime, now: datetime) -> FiredRun:
    """What an engine does ``lookahead`` seconds ahead: a pending run, the cursor moved on."""
    [run] = await runs.fire_many(
        [NewRun(task_id, at, RunTrigger.SCHEDULE, not_before=at)],
        [CursorMove(task_id, at, None)],
        now=now,
    )
    return run


async def test_an_edit_cancels_runs_staged_by_an_engine_that_is_gone(
    store: SqlStore, database: Database, clock: ManualClock, member: Member
) -> None:
    """No engine hears of the edit here: the store cancels the staged run itself."""
    service = TaskService(store=store, clock=clock)
    runs = RunStore(database)
    at = clock.now() + timedelta(seconds=2)
    moved = await _reminder(service, member, at)
    kept = await _reminder(service, member, at)
    paused = await _reminder(service, member, at)
    staged = {tid: await _stage(runs, tid, at, clock.now()) for tid in (moved, kept, paused)}

    await service.update(moved, {"schedule": _once(at + timedelta(minutes=5))}, actor=member)
    # Rescheduled to the very instant already staged: that run is the fire it wants.
    await service.update(kept, {"schedule": _once(at), "title": "same time"}, actor=member)
    await service.pause(paused, actor=member)

    async def status(tid: int) -> tuple[str, str | None]:
        run = await runs.get(staged[tid].run_id)
        assert run is not None
        return run.status, run.error

    assert await status(moved) == (RunStatus.CANCELLED, CHANGED_REASON)
    assert await status(paused) == (RunStatus.CANCELLED, CHANGED_REASON)
    assert await status(kept) == (RunStatus.PENDING, None)
    events = await runs.events_for(staged[moved].run_id)
    assert [(e.status, e.detail) for e in events] == [(RunStatus.CANCELLED, CHANGED_REASON)]


async def test_a_due_run_of_a_task_paused_before_it_started_is_skipped(
    store: SqlStore, database: Database, clock: ManualClock, member: Member
) -> None:
    """The worker's last check: a run already due (so not cancelled by the pause) whose
    task is no longer live is recorded skipped, never executed."""
    service = TaskService(store=store, clock=clock)
    runs = RunStore(database)
    at = clock.now()
    task_id = await _reminder(service, member, at + timedelta(hours=1))
    await service.update(task_id, {"action": {"type": "record"}}, actor=member)
    [run] = await runs.fire_many([NewRun(task_id, at, RunTrigger.SCHEDULE)], now=at)
    clock.advance(1)
    await service.pause(task_id, actor=member)
    assert (await runs.get(run.run_id)).status == RunStatus.PENDING  # type: ignore[union-attr]
    async with running(database, clock) as h:
        [done] = await h.settle(task_id, 1)
        assert done.status == RunStatus.SKIPPED
        assert "paused" in (done.error or "")
        assert h.executor.calls == []


class FlakyRuns(RunStore):
    """A run store whose fires fail while ``down`` (as with the database unreachable)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.down = False
        self.fire_calls = 0

    async def fire_many(self, *args: Any, **kwargs: Any) -> list[FiredRun]:
        self.fire_calls += 1
        if self.down:
            raise ConnectionRefusedError("connection refused (simulated)")
        return await super().fire_many(*args, **kwargs)


class Sink:
    def __init__(self) -> None:
        self.runs: list[FiredRun] = []

    def submit(self, runs: Sequence[FiredRun]) -> None:
        self.runs.extend(runs)


async def test_failed_fires_back_off_and_log_once_per_state_change(
    store: SqlStore,
    database: Database,
    clock: ManualClock,
    member: Member,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = TaskService(store=store, clock=clock)
    task_id = await _reminder(service, member, clock.now() + timedelta(seconds=10))
    runs, sink, metrics = FlakyRuns(database), Sink(), RecordingMetrics()
    # Seeded jitter: low draws (each delay is ½–1 of 0.5, 1, 2 … s) can fit a seventh
    # attempt into the 20 s, whose back-off reaches the 30 s cap and rightly logs one
    # more state change ("still unavailable … every 30 s"). This seed makes six.
    engine = SchedulerEngine(
        store=runs, clock=clock, sink=sink, metrics=metrics, rng=random.Random(0)
    )
    caplog.set_level(logging.DEBUG, logger="core.scheduler")
    await engine.start()
    try:
        runs.down = True
        clock.advance(10)
        # 20 s of outage in 0.1 s steps: a spinning loop would fire thousands of times.
        for _ in range(200):
            await quiet(engine, clock)
            clock.advance(0.1)
        failed = runs.fire_calls
        assert 4 <= failed <= 10, failed  # 0.5, 1, 2, 4, 8, 16 s … (jittered)
        assert metrics.errors == ["engine"] * failed
        assert sink.runs == []
        runs.down = False
        await wait_for(lambda: _advance_until(engine, clock, lambda: sink.runs), 10, "the fire")
        assert [r.task_id for r in sink.runs] == [task_id]
        assert metrics.fires == [1]
    finally:
        await engine.stop()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]
    assert warnings[0].getMessage().startswith("engine: database unavailable (")
    assert warnings[1].getMessage().startswith("engine: database back after ")
    assert all(r.exc_info is None for r in caplog.records)


async def _advance_until(engine: SchedulerEngine, clock: ManualClock, done: Any) -> bool:
    await quiet(engine, clock)
    if done():
        return True
    clock.advance(0.5)
    return False


async def test_the_watcher_retries_the_hand_over_after_a_failure(
    store: SqlStore, database: Database, clock: ManualClock, member: Member
) -> None:
    """A change heard while the engine cannot read the database is retried, not lost."""

    class Failing(Recorder):
        failures = 2

        async def tasks_changed(self, task_ids: Sequence[int]) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionRefusedError("down")
            await super().tasks_changed(task_ids)

    target = Failing()
    watcher = ChangeWatcher(feed=ChangeFeed(database), target=target, rescan_seconds=0.05)
    await watcher.prime()
    await watcher.start()
    try:
        service = TaskService(store=store, clock=clock)
        task_id = await _reminder(service, member, clock.now() + timedelta(hours=1))
        await wait_for(lambda: target.batches, 10, "the hand-over")
        assert target.batches[0] == [task_id]
    finally:
        await watcher.stop()
