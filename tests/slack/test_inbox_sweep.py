"""``CommandInbox.sweep`` on both backends: which entries it takes over (dead owner on
this host, expired lease elsewhere), which it leaves (a live owner), that two sweepers
take one entry once, and that an entry past its ``response_url``'s life is expired."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import timedelta
from typing import Any

from bot.slack.inbox import PLATFORM, CommandInbox
from core.clock import ManualClock
from core.db import Database
from core.models_inbox import InboxCommand
from core.store.inbox import InboxStore


async def _dead_pid() -> int:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await proc.wait()  # reaped: the pid no longer runs
    return proc.pid


def _row(key: str, owner: str, *, received: Any, lease: Any) -> dict[str, Any]:
    return {
        "platform": PLATFORM,
        "dedupe_key": key,
        "workspace": "T0001",
        "channel": "C0001",
        "user": "U0001",
        "user_name": "alice",
        "text": f"remind me {key}",
        "response_url": f"http://slack.test/response/{key}",
        "received_at": received,
        "status": "pending",
        "claimed_by": owner,
        "lease_until": lease,
        "attempts": 1,
    }


async def test_the_sweep_takes_over_only_what_a_dead_owner_left(
    database: Database, clock: ManualClock
) -> None:
    store = InboxStore(database)
    now = clock.now()
    host = socket.gethostname()
    later, earlier = now + timedelta(seconds=60), now - timedelta(seconds=1)
    rows = [
        _row("dead-here", f"{host}:{await _dead_pid()}:aa", received=now, lease=later),
        _row("alive-here", f"{host}:{os.getppid()}:bb", received=now, lease=later),
        _row("lease-expired", "elsewhere:1:cc", received=now, lease=earlier),
        _row("lease-live", "elsewhere:2:dd", received=now, lease=later),
        _row("too-old", "elsewhere:3:ee", received=now - timedelta(hours=1), lease=earlier),
    ]
    for row in rows:
        assert await store.accept(row)
    assert not await store.accept(rows[0])  # one command, one entry

    processed: list[str] = []

    async def process(entry: InboxCommand) -> None:
        processed.append(entry.dedupe_key)

    first = CommandInbox(store=store, clock=clock)
    second = CommandInbox(store=store, clock=clock)
    taken = await asyncio.gather(first.sweep(process), second.sweep(process))
    await asyncio.gather(*first._recovering, *second._recovering)
    assert sum(taken) == 2
    assert sorted(processed) == ["dead-here", "lease-expired"]  # each exactly once

    def status(key: str) -> Any:
        return store.entry(platform=PLATFORM, dedupe_key=key)

    for key in ("dead-here", "lease-expired"):
        entry = await status(key)
        assert entry is not None and entry.attempts == 2
        assert entry.claimed_by in (first.owner, second.owner)
    for key in ("alive-here", "lease-live"):
        entry = await status(key)
        assert entry is not None and entry.status == "pending" and entry.attempts == 1
    expired = await status("too-old")
    assert expired is not None and expired.status == "expired"
