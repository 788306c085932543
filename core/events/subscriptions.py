"""Which tasks an event fires: a task subscribes by an ``event`` part in its schedule.

The schedule is the subscription (stored as data on the task, like every other
schedule); there is no second table to keep in step with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.schedule import EventSchedule, MixedSchedule, parse_schedule


def listened_events(schedule: Mapping[str, Any] | None) -> list[str]:
    """The event names a stored schedule waits for (none for a bad or time-only one)."""
    if not schedule:
        return []
    try:
        spec = parse_schedule(dict(schedule))
    except Exception:
        return []
    if isinstance(spec, EventSchedule):
        return [spec.event]
    if isinstance(spec, MixedSchedule):
        return [p.event for p in spec.parts if isinstance(p, EventSchedule)]
    return []


def listens_for(schedule: Mapping[str, Any] | None, event: str) -> bool:
    """Whether a stored schedule fires on ``event``."""
    return event in listened_events(schedule)
