"""Micro-benchmark: µs per next_fire_time / next_runs call, per schedule kind.

Run: ``.venv/bin/python -m tests.schedules.bench_triggers``. Prints figures and,
as the noise-resistant number, the ratio to a peer measured in the same run
(raw APScheduler ``CronTrigger.get_next_fire_time``). Not a test: no timing asserts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from core.schedule import ScheduleSpec, parse_schedule
from core.triggers import next_fire_time, next_runs

AFTER = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def per_call_us(fn: Callable[[int], object], calls: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(calls):
            fn(i)
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def main() -> None:
    specs: dict[str, ScheduleSpec] = {
        "cron": parse_schedule(
            {"kind": "cron", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"}
        ),
        "rrule": parse_schedule(
            {
                "kind": "rrule",
                "rrule": "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=9",
                "dtstart": "2021-01-01T09:00:00",
                "timezone": "Europe/Berlin",
            }
        ),
        "rrule-daily-old": parse_schedule(
            {
                "kind": "rrule",
                "rrule": "FREQ=DAILY;BYHOUR=9",
                "dtstart": "2001-01-01T09:00:00",
                "timezone": "Europe/Berlin",
            }
        ),
        "interval": parse_schedule(
            {
                "kind": "interval",
                "every_seconds": 600,
                "start": "2026-01-01T00:00:00Z",
                "timezone": "UTC",
            }
        ),
        "once": parse_schedule(
            {"kind": "once", "at": "2026-12-01T09:00:00+01:00", "timezone": "Europe/Berlin"}
        ),
    }
    peer = CronTrigger.from_crontab("0 9 * * 1-5", timezone=ZoneInfo("Europe/Berlin"))
    peer_us = per_call_us(
        lambda i: peer.get_next_fire_time(None, AFTER + timedelta(minutes=i)), 20_000
    )
    print(f"{'peer: raw APScheduler CronTrigger':38s} {peer_us:7.1f} µs/call")
    for name, spec in specs.items():
        us = per_call_us(lambda i, s=spec: next_fire_time(s, AFTER + timedelta(minutes=i)), 20_000)
        print(f"next_fire_time {name:23s} {us:7.1f} µs/call  ({us / peer_us:4.2f}× peer)")
    for name in ("cron", "rrule"):
        us = per_call_us(
            lambda i, s=specs[name]: next_runs(s, AFTER + timedelta(minutes=i), 3), 5_000
        )
        print(f"next_runs(n=3) {name:23s} {us:7.1f} µs/call  ({us / peer_us:4.2f}× peer)")
    # Engine start-up: 100k tasks, each with its own (uncached) cron.
    crons = [
        parse_schedule(
            {
                "kind": "cron",
                "cron": f"{i % 60} {i // 60 % 24} * * {i % 7}",
                "timezone": ["Europe/Berlin", "America/New_York", "UTC"][i % 3],
                "start": (AFTER - timedelta(seconds=i)).isoformat(),
            }
        )
        for i in range(100_000)
    ]
    start = time.perf_counter()
    for spec in crons:
        next_fire_time(spec, AFTER)
    total = time.perf_counter() - start
    print(
        f"start-up: 100k distinct crons, cold cache: {total:5.2f} s "
        f"({total / len(crons) * 1e6:.1f} µs/task)"
    )
    # More typical: 100k tasks (distinct specs: each has its own start) over 200 crontabs.
    shared = [
        parse_schedule(
            {
                "kind": "cron",
                "cron": f"{i % 4 * 15} {7 + i % 12} * * {i % 7}",
                "timezone": ["Europe/Berlin", "America/New_York", "UTC"][i % 3],
                "start": (AFTER - timedelta(seconds=i)).isoformat(),
            }
        )
        for i in range(100_000)
    ]
    start = time.perf_counter()
    for spec in shared:
        next_fire_time(spec, AFTER)
    total = time.perf_counter() - start
    print(
        f"start-up: 100k tasks over 200 crontabs:    {total:5.2f} s "
        f"({total / len(shared) * 1e6:.1f} µs/task)"
    )


if __name__ == "__main__":
    main()
