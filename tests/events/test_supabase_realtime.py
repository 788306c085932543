"""Supabase Realtime events: the real ``supabase``/``realtime`` client against a local fake
Realtime server (Phoenix channels over a websocket on port 0)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from scheduler.harness import wait_for

from core.clock import ManualClock
from core.db import Database
from core.events.model import SourceKind
from core.store.events import TASKS
from integrations.supabase.realtime import SupabaseRealtime, realtime_table

from .fake_realtime import FakeRealtime
from .harness import Evented, subscriber, with_events

KEY = "sb-service-role-4f1c2a9e7d"
AT = "2026-12-04T03:00:00.123456Z"


@pytest.fixture
async def fake() -> AsyncIterator[FakeRealtime]:
    async with FakeRealtime() as server:
        yield server


@asynccontextmanager
async def realtime(
    db: Database, clock: ManualClock, fake: FakeRealtime
) -> AsyncIterator[tuple[Evented, SupabaseRealtime]]:
    async with with_events(db, clock) as ev:
        source = SupabaseRealtime(
            url=fake.url, key=KEY, db=db, bus=ev.layer.bus, clock=clock, refresh_seconds=0.2
        )
        ev.layer.use_realtime(source)  # the layer stops it with its other sources
        await source.start()
        yield ev, source


def test_table_names() -> None:
    assert realtime_table("Orders") == "public.orders"
    assert realtime_table("sales.orders") == "sales.orders"
    with pytest.raises(Exception, match="not a table name"):
        realtime_table("orders; drop table x")


async def test_an_insert_runs_each_subscribed_task_once_with_the_row(
    database: Database, clock: ManualClock, fake: FakeRealtime
) -> None:
    first = await subscriber(database, "supabase:public.orders")
    second = await subscriber(database, "supabase:public.orders")
    other = await subscriber(database, "supabase:public.refunds")
    async with realtime(database, clock, fake) as (ev, source):
        await wait_for(lambda: source.tables == {"public.orders", "public.refunds"}, what="joined")
        assert fake.keys == [KEY], "the real client sends the key in the socket URL"
        orders = next(j for j in fake.joins if j["topic"] == "realtime:kairos:public.orders")
        assert orders["config"]["postgres_changes"] == [
            {"event": "INSERT", "schema": "public", "table": "orders"}
        ]
        assert await fake.insert("public", "orders", {"id": 7, "item": "tea"}, at=AT) == 1
        await wait_for(
            lambda: len(ev.keeper.events_of(first)) == len(ev.keeper.events_of(second)) == 1,
            what="one run of each subscriber",
        )
        expected = {
            "table": "orders",
            "schema": "public",
            "op": "INSERT",
            "commit_timestamp": AT,
            "row": {"id": 7, "item": "tea"},
        }
        assert ev.keeper.events_of(first) == [expected]  # ``Job.event``: what templates read
        assert ev.keeper.events_of(second) == [expected]
        assert ev.keeper.events_of(other) == []
        stored = await ev.layer.store.count(kind=SourceKind.SUPABASE)
        assert stored == 1


async def test_a_duplicate_message_is_one_event(
    database: Database, clock: ManualClock, fake: FakeRealtime
) -> None:
    task = await subscriber(database, "supabase:public.orders")
    async with realtime(database, clock, fake) as (ev, source):
        await wait_for(lambda: source.tables == {"public.orders"}, what="joined")
        await fake.insert("public", "orders", {"id": 1, "item": "tea"}, at=AT, times=3)
        await fake.insert("public", "orders", {"id": 2, "item": "tea"}, at=AT)
        await fake.insert("public", "orders", {"item": "no id"}, at=AT, times=2)
        # Messages are recorded in the order they arrive: once the last one ran, every
        # message before it was stored or dropped (their runs may still be going).
        await fake.insert("public", "orders", {"id": 99}, at=AT)
        await wait_for(
            lambda: {"id": 99} in [e["row"] for e in ev.keeper.events_of(task)], what="the last"
        )
        assert await ev.layer.store.count(kind=SourceKind.SUPABASE) == 4
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 4, what="the others' runs")
        rows = [{"id": 1, "item": "tea"}, {"id": 2, "item": "tea"}, {"item": "no id"}, {"id": 99}]
        assert sorted(str(e["row"]) for e in ev.keeper.events_of(task)) == sorted(map(str, rows))


async def test_channels_are_joined_again_after_the_server_drops_the_socket(
    database: Database, clock: ManualClock, fake: FakeRealtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    task = await subscriber(database, "supabase:public.orders")
    async with realtime(database, clock, fake) as (ev, source):
        await wait_for(lambda: fake.joined("public", "orders") == 1, what="joined")
        assert await fake.drop() == 1
        await wait_for(lambda: fake.connections == 2, what="a new socket")
        await wait_for(lambda: fake.joined("public", "orders") == 1, what="joined again")
        await wait_for(lambda: source.tables == {"public.orders"}, what="the channel joined")
        assert await fake.insert("public", "orders", {"id": 9}, at=AT) == 1
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 1, what="the run")
    assert fake.joined("public", "orders") == 0, "stopping leaves the channel and closes"
    ours = [r for r in caplog.records if not r.name.startswith("websockets.server")]  # the fake's
    assert not [r.name for r in ours if KEY in r.getMessage()]
    assert any("[redacted]" in r.getMessage() for r in ours), "the URL was logged, without the key"


async def test_channels_are_joined_again_after_an_outage_the_client_gave_up_on(
    database: Database, clock: ManualClock, fake: FakeRealtime
) -> None:
    task = await subscriber(database, "supabase:public.orders")
    async with realtime(database, clock, fake) as (ev, source):
        await wait_for(lambda: source.tables == {"public.orders"}, what="joined")
        await fake.stop_listening()
        # the client's own retries (3) end; then this source's back-off takes over
        await wait_for(lambda: source._outage.down, limit=30, what="the outage noticed")
        await fake.listen_again()
        await wait_for(lambda: fake.joined("public", "orders") == 1, limit=60, what="rejoined")
        await wait_for(lambda: source.tables == {"public.orders"}, what="the channel joined")
        await fake.insert("public", "orders", {"id": 3}, at=AT)
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 1, what="the run")


async def test_channels_follow_the_subscriptions(
    database: Database, clock: ManualClock, fake: FakeRealtime
) -> None:
    async with realtime(database, clock, fake) as (_ev, source):
        await wait_for(lambda: source.rounds >= 3, what="three rounds")
        assert fake.connections == 0, "no subscription: no socket"
        await subscriber(database, "supabase:orders; drop table x")  # skipped, not fatal
        task = await subscriber(database, "supabase:sales.orders")
        await wait_for(lambda: source.tables == {"sales.orders"}, what="joined")
        assert fake.joined("sales", "orders") == 1 and fake.joined("public", "orders") == 0
        async with database.engine.begin() as conn:
            await conn.execute(sa.update(TASKS).where(TASKS.c.id == task).values(enabled=False))
        await wait_for(lambda: fake.joined("sales", "orders") == 0, what="the channel left")
        assert source.tables == set()
