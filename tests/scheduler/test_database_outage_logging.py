"""A PostgreSQL database that stops accepting connections (every session cut, as in an
outage or a failover): the store says so as a ``StoreError`` (never a raw driver error),
and the notifications loop logs one line when it starts failing and one when it works
again — no traceback, however many rounds fail meanwhile."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from conftest import _pg_admin  # tests/conftest.py (rootdir import)
from sqlalchemy.engine import make_url
from waiting import eventually

from bot.notices import NoticeDispatcher
from core.clock import SystemClock
from core.db import Database
from core.errors import StoreError
from core.services.notices import NoticeService
from core.store import SqlStore
from core.store.notices import NoticeStore

from .harness import RecordingMetrics

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


class Outage:
    """Cuts every session of the database and refuses new ones until ``end``."""

    def __init__(self, url: str) -> None:
        self.name = make_url(url).database

    async def start(self) -> None:
        await _pg_admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await _pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )

    async def end(self) -> None:
        await _pg_admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    cut = Outage(database_url)
    try:
        yield cut
    finally:
        await cut.end()


async def test_a_refused_connection_leaves_the_store_as_a_store_error(
    database: Database, outage: Outage
) -> None:
    store = SqlStore(database)
    assert await store.find_task(1) is None
    await outage.start()
    with pytest.raises(StoreError) as raised:
        await store.find_task(1)
    assert type(raised.value.__cause__).__module__.startswith("asyncpg")
    await outage.end()
    assert await store.find_task(1) is None


async def test_notifications_log_an_outage_in_two_lines_without_a_traceback(
    database: Database, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    metrics = RecordingMetrics()
    clock = SystemClock()
    service = NoticeService(store=SqlStore(database), notices=NoticeStore(database), clock=clock)
    dispatcher = NoticeDispatcher(
        service=service,
        notifier=cast(Any, None),  # nothing is due: nothing is posted
        clock=clock,
        poll_seconds=0.05,
        metrics=metrics,
    )
    await dispatcher.start()
    try:
        await outage.start()
        await eventually(lambda: len(metrics.errors) >= 4, within=30)  # rounds keep failing
        await outage.end()
        await eventually(lambda: any("back after" in r.getMessage() for r in caplog.records))
    finally:
        await dispatcher.stop()
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.exc_info for r in caplog.records if r.exc_info] == []
    assert len(lines) == 2, [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith("notifications: database unavailable")
    assert lines[1].getMessage().startswith("notifications: database back after")
    assert set(metrics.errors) == {"notifications"}
