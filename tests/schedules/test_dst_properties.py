"""Property tests: cron and RRULE fire times against an independent DST model.

Over many zones (30-minute, 45-minute, midnight and negative DST included) and
years 2020–2035, for daily, weekly and hourly patterns at random wall-clock
times, the fires must be exactly what ``oracle.expected_instant`` says. That
implies: consecutive fires strictly increase; never two fires for one
wall-clock occurrence; every day that should fire fires exactly once (only the
``skip`` policy drops gap times); fires are at the requested wall-clock time
except for a gap shift.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.schedule import GapPolicy, ScheduleSpec, parse_schedule
from core.triggers import RRuleTrigger, next_fire_time

from .oracle import expected_instant, transition_days

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
    "Europe/Dublin",
    "America/Havana",
    "Africa/Casablanca",
]
DAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]  # index = crontab weekday number

zones = st.sampled_from(ZONES)
years = st.integers(2020, 2035)
policies = st.sampled_from(list(GapPolicy))
kinds = st.sampled_from(["cron", "rrule"])
# Bias towards the small hours, where the changes happen.
hours = st.one_of(st.integers(0, 3), st.integers(0, 23))
minutes = st.sampled_from([0, 15, 30, 45, 59]) | st.integers(0, 59)
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def fires_between(spec: ScheduleSpec, after: datetime, until: datetime) -> list[datetime]:
    fires: list[datetime] = []
    cursor = after
    while True:
        fire = next_fire_time(spec, cursor)
        if fire is None or fire.astimezone(UTC) > until:
            return fires
        fires.append(fire)
        cursor = fire


def expected_between(
    walls: list[datetime], zone: ZoneInfo, policy: GapPolicy, after: datetime, until: datetime
) -> list[datetime]:
    placed = {expected_instant(wall, zone, policy) for wall in walls}
    return sorted(p for p in placed if p is not None and after < p <= until)


def check(
    spec: ScheduleSpec,
    walls: list[datetime],
    zone: ZoneInfo,
    policy: GapPolicy,
    after: datetime,
    until: datetime,
) -> list[datetime]:
    actual = fires_between(spec, after, until)
    utc = [fire.astimezone(UTC) for fire in actual]
    assert all(a < b for a, b in itertools.pairwise(utc)), "not strictly increasing"
    assert utc == expected_between(walls, zone, policy, after, until)
    for fire in actual:
        assert fire.second == 0 and fire.microsecond == 0
    return actual


def spec_for(
    kind: str,
    zone: str,
    policy: GapPolicy,
    *,
    hour: int | None,
    minute: int,
    weekday: int | None = None,
) -> ScheduleSpec:
    if kind == "cron":
        expr = f"{minute} {'*' if hour is None else hour} * * {'*' if weekday is None else weekday}"
        return parse_schedule(
            {"kind": "cron", "cron": expr, "timezone": zone, "gap_policy": policy}
        )
    parts = [
        "FREQ=HOURLY"
        if hour is None
        else ("FREQ=DAILY" if weekday is None else f"FREQ=WEEKLY;BYDAY={DAYS[weekday]}")
    ]
    if hour is not None:
        parts.append(f"BYHOUR={hour}")
    parts.append(f"BYMINUTE={minute}")
    return parse_schedule(
        {
            "kind": "rrule",
            "rrule": ";".join(parts),
            "timezone": zone,
            "gap_policy": policy,
            "dtstart": "2019-12-30T00:00:00",
        }
    )


def local_days(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=i) for i in range((date(year + 1, 1, 1) - start).days)]


@PROPERTY_SETTINGS
@given(zone_name=zones, year=years, hour=hours, minute=minutes, policy=policies, kind=kinds)
def test_daily_fires_once_per_local_day(
    zone_name: str, year: int, hour: int, minute: int, policy: GapPolicy, kind: str
) -> None:
    zone = ZoneInfo(zone_name)
    spec = spec_for(kind, zone_name, policy, hour=hour, minute=minute)
    walls = [datetime.combine(day, time(hour, minute)) for day in local_days(year)]
    after = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)
    until = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(seconds=1)
    fires = check(spec, walls, zone, policy, after, until)
    # Spelled out: one fire per local date, at the wall time unless shifted out of a gap.
    dates = [fire.date() for fire in fires]
    assert len(dates) == len(set(dates))
    skipped = [w for w in walls if expected_instant(w, zone, policy) is None]
    assert len(fires) == len(walls) - len(skipped)
    assert policy is GapPolicy.SHIFT or all(
        (f.hour, f.minute) == (hour, minute) and f.fold == 0 for f in fires
    )


@PROPERTY_SETTINGS
@given(
    zone_name=zones,
    year=years,
    hour=hours,
    minute=minutes,
    policy=policies,
    kind=kinds,
    weekday=st.integers(0, 6),
)
def test_weekly_fires_once_per_matching_day(
    zone_name: str, year: int, hour: int, minute: int, policy: GapPolicy, kind: str, weekday: int
) -> None:
    zone = ZoneInfo(zone_name)
    spec = spec_for(kind, zone_name, policy, hour=hour, minute=minute, weekday=weekday)
    walls = [
        datetime.combine(day, time(hour, minute))
        for day in local_days(year)
        if day.isoweekday() % 7 == weekday
    ]
    after = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)
    until = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(seconds=1)
    fires = check(spec, walls, zone, policy, after, until)
    assert all(fire.isoweekday() % 7 == weekday for fire in fires)


@PROPERTY_SETTINGS
@given(
    zone_name=zones.filter(lambda z: z not in ("UTC", "Asia/Kolkata")),
    year=years,
    minute=minutes,
    policy=policies,
    kind=kinds,
    which=st.integers(0, 7),
    offset_minutes=st.integers(-180, 180),
)
def test_hourly_around_each_change(
    zone_name: str,
    year: int,
    minute: int,
    policy: GapPolicy,
    kind: str,
    which: int,
    offset_minutes: int,
) -> None:
    zone = ZoneInfo(zone_name)
    changes = transition_days(zone, year)
    assume(changes)
    day = changes[which % len(changes)]
    spec = spec_for(kind, zone_name, policy, hour=None, minute=minute)
    first = datetime.combine(day - timedelta(days=1), time(0))
    walls = [first + timedelta(hours=h, minutes=minute) for h in range(24 * 3)]
    # Start the query anywhere near the change, including inside a fold's second pass.
    after = datetime.combine(day, time(1), tzinfo=zone).astimezone(UTC) + timedelta(
        minutes=offset_minutes
    )
    until = datetime.combine(day + timedelta(days=1), time(12), tzinfo=zone).astimezone(UTC)
    check(spec, walls, zone, policy, after, until)


# --- RRULE rebasing ----------------------------------------------------------------------

freqs = st.sampled_from(["MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"])


@st.composite
def rrules(draw: st.DrawFn) -> str:
    freq = draw(freqs)
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 4))}"]
    if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        ordinal = draw(st.sampled_from([1, 2, 3, 4, -1, -2]))
        parts.append(f"BYDAY={ordinal}{draw(st.sampled_from(DAYS[1:] + DAYS[:1]))}")
        if freq == "YEARLY":
            parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    elif freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={draw(st.sampled_from([1, 7, 15, 28, -1, -3]))}")
    elif draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        parts.append("BYDAY=" + ",".join(days))
        if freq == "MONTHLY" and draw(st.booleans()):
            parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, -1]))}")
    if freq != "MINUTELY" and draw(st.booleans()):
        parts.append(f"BYMINUTE={draw(st.integers(0, 59))}")
    if freq not in ("MINUTELY", "HOURLY") and draw(st.booleans()):
        parts.append(f"BYHOUR={draw(st.integers(0, 23))}")
    return ";".join(parts)


PERIOD = {
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
    "MONTHLY": timedelta(days=30.44),
    "YEARLY": timedelta(days=365.25),
}


@settings(max_examples=150, deadline=None)
@given(
    rule=rrules(),
    dtstart=st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    periods=st.integers(0, 2000),
    jiggle=st.integers(0, 86_399),
)
def test_rrule_rebasing_matches_plain_dateutil(
    rule: str, dtstart: datetime, periods: int, jiggle: int
) -> None:
    # Query far enough past dtstart to exercise rebasing, near enough that plain
    # dateutil (which walks from dtstart every time) stays quick as the reference.
    unit = PERIOD[rule.split(";")[0].removeprefix("FREQ=")]
    query = dtstart + unit * periods + timedelta(seconds=jiggle)
    trigger = RRuleTrigger(rule, dtstart=dtstart, timezone=ZoneInfo("UTC"))
    plain = du.rrulestr(rule, dtstart=dtstart)
    got, want, cursor = [], [], query
    for _ in range(5):
        found = trigger.next_wall_after(cursor)
        expected = plain.after(cursor, inc=False)
        got.append(found)
        want.append(expected)
        if expected is None:
            break
        cursor = expected
    assert got == want
