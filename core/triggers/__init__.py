"""Fire times for schedule specs: APScheduler 3.x triggers plus an RRULE trigger.

Public API (pure, no I/O)::

    build_trigger(spec, *, anchor=None) -> BaseTrigger
    validate(spec, *, anchor=None) -> None            # raises InvalidSchedule
    next_fire_time(spec, after) -> datetime | None    # strictly after `after`
    next_runs(spec, after, n=3) -> list[datetime]     # in the spec's zone

DST policy (see ``wallclock``): wall-clock times are kept across changes; a time
in a spring-forward gap fires at the end of the gap (``gap_policy=shift``) or not
at all (``skip``); a time repeated by a fall-back fold fires once, the first time.
"""

from core.triggers.api import (
    MAX_INTERVAL_SECONDS,
    build_trigger,
    first_after,
    next_fire_time,
    next_runs,
    validate,
)
from core.triggers.cron import CronWallTrigger, parse_crontab
from core.triggers.rrule import RRuleTrigger
from core.triggers.wallclock import WallClockTrigger, gap_end, to_instant

__all__ = [
    "MAX_INTERVAL_SECONDS",
    "CronWallTrigger",
    "RRuleTrigger",
    "WallClockTrigger",
    "build_trigger",
    "first_after",
    "gap_end",
    "next_fire_time",
    "next_runs",
    "parse_crontab",
    "to_instant",
    "validate",
]
