"""Full-text search: what it costs a create, and how fast it answers (SQLite, or a URL).

    python -m bench.search_bench [--tasks 5000] [--database URL]

Prints one JSON object: ``create_ms_indexed`` / ``create_ms_unindexed`` (median of
alternating rounds of sequential ``TaskService.create``, the search document written
or not: a peer measured in the same run), and ``search_ms`` against
``substring_ms`` (the old case-insensitive ``LIKE`` over titles), medians over the
same queries on the same tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

from core import migrate
from core.clock import SystemClock
from core.db import Database
from core.enums import Platform
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery
from core.store import search as search_module
from core.store import tasks as tasks_module

WORDS = (
    "deploy",
    "release",
    "billing",
    "invoice",
    "rotate",
    "keys",
    "database",
    "backup",
    "report",
    "review",
    "onboarding",
    "customer",
    "support",
    "migrate",
    "server",
    "cluster",
    "metrics",
    "alert",
    "dashboard",
    "quarterly",
    "budget",
)


async def _run(url: str, tasks: int) -> dict[str, Any]:
    await migrate.upgrade(url)
    db = Database(url)
    store = SqlStore(db)
    service = TaskService(store=store, clock=SystemClock())
    workspace = await store.ensure_workspace(Platform.CONSOLE, "bench")
    assert workspace.id is not None
    member = await store.ensure_member(workspace.id, "bench")
    rng = random.Random(7)
    real_index = search_module.index_new

    async def no_index(*_: Any, **__: Any) -> None:
        return None

    rounds: dict[str, list[float]] = {"indexed": [], "unindexed": []}
    per_round = max(tasks // 10, 1)
    for n in range(10):
        mode = "indexed" if n % 2 == 0 else "unindexed"
        # The store module imported the function: swap it where it is called.
        writer = real_index if mode == "indexed" else no_index
        patch = mock.patch.object(tasks_module, "index_new", writer)
        patch.start()
        started = time.perf_counter()
        for _ in range(per_round):
            title = " ".join(rng.sample(WORDS, 4))
            await service.create({"title": title, "description": title[::-1]}, actor=member)
        rounds[mode].append((time.perf_counter() - started) * 1000 / per_round)
        patch.stop()

    queries = WORDS[:10]
    fts, like = [], []
    for word in queries * 3:
        started = time.perf_counter()
        await service.search(word, workspace_id=workspace.id, limit=20)
        fts.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await store.query_tasks(
            workspace.id, TaskQuery(text=word, limit=20), now=SystemClock().now()
        )
        like.append((time.perf_counter() - started) * 1000)
    await db.dispose()
    return {
        "backend": store.dialect,
        "tasks": per_round * 10,
        "create_ms_indexed": round(statistics.median(rounds["indexed"]), 3),
        "create_ms_unindexed": round(statistics.median(rounds["unindexed"]), 3),
        "search_ms": round(statistics.median(fts), 3),
        "substring_ms": round(statistics.median(like), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--database", default=None, help="a database URL (default: temp SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'search.db'}"
        print(json.dumps(asyncio.run(_run(url, args.tasks))))


if __name__ == "__main__":
    main()
