"""The run store: idempotent fires, atomic cursor moves, claims, outcomes, history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.db import Database
from core.enums import RunStatus, RunTrigger
from core.store.runs import CursorMove, NewRun, Outcome, RunStore

from .helpers import T0, add_task, once

LEASE = timedelta(seconds=30)


async def test_fire_is_idempotent_and_moves_cursor(database: Database, workspace_id: int) -> None:
    store = RunStore(database)
    tid = await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
    first = await store.fire(tid, T0, next_fire_at=None, now=T0)
    second = await store.fire(tid, T0, next_fire_at=None, now=T0)
    assert first is not None and second is None
    assert await store.cursors() == []
    runs = await store.runs_for(tid)
    assert [(r.status, r.attempt) for r in runs] == [(RunStatus.PENDING, 1)]


async def test_cursor_is_compare_and_set(database: Database, workspace_id: int) -> None:
    store = RunStore(database)
    later = T0 + timedelta(hours=1)
    tid = await add_task(database, workspace_id, schedule=once(later), next_fire_at=later)
    # A stale engine that still believes the cursor is T0 must not move it.
    await store.fire_many([], [CursorMove(tid, T0, None)], now=T0)
    assert await store.cursors() == [(tid, later)]


async def test_concurrent_double_fire_inserts_once(database: Database, workspace_id: int) -> None:
    stores = [RunStore(database) for _ in range(4)]
    ids = [
        await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
        for _ in range(20)
    ]
    batches = await asyncio.gather(
        *[
            s.fire_many(
                [NewRun(t, T0) for t in ids], [CursorMove(t, T0, None) for t in ids], now=T0
            )
            for s in stores
        ]
    )
    assert sorted(f.task_id for b in batches for f in b) == sorted(ids)


async def test_grouped_cursor_moves_are_still_compare_and_set(
    database: Database, workspace_id: int
) -> None:
    """Many moves sharing old and new cursor go as one IN-list UPDATE; each row is
    still compared on its own: a task moved by someone else keeps its cursor and
    gets no run, and a second fire of the batch inserts nothing."""
    store = RunStore(database)
    later = T0 + timedelta(hours=1)
    ids = [
        await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
        for _ in range(40)
    ]
    moved_away = ids[7]
    await store.fire_many([], [CursorMove(moved_away, T0, later)], now=T0)
    fired = await store.fire_many(
        [NewRun(t, T0) for t in ids], [CursorMove(t, T0, None) for t in ids], now=T0
    )
    assert sorted(f.task_id for f in fired) == sorted(set(ids) - {moved_away})
    assert {f.scheduled_for for f in fired} == {T0}
    assert await store.cursors() == [(moved_away, later)]
    again = await store.fire_many(
        [NewRun(t, T0) for t in ids], [CursorMove(t, T0, None) for t in ids], now=T0
    )
    assert again == []


async def test_claim_lease_and_outcomes(database: Database, workspace_id: int) -> None:
    store = RunStore(database)
    tid = await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
    fired = await store.fire(tid, T0, next_fire_at=None, now=T0)
    assert fired is not None
    assert await store.claim("w1", limit=10, now=T0 - timedelta(seconds=1), lease=LEASE) == []
    claimed = await store.claim("w1", limit=10, now=T0, lease=LEASE)
    assert [c.run_id for c in claimed] == [fired.run_id]
    assert await store.claim("w2", limit=10, now=T0, lease=LEASE) == []
    # Someone else's outcome is ignored; the owner's applies once.
    await store.finish_many([Outcome(fired.run_id, "w2", RunStatus.COMPLETED)], now=T0)
    retry_at = T0 + timedelta(seconds=5)
    new = await store.finish_many(
        [
            Outcome(
                fired.run_id,
                "w1",
                RunStatus.RETRYING,
                error="boom",
                duration_ms=3,
                retry_at=retry_at,
            )
        ],
        now=T0,
    )
    assert [(n.attempt, n.status) for n in new] == [(2, RunStatus.PENDING)]
    assert await store.claim("w1", limit=10, now=T0, lease=LEASE) == []
    again = await store.claim("w1", limit=10, now=retry_at, lease=LEASE)
    assert [(c.attempt, c.trigger) for c in again] == [(2, RunTrigger.RETRY)]
    await store.finish_many(
        [Outcome(again[0].run_id, "w1", RunStatus.FAILED, error="boom again")], now=retry_at
    )
    runs = await store.runs_for(tid)
    assert [(r.attempt, r.status, r.error) for r in runs] == [
        (2, RunStatus.FAILED, "boom again"),
        (1, RunStatus.RETRYING, "boom"),
    ]
    events = await store.events_for(fired.run_id)
    assert [e.status for e in events] == [RunStatus.RUNNING, RunStatus.RETRYING]


async def test_concurrent_claims_never_share_a_run(database: Database, workspace_id: int) -> None:
    store = RunStore(database)
    ids = [
        await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
        for _ in range(50)
    ]
    await store.fire_many([NewRun(t, T0) for t in ids], now=T0)
    workers = [RunStore(database) for _ in range(5)]
    results = await asyncio.gather(
        *[w.claim(f"w{i}", limit=7, now=T0, lease=LEASE) for i in range(3) for w in workers]
    )
    claimed = [c.run_id for batch in results for c in batch]
    assert len(claimed) == len(set(claimed)) == 50


async def test_cancel_only_pending_and_skipped_fires(database: Database, workspace_id: int) -> None:
    store = RunStore(database)
    tid = await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
    fired = await store.fire_many(
        [
            NewRun(tid, T0 - timedelta(hours=2), RunTrigger.MISFIRE, skip_reason="missed by 2h"),
            NewRun(tid, T0),
        ],
        now=T0,
    )
    skipped, pending = fired
    assert skipped.status is RunStatus.SKIPPED
    assert await store.cancel(pending.run_id, now=T0)
    assert not await store.cancel(pending.run_id, now=T0)
    runs = {r.id: r for r in await store.runs_for(tid)}
    assert runs[skipped.run_id].error == "missed by 2h"
    assert runs[pending.run_id].status == RunStatus.CANCELLED


async def test_a_reserved_run_is_left_to_its_worker_and_cancel_still_wins(
    database: Database, workspace_id: int
) -> None:
    store = RunStore(database)
    a, b = [
        await add_task(database, workspace_id, schedule=once(T0), next_fire_at=None)
        for _ in range(2)
    ]
    fired = await store.fire_many([NewRun(a, T0), NewRun(b, T0)], now=T0)
    ids = {f.task_id: f.run_id for f in fired}
    assert set(await store.reserve("w1", [ids[a], ids[b]], until=T0 + LEASE)) == set(ids.values())
    # Another worker's claim skips reservations, even once due.
    assert await store.claim("w2", limit=10, now=T0, lease=LEASE) == []
    # The engine's cancel settles a reserved run (it has not started).
    assert await store.cancel(ids[b], now=T0)
    # The reserving worker starts it from memory; the start is written afterwards.
    started = T0 + timedelta(milliseconds=3)
    await store.finish_many([], now=started, started=[(ids[a], "w1", started, "attempt 1 on w1")])
    run = await store.get(ids[a])
    assert run is not None and run.status == RunStatus.RUNNING and run.started_at == started
    await store.finish_many([Outcome(ids[a], "w1", RunStatus.COMPLETED, "ok")], now=started)
    assert [e.status for e in await store.events_for(ids[a])] == ["running", "completed"]
    # Released reservations are claimable by anyone.
    c = await add_task(database, workspace_id, schedule=once(T0), next_fire_at=None)
    [f] = await store.fire_many([NewRun(c, T0)], now=T0)
    await store.reserve("w1", [f.run_id], until=T0 + LEASE)
    assert await store.release([f.run_id], owner="w1") == 1
    assert [r.run_id for r in await store.claim("w2", limit=10, now=T0, lease=LEASE)] == [f.run_id]


async def test_deliveries_are_recorded_before_the_outcome_and_read_by_the_retry(
    database: Database, workspace_id: int
) -> None:
    from core.store.runs import Delivery

    store = RunStore(database)
    tid = await add_task(database, workspace_id, schedule=once(T0), next_fire_at=None)
    await store.fire_many([NewRun(tid, T0)], now=T0)
    [claimed] = await store.claim("w1", limit=1, now=T0, lease=LEASE)
    await store.finish_many(
        [],
        now=T0,
        deliveries=[
            Delivery(claimed.run_id, "w1", "C1//", "ts-1", T0),
            Delivery(claimed.run_id, "w1", "//U2", None, T0),
        ],
    )
    run = await store.get(claimed.run_id)
    assert run is not None and run.status == RunStatus.RUNNING and run.delivered_at == T0
    # The attempt is cut off; its retry asks what attempt 1 already delivered.
    await store.finish_many(
        [Outcome(claimed.run_id, "w1", RunStatus.RETRYING, error="crashed: x\x00y", retry_at=T0)],
        now=T0,
    )
    assert await store.deliveries_before(tid, T0, 2) == {"C1//": (1, "ts-1"), "//U2": (1, None)}
    assert await store.deliveries_before(tid, T0, 1) == {}
    [retry] = await store.claim("w2", limit=1, now=T0, lease=LEASE)
    assert retry.attempt == 2 and await store.crashed_before([retry]) == {retry.run_id}
    first = await store.get(claimed.run_id)
    assert first is not None and first.error == "crashed: x\ufffdy"  # NUL cannot block a write


async def test_statuses_read_back_are_the_enum(database: Database, workspace_id: int) -> None:
    """A run's and its events' status come back as ``RunStatus`` members (not plain
    ``str``), so ``status is RunStatus.X`` is a safe test on what the store returns."""
    store = RunStore(database)
    tid = await add_task(database, workspace_id, schedule=once(T0), next_fire_at=T0)
    fired = await store.fire_many(
        [NewRun(tid, T0 - timedelta(hours=2), RunTrigger.MISFIRE, skip_reason="missed by 2h")],
        now=T0,
    )
    (run,) = await store.runs_for(tid)
    got = await store.get(fired[0].run_id)
    events = await store.events_for(run.id or 0)
    assert run.status is RunStatus.SKIPPED
    assert got is not None and got.status is RunStatus.SKIPPED
    assert events and all(type(e.status) is RunStatus for e in events)
