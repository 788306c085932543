"""Changes made by one process reach the engine running in another, with real processes.

``node_proc.py`` is wired like ``kairos run`` (a ``Scheduler`` and a ``TaskService``);
with ``--no-engine`` it is the CLI beside a running server. SQLite learns through
the rescan, PostgreSQL through NOTIFY (and the rescan behind it).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.db import Database
from core.enums import RunStatus
from core.models import Run
from core.store.changes import CHANGED_REASON
from core.store.runs import RunStore

from .harness import wait_for
from .procs import Node, deliveries, kairos_run, stop_server

pytestmark = pytest.mark.slow

POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _soon(seconds: float) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


@pytest.fixture
async def runs(database_url: str) -> AsyncIterator[RunStore]:
    db = Database(database_url)
    try:
        yield RunStore(db)
    finally:
        await db.dispose()


def _delivered(log: Path, task_id: int) -> list[str]:
    return [d.scheduled_for for d in deliveries(log) if d.task_id == task_id]


async def test_a_task_added_by_another_process_fires_without_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "deliveries.log"
    server = await Node.spawn(database_url, log, name="server")
    cli = await Node.spawn(database_url, log, engine=False, name="cli")
    try:
        at = _soon(3)
        task_id = await cli.add(at)
        await wait_for(lambda: _delivered(log, task_id), 30, "the server to deliver it")
        [delivery] = [d for d in deliveries(log) if d.task_id == task_id]
        assert delivery.pid == server.pid  # the CLI never runs an engine
        assert delivery.scheduled_for == at.isoformat()
    finally:
        await cli.stop()
        await server.stop()


@POSTGRES_ONLY
async def test_tasks_created_through_a_replica_killed_9_are_fired_by_another(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "deliveries.log"
    a = await Node.spawn(database_url, log, name="a")
    b = await Node.spawn(database_url, log, name="b")
    try:
        at = _soon(5)
        ids = [await a.add(at + timedelta(milliseconds=200 * i)) for i in range(10)]
        await a.kill()  # before it fires (or stages) any of them
        await wait_for(
            lambda: {d.task_id for d in deliveries(log)} >= set(ids), 30, "B to deliver all ten"
        )
        mine = [d for d in deliveries(log) if d.task_id in ids]
        assert {d.pid for d in mine} == {b.pid}
        assert Counter(d.task_id for d in mine) == Counter(ids)  # each exactly once
    finally:
        await b.stop()


async def _staged(runs: RunStore, task_id: int, at: datetime) -> Run | None:
    for run in await runs.runs_for(task_id):
        if run.scheduled_for == at and run.status == RunStatus.PENDING:
            return run
    return None


@pytest.mark.parametrize("change", ["reschedule", "pause", "delete"])
async def test_a_change_from_another_process_wins_over_a_staged_run(
    database_url: str, tmp_path: Path, runs: RunStore, change: str
) -> None:
    """The server writes the run ahead (5 s here, 2 s by default, so that a loaded
    machine still lands the change inside the window); a change made by the CLI in
    that window wins: the old time never runs, the new time (for a reschedule) does."""
    log = tmp_path / "deliveries.log"
    server = await Node.spawn(database_url, log, name="server", lookahead=5)
    cli = await Node.spawn(database_url, log, engine=False, name="cli")
    try:
        at = _soon(8)
        task_id = await cli.add(at)
        # A later reminder: once it is delivered, the old time has long been due.
        sentinel = await cli.add(at + timedelta(seconds=1))
        staged = await wait_for(lambda: _staged(runs, task_id, at), 15, "the run to be staged")
        assert not _delivered(log, task_id)
        new = at + timedelta(seconds=2)
        if change == "reschedule":
            assert await cli.ask(f"reschedule {task_id} {new.isoformat()}") == "ok"
        else:
            assert await cli.ask(f"{change} {task_id}") == "ok"
        await wait_for(lambda: _delivered(log, sentinel), 30, "the sentinel")
        if change == "reschedule":
            await wait_for(lambda: _delivered(log, task_id), 30, "the new time to run")
            assert _delivered(log, task_id) == [new.isoformat()]
        else:
            assert _delivered(log, task_id) == []
        old = await runs.get(staged.id or 0)
        assert old is not None
        assert (old.status, old.error) == (RunStatus.CANCELLED, CHANGED_REASON)
    finally:
        await cli.stop()
        await server.stop()


async def test_kairos_run_fires_a_task_added_by_another_process(
    database_url: str, tmp_path: Path, runs: RunStore
) -> None:
    """The real server (``kairos run --no-console``) and a second process adding a task."""
    stderr = tmp_path / "server.stderr"
    env = {
        **os.environ,
        "KAIROS_DATABASE_URL": database_url,
        "KAIROS_HTTP_PORT": "0",
        "KAIROS_LOG_LEVEL": "INFO",
    }
    server = await kairos_run(env, tmp_path, stderr)
    cli = await Node.spawn(database_url, tmp_path / "cli.log", engine=False, name="cli")
    try:
        await wait_for(lambda: "Kairos is running" in stderr.read_text(), 60, "kairos run")
        at = _soon(3)
        task_id = await cli.add(at)

        async def fired() -> list[Run]:
            return [r for r in await runs.runs_for(task_id) if r.status != RunStatus.PENDING]

        [run] = await wait_for(fired, 30, "kairos run to fire the task")
        assert (run.scheduled_for, run.trigger) == (at, "schedule")
    finally:
        await cli.stop()
        await stop_server(server)


async def test_kairos_run_says_why_it_opened_no_console(database_url: str, tmp_path: Path) -> None:
    """Input piped or from a service manager: no console chat, and one line saying so —
    not silence that looks like typed messages being ignored."""
    stderr = tmp_path / "server.stderr"
    env = {
        **os.environ,
        "KAIROS_DATABASE_URL": database_url,
        "KAIROS_HTTP_PORT": "0",
        "KAIROS_LOG_LEVEL": "INFO",
    }
    server = await kairos_run(env, tmp_path, stderr, flags=())
    try:
        await wait_for(lambda: "Kairos is running" in stderr.read_text(), 60, "kairos run")
        await wait_for(lambda: "console chat off" in stderr.read_text(), 10, "the console line")
        assert "standard input is not a terminal" in stderr.read_text()
    finally:
        await stop_server(server)
