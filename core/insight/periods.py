"""Report periods: the last complete week or month in a zone, and the one before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Span(StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC, with the zone it was cut in (for labels)."""

    span: Span
    start: datetime
    end: datetime
    timezone: str

    @property
    def label(self) -> str:
        tz = ZoneInfo(self.timezone)
        first = self.start.astimezone(tz)
        last = (self.end - timedelta(seconds=1)).astimezone(tz)
        if self.span is Span.MONTH:
            return f"{first:%B %Y}"
        return f"week of {first:%a %d %b} – {last:%a %d %b %Y}"

    def contains(self, when: datetime | None) -> bool:
        return when is not None and self.start <= when < self.end

    def previous(self) -> Period:
        tz = ZoneInfo(self.timezone)
        local = self.start.astimezone(tz)
        if self.span is Span.WEEK:
            start = _local_midnight(local.date() - timedelta(days=7), tz)
        else:
            year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
            start = _local_midnight(local.date().replace(year=year, month=month, day=1), tz)
        return Period(self.span, start, self.start, self.timezone)

    def days(self) -> list[datetime]:
        """The local midnights (UTC) of each day in the period."""
        tz = ZoneInfo(self.timezone)
        day = self.start.astimezone(tz).date()
        out = []
        while (at := _local_midnight(day, tz)) < self.end:
            out.append(at)
            day += timedelta(days=1)
        return out


def last_complete(span: Span, now: datetime, timezone: str) -> Period:
    """The last week (Monday to Sunday) or calendar month that has ended by ``now``."""
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    if span is Span.WEEK:
        end_day = today - timedelta(days=today.weekday())
        start_day = end_day - timedelta(days=7)
    else:
        end_day = today.replace(day=1)
        start_day = (end_day - timedelta(days=1)).replace(day=1)
    return Period(span, _local_midnight(start_day, tz), _local_midnight(end_day, tz), timezone)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
