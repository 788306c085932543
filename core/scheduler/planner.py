"""Turning one due task into runs: the fast path, and misfires.

Pure computation (no I/O): given a task's stored schedule, its cursor and "now",
decide which fires become runs, which are recorded as skipped (with a reason),
and where the cursor moves next. Fire times come from ``core.triggers``; the
misfire decision from ``core.misfire``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from core.enums import MisfirePolicy, RunTrigger
from core.schedule import EventSchedule, MixedSchedule, ScheduleSpec, parse_schedule
from core.scheduler import timing
from core.store.runs import FireInfo, NewRun

#: At most this many missed fires of one task are enumerated after downtime;
#: the rest are summarised in one skipped run's reason (a minute cron down for a
#: month must not turn into 40,000 rows, nor cost 40,000 trigger evaluations).
MAX_MISSED = 1000


@dataclass(frozen=True, slots=True)
class Plan:
    """What firing one task means: runs (and skipped fires) and its next cursor."""

    runs: list[NewRun] = field(default_factory=list)
    next_fire_at: datetime | None = None


@lru_cache(maxsize=4096)
def _spec(key: str) -> ScheduleSpec:
    # Keyed by the canonical JSON: many tasks share a schedule ("weekdays at 9"),
    # so parsing and trigger construction happen once per distinct schedule.
    return parse_schedule(json.loads(key))


def spec_of(schedule: dict[str, Any]) -> ScheduleSpec:
    """The parsed schedule, cached by content."""
    return _spec(json.dumps(schedule, sort_keys=True, separators=(",", ":")))


class FirePlanner:
    """Plans fires for due tasks; holds only a cache of parsed schedules."""

    def plan(self, info: FireInfo, cursor: datetime, now: datetime) -> Plan:
        """Fires for a task whose cursor (``cursor`` ≤ ``now``) is due."""
        grace = timedelta(seconds=info.misfire_grace_seconds)
        if not info.schedule or info.schedule.get("kind") == "once":
            # A one-off (or a bare due date) has exactly one fire, the cursor itself:
            # no trigger to build. Late beyond grace it is a misfire like any other.
            if now - cursor <= grace:
                return Plan([NewRun(info.task_id, cursor)], None)
            decision = timing.decide(MisfirePolicy(info.misfire_policy), grace, [cursor], now)
            runs = [NewRun(info.task_id, p.at, p.trigger) for p in decision.runs]
            runs.extend(
                NewRun(info.task_id, at, RunTrigger.MISFIRE, skip_reason=reason)
                for at, reason in decision.skip
            )
            return Plan(runs, None)
        spec = spec_of(info.schedule)
        nxt = timing.next_after(spec, cursor)
        if (nxt is None or nxt > now) and now - cursor <= grace:
            return Plan([NewRun(info.task_id, cursor)], nxt)  # the normal, on-time case
        missed = [cursor]
        while nxt is not None and nxt <= now and len(missed) < MAX_MISSED:
            missed.append(nxt)
            nxt = timing.next_after(spec, nxt)
        beyond, first_beyond = 0, None
        if nxt is not None and nxt <= now:
            first_beyond = nxt
            # Too many to enumerate: record one skipped run that says how many fires
            # it stands for, but still offer the latest missed fire to the policy
            # (run_once must run the newest fire, not the oldest enumerated one).
            latest = timing.latest_at_or_before(spec, now, floor=nxt)
            beyond = timing.count_between(spec, nxt, now)
            if latest is not None and latest != nxt:
                missed.append(latest)
                beyond -= 1
            nxt = timing.next_after(spec, now)
        decision = timing.decide(MisfirePolicy(info.misfire_policy), grace, missed, now)
        runs = [NewRun(info.task_id, p.at, p.trigger) for p in decision.runs]
        runs.extend(
            NewRun(info.task_id, at, RunTrigger.MISFIRE, skip_reason=reason)
            for at, reason in decision.skip
        )
        if first_beyond is not None:
            beyond += decision.unlisted
            runs.append(
                NewRun(
                    info.task_id,
                    first_beyond,
                    RunTrigger.MISFIRE,
                    skip_reason=f"misfired: {beyond} more fire(s) up to {now.isoformat()} "
                    "were too many to list and were skipped",
                )
            )
        runs.sort(key=lambda r: r.scheduled_for)
        return Plan(runs, nxt)

    def listens_for(self, schedule: dict[str, Any], event: str) -> bool:
        """Whether a stored schedule fires on ``event``."""
        try:
            spec = spec_of(schedule)
        except Exception:
            return False
        if isinstance(spec, EventSchedule):
            return spec.event == event
        if isinstance(spec, MixedSchedule):
            return any(isinstance(p, EventSchedule) and p.event == event for p in spec.parts)
        return False
