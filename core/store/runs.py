"""The run store: turning fires into run rows, claiming them, and recording outcomes.

Every write here is guarded so that racing engines, workers and replicas cannot
double-run a fire:

* a fire inserts ``runs`` with ``ON CONFLICT DO NOTHING`` on the unique key
  ``(task_id, scheduled_for, attempt)`` and moves ``tasks.next_fire_at`` with a
  compare-and-set on the old cursor, both in one transaction;
* a claim moves ``pending`` runs to ``running`` under a lease in one statement
  (``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` on
  PostgreSQL; SQLite has one writer, so the same statement is atomic there);
* an outcome only applies while the run is still ``running`` under the lease
  owner that reports it.

The hot paths use SQLAlchemy Core with ``executemany``; ORM objects are only
built for the read APIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col, select

from core.db import Database
from core.enums import RunStatus, RunTrigger, TaskStatus
from core.errors import InvalidInput
from core.models import Run, RunEvent, Task
from core.store.release import Finished, release
from core.store.run_types import (
    ClaimedRun,
    CursorMove,
    Delivery,
    FiredRun,
    FireInfo,
    NewRun,
    Outcome,
)
from core.store.runs_sql import RawSql

__all__ = [
    "EVENTS",
    "RUNS",
    "TASKS",
    "ClaimedRun",
    "CursorMove",
    "Delivery",
    "FireInfo",
    "FiredRun",
    "NewRun",
    "Outcome",
    "RunStore",
]

RUNS: sa.Table = SQLModel.metadata.tables["runs"]
EVENTS: sa.Table = SQLModel.metadata.tables["run_events"]
TASKS: sa.Table = SQLModel.metadata.tables["tasks"]

#: Statuses an outcome may set on a running run.
_OUTCOMES = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.RETRYING,
        RunStatus.SKIPPED,
        RunStatus.CANCELLED,
        RunStatus.BLOCKED,
    }
)
#: How the error of an attempt cut off by a dead worker starts (recovery writes it).
CRASHED = "crashed:"
#: Statuses a pending run may be moved to without running (cancel, DAG decisions).
_SETTLE = frozenset({RunStatus.CANCELLED, RunStatus.SKIPPED, RunStatus.BLOCKED})

_T = TypeVar("_T")

# SQLite allows 32,766 bound variables per statement; a run row binds 8.
_CHUNK = 500
#: Cursor moves sharing old and new value go as one IN-list UPDATE from this many on.
_GROUPED_MOVE = 32


def _schedulable() -> sa.ColumnElement[bool]:
    return sa.and_(
        TASKS.c.enabled.is_(True),
        TASKS.c.status == TaskStatus.OPEN.value,
        TASKS.c.deleted_at.is_(None),
    )


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RunStore:
    """Runs, their events and the engine's task cursor, on one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._sql = RawSql(db.engine.dialect.name)
        #: Told the ids of workflow passes that ended with outcomes just committed.
        self.on_workflow_ended: Callable[[list[int]], None] | None = None

    # --- firing -----------------------------------------------------------

    async def fire(
        self,
        task_id: int,
        scheduled_for: datetime,
        *,
        next_fire_at: datetime | None,
        trigger: RunTrigger = RunTrigger.SCHEDULE,
        now: datetime,
    ) -> FiredRun | None:
        """Insert the run for one fire and advance the task's cursor past it.

        Returns ``None`` when that fire already has a run (a double fire).
        """
        fired = await self.fire_many(
            [NewRun(task_id, scheduled_for, trigger)],
            [CursorMove(task_id, scheduled_for, next_fire_at)],
            now=now,
        )
        return fired[0] if fired else None

    async def fire_many(
        self, runs: Sequence[NewRun], cursors: Sequence[CursorMove] = (), *, now: datetime
    ) -> list[FiredRun]:
        """Insert many runs and move many cursors in ONE transaction.

        Runs whose key already exists are left alone and not returned, so the
        caller hands only genuinely new runs to workers.
        """
        if not runs and not cursors:
            return []
        async with self.db.engine.begin() as conn:
            # Start with a write so SQLite takes the write lock up front (waiting on
            # busy_timeout) instead of failing a read-to-write lock upgrade.
            moved = await self._move_cursors(conn, cursors)
            # A fire whose cursor move lost (another engine fired it, or the task was
            # changed meanwhile) must not insert its runs either.
            gated = {c.task_id for c in cursors}
            runs = [r for r in runs if r.task_id not in gated or r.task_id in moved]
            fired = await self._insert_runs(conn, runs, now)
        return fired

    async def _move_cursors(self, conn: AsyncConnection, cursors: Sequence[CursorMove]) -> set[int]:
        """Compare-and-set the cursors; returns the ids of the tasks that moved.

        Moves that share their old and new cursor (a burst of one-offs due in the
        same second, tasks on one "daily at 9" schedule) go as one
        ``UPDATE … WHERE id IN (…) AND next_fire_at = old`` per group: a primary-key
        lookup per row, half the cost of joining a ``VALUES`` list. The rest go
        through the ``UPDATE … FROM (VALUES …)`` join.
        """
        sql = self._sql
        moved: set[int] = set()
        groups: dict[tuple[datetime, datetime | None], list[int]] = {}
        for c in cursors:
            groups.setdefault((c.expected, c.new), []).append(c.task_id)
        rest: list[CursorMove] = []
        for (expected, new), ids in groups.items():
            if len(ids) < _GROUPED_MOVE:
                rest.extend(CursorMove(tid, expected, new) for tid in ids)
                continue
            for id_chunk in _chunks(ids, sql.rows_per_statement(1) - 2):
                rows = await sql.run(
                    conn,
                    f"UPDATE tasks SET next_fire_at = {sql.mark(1)} "
                    f"WHERE next_fire_at = {sql.mark(2)} "
                    f"AND id IN ({sql.marks(len(id_chunk), start=3)}) RETURNING id",
                    [sql.dt(new), sql.dt(expected), *id_chunk],
                )
                moved.update(r[0] for r in rows)
        for chunk in _chunks(rest, sql.rows_per_statement(3)):
            values, params = sql.values(
                [(c.task_id, sql.dt(c.expected), sql.dt(c.new)) for c in chunk],
                ("int", "timestamptz", "timestamptz"),
            )
            rows = await sql.run(
                conn,
                f"UPDATE tasks SET next_fire_at = v.column3 FROM (VALUES {values}) AS v "
                "WHERE tasks.id = v.column1 AND tasks.next_fire_at = v.column2 "
                "RETURNING tasks.id",
                params,
            )
            moved.update(r[0] for r in rows)
        return moved

    async def _insert_runs(
        self, conn: AsyncConnection, runs: Sequence[NewRun], now: datetime
    ) -> list[FiredRun]:
        if not runs:
            return []
        sql = self._sql
        at = sql.dt(now)
        fired: list[FiredRun] = []
        for chunk in _chunks(runs, sql.rows_per_statement(11)):
            values, params = sql.values(
                [
                    (
                        r.task_id,
                        sql.dt(r.scheduled_for),
                        r.attempt,
                        (r.skip_status if r.skip_reason else RunStatus.PENDING).value,
                        r.trigger.value,
                        sql.dt(r.not_before or r.scheduled_for),
                        at,
                        at if r.skip_reason else None,
                        r.skip_reason,
                        r.workflow_run_id,
                        r.event_id,
                    )
                    for r in chunk
                ],
                ("",) * 9 + ("int", "int"),
            )
            # No conflict target: a retry of an event's run may also meet the
            # (task_id, event_id, attempt) key; either way the fire already has a run.
            rows = await sql.run(
                conn,
                "INSERT INTO runs (task_id, scheduled_for, attempt, status, trigger, not_before, "
                f"created_at, finished_at, error, workflow_run_id, event_id) VALUES {values} "
                "ON CONFLICT DO NOTHING "
                "RETURNING id, task_id, scheduled_for, attempt, status, not_before",
                params,
            )
            fired.extend(
                FiredRun(
                    r[0], r[1], _aware(sql.from_db(r[2])), r[3], RunStatus(r[4]), sql.from_db(r[5])
                )
                for r in rows
            )
        skipped = [f for f in fired if f.status in (RunStatus.SKIPPED, RunStatus.BLOCKED)]
        if skipped:
            # A pending run's creation is its row's created_at; a skipped fire is
            # also a final transition, so it gets an event with its reason.
            reasons = {(r.task_id, r.scheduled_for, r.attempt): r.skip_reason for r in runs}
            await self._events(
                conn,
                [
                    (f.run_id, f.status, now, reasons.get((f.task_id, f.scheduled_for, f.attempt)))
                    for f in skipped
                ],
            )
        return fired

    async def write_runs(
        self, conn: AsyncConnection, runs: Sequence[NewRun], now: datetime
    ) -> list[FiredRun]:
        """Insert runs on a connection already in a transaction (the workflow commands')."""
        return await self._insert_runs(conn, runs, now)

    async def _events(
        self,
        conn: AsyncConnection,
        events: Sequence[tuple[int, RunStatus, datetime, str | None]],
    ) -> None:
        sql = self._sql
        for chunk in _chunks(events, sql.rows_per_statement(4)):
            values, params = sql.values(
                [
                    (rid, st.value, sql.dt(at), _clean(_clip(detail)))
                    for rid, st, at, detail in chunk
                ],
                ("", "", "", ""),
            )
            await sql.run(
                conn,
                f"INSERT INTO run_events (run_id, status, at, detail) VALUES {values}",
                params,
            )

    # --- claiming ---------------------------------------------------------

    async def claim(
        self, worker_id: str, *, limit: int, now: datetime, lease: timedelta
    ) -> list[ClaimedRun]:
        """Lease up to ``limit`` pending runs that are due (``not_before <= now``)."""
        if limit <= 0:
            return []
        sql = self._sql
        # SKIP LOCKED lets replicas claim side by side on PostgreSQL; SQLite has a
        # single writer, so the one statement is atomic there as it is.
        lock = " FOR UPDATE SKIP LOCKED" if sql.pg else ""
        # A pending run reserved by a worker (``reserve``) is left to it; a dead
        # worker's reservation is settled by recovery (it may have started).
        where = (
            "id IN (SELECT id FROM runs WHERE status = 'pending' AND not_before <= "
            f"{sql.mark(4)} AND lease_owner IS NULL "
            f"ORDER BY not_before, id LIMIT {sql.mark(5)}{lock})"
        )
        params = [worker_id, sql.dt(now + lease), sql.dt(now), sql.dt(now), limit]
        return await self._claim(where, params, worker_id, now)

    async def claim_ids(
        self, worker_id: str, run_ids: Sequence[int], *, now: datetime, lease: timedelta
    ) -> list[ClaimedRun]:
        """Lease the given runs if they are still pending (the engine's direct hand-off)."""
        sql = self._sql
        claimed: list[ClaimedRun] = []
        for chunk in _chunks(run_ids, sql.rows_per_statement(1) - 10):
            # Staged runs reach the pool at their instant; never start one early.
            where = (
                f"id IN ({sql.marks(len(chunk), start=4)}) "
                f"AND not_before <= {sql.mark(4 + len(chunk))}"
            )
            params = [worker_id, sql.dt(now + lease), sql.dt(now), *chunk, sql.dt(now)]
            claimed.extend(await self._claim(where, params, worker_id, now))
        return claimed

    async def _claim(
        self, where: str, params: list[Any], worker_id: str, now: datetime
    ) -> list[ClaimedRun]:
        sql = self._sql
        async with self.db.engine.begin() as conn:
            rows = await sql.run(
                conn,
                f"UPDATE runs SET status = 'running', lease_owner = {sql.mark(1)}, "
                f"lease_expires_at = {sql.mark(2)}, started_at = {sql.mark(3)} "
                f"WHERE {where} AND status = 'pending' "
                "RETURNING id, task_id, scheduled_for, attempt, trigger",
                params,
            )
            claimed = [
                ClaimedRun(r[0], r[1], _aware(sql.from_db(r[2])), r[3], RunTrigger(r[4]), worker_id)
                for r in rows
            ]
            if claimed:
                await self._events(
                    conn,
                    [
                        (c.run_id, RunStatus.RUNNING, now, f"attempt {c.attempt} on {worker_id}")
                        for c in claimed
                    ],
                )
        return claimed

    async def reserve(
        self, worker_id: str, run_ids: Sequence[int], *, until: datetime
    ) -> dict[int, RunTrigger]:
        """Reserve pending runs staged ahead of their instant for ``worker_id``.

        They stay ``pending`` — the engine's ``cancel`` still settles them — but
        carry ``lease_owner``, so other workers' ``claim`` leaves them alone. The
        worker starts them from memory at their instant and writes the start
        right after (``finish_many(started=…)``); a reservation of a worker that
        died is settled by ``WorkerPool.recover`` (``reservations``).
        Returns the triggers of the runs reserved, by id.
        """
        sql = self._sql
        out: dict[int, RunTrigger] = {}
        async with self.db.engine.begin() as conn:
            for chunk in _chunks(run_ids, sql.rows_per_statement(1) - 4):
                rows = await sql.run(
                    conn,
                    f"UPDATE runs SET lease_owner = {sql.mark(1)}, "
                    f"lease_expires_at = {sql.mark(2)} "
                    f"WHERE id IN ({sql.marks(len(chunk), start=3)}) AND status = 'pending' "
                    "RETURNING id, trigger",
                    [worker_id, sql.dt(until), *chunk],
                )
                out.update((r[0], RunTrigger(r[1])) for r in rows)
        return out

    async def release(self, run_ids: Sequence[int], *, owner: str) -> int:
        """Drop ``owner``'s reservations of still-pending runs (a worker stopping)."""
        released = 0
        async with self.db.engine.begin() as conn:
            for chunk in _chunks(run_ids, 5000):
                result = await conn.execute(
                    sa.update(RUNS)
                    .where(
                        RUNS.c.id.in_(chunk),
                        RUNS.c.status == RunStatus.PENDING.value,
                        RUNS.c.lease_owner == owner,
                    )
                    .values(lease_owner=None, lease_expires_at=None)
                    .returning(RUNS.c.id)
                )
                released += len(result.all())
        return released

    async def ping(self) -> None:
        """One trivial query: raises while the database is unreachable."""
        async with self.db.engine.connect() as conn:
            await conn.execute(sa.select(1))

    async def reservations(self) -> list[tuple[int, str, datetime | None, datetime]]:
        """Reserved pending runs: ``(run id, owner, reservation expiry, not_before)``."""
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        RUNS.c.id, RUNS.c.lease_owner, RUNS.c.lease_expires_at, RUNS.c.not_before
                    ).where(
                        RUNS.c.status == RunStatus.PENDING.value,
                        RUNS.c.lease_owner.is_not(None),
                    )
                )
            ).all()
        return [(r[0], r[1], r[2], _aware(r[3])) for r in rows]

    async def renew(self, worker_id: str, run_ids: Sequence[int], *, until: datetime) -> None:
        """Extend the lease (or reservation) of runs this worker holds."""
        if not run_ids:
            return
        async with self.db.engine.begin() as conn:
            for chunk in _chunks(run_ids, 5000):
                await conn.execute(
                    sa.update(RUNS)
                    .where(
                        RUNS.c.id.in_(chunk),
                        RUNS.c.lease_owner == worker_id,
                        # pending: reserved and started, its start not written yet
                        RUNS.c.status.in_([RunStatus.RUNNING.value, RunStatus.PENDING.value]),
                    )
                    .values(lease_expires_at=until)
                )

    # --- outcomes ---------------------------------------------------------

    async def finish_many(
        self,
        outcomes: Sequence[Outcome],
        *,
        now: datetime,
        deliveries: Sequence[Delivery] = (),
        started: Sequence[tuple[int, str, datetime, str]] = (),
    ) -> list[FiredRun]:
        """Record deliveries and start events, then how running attempts ended.

        Deliveries and the start of reserved runs (``reserve``; ``started`` holds
        ``(run id, owner, started at, event detail)``) commit first, then the
        outcomes in one transaction.
        An outcome applies only if the run is still running under ``owner``
        (a recovered or re-leased run is not overwritten). Retries insert the
        next attempt; the new pending runs are returned.
        """
        if deliveries or started:
            async with self.db.engine.begin() as conn:
                if started:
                    # A burst starts together: one statement per start instant.
                    by_at: dict[tuple[datetime, str], list[int]] = {}
                    for rid, owner, at, _ in started:
                        by_at.setdefault((at, owner), []).append(rid)
                    for (at, owner), ids in by_at.items():
                        for id_chunk in _chunks(ids, 5000):
                            await conn.execute(
                                sa.update(RUNS)
                                .where(
                                    RUNS.c.id.in_(id_chunk),
                                    RUNS.c.status == RunStatus.PENDING.value,
                                    RUNS.c.lease_owner == owner,
                                )
                                .values(status=RunStatus.RUNNING.value, started_at=at)
                            )
                    await self._events(
                        conn,
                        [(rid, RunStatus.RUNNING, at, detail) for rid, _, at, detail in started],
                    )
                if deliveries:
                    await self._deliver(conn, deliveries)
        if not outcomes:
            return []
        for o in outcomes:
            if o.status not in _OUTCOMES:
                raise InvalidInput(f"A running run cannot end as {o.status.value!r}.")
        sql = self._sql
        by_id = {o.run_id: o for o in outcomes}
        retries: list[NewRun] = []
        finished: list[Finished] = []
        events: list[tuple[int, RunStatus, datetime, str | None]] = []
        async with self.db.engine.begin() as conn:
            for chunk in _chunks(outcomes, sql.rows_per_statement(6)):
                values, params = sql.values(
                    [
                        (
                            o.run_id,
                            o.status.value,
                            _clean(o.output),
                            _clean(o.error),
                            o.duration_ms,
                            o.owner,
                        )
                        for o in chunk
                    ],
                    ("int", "text", "text", "text", "int", "text"),
                    start=2,
                )
                rows = await sql.run(
                    conn,
                    f"UPDATE runs SET status = v.column2, finished_at = {sql.mark(1)}, "
                    "output = v.column3, error = v.column4, duration_ms = v.column5, "
                    f"lease_expires_at = NULL FROM (VALUES {values}) AS v "
                    "WHERE runs.id = v.column1 AND runs.status = 'running' "
                    "AND runs.lease_owner = v.column6 "
                    "RETURNING runs.id, runs.task_id, runs.scheduled_for, runs.attempt, "
                    "runs.workflow_run_id, runs.event_id",
                    [sql.dt(now), *params],
                )
                for run_id, task_id, scheduled_raw, attempt, pass_id, event_id in rows:
                    o = by_id[run_id]
                    detail = o.error if o.status is not RunStatus.COMPLETED else o.output
                    if o.status is RunStatus.RETRYING and o.retry_at is not None:
                        detail = (
                            f"{o.error or ''} (attempt {attempt + 1} at {o.retry_at.isoformat()})"
                        )
                        retries.append(
                            NewRun(
                                task_id,
                                _aware(sql.from_db(scheduled_raw)),
                                RunTrigger.RETRY,
                                attempt + 1,
                                o.retry_at,
                                workflow_run_id=pass_id,
                                event_id=event_id,
                            )
                        )
                    events.append((run_id, o.status, now, detail))
                    finished.append(Finished(run_id, task_id, pass_id, o.status))
            await self._events(conn, events)
            released = await release(conn, finished, now=now)
            fired = await self._insert_runs(conn, [*retries, *released.runs], now)
        if released.ended and self.on_workflow_ended is not None:
            self.on_workflow_ended([pass_id for pass_id, _ in released.ended])
        return fired

    async def _deliver(self, conn: AsyncConnection, deliveries: Sequence[Delivery]) -> None:
        line = sa.bindparam("line", type_=sa.Text)
        await conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.id == sa.bindparam("rid"), RUNS.c.lease_owner == sa.bindparam("owner"))
            .values(
                delivered_at=sa.func.coalesce(RUNS.c.delivered_at, sa.bindparam("at")),
                delivery_ref=sa.func.coalesce(RUNS.c.delivery_ref + "\n", "") + line,
            ),
            [
                {
                    "rid": d.run_id,
                    "owner": d.owner,
                    "at": d.at,
                    "line": _clean(f"{d.target}\t{d.ref or ''}"),
                }
                for d in deliveries
            ],
        )

    async def deliveries_before(
        self, task_id: int, scheduled_for: datetime, attempt: int
    ) -> dict[str, tuple[int, str | None]]:
        """What earlier attempts of one fire delivered: target → (attempt, message ref)."""
        if attempt <= 1:
            return {}
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(RUNS.c.attempt, RUNS.c.delivery_ref)
                    .where(
                        RUNS.c.task_id == task_id,
                        RUNS.c.scheduled_for == scheduled_for,
                        RUNS.c.attempt < attempt,
                        RUNS.c.delivered_at.is_not(None),
                    )
                    .order_by(RUNS.c.attempt)
                )
            ).all()
        out: dict[str, tuple[int, str | None]] = {}
        for earlier, refs in rows:
            for line in (refs or "").splitlines():
                target, _, ref = line.partition("\t")
                out.setdefault(target, (earlier, ref or None))
        return out

    async def crashed_before(self, runs: Sequence[ClaimedRun]) -> set[int]:
        """Run ids among ``runs`` whose previous attempt was cut off (worker crash)."""
        retries = [r for r in runs if r.attempt > 1]
        if not retries:
            return set()
        out: set[int] = set()
        async with self.db.engine.connect() as conn:
            for r in retries:
                error = (
                    await conn.execute(
                        sa.select(RUNS.c.error).where(
                            RUNS.c.task_id == r.task_id,
                            RUNS.c.scheduled_for == r.scheduled_for,
                            RUNS.c.attempt == r.attempt - 1,
                        )
                    )
                ).scalar()
                if isinstance(error, str) and error.startswith(CRASHED):
                    out.add(r.run_id)
        return out

    async def settle(self, run_id: int, status: RunStatus, *, reason: str, now: datetime) -> bool:
        """Move a still-pending run (reserved or not) to cancelled/skipped/blocked."""
        if status not in _SETTLE:
            raise InvalidInput(f"A pending run cannot be settled as {status.value!r}.")
        async with self.db.engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.update(RUNS)
                    .where(
                        RUNS.c.id == run_id,
                        RUNS.c.status == RunStatus.PENDING.value,
                    )
                    .values(
                        status=status.value,
                        finished_at=now,
                        error=reason,
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                    .returning(RUNS.c.id)
                )
            ).first()
            if row is None:
                return False
            await conn.execute(
                sa.insert(EVENTS).values(run_id=run_id, status=status.value, at=now, detail=reason)
            )
        return True

    async def cancel(self, run_id: int, *, now: datetime, reason: str = "cancelled") -> bool:
        """Cancel a pending run; ``False`` if it already started or ended."""
        return await self.settle(run_id, RunStatus.CANCELLED, reason=reason, now=now)

    async def running(self) -> list[tuple[ClaimedRun, datetime | None]]:
        """Every running run with its lease expiry (for crash recovery)."""
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        RUNS.c.id,
                        RUNS.c.task_id,
                        RUNS.c.scheduled_for,
                        RUNS.c.attempt,
                        RUNS.c.trigger,
                        RUNS.c.lease_owner,
                        RUNS.c.lease_expires_at,
                    ).where(RUNS.c.status == RunStatus.RUNNING.value)
                )
            ).all()
        return [
            (ClaimedRun(r[0], r[1], r[2], r[3], RunTrigger(r[4]), r[5] or ""), r[6]) for r in rows
        ]

    # --- tasks as the engine sees them -----------------------------------

    async def cursors(self) -> list[tuple[int, datetime]]:
        """``(task_id, next_fire_at)`` of every schedulable task with a cursor."""
        return [(tid, datetime.fromtimestamp(ts, UTC)) for tid, ts in await self.cursor_stamps()]

    async def cursor_stamps(self) -> list[tuple[int, float]]:
        """Like ``cursors`` but POSIX timestamps: the engine's rebuild of 100k tasks."""
        sql = self._sql
        async with self.db.engine.connect() as conn:
            rows = await sql.run(
                conn,
                "SELECT id, next_fire_at FROM tasks WHERE enabled = "
                f"{sql.mark(1)} AND status = 'open' AND deleted_at IS NULL "
                "AND next_fire_at IS NOT NULL",
                [True],
            )
        if sql.pg:
            return [(r[0], r[1].timestamp()) for r in rows]
        parse = datetime.fromisoformat
        return [(r[0], parse(r[1]).replace(tzinfo=UTC).timestamp()) for r in rows]

    async def fire_info(self, task_ids: Sequence[int]) -> list[FireInfo]:
        """The scheduling columns of the given tasks (missing tasks are absent)."""
        sql = self._sql
        out: list[FireInfo] = []
        # Tasks on one schedule ("daily at 9", a burst's shared instant) store the same
        # text: decode it once per call (FireInfo consumers only read it).
        decoded: dict[str, dict[str, Any] | None] = {}

        def schedule(raw: Any) -> dict[str, Any] | None:
            if not isinstance(raw, str):  # NULL, or already decoded by the driver
                return _json(raw)
            if raw not in decoded:
                decoded[raw] = _json(raw)
            return decoded[raw]

        async with self.db.engine.connect() as conn:
            for chunk in _chunks(task_ids, sql.rows_per_statement(1)):
                rows = await sql.run(
                    conn,
                    "SELECT id, schedule, next_fire_at, enabled, status, deleted_at, "
                    "misfire_policy, misfire_grace_seconds FROM tasks "
                    f"WHERE id IN ({sql.marks(len(chunk))})",
                    chunk,
                )
                out.extend(
                    FireInfo(
                        r[0],
                        schedule(r[1]),
                        sql.from_db(r[2]),
                        bool(r[3]) and r[4] == TaskStatus.OPEN.value and r[5] is None,
                        r[6],
                        r[7],
                    )
                    for r in rows
                )
        return out

    async def event_tasks(self, needle: str) -> list[tuple[int, dict[str, Any]]]:
        """Schedulable tasks whose stored schedule mentions ``needle`` (a prefilter)."""
        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                sa.select(TASKS.c.id, TASKS.c.schedule).where(
                    _schedulable(),
                    sa.cast(TASKS.c.schedule, sa.Text).contains(needle, autoescape=True),
                )
            )
            return [(r[0], r[1]) for r in result if r[1]]

    async def tasks(self, task_ids: Iterable[int]) -> dict[int, Task]:
        """Full task rows by id (what executors receive)."""
        ids = list(set(task_ids))
        out: dict[int, Task] = {}
        async with self.db.sessions() as session:
            for chunk in _chunks(ids, 5000):
                result = await session.execute(select(Task).where(col(Task.id).in_(chunk)))
                for task in result.scalars():
                    assert task.id is not None
                    out[task.id] = task
        return out

    # --- reading history --------------------------------------------------

    async def get(self, run_id: int) -> Run | None:
        async with self.db.sessions() as session:
            return await session.get(Run, run_id)

    async def runs_for(self, task_id: int, *, limit: int = 50) -> list[Run]:
        """A task's runs, newest fire first (every attempt is its own row)."""
        async with self.db.sessions() as session:
            stmt = (
                select(Run)
                .where(Run.task_id == task_id)
                .order_by(col(Run.scheduled_for).desc(), col(Run.attempt).desc())
                .limit(limit)
            )
            return list((await session.execute(stmt)).scalars())

    async def events_for(self, run_id: int) -> list[RunEvent]:
        """A run's status transitions in the order they happened."""
        async with self.db.sessions() as session:
            stmt = select(RunEvent).where(RunEvent.run_id == run_id).order_by(col(RunEvent.id))
            return list((await session.execute(stmt)).scalars())


def _aware(value: datetime | None) -> datetime:
    assert value is not None, "a NOT NULL datetime column returned NULL"
    return value


def _json(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else None


def _clean(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL: an executor's output must not make its
    # outcome unwritable (the write would be retried forever).
    return text.replace("\x00", "\ufffd") if text and "\x00" in text else text


def _clip(text: str | None, limit: int = 4000) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
