"""From what was said to schedules: ``ParsedSchedule`` (the output) and ``ScheduleSpec``.

Fire times are never computed here: every ``next_runs`` comes from
``core.triggers`` on the ``ScheduleSpec`` this module builds, so the parser and
the scheduler engine can never disagree about when something fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from core.errors import InvalidSchedule
from core.intents.model import ParsedSchedule
from core.intents.recurrence import Recurrence
from core.intents.resolve import (
    DEADLINE_HOUR,
    REMINDER_HOUR,
    add_months,
    elapsed,
    local_now,
    resolve,
    resolve_date,
    time_of,
)
from core.intents.when import DateKind, When
from core.schedule import (
    CronSchedule,
    EventSchedule,
    IntervalSchedule,
    OnceSchedule,
    RRuleSchedule,
    ScheduleSpec,
)
from core.triggers import next_fire_time, next_runs

#: "twice a day" with no times said: spread over the working day (stated defaults).
_SPREAD = {2: (9, 17), 3: (9, 13, 17), 4: (9, 12, 15, 18)}
_WEEKDAY_KINDS = frozenset({DateKind.WEEKDAY, DateKind.NEXT_WEEKDAY})
_END_KINDS = frozenset({DateKind.END_OF_WEEK, DateKind.END_OF_MONTH, DateKind.END_OF_YEAR})
_RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(slots=True)
class Built:
    """A schedule ready for output, its spec, and the first fire times."""

    parsed: ParsedSchedule
    spec: ScheduleSpec | None
    runs: list[datetime]
    problem: str | None = None


def to_spec(
    parsed: ParsedSchedule, *, start: datetime | None = None, end: datetime | None = None
) -> ScheduleSpec:
    """The stored ``ScheduleSpec`` for a parsed schedule (raises ``InvalidSchedule``).

    ``start``/``end`` bound an interval (its first fire is ``start`` + interval);
    an RRULE keeps its local ``dtstart``.
    """
    zone = parsed.timezone
    try:
        if parsed.kind == "once" and parsed.at is not None:
            return OnceSchedule(at=parsed.at, timezone=zone)
        if parsed.kind == "interval" and parsed.every_seconds is not None:
            return IntervalSchedule(
                every_seconds=parsed.every_seconds, start=start, end=end, timezone=zone
            )
        if parsed.kind == "event" and parsed.event:
            return EventSchedule(event=parsed.event, timezone=zone)
        if parsed.kind == "recurring" and parsed.cron:
            return CronSchedule(cron=parsed.cron, timezone=zone)
        if parsed.kind == "recurring" and parsed.rrule:
            return RRuleSchedule(rrule=parsed.rrule, dtstart=parsed.dtstart, timezone=zone)
    except ValidationError as exc:
        raise InvalidSchedule(f"Invalid schedule: {exc.errors()[0]['msg']}.") from exc
    raise InvalidSchedule(f"The {parsed.kind} schedule is missing its value.")


def once(at: datetime, zone: str, *, now: datetime) -> Built:
    """A one-off schedule at the aware instant ``at``."""
    at = at.replace(microsecond=0)
    parsed = ParsedSchedule(kind="once", at=at.astimezone(ZoneInfo(zone)), timezone=zone)
    spec = to_spec(parsed)
    return Built(parsed, spec, next_runs(spec, now, 3))


def event(name: str, zone: str) -> Built:
    """A schedule that fires when the named event arrives (no time-based runs)."""
    parsed = ParsedSchedule(kind="event", event=name, timezone=zone)
    return Built(parsed, to_spec(parsed), [])


def recurring(rec: Recurrence, when: When, *, now: datetime, tz: str) -> Built:
    """A repeating schedule: an interval, or an RRULE anchored at its first fire (local)."""
    zone = when.zone or tz
    if rec.every_seconds:
        return _interval(rec, when, now=now, zone=zone)
    if when.part_of_day is None and rec.part_of_day:
        when.part_of_day = rec.part_of_day
    hour, minute = time_of(when) or (REMINDER_HOUR, 0)
    hour %= 24
    wall_now = local_now(now, zone)
    today = wall_now.date()
    start_day = today
    said = when.date
    if said is not None and _absorb(rec, said.kind, said.value, said.month, said.day):
        if said.kind in _END_KINDS and when.time is None and when.part_of_day is None:
            hour, minute = DEADLINE_HOUR, 0  # "monthly at the end of the month": 17:00
        said = None
    _defaults(rec)
    if said is not None:
        start_day = max(today, resolve_date(said, today)[0])
    if rec.starting is not None and rec.starting.date is not None:
        start_day = max(start_day, resolve_date(rec.starting.date, today)[0])
    times = sorted({(hour, minute)} | {(t.hour % 24, t.minute) for t in when.extra_times})
    if not when.extra_times and when.time is None and rec.times_a_day > 1:
        times = [(h, 0) for h in _SPREAD.get(rec.times_a_day, (REMINDER_HOUR,))]
    if rec.hours:  # "every hour from 9 to 5"
        times = [(h, rec.minute) for h in rec.hours]
    parts, dropped = _rule_parts(rec, times)
    dtstart = datetime.combine(start_day, datetime.min.time())
    if rec.until is not None:
        until = _until(rec.until, today)
        if until is not None:
            parts.append(f"UNTIL={until:%Y%m%dT%H%M%S}")
    base = RRuleSchedule(rrule=";".join(parts), dtstart=dtstart, timezone=zone)
    try:
        first = next_fire_time(base, now)
    except InvalidSchedule as exc:
        parsed = ParsedSchedule(kind="recurring", rrule=base.rrule, dtstart=dtstart, timezone=zone)
        return Built(parsed, None, [], problem=exc.message)
    if first is not None:
        dtstart = first.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        if rec.for_span is not None:
            span_end = _span_end(dtstart, rec.for_span)
            parts = [p for p in parts if not p.startswith("UNTIL=")]
            parts.append(f"UNTIL={span_end:%Y%m%dT%H%M%S}")
    if rec.interval > 1:
        parts.insert(1, f"INTERVAL={rec.interval}")
    if rec.count:
        parts.append(f"COUNT={rec.count}")
        parts = [p for p in parts if not p.startswith("UNTIL=")]
    rule = ";".join(parts)
    parsed = ParsedSchedule(kind="recurring", rrule=rule, dtstart=dtstart, timezone=zone)
    try:
        spec = to_spec(parsed)
        built = Built(parsed, spec, next_runs(spec, now, 3))
    except InvalidSchedule as exc:
        return Built(parsed, None, [], problem=exc.message)
    if dropped:
        built.problem = (
            "I can only keep the times on the same minute here; "
            "please set the other times as a separate reminder."
        )
    return built


def _absorb(rec: Recurrence, kind: DateKind, value: int, month: int, day: int) -> bool:
    """Let "on Tuesday" / "on the 15th" / "on March 3" fill the rule; True if used."""
    if rec.freq == "WEEKLY" and not rec.byday and kind in _WEEKDAY_KINDS:
        rec.byday = [_RRULE_DAYS[value]]
        return True
    if rec.freq == "MONTHLY" and not (rec.bymonthday or rec.byday):
        if kind in (DateKind.MONTHDAY, DateKind.CALENDAR):
            rec.bymonthday = [day]
            return True
        if kind is DateKind.END_OF_MONTH:
            rec.bymonthday = [-1]
            return True
    if rec.freq == "YEARLY" and not rec.bymonth and kind is DateKind.CALENDAR:
        rec.bymonth, rec.bymonthday = [month], [day]
        return True
    return False


def _defaults(rec: Recurrence) -> None:
    # "weekly" alone starts on Mondays, "monthly" on the 1st, "yearly" on 1 January;
    # a quarter starts in January, April, July, October and ends in March, June, …
    if rec.quarterly and rec.freq == "MONTHLY" and not rec.bymonth:
        ends = any(d < 0 for d in rec.bymonthday) or any(p.startswith("-") for p in rec.byday)
        rec.bymonth = [3, 6, 9, 12] if ends or any(p < 0 for p in rec.bysetpos) else [1, 4, 7, 10]
    if rec.freq == "WEEKLY" and not rec.byday:
        rec.byday = ["MO"]
    elif rec.freq == "MONTHLY" and not (rec.bymonthday or rec.byday):
        rec.bymonthday = [1]
    elif rec.freq == "YEARLY" and not rec.bymonth:
        rec.bymonth, rec.bymonthday = [1], rec.bymonthday or [1]


def _rule_parts(rec: Recurrence, times: list[tuple[int, int]]) -> tuple[list[str], bool]:
    """The RRULE parts, and whether some of the times said could not be kept."""
    parts = [f"FREQ={rec.freq}"]
    if rec.bymonth:
        parts.append("BYMONTH=" + ",".join(str(m) for m in rec.bymonth))
    if rec.bymonthday:
        parts.append("BYMONTHDAY=" + ",".join(str(d) for d in rec.bymonthday))
    if rec.byday:
        parts.append("BYDAY=" + ",".join(rec.byday))
    hours = sorted({h for h, _ in times})
    minutes = sorted({m for _, m in times})
    setpos = list(rec.bysetpos)
    dropped = False
    if len(minutes) > 1:
        # "at 8:30 and 17:45": BYHOUR × BYMINUTE makes every combination; BYSETPOS keeps
        # the ones said. Positions count within one period, so only a fixed number of
        # days per period works: a day (DAILY) or the listed weekdays (WEEKLY).
        days = 1 if rec.freq == "DAILY" else len(rec.byday) if rec.freq == "WEEKLY" else 0
        if not days or setpos:
            dropped = True
            times = [t for t in times if t[1] == times[0][1]]  # keep what one rule can say
            hours, minutes = sorted({h for h, _ in times}), [times[0][1]]
        else:
            grid = [(h, m) for h in hours for m in minutes]
            wanted = [grid.index(t) + 1 for t in times]
            setpos = [day * len(grid) + p for day in range(days) for p in wanted]
    if setpos:
        parts.append("BYSETPOS=" + ",".join(str(p) for p in setpos))
    parts += ["BYHOUR=" + ",".join(str(h) for h in hours)]
    parts += ["BYMINUTE=" + ",".join(str(m) for m in minutes)]
    return parts, dropped


def _until(bound: When, today: date) -> datetime | None:
    if bound.date is None:
        return None
    day, _ = resolve_date(bound.date, today)
    clock = time_of(bound)
    if clock is None:
        return datetime.combine(day, datetime.max.time()).replace(microsecond=0)
    return datetime.combine(day, datetime.min.time()).replace(hour=clock[0] % 24, minute=clock[1])


def _span_end(start: datetime, span: tuple[str, float]) -> datetime:
    kind, amount = span
    if kind == "s":
        end = start + timedelta(seconds=amount)
    else:
        end = add_months(start, int(amount) * (12 if kind == "y" else 1))
    return end - timedelta(seconds=1)


def _interval(rec: Recurrence, when: When, *, now: datetime, zone: str) -> Built:
    seconds = rec.every_seconds
    end: datetime | None = None
    if rec.count:
        end = elapsed(now, seconds * rec.count, zone)
    elif rec.for_span is not None and rec.for_span[0] == "s":
        end = elapsed(now, rec.for_span[1], zone)
    elif rec.until is not None:
        bound = resolve(rec.until, now=now, tz=zone)
        end = bound.at if bound is not None else None
    parsed = ParsedSchedule(kind="interval", every_seconds=seconds, timezone=zone)
    try:
        spec = to_spec(parsed, start=now, end=end)
    except InvalidSchedule as exc:
        return Built(parsed, None, [], problem=exc.message)
    try:
        return Built(parsed, spec, next_runs(spec, now, 3))
    except InvalidSchedule as exc:
        return Built(parsed, spec, [], problem=exc.message)
