"""Pin a ``When`` to an instant, following the Time conventions of PARSING.md.

Dates are computed on local wall-clock values in the zone the text names (or
the request's zone) and only then attached to that zone with ``zoneinfo``, so a
daylight-saving change between "now" and the target never shifts the wall time.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.intents.lexicon import PARTS_OF_DAY
from core.intents.when import DateKind, DatePart, When
from core.schedule import GapPolicy
from core.triggers.wallclock import to_instant

#: A date without a time: 09:00 for reminders and jobs, 17:00 for deadlines.
REMINDER_HOUR = 9
DEADLINE_HOUR = 17
_END_KINDS = frozenset({DateKind.END_OF_WEEK, DateKind.END_OF_MONTH, DateKind.END_OF_YEAR})
_ROLLING_KINDS = _END_KINDS | {DateKind.MONTHDAY, DateKind.WEEKEND}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(slots=True)
class Resolved:
    """An instant and the zone it was read in; ``clarification`` if it was doubtful."""

    at: datetime
    zone: str
    clarification: str | None = None


def local_now(now: datetime, zone: str) -> datetime:
    """``now`` as naive wall-clock time in ``zone``."""
    return now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def attach(wall: datetime, zone: str) -> datetime:
    """Attach ``zone`` to a naive wall-clock time under the scheduler's DST policy.

    A time skipped by a spring-forward change moves to the end of the gap, exactly
    as ``core.triggers`` fires it; a repeated time takes its first occurrence.
    """
    placed = to_instant(wall, ZoneInfo(zone), GapPolicy.SHIFT)
    assert placed is not None  # SHIFT always places a time
    return placed


def later_today(wall_now: datetime) -> datetime:
    """ "later today": three hours on, rounded up to the hour — or 17:00, if that is
    earlier and still at least an hour away (a stated default, see docs/parsing)."""
    ahead = wall_now + timedelta(hours=3)
    if ahead.minute or ahead.second:
        ahead = ahead.replace(minute=0, second=0) + timedelta(hours=1)
    close = datetime.combine(wall_now.date(), time(DEADLINE_HOUR))
    if close - wall_now >= timedelta(hours=1) and close < ahead:
        return close
    return ahead


def time_of(when: When) -> tuple[int, int] | None:
    """The wall-clock (hour, minute) the words give, if any; midnight is (24, 0)."""
    pod = when.part_of_day
    if when.time is None:
        return PARTS_OF_DAY.get(pod) if pod else None  # "later" depends on now: see resolve
    hour, minute = when.time.hour, when.time.minute
    if when.time.bare and pod:
        if pod == "night" and 13 <= hour <= 17:  # "every night at 2": 1–5 at night are am
            hour -= 12
        elif pod in ("afternoon", "evening", "night", "tonight") and hour < 12:
            hour += 12
        elif pod == "morning" and 12 < hour < 24:
            hour -= 12
    return hour, minute


def resolve(when: When, *, now: datetime, tz: str, deadline: bool = False) -> Resolved | None:
    """The instant ``when`` names, or ``None`` if it names no time at all."""
    zone = when.zone or tz
    wall_now = local_now(now, zone)
    today = wall_now.date()
    clock = time_of(when)
    if when.part_of_day == "later" and not when.has_delta and when.time is None:
        return Resolved(attach(later_today(wall_now), zone), zone)
    if when.has_delta:
        try:
            return _resolve_delta(when, now=now, wall_now=wall_now, zone=zone, clock=clock)
        except (OverflowError, ValueError):  # "in 99999999999 weeks"
            when.clarification = "That is too far in the future; when do you mean?"
            return None
    if when.date is None and clock is None:
        return None
    if when.date is None:
        assert clock is not None
        candidate = _combine(today, clock)
        if candidate <= wall_now:
            candidate = _combine(today + timedelta(days=1), clock)
        return Resolved(attach(candidate, zone), zone)
    day, question = resolve_date(when.date, today)
    if clock is None:
        default = DEADLINE_HOUR if deadline or when.date.kind in _END_KINDS else REMINDER_HOUR
        clock = (default, 0)
    wall = _combine(day, clock)
    if wall <= wall_now and when.date.kind in _ROLLING_KINDS:
        # "EOW" said on Friday evening means next Friday (likewise month ends, "the 15th").
        wall = _combine(resolve_date(when.date, today + timedelta(days=1))[0], clock)
    return Resolved(attach(wall, zone), zone, question or when.clarification)


def _combine(day: date, clock: tuple[int, int]) -> datetime:
    hour, minute = clock
    if hour >= 24:  # midnight: 00:00 of the following day
        return datetime.combine(day + timedelta(days=1), time(0, minute))
    return datetime.combine(day, time(hour, minute))


def _resolve_delta(
    when: When, *, now: datetime, wall_now: datetime, zone: str, clock: tuple[int, int] | None
) -> Resolved:
    if not (when.delta_months or when.delta_days):
        # Minutes and hours are elapsed time, not wall-clock arithmetic.
        return Resolved(elapsed(now, when.delta_seconds, zone), zone)
    # Days and longer move the calendar and keep the wall-clock time.
    wall = add_months(wall_now, when.delta_months) + timedelta(days=when.delta_days)
    if clock is not None:
        wall = _combine(wall.date(), clock)
    return Resolved(elapsed(attach(wall, zone), when.delta_seconds, zone), zone)


def elapsed(start: datetime, seconds: float, zone: str) -> datetime:
    """``start`` plus real elapsed seconds, shown in ``zone``.

    Python adds timedeltas to aware datetimes on the wall clock; going through
    UTC makes "in 24 hours" 24 real hours even across a DST change.
    """
    moved = start.astimezone(UTC) + timedelta(seconds=seconds)
    return moved.astimezone(ZoneInfo(zone))


def add_months(value: datetime, months: int) -> datetime:
    """``value`` plus whole months, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    if not months:
        return value
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def resolve_date(part: DatePart, today: date) -> tuple[date, str | None]:
    """The calendar day a ``DatePart`` names, seen from ``today``; plus a doubt, if any."""
    day, question = _base_date(part, today)
    if part.shift_months:
        day = add_months(datetime.combine(day, time()), part.shift_months).date()
    if part.shift or part.shift_months:
        return day + timedelta(days=part.shift), None
    return day, question


def _base_date(part: DatePart, today: date) -> tuple[date, str | None]:
    kind = part.kind
    weekday = today.weekday()
    if kind is DateKind.OFFSET:
        return today + timedelta(days=part.value), None
    if kind is DateKind.WEEKDAY:
        ahead = (part.value - weekday) % 7 or 7
        question = None
        if ahead == 7:
            question = (
                f"Today is {_DAY_NAMES[weekday]}: do you mean today or next {_DAY_NAMES[weekday]}?"
            )
        return today + timedelta(days=ahead), question
    if kind is DateKind.NEXT_WEEKDAY:
        monday = today + timedelta(days=7 - weekday)
        target = monday + timedelta(days=part.value)
        question = None
        if (part.value - weekday) % 7 == 1 and part.value > weekday:
            question = f"Do you mean tomorrow or {_DAY_NAMES[part.value]} {target:%b %-d}?"
        return target, question
    if kind is DateKind.NEXT_WEEK:
        return today + timedelta(days=7 - weekday), None
    if kind is DateKind.NEXT_MONTH:
        first = add_months(datetime.combine(today.replace(day=1), time()), 1).date()
        last = calendar.monthrange(first.year, first.month)[1]
        return first.replace(day=min(max(part.day, 1), last)), None
    if kind is DateKind.NEXT_YEAR:
        return date(today.year + 1, 1, 1), None
    if kind is DateKind.WEEKEND:
        ahead = (5 - weekday) % 7 if weekday != 6 else 0
        return today + timedelta(days=ahead + part.value), None
    if kind is DateKind.END_OF_WEEK:
        return today + timedelta(days=(4 - weekday) % 7 + 7 * part.value), None
    if kind is DateKind.END_OF_MONTH and part.month:  # "the end of January"
        year = today.year + (1 if part.month < today.month else 0)
        return date(year, part.month, calendar.monthrange(year, part.month)[1]), None
    if kind is DateKind.END_OF_MONTH:
        first = add_months(datetime.combine(today.replace(day=1), time()), part.value).date()
        return first.replace(day=calendar.monthrange(first.year, first.month)[1]), None
    if kind is DateKind.END_OF_YEAR:
        return date(today.year, 12, 31), None
    if kind is DateKind.MONTHDAY:
        return _next_monthday(today, part.day), None
    return _calendar_day(part, today)


def _next_monthday(today: date, day: int) -> date:
    year, month = today.year, today.month
    for _ in range(14):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return today


def _calendar_day(part: DatePart, today: date) -> tuple[date, str | None]:
    year = part.year or today.year
    try:
        day = date(year, part.month, part.day)
    except ValueError:
        if part.month == 2 and part.day == 29 and not part.year:
            # Feb 29: the next leap year.
            for offset in range(1, 9):
                if calendar.isleap(year + offset):
                    return date(year + offset, 2, 29), None
        return today, f"There is no {part.day}/{part.month}; which date do you mean?"
    if not part.year and day < today:
        # A calendar date already past this year means next year.
        try:
            day = date(year + 1, part.month, part.day)
        except ValueError:
            day = date(year + 4, part.month, part.day)
    return day, None
