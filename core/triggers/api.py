"""Schedule specs → APScheduler triggers → fire times (pure, no I/O, cached)."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.errors import InvalidSchedule
from core.schedule import (
    CronSchedule,
    EventSchedule,
    IntervalSchedule,
    MixedSchedule,
    OnceSchedule,
    RRuleSchedule,
    ScheduleSpec,
    check_timezone,
)
from core.triggers.cron import CronWallTrigger, cron_ever_fires
from core.triggers.rrule import RRuleTrigger
from core.triggers.wallclock import WallClockTrigger, as_instant, local_wall

#: Longer than this is a typo, not a schedule (10 years).
MAX_INTERVAL_SECONDS = 10 * 366 * 24 * 3600
_ONE_US = timedelta(microseconds=1)
_VALIDATION_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
_TriggerPart = OnceSchedule | IntervalSchedule | CronSchedule | RRuleSchedule | EventSchedule


def _zone(spec: ScheduleSpec | _TriggerPart) -> ZoneInfo:
    # Specs validate their zone on construction, but model_construct() skips that.
    return ZoneInfo(check_timezone(spec.timezone))


def _floor_second(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _needs_anchor(spec: ScheduleSpec | _TriggerPart) -> bool:
    if isinstance(spec, IntervalSchedule):
        return spec.start is None
    if isinstance(spec, RRuleSchedule):
        return spec.dtstart is None
    if isinstance(spec, MixedSchedule):
        return any(_needs_anchor(part) for part in spec.parts)
    return False


def _build(spec: ScheduleSpec | _TriggerPart, anchor: datetime | None) -> BaseTrigger:
    zone = _zone(spec)
    if isinstance(spec, OnceSchedule):
        return DateTrigger(run_date=_floor_second(spec.at).astimezone(zone), timezone=zone)
    if isinstance(spec, IntervalSchedule):
        if spec.every_seconds > MAX_INTERVAL_SECONDS:
            raise InvalidSchedule(
                f"An interval of {spec.every_seconds} seconds is longer than 10 years.",
                hint="Use a cron, RRULE or one-off schedule for rare events.",
            )
        start_at = spec.start if spec.start is not None else anchor
        if start_at is None:
            raise InvalidSchedule("An interval schedule without 'start' needs an anchor time.")
        # UTC before adding: aware arithmetic in a DST zone is wall-clock arithmetic.
        start = _floor_second(as_instant(start_at, zone)).astimezone(UTC)
        end = as_instant(spec.end, zone) if spec.end is not None else None
        if end is not None and end.astimezone(UTC) <= start.astimezone(UTC):
            raise InvalidSchedule("The interval's end is not after its start.")
        first = start + timedelta(seconds=spec.every_seconds)
        return IntervalTrigger(
            seconds=spec.every_seconds, start_date=first, end_date=end, timezone=zone
        )
    if isinstance(spec, CronSchedule):
        cron_start = as_instant(spec.start, zone) if spec.start is not None else None
        cron_end = as_instant(spec.end, zone) if spec.end is not None else None
        if (
            cron_start is not None
            and cron_end is not None
            and cron_end.astimezone(UTC) < cron_start.astimezone(UTC)
        ):
            raise InvalidSchedule("The cron schedule's end is before its start.")
        if not cron_ever_fires(spec.cron):
            raise InvalidSchedule(
                f"The cron expression {spec.cron!r} never fires (no such date).",
                hint="Check the day-of-month and month fields (e.g. there is no 30 February).",
            )
        return CronWallTrigger(
            spec.cron, timezone=zone, gap_policy=spec.gap_policy, start=cron_start, end=cron_end
        )
    if isinstance(spec, RRuleSchedule):
        if spec.dtstart is not None:
            dtstart = (
                spec.dtstart if spec.dtstart.tzinfo is None else local_wall(spec.dtstart, zone)
            )
        elif anchor is not None:
            dtstart = local_wall(anchor, zone).replace(second=0)
        else:
            raise InvalidSchedule("An RRULE schedule without 'dtstart' needs an anchor time.")
        trigger = RRuleTrigger(
            spec.rrule, dtstart=dtstart, timezone=zone, gap_policy=spec.gap_policy
        )
        if not trigger.ever_fires():
            raise InvalidSchedule(
                f"The RRULE {spec.rrule!r} never fires (no date matches all its parts).",
                hint="Check BYMONTH / BYMONTHDAY / BYSETPOS (e.g. there is no 30 February).",
            )
        if trigger.first_wall() is None:
            raise InvalidSchedule(
                f"The RRULE {spec.rrule!r} has no occurrence on or after its start "
                f"{dtstart:%Y-%m-%d %H:%M} (is UNTIL too early?).",
            )
        return trigger
    if isinstance(spec, EventSchedule):
        raise InvalidSchedule(
            f"The event schedule {spec.event!r} has no time-based fire times.",
            hint="It runs when the event arrives.",
        )
    parts = [_build(part, anchor) for part in spec.parts if not isinstance(part, EventSchedule)]
    if not parts:
        raise InvalidSchedule("This mixed schedule has only events: no time-based fire times.")
    return OrTrigger(parts)


def _cache_key(spec: ScheduleSpec) -> Hashable:
    try:
        hash(spec)
    except TypeError:  # frozen, but a MixedSchedule holds a list
        return (type(spec).__name__, spec.model_dump_json())
    return spec


class _Keyed:
    """Wraps a spec so the LRU cache hashes the key, not the (maybe unhashable) spec."""

    __slots__ = ("key", "spec")

    def __init__(self, spec: ScheduleSpec) -> None:
        self.spec = spec
        self.key = _cache_key(spec)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and self.key == other.key


@lru_cache(maxsize=4096)
def _cached_trigger(keyed: _Keyed) -> BaseTrigger:
    return _build(keyed.spec, None)


def build_trigger(spec: ScheduleSpec, *, anchor: datetime | None = None) -> BaseTrigger:
    """The APScheduler trigger for ``spec``, in the spec's zone (raises ``InvalidSchedule``).

    ``anchor`` stands in for a missing interval ``start`` / RRULE ``dtstart``
    (usually the task's creation time); without it such specs are rejected.
    Cron and RRULE give ``WallClockTrigger``s (Kairos' DST policy); once, interval
    and mixed give APScheduler's ``DateTrigger``, ``IntervalTrigger``, ``OrTrigger``.
    """
    if anchor is not None and _needs_anchor(spec):
        return _build(spec, anchor)
    return _cached_trigger(_Keyed(spec))


def validate(spec: ScheduleSpec, *, anchor: datetime | None = None) -> None:
    """Raise ``InvalidSchedule`` naming the problem if ``spec`` cannot produce fire times.

    Event schedules are valid (they fire on events, not on times). A missing
    interval start or RRULE dtstart is fine (the first use anchors it); it is
    checked as if anchored at ``anchor`` (default: a fixed date, to stay pure).
    """
    if isinstance(spec, EventSchedule):
        return
    if isinstance(spec, MixedSchedule) and all(
        isinstance(part, EventSchedule) for part in spec.parts
    ):
        return
    if _needs_anchor(spec):
        _build(spec, anchor or _VALIDATION_ANCHOR)
    else:
        build_trigger(spec)


def first_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire of ``trigger`` strictly after the aware instant ``after``."""
    # UTC throughout: APScheduler compares ``now`` with its own dates, and two
    # datetimes of the same zone compare by wall clock, ignoring ``fold``.
    after = after.astimezone(UTC)
    if isinstance(trigger, WallClockTrigger):
        return trigger.next_after(after)
    if isinstance(trigger, IntervalTrigger):
        fire: datetime | None = trigger.get_next_fire_time(None, after + _ONE_US)
        return fire
    if isinstance(trigger, DateTrigger):
        run_date: datetime = trigger.run_date
        return run_date if run_date.astimezone(UTC) > after else None
    if isinstance(trigger, OrTrigger):
        fires = [f for t in trigger.triggers if (f := first_after(t, after)) is not None]
        return min(fires, key=lambda fire: fire.astimezone(UTC)) if fires else None
    # Any other APScheduler trigger: its own "at or after now" contract.
    other: datetime | None = trigger.get_next_fire_time(None, after + _ONE_US)
    return other


def _require_aware(after: datetime) -> None:
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError(f"'after' must be timezone-aware, got {after!r}")


def _trigger_for(spec: ScheduleSpec, after: datetime) -> BaseTrigger | None:
    if isinstance(spec, EventSchedule):
        return None
    if isinstance(spec, MixedSchedule) and all(
        isinstance(part, EventSchedule) for part in spec.parts
    ):
        return None
    if _needs_anchor(spec):
        return _build(spec, after)  # the anchor differs per call: nothing to cache
    return _cached_trigger(_Keyed(spec))


def next_fire_time(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The first fire time strictly after the aware ``after`` (``None``: no more fires).

    A spec without interval ``start`` / RRULE ``dtstart`` is anchored at ``after``.
    Event schedules have no time-based fire times: ``None``.
    """
    _require_aware(after)
    trigger = _trigger_for(spec, after)
    return None if trigger is None else first_after(trigger, after)


def next_runs(spec: ScheduleSpec, after: datetime, n: int = 3) -> list[datetime]:
    """The first ``n`` fire times strictly after ``after``, in the spec's zone."""
    _require_aware(after)
    trigger = _trigger_for(spec, after)
    if trigger is None:
        return []
    zone = _zone(spec)
    runs: list[datetime] = []
    cursor = after
    while len(runs) < n:
        fire = first_after(trigger, cursor)
        if fire is None:
            break
        runs.append(fire.astimezone(zone))
        cursor = fire
    return runs
