"""How a committed task change reaches every engine, in every process.

Each write that can move a task's fires (create, schedule edit, pause, resume,
complete, delete, restore) does three things in its own
transaction, here in the store:

* bumps ``tasks.change_seq`` (PostgreSQL: a sequence; SQLite: the column's
  maximum + 1, which is safe because SQLite has one writer at a time). Engines
  rescan ``change_seq > mark`` periodically: SQLite's only path and
  PostgreSQL's safety net for lost notifications;
* on PostgreSQL collects the task ids and sends ONE ``NOTIFY kairos_tasks`` per
  transaction (ids comma-separated, or ``rescan`` when they do not fit in a
  payload), just before the commit, so a listener never hears of a change it
  cannot read yet;
* cancels the task's runs staged ahead of time (pending, scheduled, due later
  than the change) unless the new cursor still points at them: an edit, pause
  or delete made by any process wins over a run some engine wrote ahead, even
  if that engine has died meanwhile.

The engine's own cursor moves (``RunStore.fire_many``) bump nothing: they are
compare-and-set, and an engine re-reads a task before firing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import SQLModel

from core.db import Database
from core.enums import RunStatus, RunTrigger
from core.models import TASK_CHANGE_SEQ

log = logging.getLogger(__name__)

#: The NOTIFY channel engines LISTEN on.
CHANNEL = "kairos_tasks"
#: The payload that means "too many ids: rescan by counter".
RESCAN = "rescan"
#: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD = 7900
#: Columns whose change can move a task's fires (other edits are not announced).
SCHEDULING_COLUMNS = frozenset(
    {
        "schedule",
        "enabled",
        "status",
        "next_fire_at",
        "deleted_at",
        "misfire_policy",
        "misfire_grace_seconds",
    }
)
#: The reason a staged run gets when its task changes under it.
CHANGED_REASON = "cancelled: the task was changed, paused or deleted before this fire"
#: Where ``AsyncSession.info`` collects the ids a transaction changed.
CHANGED_KEY = "kairos.changed_tasks"

_TASKS: sa.Table = SQLModel.metadata.tables["tasks"]
_RUNS: sa.Table = SQLModel.metadata.tables["runs"]
_EVENTS: sa.Table = SQLModel.metadata.tables["run_events"]
_STAGED_TRIGGERS = (RunTrigger.SCHEDULE.value, RunTrigger.MISFIRE.value)

Executor = AsyncSession | AsyncConnection


def next_change_seq(dialect: str) -> sa.ColumnElement[Any]:
    """The SQL value a write gives ``tasks.change_seq``."""
    if dialect == "postgresql":
        return TASK_CHANGE_SEQ.next_value()
    return sa.select(sa.func.coalesce(sa.func.max(_TASKS.c.change_seq), 0) + 1).scalar_subquery()


def payload(task_ids: Iterable[int]) -> str:
    """The NOTIFY payload for ``task_ids``: ``"3,17,42"``, or ``rescan`` when too long."""
    text = ",".join(str(i) for i in sorted(set(task_ids)))
    return text if len(text) <= MAX_PAYLOAD else RESCAN


def parse_payload(text: str) -> list[int] | None:
    """The ids in a payload; ``None`` means rescan (also for anything unreadable)."""
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError:
        return None


def collect(session: AsyncSession, task_ids: Iterable[int]) -> None:
    """Remember in the session that its transaction changed ``task_ids``."""
    session.info.setdefault(CHANGED_KEY, set()).update(task_ids)


async def announce_collected(session: AsyncSession, dialect: str) -> None:
    """Send the one NOTIFY for everything ``collect`` gathered (call before commit)."""
    changed: set[int] | None = session.info.pop(CHANGED_KEY, None)
    if changed:
        await announce(session, dialect, changed)


async def announce(executor: Executor, dialect: str, task_ids: Collection[int]) -> None:
    """``NOTIFY`` the ids inside the caller's transaction (PostgreSQL; no-op on SQLite)."""
    if dialect != "postgresql" or not task_ids:
        return
    await executor.execute(sa.select(sa.func.pg_notify(CHANNEL, payload(task_ids))))


async def cancel_staged(
    executor: Executor, task_ids: Collection[int], *, now: datetime, keep: datetime | None
) -> list[int]:
    """Cancel the tasks' scheduled runs still pending for later than ``now``.

    ``keep`` is the task's new cursor while it stays schedulable: a run staged
    for exactly that instant is the fire the task still wants, and its key
    ``(task_id, scheduled_for, attempt)`` would block writing it again.
    Returns the cancelled run ids.
    """
    stmt = sa.update(_RUNS).where(
        _RUNS.c.task_id.in_(list(task_ids)),
        _RUNS.c.status == RunStatus.PENDING.value,
        _RUNS.c.trigger.in_(_STAGED_TRIGGERS),
        _RUNS.c.scheduled_for > now,
    )
    if keep is not None:
        stmt = stmt.where(_RUNS.c.scheduled_for != keep)
    result = await executor.execute(
        stmt.values(
            status=RunStatus.CANCELLED.value, finished_at=now, error=CHANGED_REASON
        ).returning(_RUNS.c.id)
    )
    ids = [int(r[0]) for r in result.all()]
    if ids:
        await executor.execute(
            sa.insert(_EVENTS),
            [
                {"run_id": i, "status": RunStatus.CANCELLED.value, "at": now,
                 "detail": CHANGED_REASON}
                for i in ids
            ],
        )  # fmt: skip
    return ids


class Listening(Protocol):
    """An open LISTEN connection (see ``ChangeFeed.listen``)."""

    lost: asyncio.Event

    async def ping(self) -> None:
        """Round-trip to the server; raises when the connection is gone."""
        ...

    async def close(self) -> None: ...


class _AsyncpgListening:
    def __init__(self, conn: Any, on_payload: Callable[[str], None]) -> None:
        self._conn = conn
        self._on_payload = on_payload
        self.lost = asyncio.Event()

    def _notified(self, _conn: Any, _pid: int, _channel: str, text: str) -> None:
        self._on_payload(text)

    def _terminated(self, _conn: Any) -> None:
        self.lost.set()

    async def ping(self) -> None:
        await self._conn.fetchval("SELECT 1", timeout=10)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._conn.close(), 5)
        except Exception:  # a dead connection cannot be closed politely
            self._conn.terminate()


class ChangeFeed:
    """The read side: the change counter's marks and LISTEN connections."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.notifies = db.engine.dialect.name == "postgresql"

    async def high_mark(self) -> int:
        """The largest ``change_seq`` committed so far."""
        async with self.db.engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.max(_TASKS.c.change_seq)))
        return int(value or 0)

    async def changed_since(self, mark: int, *, limit: int = 5000) -> list[tuple[int, int]]:
        """``(task id, change_seq)`` of tasks changed after ``mark``, oldest change first."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(_TASKS.c.id, _TASKS.c.change_seq)
                .where(_TASKS.c.change_seq > mark)
                .order_by(_TASKS.c.change_seq)
                .limit(limit)
            )
            return [(int(r[0]), int(r[1])) for r in rows]

    async def listen(self, on_payload: Callable[[str], None]) -> Listening:
        """Open a connection that LISTENs on ``CHANNEL`` and calls ``on_payload`` per NOTIFY.

        Its own asyncpg connection (not from the pool: a pooled connection would
        stop listening when returned). PostgreSQL only.
        """
        import asyncpg

        dsn = make_url(self.db.url).set(drivername="postgresql")
        conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=10)
        listening = _AsyncpgListening(conn, on_payload)
        try:
            conn.add_termination_listener(listening._terminated)
            await conn.add_listener(CHANNEL, listening._notified)
        except BaseException:
            conn.terminate()
            raise
        return listening
