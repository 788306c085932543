"""1,000 reminders due at once, posted by a real ``kairos run`` through slack_sdk.

Issue 8, "Throughput by default": with Slack answering in 300 ms, 1,000
reminders due at 09:00 are all delivered within 10 s, on one process with
default settings. ``kairos bench scheduler --only delivery`` times the
scheduler to a fake adapter inside the benchmark's process; this one times
what a user sees: a separate ``kairos run --no-console`` process (SQLite by
default, or PostgreSQL with ``--postgres``) posting through the real Slack
adapter and slack_sdk to the benchmarks' fake Slack Web API
(``bench/slack_api.py``) answering every call after ``--latency`` seconds.
The reminders (one per channel) are created from outside the process, through
``TaskService`` in this one, all due at the same second, after the server is
up: the server learns of them the way it learns of a CLI's change.

Printed: the time from the due instant to the last first post (the target),
p50/p99 of the first posts, reminders posted twice, and the most calls the
fake saw in flight at once.

    .venv/bin/python bench/slack_delivery.py [--n 1000] [--latency 0.3] [--postgres] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.replica_process import Replica  # noqa: E402
from bench.slack_api import BenchSlack  # noqa: E402

TEAM = "T0BENCH"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


async def _create(url: str, n: int, due: datetime) -> None:
    """``n`` one-off reminders, one per channel, due at ``due`` (no engine in this process)."""
    from core.clock import SystemClock
    from core.db import Database
    from core.enums import Platform
    from core.services.tasks import TaskService
    from core.store import SqlStore

    db = Database(url)
    try:
        store = SqlStore(db)
        workspace = await store.ensure_workspace(Platform.SLACK, TEAM, default_timezone="UTC")
        assert workspace.id is not None
        actor = await store.ensure_member(workspace.id, "U9999", display_name="bench")
        service = TaskService(store=store, clock=SystemClock())
        schedule = {"kind": "once", "at": due.isoformat(), "timezone": "UTC"}
        for i in range(n):
            await service.create(
                {"title": f"post update {i}", "schedule": schedule, "channel_ref": f"C{i:05d}"},
                actor=actor,
            )
    finally:
        await db.dispose()


async def run(n: int, latency: float, postgres: bool, lead: float) -> dict[str, Any]:
    import aiohttp
    import asyncpg

    from core.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="kairos-bench-delivery-"))
    db_name = f"kairos_bench_{uuid.uuid4().hex[:10]}"
    if postgres:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{db_name}"')
        await conn.close()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    else:
        url = f"sqlite:///{workdir / 'kairos.db'}"
    await upgrade(url)
    slack = BenchSlack(latency=(latency, latency))
    api_url = await slack.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    env |= {
        "KAIROS_DATABASE_URL": url,
        "KAIROS_SLACK_SIGNING_SECRET": "bench-secret",
        "KAIROS_SLACK_API_URL": api_url,
        "KAIROS_DEFAULT_TIMEZONE": "UTC",
        "PYTHONPATH": str(ROOT),
    }
    replica = Replica(0, token=f"xoxb-r0-{TEAM}", env=env, workdir=workdir)
    peak = 0
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await replica.start()
            await replica.wait_ready(http)
        # Whole seconds, like "at 09:00": triggers work to the second.
        due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
        started = time.monotonic()
        await _create(url, n, due)
        created = datetime.now(UTC)
        took, left = time.monotonic() - started, (due - created).total_seconds()
        print(f"created {n} reminders in {took:.1f} s; due {left:.1f} s later", file=sys.stderr)
        if created >= due:
            raise SystemExit(f"creating {n} reminders took past their due time; raise --lead")
        deadline = due.timestamp() + 120
        while time.time() < deadline and len({p.channel for p in slack.posts}) < n:
            peak = max(peak, sum(slack.in_flight.values()))
            await asyncio.sleep(0.01)
    finally:
        await replica.stop()
        await slack.stop()
        if postgres:
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            await conn.close()
        shutil.rmtree(workdir, ignore_errors=True)
    first: dict[str, float] = {}
    for post in slack.posts:
        first.setdefault(post.channel, post.at - due.timestamp())
    late = list(first.values())
    return {
        "database": "postgresql" if postgres else "sqlite",
        "reminders": n,
        "latency_s": latency,
        "posted": len(first),
        "posted_twice": len(slack.posts) - len(first),
        "all_posted_s": round(max(late), 2) if late else None,
        "p50_s": round(_percentile(late, 50), 2) if late else None,
        "p99_s": round(_percentile(late, 99), 2) if late else None,
        "peak_calls_in_flight": peak,
        "target": "all posted within 10 s of the due instant",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="reminders (one per channel)")
    parser.add_argument("--latency", type=float, default=0.3, help="Slack's answer time (s)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--lead", type=float, default=40, help="seconds from start to due")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.n, args.latency, args.postgres, args.lead))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
