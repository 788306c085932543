"""A real connection cut between Kairos and PostgreSQL: back-off, two log lines, no loss.

A TCP proxy sits between the scheduler and the database; cutting it resets every
connection and refuses new ones. The engine, its LISTEN connection and its
rescan each log one line when the database goes away and one when it is back,
no tracebacks, and the reminders due meanwhile are delivered after recovery.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from core.clock import SystemClock
from core.db import Database
from core.enums import Platform, Role, TaskKind
from core.executors import ExecutorRegistry
from core.jobs import Job
from core.models import Member
from core.ports import ExecutionResult
from core.scheduler import PoolSettings, Scheduler
from core.services.tasks import TaskService
from core.store import SqlStore

from .harness import RecordingMetrics, wait_for
from .proxy import CuttableProxy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize(
        "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
]
COMPONENTS = ("engine", "engine-listener", "engine-rescan", "engine-changes")


class Delivered:
    def __init__(self) -> None:
        self.task_ids: list[int] = []

    async def execute(self, job: Job) -> ExecutionResult:
        self.task_ids.append(job.task_id)
        return ExecutionResult(output="ok")


def _has(ids: Sequence[int], wanted: Sequence[int]) -> bool:
    return set(wanted) <= set(ids)


@dataclass
class Rig:
    """A scheduler reaching PostgreSQL through a cuttable proxy; tasks written directly."""

    proxy: CuttableProxy
    scheduler: Scheduler
    delivered: Delivered
    metrics: RecordingMetrics
    service: TaskService
    actor: Member

    async def remind(self, seconds: float, title: str = "r") -> int:
        at = datetime.now(UTC) + timedelta(seconds=seconds)
        schedule = {"kind": "once", "at": at.isoformat(), "timezone": "UTC"}
        task = await self.service.create(
            {"kind": TaskKind.REMINDER, "title": title, "schedule": schedule}, actor=self.actor
        )
        return task.id


@asynccontextmanager
async def _rig(database_url: str, name: str) -> AsyncIterator[Rig]:
    url = make_url(database_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    direct = Database(database_url)  # the "other process" writing tasks
    through = Database(url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False))
    store = SqlStore(direct)
    clock = SystemClock()
    workspace = await store.ensure_workspace(Platform.CONSOLE, name)
    assert workspace.id is not None
    actor = await store.ensure_member(workspace.id, "ops", role=Role.ADMIN)
    delivered, metrics = Delivered(), RecordingMetrics()
    scheduler = Scheduler(
        db=through,
        clock=clock,
        executors=ExecutorRegistry({"notify": delivered}),
        settings=PoolSettings(poll_seconds=0.2),
        metrics=metrics,
    )
    await scheduler.start()
    try:
        yield Rig(
            proxy, scheduler, delivered, metrics, TaskService(store=store, clock=clock), actor
        )
    finally:
        await scheduler.stop()
        await proxy.close()
        await through.dispose()
        await direct.dispose()


async def test_a_connection_cut_backs_off_logs_twice_and_loses_nothing(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.scheduler")
    async with _rig(database_url, "outage") as rig:
        scheduler, delivered, metrics, remind = (
            rig.scheduler,
            rig.delivered,
            rig.metrics,
            rig.remind,
        )
        await wait_for(lambda: scheduler.changes.listening, 10, "the LISTEN connection")
        first = await remind(2)
        await wait_for(lambda: _has(delivered.task_ids, [first]), 15, "a delivery before the cut")
        # Known to the engine before the cut, due during it: its fire fails.
        during = [await remind(4 + 0.3 * i) for i in range(3)]
        await wait_for(lambda: scheduler.engine.scheduled >= 3, 10, "the engine to hear of them")
        rig.proxy.cut()
        unseen = [await remind(2 + 0.3 * i) for i in range(3)]  # the engine cannot hear of these
        await wait_for(lambda: metrics.errors.count("engine") >= 3, 60, "failed fires")
        rig.proxy.restore()
        await wait_for(
            lambda: _has(delivered.task_ids, during + unseen), 90, "deliveries after the cut"
        )
        await wait_for(lambda: scheduler.changes.listening, 60, "the LISTEN connection again")

    assert sorted(delivered.task_ids) == sorted([first, *during, *unseen])  # once each
    mine = [
        r
        for r in caplog.records
        if r.name in ("core.scheduler.engine", "core.scheduler.changes", "core.scheduler.outage")
    ]
    assert all(r.exc_info is None for r in mine), [r.getMessage() for r in mine if r.exc_info]
    for component in COMPONENTS:
        lines = [r.getMessage() for r in mine if r.getMessage().startswith(f"{component}: ")]
        down = [m for m in lines if "database unavailable" in m]
        back = [m for m in lines if "database back after" in m]
        assert len(down) == len(back) <= 1, (component, lines)
        if component in ("engine", "engine-listener"):
            assert len(down) == 1, (component, lines)


async def test_after_a_long_back_off_the_reminders_go_out_as_soon_as_the_database_answers(
    database_url: str,
) -> None:
    """Seven failed fires put the engine's back-off at 15–30 s; the database's return
    still reaches every loop within about a second (the probe), not after that sleep."""
    async with _rig(database_url, "long-outage") as rig:
        # Due during the cut (6 s from now), known to the engine before it.
        ids = [await rig.remind(6, f"r{i}") for i in range(5)]
        await wait_for(lambda: rig.scheduler.engine.scheduled >= 5, 10, "the engine to hear")
        rig.proxy.cut()
        await wait_for(lambda: rig.metrics.errors.count("engine") >= 7, 90, "seven failed fires")
        rig.proxy.restore()
        await wait_for(
            lambda: _has(rig.delivered.task_ids, ids), 8, "deliveries soon after the return"
        )
    assert sorted(rig.delivered.task_ids) == sorted(ids)
