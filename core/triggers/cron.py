"""Cron expressions: standard 5-field crontab read by APScheduler 3.x, on the wall clock.

Two deliberate differences from feeding the text to ``CronTrigger.from_crontab``:

* Day-of-week numbers follow crontab (0 or 7 = Sunday, 1 = Monday). APScheduler 3.x
  reads 0 as Monday (its documented "historical mistake"), so ``1-5`` would mean
  Tuesday–Saturday; we translate the field into weekday names first.
* When both day-of-month and day-of-week are restricted, crontab fires when
  *either* matches (``0 9 1 * mon`` = the 1st and every Monday); APScheduler ANDs
  them. We OR two APScheduler triggers to keep crontab's meaning.

APScheduler's extensions stay available in the day-of-month field: ``last``,
``last fri``, ``2nd tue``, ``1st mon,3rd mon``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.cron.fields import BaseField

from core.errors import InvalidSchedule
from core.schedule import GapPolicy
from core.triggers.wallclock import WallClockTrigger

_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
#: All of CronTrigger's fields, in its order, with what CronTrigger(minute=…, …) fills in.
_ALL_FIELDS = (
    ("year", "*"),
    ("month", "*"),
    ("day", "*"),
    ("week", "*"),
    ("day_of_week", "*"),
    ("hour", "*"),
    ("minute", "*"),
    ("second", "0"),
)
_LABELS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ORDINAL_END = re.compile(r"(?:^|,)(?:1st|2nd|3rd|4th|5th|last)$", re.IGNORECASE)
_WEEKDAY_START = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)", re.IGNORECASE)
_DOW_PART = re.compile(r"(?P<lo>\*|\d+|[a-z]{3})(?:-(?P<hi>\d+|[a-z]{3}))?(?:/(?P<step>\d+))?")
_HINT = (
    "Write 5 fields: minute hour day-of-month month day-of-week, "
    "e.g. '0 9 * * 1-5' (09:00 Monday to Friday)."
)
_ONE_US = timedelta(microseconds=1)
_PROBE_START = datetime(2000, 1, 1, tzinfo=UTC)
_PROBE_END = datetime(2100, 1, 1, tzinfo=UTC)


def split_crontab(expr: str) -> list[str]:
    """Split a crontab into its fields, keeping ``last fri`` / ``2nd tue`` in one field."""
    tokens = expr.split()
    fields: list[str] = []
    for token in tokens:
        if fields and _ORDINAL_END.search(fields[-1]) and _WEEKDAY_START.match(token):
            fields[-1] = f"{fields[-1]} {token}"
        else:
            fields.append(token)
    return fields


def _dow_value(text: str, *, is_end: bool) -> int:
    if text.isdigit():
        if int(text) > 7:
            raise ValueError(f"weekday {text} is out of range (0-7, where 0 and 7 are Sunday)")
        return int(text)
    try:
        value = _DAYS.index(text)
    except ValueError:
        raise ValueError(f"unknown weekday {text!r}") from None
    # 'fri-sun' is a range up to Sunday, which crontab numbers 7 at the top end.
    return 7 if is_end and value == 0 else value


def crontab_weekdays(field: str) -> str:
    """Translate a crontab day-of-week field (0/7 = Sunday) into APScheduler weekday names."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        match = _DOW_PART.fullmatch(part)
        if match is None:
            raise ValueError(f"unrecognised value {part!r}")
        lo_text, hi_text, step_text = match["lo"], match["hi"], match["step"]
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step must be at least 1 in {part!r}")
        if lo_text == "*":
            if hi_text:
                raise ValueError(f"unrecognised value {part!r}")
            lo, hi = 0, 6
        else:
            lo = _dow_value(lo_text, is_end=False)
            hi = _dow_value(hi_text, is_end=True) if hi_text else (7 if step_text else lo)
        if lo > hi:
            raise ValueError(f"range {part!r} runs backwards")
        days.update(day % 7 for day in range(lo, hi + 1, step))
    # APScheduler weeks start on Monday; order the names the same way.
    return ",".join(_DAYS[day] for day in sorted(days, key=lambda d: (d + 6) % 7))


def parse_crontab(expr: str) -> list[dict[str, str]]:
    """Check a crontab and return the APScheduler field sets it means (1, or 2 when ORed).

    Raises ``InvalidSchedule`` naming the field that is wrong.
    """
    fields = split_crontab(expr)
    if len(fields) != 5:
        raise InvalidSchedule(
            f"Invalid cron expression {expr!r}: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(fields)}.",
            hint=_HINT,
        )
    values = dict(zip(_FIELDS, fields, strict=True))
    try:
        values["day_of_week"] = crontab_weekdays(values["day_of_week"])
    except ValueError as exc:
        raise _field_error(expr, "day-of-week", fields[4], exc) from exc
    if values["day"] != "*" and values["day_of_week"] != "*":
        return [values | {"day_of_week": "*"}, values | {"day": "*"}]
    return [values]


def _field_error(expr: str, label: str, value: str, exc: Exception) -> InvalidSchedule:
    return InvalidSchedule(
        f"Invalid cron expression {expr!r}: bad {label} field {value!r} ({exc}).", hint=_HINT
    )


@lru_cache(maxsize=1024)
def _field(name: str, expr: str, is_default: bool) -> BaseField:
    # Compiled fields are immutable after construction; sharing them across
    # triggers makes building 100k distinct crons at start-up cheap.
    field: BaseField = CronTrigger.FIELDS_MAP[name](name, expr, is_default)
    return field


def _construct(expr: str, values: dict[str, str], end: datetime | None = None) -> CronTrigger:
    try:
        fields = [
            _field(name, values.get(name, default), name not in values)
            for name, default in _ALL_FIELDS
        ]
    except ValueError:
        # Rebuild field by field only to say which one is wrong.
        for name, label in zip(_FIELDS, _LABELS, strict=True):
            try:
                CronTrigger.FIELDS_MAP[name](name, values[name])
            except ValueError as exc:
                raise _field_error(expr, label, values[name], exc) from exc
        raise
    # APScheduler's own (pickle) restore path, as when it loads a job from a job
    # store: the same trigger as CronTrigger(**values) but with the shared fields.
    trigger: CronTrigger = CronTrigger.__new__(CronTrigger)
    trigger.__setstate__(
        {
            "version": 2,
            "timezone": UTC,
            "start_date": None,
            "end_date": end,
            "fields": fields,
            "jitter": None,
        }
    )
    return trigger


@lru_cache(maxsize=4096)
def wall_crons(expr: str) -> tuple[CronTrigger, ...]:
    """The APScheduler triggers (in UTC = on the wall-clock axis) for a crontab, cached.

    They hold no zone and no bounds, so every spec with the same text shares them.
    """
    return tuple(_construct(expr, values) for values in parse_crontab(expr))


@lru_cache(maxsize=4096)
def cron_ever_fires(expr: str) -> bool:
    """Whether the crontab matches any date at all (``0 0 30 2 *`` does not)."""
    fields = parse_crontab(expr)
    if any(values["day"] == "*" for values in fields):
        return True  # every month has every weekday and every hour and minute
    # Bounded search: a day-of-month/month pattern that exists recurs within 28 years.
    probes = [_construct(expr, values, _PROBE_END) for values in fields]
    now = _PROBE_START + _ONE_US
    return any(probe.get_next_fire_time(None, now) is not None for probe in probes)


class CronWallTrigger(WallClockTrigger):
    """A crontab on the local wall clock of ``timezone``, fire times by APScheduler.

    The APScheduler ``CronTrigger``s run in UTC, which has no DST: there they
    enumerate local wall-clock times exactly, and ``WallClockTrigger`` applies
    Kairos' DST policy when placing them in the real zone.
    """

    def __init__(
        self,
        expr: str,
        *,
        timezone: ZoneInfo,
        gap_policy: GapPolicy = GapPolicy.SHIFT,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> None:
        super().__init__(timezone=timezone, gap_policy=gap_policy, start=start, end=end)
        self.expr = expr
        self.crons = wall_crons(expr)

    def next_wall_after(self, wall: datetime) -> datetime | None:
        now = wall.replace(tzinfo=UTC) + _ONE_US
        best: datetime | None = None
        for cron in self.crons:
            fire = cron.get_next_fire_time(None, now)
            if fire is not None and (best is None or fire < best):
                best = fire
        return None if best is None else best.replace(tzinfo=None)

    def __str__(self) -> str:
        return f"cron[{self.expr!r}, {self.timezone}]"

    def __repr__(self) -> str:
        return f"<CronWallTrigger ({self.expr!r}, timezone='{self.timezone}')>"
