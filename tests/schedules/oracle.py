"""An independent model of Kairos' DST policy, for checking the triggers.

Built on ``dateutil.tz.datetime_exists`` and minute-by-minute scanning, not on
the code under test: a wall-clock time that exists fires at its first occurrence;
one in a gap fires at the first existing wall-clock minute after it (``shift``)
or not at all (``skip``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import tz as dtz

from core.schedule import GapPolicy


def expected_instant(wall: datetime, zone: ZoneInfo, policy: GapPolicy) -> datetime | None:
    """Where the policy puts the naive local ``wall`` time (UTC), or None if skipped."""
    local = wall.replace(tzinfo=zone, fold=0)
    if dtz.datetime_exists(local):
        return local.astimezone(UTC)
    if policy is GapPolicy.SKIP:
        return None
    probe = wall.replace(second=0) + timedelta(minutes=1)
    while not dtz.datetime_exists(probe.replace(tzinfo=zone)):
        probe += timedelta(minutes=1)
    return probe.replace(tzinfo=zone, fold=0).astimezone(UTC)


def transition_days(zone: ZoneInfo, year: int) -> list[date]:
    """Local dates in ``year`` on which the zone's UTC offset changes."""
    days = []
    day = date(year, 1, 1)
    previous = datetime(year, 1, 1, tzinfo=zone).utcoffset()
    while day.year == year:
        offset = datetime.combine(
            day + timedelta(days=1), datetime.min.time(), tzinfo=zone
        ).utcoffset()
        if offset != previous:
            days.append(day)
            previous = offset
        day += timedelta(days=1)
    return days
