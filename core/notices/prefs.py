"""Notification preferences and what they do to a notice's delivery time (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.errors import InvalidInput

#: Why a notice waits (its ``note``).
QUIET = "quiet hours"
BATCHED = "batched"


class Route(StrEnum):
    DM = "dm"
    THREAD = "thread"
    CHANNEL = "channel"


_HHMM = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)


def clock_time(text: str) -> time:
    """ "19:00", "7pm", "8" → a local time of day."""
    found = _HHMM.match(text)
    if not found:
        raise InvalidInput(f"'{text}' is not a time of day.", hint="Write it like 19:00 or 7pm.")
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    half = (found.group(3) or "").lower()
    if half == "pm" and hour < 12:
        hour += 12
    if half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise InvalidInput(f"'{text}' is not a time of day.", hint="Write it like 19:00 or 7pm.")
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class Preferences:
    """One person's notification settings (defaults: DM, no quiet hours, no batching)."""

    timezone: str = "UTC"
    route: Route = Route.DM
    quiet: tuple[time, time] | None = None
    batch_minutes: int | None = None
    muted: frozenset[int] = field(default_factory=frozenset)

    def quiet_until(self, now: datetime) -> datetime | None:
        """When the quiet hours ``now`` falls in end (``None``: not quiet now)."""
        if self.quiet is None:
            return None
        start, end = self.quiet
        tz = ZoneInfo(self.timezone)
        local = now.astimezone(tz)
        at = local.time().replace(tzinfo=None)
        inside = start <= at < end if start < end else at >= start or at < end
        if not inside:
            return None
        day = local.date() if at < end else local.date() + timedelta(days=1)
        return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)

    def batch_at(self, now: datetime) -> datetime | None:
        """The next batch boundary for low-priority notices (``None``: not batched)."""
        if not self.batch_minutes:
            return None
        step = self.batch_minutes * 60
        return datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, tz=now.tzinfo)

    def hold(
        self, now: datetime, *, low: bool, batched: bool = False
    ) -> tuple[datetime, str] | None:
        """Until when a notice due ``now`` waits, and why (quiet hours, then batching).

        ``batched``: it already waited for its batch, which is now.
        """
        quiet = self.quiet_until(now)
        if quiet is not None:
            return quiet, QUIET
        if low and not batched:
            batch = self.batch_at(now)
            if batch is not None:
                return batch, BATCHED
        return None

    def describe(self) -> str:
        where = {
            Route.DM: "by direct message",
            Route.THREAD: "in the task's thread (DM when it has none)",
            Route.CHANNEL: "in the task's channel (DM when it has none)",
        }[self.route]
        quiet = (
            f"{self.quiet[0]:%H:%M}–{self.quiet[1]:%H:%M} ({self.timezone})"
            if self.quiet
            else "none"
        )
        batch = (
            f"low-priority notifications together every {self.batch_minutes} min"
            if self.batch_minutes
            else "each notification as it happens"
        )
        muted = ", ".join(f"#{n}" for n in sorted(self.muted)) or "none"
        return (
            f"Your notification settings:\n• Delivered {where}\n• Quiet hours: {quiet}\n"
            f"• Batching: {batch}\n• Muted tasks: {muted}"
        )
