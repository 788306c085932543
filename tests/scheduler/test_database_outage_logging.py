"""A PostgreSQL database that stops accepting connections (every session cut, as in an
outage or a failover): the store says so as a ``StoreError`` (never a raw driver error),
and the notifications loop logs one line when it starts failing and one when it works
again — no traceback, however many rounds fail meanwhile."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from conftest import _pg_admin  # tests/conftest.py (rootdir import)
from sqlalchemy.engine import make_url
from waiting import eventually

from bot.notices import NoticeDispatcher
from core.clock import SystemClock
from core.db import Database
from core.errors import StoreError
from core.events.delivery import EventBus
from core.services.notices import NoticeService
from core.store import SqlStore
from core.store.events import EventStore
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


async def _through_an_outage(
    outage: Outage, caplog: pytest.LogCaptureFixture, failures: Callable[[], int]
) -> list[str]:
    """Cut the database until ``failures()`` says several rounds failed, restore it, wait
    for the recovery line; the lines logged at WARNING and above (none with a traceback)."""
    await outage.start()
    await eventually(lambda: failures() >= 4, within=30)  # rounds keep failing
    await outage.end()
    await eventually(lambda: any("back after" in r.getMessage() for r in caplog.records))
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


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
        lines = await _through_an_outage(outage, caplog, lambda: len(metrics.errors))
    finally:
        await dispatcher.stop()
    assert len(lines) == 2, lines
    assert lines[0].startswith("notifications: database unavailable")
    assert lines[1].startswith("notifications: database back after")
    assert set(metrics.errors) == {"notifications"}


async def test_event_delivery_logs_an_outage_in_two_lines_without_a_traceback(
    database: Database, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bus = EventBus(
        store=EventStore(database),
        sink=cast(Any, None),  # nothing is stored: nothing is delivered
        clock=SystemClock(),
        rescan_seconds=0.05,
    )
    await bus.start()
    try:
        lines = await _through_an_outage(outage, caplog, lambda: bus._outage.failures)
    finally:
        await bus.stop()
    assert len(lines) == 2, lines
    assert lines[0].startswith("events-delivery: database unavailable")
    assert lines[1].startswith("events-delivery: database back after")
