"""Durable delivery: stored events become runs, once per subscribed task, after any crash.

``EventBus.record`` commits an event and wakes the local dispatcher; the
dispatcher loop delivers every undelivered event it finds — its own, another
replica's, or one left behind by a process that died between storing and
delivering — and hands the new runs to the worker pool. A rescan every
``rescan_seconds`` is the path by which replicas see each other's events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress

from core.batching import GroupCommit
from core.events.model import EventIn
from core.ports import Clock
from core.scheduler.engine import RunSink
from core.scheduler.outage import Outage
from core.store.events import EventStore

log = logging.getLogger(__name__)

RESCAN_SECONDS = 1.0
BATCH = 500


class EventBus:
    """Records events durably and delivers them to subscribed tasks."""

    def __init__(
        self,
        *,
        store: EventStore,
        sink: RunSink,
        clock: Clock,
        rescan_seconds: float = RESCAN_SECONDS,
        name: str = "kairos-events",
    ) -> None:
        self.store = store
        self._sink = sink
        self._clock = clock
        self._rescan = rescan_seconds
        self._name = name
        self._kick = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._commits = GroupCommit(self._record_many, limit=BATCH, name=f"{name}-commit")
        self._soon: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self._outage = Outage("events-delivery", logger=log)

    async def record(self, event: EventIn) -> int | None:
        """Commit ``event`` (the caller acknowledges its source after this returns).

        Returns the event id, or ``None`` for a duplicate of an earlier event.
        Concurrent callers share one commit (``core.batching.GroupCommit``).
        """
        return await self._commits.submit(event)

    async def _record_many(self, events: Sequence[EventIn]) -> list[int | None]:
        ids = await self.store.record_many(events)
        if any(i is not None for i in ids):
            self._kick.set()
        return ids

    def record_soon(self, event: EventIn, *, what: str) -> None:
        """Record ``event`` in a task of its own, for sources called back synchronously
        (a NOTIFY, a Realtime message); a failure is logged with ``what`` it was.
        ``drain_soon`` waits for them."""
        task = asyncio.create_task(self._record_logged(event, what), name=f"{self._name}-soon")
        self._soon.add(task)
        task.add_done_callback(self._soon.discard)

    async def drain_soon(self) -> None:
        """Wait for the events handed to ``record_soon`` so far."""
        if self._soon:
            await asyncio.gather(*self._soon, return_exceptions=True)

    async def _record_logged(self, event: EventIn, what: str) -> None:
        try:
            await self.record(event)
        except Exception as exc:
            log.warning("events: %s on %s not recorded: %s", what, event.source, exc)

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def deliver_pending(self) -> int:
        """Deliver what is stored and undelivered now; the number of events closed."""
        total = 0
        while True:
            pending = await self.store.undelivered(limit=BATCH)
            if not pending:
                return total
            done = await self.store.deliver(pending, now=self._clock.now())
            if done.runs:
                self._sink.submit(done.runs)
            total += len(done.events)
            self.delivered += len(done.events)
            if len(pending) < BATCH:
                return total

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._kick.clear()
            wait = self._rescan
            try:
                await self.deliver_pending()
            except Exception as exc:  # the database may be away: one line, then back-off
                wait = self._outage.failed(exc, "delivering events")
            else:
                self._outage.ok()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), wait)
