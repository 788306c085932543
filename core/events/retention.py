"""Event retention: delivered events older than ``days`` are deleted, in batches, by the
running server (every ``every_seconds``; the first round soon after start).

Only delivered events go, and none a live run (pending, running, blocked) still
reads its payload from. Several replicas may prune at once: a delete of rows
another replica deleted deletes nothing. A source that re-sends an event after
its retention (same dedupe key) records it again, as a new event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from core.ports import Clock
from core.store.events import EventStore

log = logging.getLogger(__name__)

EVERY_SECONDS = 3600.0
BATCH = 1000


class EventRetention:
    """Prunes delivered events older than ``days`` (0 keeps them forever)."""

    def __init__(
        self,
        *,
        store: EventStore,
        clock: Clock,
        days: int,
        every_seconds: float = EVERY_SECONDS,
        batch: int = BATCH,
    ) -> None:
        self._store = store
        self._clock = clock
        self.days = days
        self._every = every_seconds
        self._batch = batch
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.pruned = 0

    async def start(self) -> None:
        if self.days <= 0:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="kairos-event-retention")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def prune(self) -> int:
        """One round: delete in batches (each its own short transaction); how many."""
        cutoff = self._clock.now() - timedelta(days=self.days)
        total = 0
        while not self._stop.is_set():
            n = await self._store.prune(delivered_before=cutoff, limit=self._batch)
            total += n
            if n < self._batch:
                break
            await asyncio.sleep(0)  # let delivery and webhooks in between batches
        self.pruned += total
        return total

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                n = await self.prune()
                if n:
                    log.info("events: pruned %d delivered events older than %d days", n, self.days)
            except Exception as exc:  # the database may be away: the next round retries
                log.warning("events: pruning failed, retrying later: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._every)
