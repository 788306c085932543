"""Supabase Realtime events: row inserts on the tables tasks subscribe to.

A task subscribes with ``supabase:<schema>.<table>`` (``supabase:public.orders``);
"when a row is inserted into table orders" means that when Supabase is
configured (``docs/events.md``). One ``supabase`` async client holds one
websocket; each subscribed table is one Realtime channel with an ``INSERT``
``postgres_changes`` binding, and the channels follow the subscriptions
(re-read every ``refresh_seconds``).

Reconnects: the ``realtime`` client reconnects a dropped socket itself and
rejoins its channels; when it gives up, the next refresh reconnects it (with
``core.scheduler.outage.Outage`` back-off), and a channel the server closed is
joined again. Inserts made while no socket was open are not replayed (Realtime
keeps nothing for absent listeners).

The dedupe key is the commit timestamp + table + the row's ``id`` (a hash of the
row when it has none): a message received twice, or by two replicas, is one
event. The service key travels in the socket URL's query string; it is redacted
from the ``websockets`` and ``realtime`` loggers' records, so it is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from datetime import datetime
from functools import partial
from typing import Any

from core.db import Database
from core.errors import InvalidInput
from core.events.delivery import EventBus
from core.events.model import EventIn, SourceKind
from core.ports import Clock
from core.scheduler.outage import Outage
from core.store.events import listened_names
from core.store.pg_triggers import checked_table

log = logging.getLogger(__name__)

#: Loggers that may see the socket URL (which carries the key) or the join payload.
_LIBRARY_LOGGERS = (
    "websockets.client",
    "realtime._async.client",
    "realtime._async.channel",
    "realtime._async.push",
)


def realtime_table(table: str) -> str:
    """``schema.table`` for a table name said or configured (``orders`` → ``public.orders``)."""
    name = checked_table(table)
    parts = table.strip().lower().split(".")
    return f"{parts[0] if len(parts) == 2 else 'public'}.{name}"


def change_event(table: str, data: dict[str, Any], now: datetime) -> EventIn:
    """The event for one ``postgres_changes`` message's ``data`` on ``table`` (``schema.table``).

    The payload has the PostgreSQL trigger's shape (``table``, ``op``, ``row``) plus
    ``schema`` and ``commit_timestamp``, so a task's templates read ``event.row`` either way.
    """
    row = data.get("record") or {}
    stamp = str(data.get("commit_timestamp") or "")
    ident = row.get("id") if isinstance(row, dict) else None
    if ident is None:
        ident = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
    payload = {
        "table": data.get("table"),
        "schema": data.get("schema"),
        "op": data.get("type"),
        "commit_timestamp": stamp,
        "row": row,
    }
    return EventIn(SourceKind.SUPABASE, table, f"{stamp}|{table}|{ident}", payload, now)


class _Redact(logging.Filter):
    """Replaces the key wherever a library's log record would show it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self._secret in text:
            record.msg, record.args = text.replace(self._secret, "[redacted]"), None
        return True


class SupabaseRealtime:
    """Subscribes to the inserts of every table some live task waits for (``supabase:``)."""

    def __init__(
        self,
        *,
        url: str,
        key: str,
        db: Database,
        bus: EventBus,
        clock: Clock,
        refresh_seconds: float = 2.0,
        timeout_seconds: int = 10,
        rng: random.Random | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        self._key = key
        self._db = db
        self._bus = bus
        self._clock = clock
        self._refresh = refresh_seconds
        self._timeout = timeout_seconds
        self._outage = Outage("events-supabase", logger=log, rng=rng)
        self._redact = _Redact(key)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: Any = None
        self._channels: dict[str, Any] = {}
        self._refused: set[str] = set()
        self.rounds = 0

    @property
    def tables(self) -> set[str]:
        """The tables whose channels are joined now."""
        return {t for t, channel in self._channels.items() if channel.is_joined}

    async def start(self) -> None:
        for name in _LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(self._redact)
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="kairos-supabase-events")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:  # a reconnect in progress may sleep in its back-off: do not wait for it
                await asyncio.wait_for(asyncio.shield(self._task), self._refresh + 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self._close()
        await self._bus.drain_soon()
        for name in _LIBRARY_LOGGERS:
            logging.getLogger(name).removeFilter(self._redact)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._follow()
                self._outage.ok()
                self.rounds += 1
                delay = self._refresh
            except Exception as exc:
                delay = self._outage.failed(exc, f"subscribing at {self._url}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _follow(self) -> None:
        """One round: the channels made to match the subscriptions, the socket kept open."""
        wanted = set()
        for name in await listened_names(self._db, "supabase:"):
            try:
                wanted.add(realtime_table(name.partition(":")[2]))
            except InvalidInput:  # a task stored with a bad name: it alone waits in vain
                if name not in self._refused:
                    self._refused.add(name)
                    log.warning("events: %s names no table; its tasks never fire", name)
        if not wanted and not self._channels:
            return
        client = await self._connected()
        for table in set(self._channels) - wanted:
            channel = self._channels.pop(table)
            await client.realtime.remove_channel(channel)
        for table, channel in list(self._channels.items()):
            if channel.is_closed:  # the server closed it: join it again below
                del self._channels[table]
        if self._stop.is_set():
            return
        if self._channels and not client.realtime.is_connected:
            await client.realtime.connect()  # the client gave up reconnecting: rejoins on connect
        for table in sorted(wanted - set(self._channels)):
            schema, name = table.split(".")
            channel = client.channel(f"kairos:{table}")
            channel.on_postgres_changes(
                "INSERT", callback=partial(self._changed, table), table=name, schema=schema
            )
            self._channels[table] = channel
            await channel.subscribe(partial(self._state, table))

    async def _connected(self) -> Any:
        """The async client, created on first use (never at import)."""
        if self._client is None:
            from supabase import AsyncClientOptions, acreate_client
            from supabase.types import RealtimeClientOptions

            # A few quick retries by the client itself; after that, this loop's back-off.
            retries = RealtimeClientOptions(max_retries=3, initial_backoff=0.5)
            options = AsyncClientOptions(realtime=retries)
            self._client = await acreate_client(self._url, self._key, options=options)
        return self._client

    def _state(self, table: str, status: Any, error: Exception | None) -> None:
        if getattr(status, "value", status) != "SUBSCRIBED" and not self._stop.is_set():
            log.warning("events: Supabase Realtime channel for %s: %s %s", table, status, error)

    def _changed(self, table: str, payload: dict[str, Any]) -> None:
        event = change_event(table, dict(payload.get("data") or {}), self._clock.now())
        self._bus.record_soon(event, what="Realtime insert")

    async def _close(self) -> None:
        client, self._client = self._client, None
        self._channels = {}
        if client is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.realtime.remove_all_channels(), self._timeout)
        with contextlib.suppress(Exception):
            await client.realtime.close()
