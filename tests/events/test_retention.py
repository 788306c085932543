"""Event retention: delivered events older than the retention are pruned in batches by
the running server; undelivered events and those a live run still reads are kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from scheduler.harness import wait_for

from bot.app import Kairos
from bot.settings import Settings
from core.clock import ManualClock
from core.db import Database
from core.enums import RunStatus
from core.events.model import EventIn, SourceKind
from core.events.retention import EventRetention
from core.store.events import EVENTS, RUNS, EventStore

from .harness import subscriber


def _event(source: str, key: str, at: datetime) -> EventIn:
    return EventIn(SourceKind.WEBHOOK, source, key, {"key": key}, at)


async def _delivered(store: EventStore, events: list[EventIn], *, at: datetime) -> None:
    ids = await store.record_many(events)
    pending = [e for e in await store.undelivered(limit=10_000) if e.id in ids]
    await store.deliver(pending, now=at)


async def _names(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.select(EVENTS.c.source_name).order_by(EVENTS.c.id))
        return [r[0] for r in rows]


async def test_only_old_delivered_events_unread_by_live_runs_are_pruned(
    database: Database, clock: ManualClock
) -> None:
    store = EventStore(database)
    await subscriber(database, "webhook:live")
    old = clock.now() - timedelta(days=31)
    await _delivered(store, [_event("old", str(i), old) for i in range(5)], at=old)
    await _delivered(store, [_event("live", "1", old)], at=old)  # its run stays pending
    await store.record(_event("undelivered", "1", old))
    await _delivered(store, [_event("recent", "1", clock.now())], at=clock.now())

    retention = EventRetention(store=store, clock=clock, days=30, batch=2)
    assert await retention.prune() == 5, "in batches of 2: 2 + 2 + 1"
    assert await _names(database) == ["live", "undelivered", "recent"]

    async with database.engine.begin() as conn:
        await conn.execute(sa.update(RUNS).values(status=RunStatus.COMPLETED.value))
    assert await retention.prune() == 1
    assert await _names(database) == ["undelivered", "recent"]
    clock.advance(timedelta(days=31))
    assert await retention.prune() == 1, "recent is old now; undelivered never goes"
    assert await _names(database) == ["undelivered"]


async def test_the_running_server_prunes_periodically(
    database: Database, clock: ManualClock, database_url: str
) -> None:
    store = EventStore(database)
    retention = EventRetention(store=store, clock=clock, days=30, every_seconds=0.1, batch=3)
    await retention.start()
    try:
        old = clock.now() - timedelta(days=45)
        await _delivered(store, [_event("old", str(i), old) for i in range(7)], at=old)
        await wait_for(lambda: retention.pruned == 7, what="a later round pruned them")
        assert await store.count() == 0
    finally:
        await retention.stop()
    settings = Settings(database_url=database_url, event_retention_days=7, _env_file=None)  # type: ignore[call-arg]
    kairos = await Kairos.open(settings, clock=clock)
    try:
        assert kairos.events.retention.days == 7
    finally:
        await kairos.close()
    off = EventRetention(store=store, clock=clock, days=0)
    await off.start()
    await off.stop()
    assert off.pruned == 0
