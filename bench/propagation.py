"""How fast a task change made in one process reaches the engine of another.

    python bench/propagation.py --backend sqlite    # rescan (SQLite's only path)
    python bench/propagation.py --backend postgres  # LISTEN/NOTIFY (+ rescan behind it)
    python bench/propagation.py --backend postgres --rescan-only  # the safety net alone

This process (A) creates ``--changes`` reminders one by one through ``TaskService``
and notes when each commit returned; an observer process (B) runs an engine with
its ``ChangeWatcher`` and notes when ``tasks_changed`` has taken each task in.
Both read the same wall clock. It prints the delay p50/p99/max, then the cost of
one rescan query (``ChangeFeed.changed_since``) with ``--tasks`` tasks stored.
PostgreSQL: ``KAIROS_TEST_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.clock import SystemClock  # noqa: E402
from core.db import Database  # noqa: E402
from core.enums import Platform, Role, TaskKind  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.scheduler.changes import ChangeWatcher  # noqa: E402
from core.scheduler.engine import SchedulerEngine  # noqa: E402
from core.services.tasks import TaskService  # noqa: E402
from core.store import SqlStore  # noqa: E402
from core.store.changes import ChangeFeed  # noqa: E402
from core.store.runs import FiredRun, RunStore  # noqa: E402

PG_ADMIN = os.environ.get("KAIROS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


class _NullSink:
    def submit(self, runs: Sequence[FiredRun]) -> None:
        pass


class _Stamping:
    """Forwards to the engine, then prints ``id time`` for every task it took in."""

    def __init__(self, engine: SchedulerEngine) -> None:
        self.engine = engine

    async def tasks_changed(self, task_ids: Sequence[int]) -> None:
        await self.engine.tasks_changed(task_ids)
        now = time.time()
        sys.stdout.write("".join(f"{t} {now:.6f}\n" for t in task_ids))
        sys.stdout.flush()


async def observe(url: str, rescan_only: bool) -> None:
    """Process B: an engine fed by a ChangeWatcher, stamping what it learns."""
    db = Database(url)
    engine = SchedulerEngine(store=RunStore(db), clock=SystemClock(), sink=_NullSink())
    feed = ChangeFeed(db)
    if rescan_only:
        feed.notifies = False  # as if every notification were lost
    watcher = ChangeWatcher(feed=feed, target=_Stamping(engine))
    await watcher.prime()
    await engine.start()
    await watcher.start()
    for _ in range(3000):  # on PostgreSQL, measure once the LISTEN connection is up
        if watcher.listening or not feed.notifies:
            break
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await watcher.stop()
    await engine.stop()
    await db.dispose()


async def _database(backend: str, folder: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder}/propagation.db", None
    import asyncpg

    name = f"kairos_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), name


async def _drop(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(backend: str, changes: int, tasks: int, rescan_only: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url, pg_name = await _database(backend, folder)
        try:
            await upgrade(url)
            await _propagation(url, backend, changes, rescan_only)
            await _rescan_cost(url, backend, tasks)
        finally:
            if pg_name:
                await _drop(pg_name)


async def _propagation(url: str, backend: str, changes: int, rescan_only: bool) -> None:
    db = Database(url)
    store = SqlStore(db)
    clock = SystemClock()
    service = TaskService(store=store, clock=clock)
    ws = await store.ensure_workspace(Platform.CONSOLE, "bench")
    assert ws.id is not None
    actor = await store.ensure_member(ws.id, "bench", role=Role.ADMIN)
    observer = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--observe",
        url,
        *(["--rescan-only"] if rescan_only else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert observer.stdout is not None and observer.stdin is not None
    assert (await observer.stdout.readline()).strip() == b"ready"
    seen: dict[int, float] = {}

    async def read() -> None:
        assert observer.stdout is not None
        while line := await observer.stdout.readline():
            tid, at = line.split()
            seen.setdefault(int(tid), float(at))

    reader = asyncio.create_task(read(), name="bench-observer-reader")
    committed: dict[int, float] = {}
    rng = random.Random(1)
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for _ in range(changes):
        task = await service.create(
            {
                "kind": TaskKind.REMINDER,
                "title": "p",
                "schedule": {"kind": "once", "at": at, "timezone": "UTC"},
            },
            actor=actor,
        )
        committed[task.id] = time.time()
        await asyncio.sleep(rng.uniform(0.005, 0.03))  # spread out: no batching artefacts
    for _ in range(600):  # up to 30 s for the last ones
        if set(committed) <= set(seen):
            break
        await asyncio.sleep(0.05)
    observer.stdin.close()
    await observer.wait()
    reader.cancel()
    delays = [(seen[t] - c) * 1000 for t, c in committed.items() if t in seen]
    path = "LISTEN/NOTIFY" if backend == "postgres" and not rescan_only else "rescan every 0.5 s"
    print(
        f"{backend}: propagation ({path}) over {len(delays)}/{changes} changes: "
        f"p50 {_pct(delays, 0.5):.1f} ms, p99 {_pct(delays, 0.99):.1f} ms, "
        f"max {max(delays):.1f} ms, mean {statistics.fmean(delays):.1f} ms"
    )
    await db.dispose()


async def _rescan_cost(url: str, backend: str, tasks: int) -> None:
    db = Database(url)
    table: sa.Table = SQLModel.metadata.tables["tasks"]
    now = datetime.now(UTC)
    async with db.engine.begin() as conn:
        ws = (await conn.execute(sa.text("SELECT min(id) FROM workspaces"))).scalar()
        base = (await conn.execute(sa.select(sa.func.max(table.c.change_seq)))).scalar() or 0
        rows = [
            {
                "workspace_id": ws, "kind": "reminder", "title": f"t{i}", "description": "",
                "priority": "normal", "timezone": "UTC", "misfire_policy": "run_once",
                "misfire_grace_seconds": 3600, "status": "open", "enabled": True,
                "next_fire_at": now + timedelta(seconds=i), "change_seq": base + i + 1,
                "created_at": now, "updated_at": now,
            }
            for i in range(tasks)
        ]  # fmt: skip
        for start in range(0, tasks, 5000):
            await conn.execute(sa.insert(table), rows[start : start + 5000])
        if backend == "postgres":
            await conn.execute(sa.text(f"SELECT setval('task_change_seq', {base + tasks})"))
            await conn.execute(sa.text("ANALYZE tasks"))
    feed = ChangeFeed(db)
    high = await feed.high_mark()
    timings: list[float] = []
    for i in range(300):
        mark = high - (i % 20)  # a rescan that finds 0–19 changed tasks
        began = time.perf_counter()
        await feed.changed_since(mark)
        timings.append((time.perf_counter() - began) * 1000)
    print(
        f"{backend}: one rescan query with {tasks:,} tasks: p50 {_pct(timings, 0.5):.2f} ms, "
        f"p99 {_pct(timings, 0.99):.2f} ms (incl. connection checkout)"
    )
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--rescan-only", action="store_true", help="PostgreSQL without LISTEN.")
    parser.add_argument("--observe", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.observe:
        asyncio.run(observe(args.observe, args.rescan_only))
    else:
        asyncio.run(measure(args.backend, args.changes, args.tasks, args.rescan_only))


if __name__ == "__main__":
    main()
