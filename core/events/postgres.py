"""PostgreSQL events: LISTEN on the channels tasks subscribe to (``postgres:<channel>``).

One dedicated asyncpg connection (never a pooled one: returning it to the pool
would end the LISTEN) listens on every channel some live task waits for; the set
follows the subscriptions. A lost connection is reopened with exponential
back-off (``core.scheduler.outage.Outage``). Works through Supabase's session
connection (port 5432), not the transaction pooler (6543), which drops LISTEN.

A notification's dedupe key is the notifying backend's pid + a hash of its
payload: replicas listening to the same channel record it once. A sender that
may repeat an identical payload should put an id in it (the installed insert
triggers put the transaction id in theirs).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from typing import Any

import asyncpg

from core.db import Database
from core.events.delivery import EventBus
from core.events.model import EventIn, SourceKind
from core.ports import Clock
from core.scheduler.outage import Outage
from core.store.events import listened_names

log = logging.getLogger(__name__)


def notification_event(channel: str, pid: int, text: str, clock: Clock) -> EventIn:
    """The event for one NOTIFY (JSON payloads are parsed, others kept as text)."""
    try:
        payload: Any = json.loads(text) if text else {}
    except ValueError:
        payload = {"payload": text}
    key = f"{pid}:{hashlib.sha256(text.encode()).hexdigest()}"
    return EventIn(SourceKind.POSTGRES, channel, key, payload, clock.now())


class PgChannels:
    """LISTENs on the subscribed channels of the database at ``dsn`` (asyncpg form)."""

    def __init__(
        self,
        *,
        dsn: str,
        db: Database,
        bus: EventBus,
        clock: Clock,
        refresh_seconds: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self._dsn = dsn
        self._db = db
        self._bus = bus
        self._clock = clock
        self._refresh = refresh_seconds
        self._outage = Outage("events-postgres", logger=log, rng=rng)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.channels: set[str] = set()
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="kairos-pg-events")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self._bus.drain_soon()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._session()
                delay = self._refresh
            except Exception as exc:
                delay = self._outage.failed(exc, "listening")
            self.connected.clear()
            self.channels = set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _session(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=10)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c: lost.set())
        try:
            while not self._stop.is_set() and not lost.is_set():
                wanted = {n.partition(":")[2] for n in await listened_names(self._db, "postgres:")}
                for channel in wanted - self.channels:
                    await conn.add_listener(channel, self._notified)
                for channel in self.channels - wanted:
                    await conn.remove_listener(channel, self._notified)
                self.channels = wanted
                await conn.fetchval("SELECT 1", timeout=10)  # a half-open connection is silent
                self._outage.ok()
                self.connected.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._refresh)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
            if not conn.is_closed():
                conn.terminate()

    def _notified(self, _conn: Any, pid: int, channel: str, text: str) -> None:
        self._bus.record_soon(
            notification_event(channel, pid, text, self._clock), what="notification"
        )
