"""How Kairos writes times and tasks for people: always in the reader's time zone.

Every function here is total: whatever is stored (a year-9999 instant that
overflows east of UTC, a naive value, a zone that no longer exists), it
returns text. A list must never fail because one task is odd.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from core.models import TaskPublic


def _zone(tz: str) -> tzinfo:
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError, OSError):  # unknown or malformed name: show UTC
        return UTC


def _local(instant: datetime, zone: tzinfo) -> datetime:
    """``instant`` in ``zone``, or in UTC where the local time falls outside datetime's range."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        instant = instant.replace(tzinfo=UTC)  # Kairos stores UTC; naive means UTC
    for target in (zone, UTC):
        try:
            return instant.astimezone(target)
        except (OverflowError, ValueError):
            continue
    return instant  # as it was written: its own offset is all there is


def when(instant: datetime, tz: str, *, now: datetime | None = None) -> str:
    """``Fri 27 Nov 15:00 CET``, prefixed with today/tomorrow when that reads better."""
    zone = _zone(tz)
    local = _local(instant, zone)
    text = f"{local:%a %d %b %H:%M} {local.tzname() or 'UTC'}"
    if not 1970 <= local.year < 9000:  # only stored before the limits existed: say the year
        text = f"{local:%a %d %b} {local.year:04d} {local:%H:%M} {local.tzname() or 'UTC'}"
    if now is not None:
        today = _local(now, zone).date()
        delta = (local.date() - today).days
        if delta == 0:
            return f"today {text}"
        if delta == 1:
            return f"tomorrow {text}"
    return text


def runs(instants: Iterable[datetime], tz: str) -> str:
    return ", ".join(when(i, tz) for i in instants)


def task_label(task: TaskPublic) -> str:
    return f"#{task.id} '{task.title}'"


def tomorrow_morning(now: datetime, tz: str) -> datetime:
    """09:00 local time tomorrow (the "Snooze: tomorrow" button)."""
    zone = _zone(tz)
    local = _local(now, zone)
    try:
        return datetime.combine(local.date() + timedelta(days=1), time(9), tzinfo=zone)
    except OverflowError:  # the last day datetime knows: there is no tomorrow
        return local
