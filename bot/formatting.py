"""How Kairos writes times and tasks for people: always in the reader's time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from core.models import TaskPublic


def when(instant: datetime, tz: str, *, now: datetime | None = None) -> str:
    """``Fri 27 Nov 15:00 CET``, prefixed with today/tomorrow when that reads better."""
    local = instant.astimezone(ZoneInfo(tz))
    text = f"{local:%a %d %b %H:%M} {local.tzname()}"
    if now is not None:
        today = now.astimezone(ZoneInfo(tz)).date()
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
    from datetime import time, timedelta

    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=zone)
