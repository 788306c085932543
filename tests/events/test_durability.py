"""Durability across kill -9: an acknowledged event is stored; any replica delivers it once.

Real processes (``hook_proc.py``) serve the webhook over HTTP. The first one stores
events but is killed (SIGKILL) before delivering them; two replicas started
afterwards race to deliver: every acknowledged event runs its subscribed task
exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from scheduler.harness import wait_for
from scheduler.procs import spawn_ready

from core.clock import ManualClock
from core.db import Database
from core.enums import RunStatus
from core.events.signing import kairos_signature

from .harness import subscriber, with_events

PROC = Path(__file__).with_name("hook_proc.py")
pytestmark = pytest.mark.slow


async def _start(
    url: str, tmp: Path, name: str, *flags: str
) -> tuple[asyncio.subprocess.Process, str]:
    port_file = tmp / f"{name}.port"
    proc = await spawn_ready(PROC, url, str(port_file), *flags)
    return proc, f"http://127.0.0.1:{port_file.read_text()}"


async def _kill(proc: asyncio.subprocess.Process) -> None:
    proc.kill()  # SIGKILL: no cleanup runs
    await proc.wait()


async def test_events_survive_kill_9_and_are_delivered_once_by_replicas(
    database_url: str, database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    async with with_events(database, clock) as ev:  # only to create the hook here
        secret = (await ev.layer.webhooks.create("deploy")).secret
    tasks = [
        await subscriber(database, "webhook:deploy", action={"type": "noop"}) for _ in range(2)
    ]

    first, base = await _start(database_url, tmp_path, "first", "--no-delivery")
    acknowledged: list[int] = []
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for i in range(20):
                body = json.dumps({"n": i}).encode()
                sig = kairos_signature(secret, body, int(time.time()))
                r = await client.post(
                    f"{base}/hooks/deploy", content=body, headers={"X-Kairos-Signature": sig}
                )
                assert r.status_code == 202, r.text
                acknowledged.append(r.json()["event_id"])
    finally:
        await _kill(first)

    async with database.engine.connect() as conn:
        undelivered = (
            await conn.execute(sa.text("SELECT count(*) FROM events WHERE delivered_at IS NULL"))
        ).scalar_one()
        assert undelivered == 20
        assert (await conn.execute(sa.text("SELECT count(*) FROM runs"))).scalar_one() == 0

    replicas = [await _start(database_url, tmp_path, f"replica{i}") for i in range(2)]
    try:

        async def all_ran() -> bool:
            async with database.engine.connect() as conn:
                rows = (
                    await conn.execute(sa.text("SELECT task_id, event_id, status FROM runs"))
                ).all()
            return len(rows) >= 40 and all(r[2] == RunStatus.COMPLETED.value for r in rows)

        await wait_for(all_ran, 30, "the replicas to run every event's tasks")
    finally:
        for proc, _ in replicas:
            await _kill(proc)

    async with database.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT task_id, event_id FROM runs"))).all()
        undelivered = (
            await conn.execute(sa.text("SELECT count(*) FROM events WHERE delivered_at IS NULL"))
        ).scalar_one()
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        (t, e) for t in tasks for e in acknowledged
    )  # every (task, event) exactly once
    assert undelivered == 0
