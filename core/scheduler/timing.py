"""The engine's one doorway to schedule maths and misfire rules.

Fire times come from ``core.triggers`` (APScheduler 3.x triggers and RRULE with
Kairos' DST policy), misfire decisions from ``core.misfire``, retry back-off from
``core.retry``. Nothing here computes dates itself; it adapts those pure modules
to the shapes the engine and workers use.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from core.enums import MisfirePolicy
from core.misfire import MisfireDecision
from core.misfire import decide as misfire_decide
from core.retry import RetryPolicy
from core.schedule import ScheduleSpec
from core.triggers import next_fire_time

#: ``count_between`` stops counting here (it only feeds a human-readable reason).
COUNT_LIMIT = 10_000


def next_after(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The first fire strictly after ``after``, or ``None`` when the schedule is over."""
    return next_fire_time(spec, after)


def latest_at_or_before(spec: ScheduleSpec, now: datetime, *, floor: datetime) -> datetime | None:
    """The last fire in ``[floor, now]``, found by widening a window back from ``now``."""
    for seconds in (60, 3600, 86_400, 7 * 86_400, 31 * 86_400, 366 * 86_400, None):
        start = floor if seconds is None else max(floor, now - timedelta(seconds=seconds))
        at = next_fire_time(spec, start - timedelta(microseconds=1))
        if at is None or at > now:
            if seconds is None:
                return None
            continue
        last = at
        for _ in range(COUNT_LIMIT):
            following = next_fire_time(spec, last)
            if following is None or following > now:
                return last
            last = following
        return last
    return None


def count_between(spec: ScheduleSpec, start: datetime, end: datetime) -> int:
    """How many fires lie in ``[start, end]`` (``start`` being one), capped at COUNT_LIMIT."""
    count = 0
    at: datetime | None = start
    while at is not None and at <= end and count < COUNT_LIMIT:
        count += 1
        at = next_fire_time(spec, at)
    return count


def decide(
    policy: MisfirePolicy, grace: timedelta, missed: list[datetime], now: datetime
) -> MisfireDecision:
    """Apply the task's misfire policy to its missed fires (oldest first)."""
    return misfire_decide(policy, grace, missed, now)


def retry_delay(
    policy_data: dict[str, Any] | None, attempt: int, error_kind: str, rng: random.Random
) -> float | None:
    """Seconds until attempt ``attempt + 1``, or ``None`` when the attempt is final."""
    policy = RetryPolicy.model_validate(policy_data) if policy_data else RetryPolicy()
    if not policy.should_retry(attempt, error_kind):
        return None
    return float(policy.delay_for(attempt, rng))
