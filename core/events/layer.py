"""The event layer of one process: the bus and every source, started and stopped together."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import make_url

from core.db import Database
from core.events.delivery import RESCAN_SECONDS, EventBus
from core.events.files import FileWatches
from core.events.postgres import PgChannels
from core.events.probes import ConditionProbes
from core.events.retention import EventRetention
from core.events.task_events import TaskEvents
from core.events.webhooks import WebhookService
from core.executors.registry import ExecutorRegistry
from core.ports import Clock
from core.scheduler.workers import WorkerPool
from core.store.events import EventStore


class EventLayer:
    """Wires the event store, bus, webhooks and task events onto a worker pool."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        pool: WorkerPool,
        rescan_seconds: float = RESCAN_SECONDS,
        listen_url: str | None = None,
        executors: ExecutorRegistry | None = None,
        retention_days: int = 0,
    ) -> None:
        """``listen_url``: the PostgreSQL database whose channels tasks may LISTEN to
        (default: Kairos's own database when it is PostgreSQL). ``retention_days``:
        delivered events older than that are pruned (0: kept forever)."""
        self.clock = clock
        self.store = EventStore(db)
        self.bus = EventBus(store=self.store, sink=pool, clock=clock, rescan_seconds=rescan_seconds)
        self.webhooks = WebhookService(store=self.store, clock=clock, bus=self.bus)
        self.task_events = TaskEvents(db=db, bus=self.bus, clock=clock)
        pool.use_events(payloads=self.store.payload_of_run, finished=self.task_events.finished)
        self.files = FileWatches(db=db, bus=self.bus, clock=clock)
        self.conditions = ConditionProbes(
            store=self.store, bus=self.bus, clock=clock, executors=executors
        )
        self.retention = EventRetention(store=self.store, clock=clock, days=retention_days)
        self._sources: list[_Source] = [self.files, self.retention]
        if executors is not None:
            self._sources.append(self.conditions)
        self.listen_dsn = _asyncpg_dsn(listen_url or db.url)
        self.postgres: PgChannels | None = None
        self.realtime: _Source | None = None
        if self.listen_dsn is not None:
            self.postgres = PgChannels(dsn=self.listen_dsn, db=db, bus=self.bus, clock=clock)
            self._sources.append(self.postgres)

    def use_realtime(self, source: _Source) -> None:
        """The Supabase Realtime source (``supabase:<schema>.<table>``): table inserts then
        come through it rather than through a trigger and LISTEN."""
        self.realtime = source
        self._sources.append(source)

    def add_source(self, source: _Source) -> None:
        """A running source (a file watch, a channel listener, a condition) to start and stop."""
        self._sources.append(source)

    async def start(self) -> None:
        await self.bus.start()
        for source in self._sources:
            await source.start()

    async def stop(self) -> None:
        for source in reversed(self._sources):
            await source.stop()
        await self.task_events.drain()
        await self.bus.stop()


def _asyncpg_dsn(url: str) -> str | None:
    """The URL in asyncpg's form, or ``None`` when it is not PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class _Source(Protocol):
    """What ``add_source`` takes: anything with async ``start`` and ``stop``."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
