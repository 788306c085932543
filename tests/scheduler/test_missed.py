"""Fires the misfire policy skipped are handed to ``MissedFires`` once per task."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from core.clock import ManualClock
from core.db import Database
from core.enums import MisfirePolicy, RunStatus

from .harness import running, wait_for
from .helpers import add_task

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAILY = {"kind": "cron", "cron": "0 9 * * *", "timezone": "UTC"}


class RecordingMissed:
    def __init__(self) -> None:
        self.calls: list[tuple[int, list[datetime], bool]] = []

    async def missed(self, task_id: int, fires: Sequence[datetime], *, late_run: bool) -> None:
        self.calls.append((task_id, list(fires), late_run))


async def test_skipped_fires_are_told_once_per_task(database: Database, workspace_id: int) -> None:
    clock = ManualClock(START)
    first = START.replace(hour=9) - timedelta(days=4)  # five daily fires missed, today's too
    late = await add_task(
        database, workspace_id, schedule=DAILY, next_fire_at=first, grace=3 * 3600 + 60
    )
    skip = await add_task(
        database,
        workspace_id,
        schedule=DAILY,
        next_fire_at=first,
        grace=60,
        misfire_policy=MisfirePolicy.SKIP,
    )
    on_time = await add_task(
        database, workspace_id, schedule=DAILY, next_fire_at=START + timedelta(hours=1)
    )
    missed = RecordingMissed()
    async with running(database, clock, missed=missed) as h:
        await wait_for(lambda: len(missed.calls) == 2 or None)
        await h.advance(3600)  # the on-time task fires: nothing to tell
        runs = await h.settle(on_time, 1)
        assert [r.status for r in runs] == [RunStatus.COMPLETED]
    calls = {task_id: (fires, ran) for task_id, fires, ran in missed.calls}
    assert set(calls) == {late, skip}
    days = [first + timedelta(days=n) for n in range(5)]
    # Grace 3 h: today's 09:00 runs late, the four before are skipped; told with it.
    assert calls[late] == (days[:4], True)
    # Policy skip, no grace left: all five skipped, nothing ran.
    assert calls[skip] == (days, False)
