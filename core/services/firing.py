"""When a task fires next: schedule checks and the engine's ``next_fire_at`` cursor.

Pure functions over ``core.schedule`` specs; the arithmetic is ``core.triggers``'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.enums import TaskStatus
from core.errors import InvalidSchedule
from core.schedule import EventSchedule, MixedSchedule, ScheduleSpec, parse_schedule
from core.services.inputs import anchor_schedule, clean_schedule
from core.triggers import next_fire_time, validate


def has_time_parts(spec: ScheduleSpec) -> bool:
    """Whether the schedule fires at times (not only on events)."""
    if isinstance(spec, EventSchedule):
        return False
    if isinstance(spec, MixedSchedule):
        return any(not isinstance(p, EventSchedule) for p in spec.parts)
    return True


def new_schedule(value: object, timezone: str, now: datetime) -> ScheduleSpec | None:
    """A schedule a caller gives, validated, anchored at ``now`` and firing in the future."""
    spec = clean_schedule(value, timezone)
    if spec is None:
        return None
    spec = anchor_schedule(spec, now)
    validate(spec, anchor=now)
    if has_time_parts(spec) and next_fire_time(spec, now) is None:
        raise InvalidSchedule(
            "This schedule never fires after now: its times are all in the past.",
            hint="Pick a time in the future.",
        )
    return spec


def stored_spec(data: Mapping[str, Any] | None) -> ScheduleSpec | None:
    """The spec of a stored task's ``schedule`` JSON."""
    return None if data is None else parse_schedule(data)


def next_fire(
    spec: ScheduleSpec | None, *, status: TaskStatus, enabled: bool, now: datetime
) -> datetime | None:
    """The engine's cursor: set only while the task is live and has time-based fires."""
    if spec is None or status != TaskStatus.OPEN or not enabled or not has_time_parts(spec):
        return None
    return next_fire_time(spec, now)
