"""Benchmark: workflow release latency and a wide fan-out/fan-in, through the real scheduler.

* ``hop_p50_ms`` / ``hop_p99_ms`` — a chain of N steps (default 1,000): from
  step *k*'s executor returning to step *k + 1*'s executor being entered. That
  covers the outcome's group commit, the release decided in that transaction,
  the claim and the hand-off to a worker.
* ``run_now_p50_ms`` — the peer, measured in the same run on the same
  database: ``Scheduler.run_now`` to the executor being entered (one fire, one
  claim). The hop costs a commit more than this.
* ``fanout_10000_s`` — one step → 10,000 steps → one step, from starting the
  workflow to the last step's executor being entered.

Usage::

    kairos bench dag [--json] [--chain 1000] [--fanout 10000] [--database-url URL]
    .venv/bin/python -m bench.dag --chain 100 --fanout 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from core import migrate
from core.clock import SystemClock
from core.db import Database
from core.enums import Platform, TaskKind
from core.executors.registry import ExecutorRegistry
from core.jobs import Job
from core.models_workflows import Workflow
from core.ports import ExecutionResult
from core.scheduler.scheduler import Scheduler
from core.scheduler.workers import PoolSettings
from core.store import SqlStore
from core.store.passes import PassStore


class ProbeExecutor:
    """Notes when each task's executor is entered and when it returns (perf_counter)."""

    def __init__(self) -> None:
        self.entered: dict[int, float] = {}
        self.exited: dict[int, float] = {}
        self.waiters: dict[int, asyncio.Event] = {}

    async def execute(self, job: Job) -> ExecutionResult:
        self.entered[job.task_id] = time.perf_counter()
        event = self.waiters.get(job.task_id)
        if event is not None:
            event.set()
        self.exited[job.task_id] = time.perf_counter()
        return ExecutionResult(output="")

    async def wait(self, task_id: int, limit: float) -> None:
        if task_id in self.entered:
            return
        event = self.waiters.setdefault(task_id, asyncio.Event())
        await asyncio.wait_for(event.wait(), limit)


async def _graph(
    store: SqlStore, workspace_id: int, name: str, count: int
) -> tuple[int, list[int]]:
    """A workflow with ``count`` probe steps (edges are added by the caller)."""
    workflow = await store.insert_workflow(Workflow(workspace_id=workspace_id, name=name))
    assert workflow.id is not None
    ids: list[int] = []
    async with store.transaction():
        for i in range(count):
            task = await store.insert_task(
                {
                    "workspace_id": workspace_id,
                    "title": f"{name} {i}",
                    "kind": TaskKind.JOB,
                    "action": {"type": "probe"},
                    "retry_policy": {"max_attempts": 1},
                }
            )
            assert task.id is not None
            ids.append(task.id)
    return workflow.id, ids


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_dag_bench(
    *,
    chain: int = 1000,
    fanout: int = 10_000,
    database_url: str | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'dag.db'}"
        await migrate.upgrade(url)
        db = Database(url)
        try:
            return await _measure(db, chain=chain, fanout=fanout, progress=progress)
        finally:
            await db.dispose()


async def _measure(
    db: Database, *, chain: int, fanout: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    store = SqlStore(db)
    workspace = await store.ensure_workspace(Platform.CONSOLE, "bench-dag")
    assert workspace.id is not None
    probe = ProbeExecutor()
    clock = SystemClock()
    scheduler = Scheduler(
        db=db,
        clock=clock,
        executors=ExecutorRegistry({"probe": probe}),
        settings=PoolSettings(concurrency=256, per_type={"probe": 256}),
    )
    passes = PassStore(db, scheduler.runs)
    figures: dict[str, Any] = {"database": db.engine.dialect.name}

    progress(f"building a chain of {chain:,} and a fan-out of {fanout:,}…")
    chain_wf, chain_ids = await _graph(store, workspace.id, "chain", chain)
    await store.add_steps(chain_wf, chain_ids, list(pairwise(chain_ids)))
    fan_wf, fan_ids = await _graph(store, workspace.id, "fan", fanout + 2)
    head, middle, tail = fan_ids[0], fan_ids[1:-1], fan_ids[-1]
    await store.add_steps(
        fan_wf, fan_ids, [(head, m) for m in middle] + [(m, tail) for m in middle]
    )
    await scheduler.start()
    try:
        progress("peer: run_now → executor entered…")
        peer: list[float] = []
        loose = chain_ids[-1]  # a last step has no successors: a plain run
        for _ in range(min(200, chain)):
            probe.entered.pop(loose, None)
            probe.waiters.pop(loose, None)
            began = time.perf_counter()
            await scheduler.run_now(loose)
            await probe.wait(loose, 30)
            peer.append((probe.entered[loose] - began) * 1000)
            await asyncio.sleep(0.002)
        figures["run_now_p50_ms"] = round(statistics.median(peer), 2)
        probe.entered.clear()
        probe.exited.clear()
        probe.waiters.clear()

        progress(f"chain of {chain:,}…")
        _, fired = await passes.start(chain_wf, started_by=None, now=clock.now())
        scheduler.pool.submit(fired)
        await probe.wait(chain_ids[-1], 600)
        hops = [(probe.entered[b] - probe.exited[a]) * 1000 for a, b in pairwise(chain_ids)]
        figures["chain"] = chain
        figures["hop_p50_ms"] = round(_percentile(hops, 0.5), 2)
        figures["hop_p99_ms"] = round(_percentile(hops, 0.99), 2)
        figures["hop_max_ms"] = round(max(hops), 2)

        progress(f"fan-out/fan-in of {fanout:,}…")
        began = time.perf_counter()
        _, fired = await passes.start(fan_wf, started_by=None, now=clock.now())
        scheduler.pool.submit(fired)
        await probe.wait(tail, 600)
        figures["fanout"] = fanout
        figures[f"fanout_{fanout}_s"] = round(time.perf_counter() - began, 2)
    finally:
        await scheduler.stop()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dag", description=__doc__.split("\n")[0])
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--fanout", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    figures = asyncio.run(
        run_dag_bench(chain=args.chain, fanout=args.fanout, database_url=args.database_url)
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
