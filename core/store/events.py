"""The event store: durable events, their delivery into runs, and event sources.

* ``record`` commits an event before its source is acknowledged; the unique key
  ``(source_kind, source_name, dedupe_key)`` makes a re-sent event a no-op.
* ``deliver`` turns stored events into one run per subscribed task and marks
  them delivered, in ONE transaction. Runs carry ``event_id`` with the unique key
  ``(task_id, event_id, attempt)``, so two replicas delivering the same event
  (or a replica re-delivering after a crash) can never double-run it.
* Sources (webhooks and their secrets, channels, watches, conditions and their
  persisted state) are rows of ``event_sources``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from core.db import Database
from core.enums import RunStatus, RunTrigger, TaskStatus
from core.events.model import EventIn, SourceKind, StoredEvent, event_name
from core.events.subscriptions import listened_events, listens_for
from core.models_events import EventSource
from core.store.run_types import FiredRun

EVENTS: sa.Table = SQLModel.metadata.tables["events"]
SOURCES: sa.Table = SQLModel.metadata.tables["event_sources"]
RUNS: sa.Table = SQLModel.metadata.tables["runs"]
TASKS: sa.Table = SQLModel.metadata.tables["tasks"]

#: How many times a run's instant is nudged by a microsecond when another run of the
#: same task already holds it (two events received in the same microsecond).
_NUDGES = 8


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one ``deliver`` call did: the runs it inserted and the events it closed."""

    runs: list[FiredRun]
    events: list[int]


class EventStore:
    """Events and event sources on one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._record_stmt: Any = None

    def _insert(self, table: sa.Table) -> Any:
        dialect = postgresql if self.db.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    # --- events -------------------------------------------------------------

    async def record(self, event: EventIn) -> int | None:
        """Commit ``event``; its id, or ``None`` when its dedupe key was seen before."""
        return (await self.record_many([event]))[0]

    async def record_many(self, events: Sequence[EventIn]) -> list[int | None]:
        """Commit many events in ONE transaction (a group commit); ids in order.

        ``None`` for an event whose key was stored before, or earlier in ``events``.
        """
        if not events:
            return []
        rows = []
        first: dict[tuple[str, str, str], int] = {}
        for i, e in enumerate(events):
            key = (e.kind.value, e.source, e.dedupe_key[:300])
            if key in first:
                continue
            first[key] = i
            rows.append(
                {
                    "source_kind": key[0],
                    "source_name": key[1],
                    "dedupe_key": key[2],
                    "payload": e.payload,
                    "received_at": e.received_at,
                }
            )
        # One statement built once and executed for many rows (SQLAlchemy batches
        # them into multi-row INSERT … RETURNING): no compile per batch size.
        if self._record_stmt is None:
            self._record_stmt = (
                self._insert(EVENTS)
                .on_conflict_do_nothing()
                .returning(
                    EVENTS.c.id, EVENTS.c.source_kind, EVENTS.c.source_name, EVENTS.c.dedupe_key
                )
            )
        async with self.db.engine.begin() as conn:
            inserted = (await conn.execute(self._record_stmt, rows)).all()
        ids: list[int | None] = [None] * len(events)
        for event_id, kind, source, dedupe in inserted:
            ids[first[(kind, source, dedupe)]] = int(event_id)
        return ids

    async def undelivered(self, *, limit: int = 500) -> list[StoredEvent]:
        """Stored events not yet turned into runs, oldest first (any replica's)."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(
                    EVENTS.c.id, EVENTS.c.source_kind, EVENTS.c.source_name, EVENTS.c.received_at
                )
                .where(EVENTS.c.delivered_at.is_(None))
                .order_by(EVENTS.c.id)
                .limit(limit)
            )
            return [_stored(r) for r in rows]

    async def deliver(self, events: Sequence[StoredEvent], *, now: datetime) -> Delivered:
        """One run per (event, subscribed task), and the events marked delivered, atomically."""
        if not events:
            return Delivered([], [])
        async with self.db.engine.begin() as conn:
            # Claim first (a write): on SQLite it takes the write lock up front; on
            # PostgreSQL a concurrent deliverer of the same events waits here.
            closed = await conn.execute(
                sa.update(EVENTS)
                .where(EVENTS.c.id.in_([e.id for e in events]), EVENTS.c.delivered_at.is_(None))
                .values(delivered_at=now)
                .returning(EVENTS.c.id)
            )
            open_ids = {int(r[0]) for r in closed}
            todo = [e for e in events if e.id in open_ids]
            runs: list[FiredRun] = []
            for name in {e.name for e in todo}:
                tasks = await _subscribers(conn, name)
                for event in (e for e in todo if e.name == name):
                    runs.extend(await _insert_runs(conn, event, tasks, now))
        return Delivered(runs, sorted(open_ids))

    async def prune(self, *, delivered_before: datetime, limit: int = 1000) -> int:
        """Delete up to ``limit`` events delivered before ``delivered_before``; how many.

        Never an undelivered event, nor one a live run (pending, running, blocked)
        still reads its payload from; the oldest go first.
        """
        live = [RunStatus.PENDING.value, RunStatus.RUNNING.value, RunStatus.BLOCKED.value]
        unread = ~sa.exists().where(RUNS.c.event_id == EVENTS.c.id, RUNS.c.status.in_(live))
        oldest = (
            sa.select(EVENTS.c.id)
            .where(
                EVENTS.c.delivered_at.is_not(None),
                EVENTS.c.delivered_at < delivered_before,
                unread,
            )
            .order_by(EVENTS.c.delivered_at)
            .limit(limit)
        )
        async with self.db.engine.begin() as conn:  # one statement: no ids travel
            done = await conn.execute(sa.delete(EVENTS).where(EVENTS.c.id.in_(oldest)))
            return int(done.rowcount)

    async def payload_of_run(self, run_id: int) -> tuple[bool, Any]:
        """``(True, payload)`` when the run answers an event, else ``(False, None)``."""
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(EVENTS.c.payload)
                    .select_from(RUNS.join(EVENTS, EVENTS.c.id == RUNS.c.event_id))
                    .where(RUNS.c.id == run_id)
                )
            ).first()
        return (False, None) if row is None else (True, row[0])

    async def get(self, event_id: int) -> dict[str, Any] | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(sa.select(EVENTS).where(EVENTS.c.id == event_id))).first()
        return None if row is None else dict(row._mapping)

    async def count(self, *, kind: SourceKind | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(EVENTS)
        if kind is not None:
            query = query.where(EVENTS.c.source_kind == kind.value)
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    # --- sources ------------------------------------------------------------

    async def add_source(self, source: EventSource) -> EventSource | None:
        """Insert a source; ``None`` when one of that kind and name exists."""
        values = source.model_dump(exclude={"id"})
        async with self.db.engine.begin() as conn:
            row = (
                await conn.execute(
                    self._insert(SOURCES)
                    .values(**values)
                    .on_conflict_do_nothing()
                    .returning(SOURCES.c.id)
                )
            ).first()
        if row is None:
            return None
        return source.model_copy(update={"id": int(row[0])})

    async def source(self, kind: SourceKind, name: str) -> EventSource | None:
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(SOURCES).where(SOURCES.c.kind == kind.value, SOURCES.c.name == name)
                )
            ).first()
        return None if row is None else EventSource.model_validate(dict(row._mapping))

    async def sources(self, kind: SourceKind | None = None) -> list[EventSource]:
        query = sa.select(SOURCES).order_by(SOURCES.c.kind, SOURCES.c.name)
        if kind is not None:
            query = query.where(SOURCES.c.kind == kind.value)
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(query)
            return [EventSource.model_validate(dict(r._mapping)) for r in rows]

    async def update_source(
        self, kind: SourceKind, name: str, *, now: datetime, **values: Any
    ) -> bool:
        """Set ``secret``, ``config`` or ``state`` of a source; ``False`` if there is none."""
        async with self.db.engine.begin() as conn:
            result = await conn.execute(
                sa.update(SOURCES)
                .where(SOURCES.c.kind == kind.value, SOURCES.c.name == name)
                .values(updated_at=now, **values)
                .returning(SOURCES.c.id)
            )
            return result.first() is not None


def _stored(row: Any) -> StoredEvent:
    kind, source = row[1], row[2]
    name = source if kind == SourceKind.TASK.value else event_name(kind, source)
    return StoredEvent(int(row[0]), name, row[3])


async def _subscribers(conn: AsyncConnection, name: str) -> list[int]:
    """Live tasks whose schedule listens for ``name`` (a text prefilter, then parsed)."""
    rows = await conn.execute(
        sa.select(TASKS.c.id, TASKS.c.schedule).where(
            TASKS.c.enabled.is_(True),
            TASKS.c.status == TaskStatus.OPEN.value,
            TASKS.c.deleted_at.is_(None),
            sa.cast(TASKS.c.schedule, sa.Text).contains(f'"{name}"', autoescape=True),
        )
    )
    return [int(r[0]) for r in rows if listens_for(r[1], name)]


async def _insert_runs(
    conn: AsyncConnection, event: StoredEvent, tasks: Sequence[int], now: datetime
) -> list[FiredRun]:
    """The event's runs; a run whose instant another run of its task holds is nudged by 1 µs."""
    fired: list[FiredRun] = []
    left = list(tasks)
    for nudge in range(_NUDGES):
        if not left:
            break
        at = event.received_at + timedelta(microseconds=nudge)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        rows = await conn.execute(
            dialect.insert(RUNS)
            .values(
                [
                    {
                        "task_id": tid,
                        "scheduled_for": at,
                        "attempt": 1,
                        "status": RunStatus.PENDING.value,
                        "trigger": RunTrigger.EVENT.value,
                        "not_before": event.received_at,  # the nudge never delays it
                        "created_at": now,
                        "event_id": event.id,
                    }
                    for tid in left
                ]
            )
            .on_conflict_do_nothing()
            .returning(RUNS.c.id, RUNS.c.task_id)
        )
        done = {int(r[1]): int(r[0]) for r in rows}
        fired.extend(
            FiredRun(rid, tid, at, 1, RunStatus.PENDING, event.received_at)
            for tid, rid in done.items()
        )
        left = [t for t in left if t not in done]
        if left:
            # Either this event already ran them (nothing to do) or another run holds
            # the instant: only the latter is tried again, a microsecond later.
            have = await conn.execute(
                sa.select(RUNS.c.task_id).where(
                    RUNS.c.event_id == event.id, RUNS.c.task_id.in_(left)
                )
            )
            already = {int(r[0]) for r in have}
            left = [t for t in left if t not in already]
    return fired


async def listened_names(db: Database, prefix: str) -> set[str]:
    """Every event name starting with ``prefix`` some live task listens for."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(TASKS.c.schedule).where(
                TASKS.c.enabled.is_(True),
                TASKS.c.status == TaskStatus.OPEN.value,
                TASKS.c.deleted_at.is_(None),
                sa.cast(TASKS.c.schedule, sa.Text).contains(f'"{prefix}', autoescape=True),
            )
        )
        return {n for r in rows for n in listened_events(r[0]) if n.startswith(prefix)}


async def failure_streak(db: Database, task_id: int, *, limit: int) -> int:
    """How many of the task's latest finished runs failed in a row (up to ``limit``)."""
    final = [RunStatus.COMPLETED.value, RunStatus.FAILED.value]
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(RUNS.c.status)
            .where(RUNS.c.task_id == task_id, RUNS.c.status.in_(final))
            .order_by(RUNS.c.finished_at.desc(), RUNS.c.id.desc())
            .limit(limit + 1)
        )
        streak = 0
        for (status,) in rows:
            if status != RunStatus.FAILED.value:
                break
            streak += 1
        return streak


async def done_at(db: Database, task_id: int) -> datetime | None:
    """When the task was marked done, or ``None`` while it is not done."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(TASKS.c.status, TASKS.c.completed_at).where(TASKS.c.id == task_id)
            )
        ).first()
    if row is None or row[0] != TaskStatus.DONE.value:
        return None
    return row[1]  # type: ignore[no-any-return]
