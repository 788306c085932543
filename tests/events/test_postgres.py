"""PostgreSQL events against a real server: a NOTIFY, and an installed insert trigger."""

from __future__ import annotations

import asyncpg
import pytest
from scheduler.harness import wait_for

from core.clock import ManualClock
from core.db import Database
from core.errors import InvalidInput
from core.events.model import SourceKind
from core.store.pg_triggers import insert_channel, install_insert_trigger

from .harness import subscriber, with_events


@pytest.fixture
def backend() -> str:
    from conftest import require_postgres

    require_postgres()
    return "postgres"


async def test_a_notify_on_a_subscribed_channel_runs_the_task(
    database: Database, clock: ManualClock
) -> None:
    task = await subscriber(database, "postgres:deploys")
    async with with_events(database, clock) as ev:
        pg = ev.layer.postgres
        assert pg is not None and ev.layer.listen_dsn is not None
        await wait_for(lambda: pg.connected.is_set() and pg.channels == {"deploys"})
        conn = await asyncpg.connect(ev.layer.listen_dsn)
        try:
            await conn.execute("""NOTIFY deploys, '{"version": "v2"}'""")
            await conn.execute("NOTIFY deploys, 'not json'")
            await conn.execute("NOTIFY unrelated, 'x'")
        finally:
            await conn.close()
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 2, what="two runs")
        assert sorted(map(str, ev.keeper.events_of(task))) == sorted(
            [str({"version": "v2"}), str({"payload": "not json"})]
        )
        assert await ev.layer.store.count(kind=SourceKind.POSTGRES) == 2


async def test_an_installed_trigger_sends_inserted_rows(
    database: Database, clock: ManualClock
) -> None:
    assert insert_channel("public.Orders") == "kairos_orders_inserted"
    with pytest.raises(InvalidInput):
        insert_channel("orders; drop table x")
    task = await subscriber(database, "postgres:kairos_orders_inserted")
    async with with_events(database, clock) as ev:
        dsn = ev.layer.listen_dsn
        assert dsn is not None
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text)")
            with pytest.raises(InvalidInput):
                await install_insert_trigger(dsn, "missing_table")
            assert await install_insert_trigger(dsn, "orders") == "kairos_orders_inserted"
            assert await install_insert_trigger(dsn, "orders") == "kairos_orders_inserted"
            pg = ev.layer.postgres
            assert pg is not None
            await wait_for(lambda: pg.channels == {"kairos_orders_inserted"})
            await conn.execute("INSERT INTO orders (item) VALUES ('tea'), ('tea')")
            await conn.execute("INSERT INTO orders (item) VALUES ($1)", "x" * 9000)
        finally:
            await conn.close()
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 3, what="three runs")
        events = ev.keeper.events_of(task)
        rows = sorted((e.get("row") or {}).get("item", "") for e in events)
        assert rows == ["", "tea", "tea"]
        assert [e["truncated"] for e in events if "truncated" in e] == [True]
        assert {e["table"] for e in events} == {"orders"}
