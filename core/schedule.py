"""Schedules as data: what a task's fire times are, independent of any engine.

A schedule is stored as JSON on the task (``ScheduleSpec.model_dump(mode="json")``)
and always carries an IANA time zone. Fire times are computed elsewhere
(``core.triggers``) from these specs; nothing here does date arithmetic.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from core.errors import InvalidSchedule

#: The shortest interval Kairos accepts; anything faster is a busy loop, not a schedule.
MIN_INTERVAL_SECONDS = 10


class GapPolicy(StrEnum):
    """What to do with a wall-clock time that does not exist (spring-forward gap)."""

    SHIFT = "shift"  # fire at the first instant after the gap (default)
    SKIP = "skip"  # do not fire for that occurrence


def check_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA zone, else raise a clear error."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidSchedule(
            f"Unknown time zone {name!r}.",
            hint="Use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'.",
        ) from exc
    return name


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "UTC"
    gap_policy: GapPolicy = GapPolicy.SHIFT

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)


class OnceSchedule(_Spec):
    """Fires once at an instant."""

    kind: Literal["once"] = "once"
    at: datetime

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("'at' needs a UTC offset or time zone")
        return value


class IntervalSchedule(_Spec):
    """Fires every N seconds, first at ``start + N`` (``start`` defaults to creation)."""

    kind: Literal["interval"] = "interval"
    every_seconds: int
    start: datetime | None = None
    end: datetime | None = None

    @field_validator("every_seconds")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < MIN_INTERVAL_SECONDS:
            raise ValueError(
                f"an interval must be at least {MIN_INTERVAL_SECONDS} seconds, got {value}"
            )
        return value


class CronSchedule(_Spec):
    """A 5-field cron expression (APScheduler extensions such as ``last fri`` allowed)."""

    kind: Literal["cron"] = "cron"
    cron: str
    start: datetime | None = None
    end: datetime | None = None


class RRuleSchedule(_Spec):
    """An RFC 5545 RRULE; ``dtstart`` is local wall-clock time in ``timezone``."""

    kind: Literal["rrule"] = "rrule"
    rrule: str
    dtstart: datetime | None = None


class EventSchedule(_Spec):
    """Fires whenever the named event arrives."""

    kind: Literal["event"] = "event"
    event: str = Field(min_length=1)


class MixedSchedule(_Spec):
    """Any set of the other kinds: fires on whichever comes first."""

    kind: Literal["mixed"] = "mixed"
    parts: list[
        Annotated[
            OnceSchedule | IntervalSchedule | CronSchedule | RRuleSchedule | EventSchedule,
            Field(discriminator="kind"),
        ]
    ] = Field(min_length=1)

    @model_validator(mode="after")
    def _parts_inherit_zone(self) -> MixedSchedule:
        # A part written without its own zone means the mixed schedule's zone,
        # not UTC ("every day at 9, and on Friday at 17:00" in Europe/Berlin).
        parts = [
            part
            if "timezone" in part.model_fields_set
            else part.model_copy(update={"timezone": self.timezone})
            for part in self.parts
        ]
        object.__setattr__(self, "parts", parts)  # frozen: set once, while validating
        return self


ScheduleSpec = Annotated[
    OnceSchedule | IntervalSchedule | CronSchedule | RRuleSchedule | EventSchedule | MixedSchedule,
    Field(discriminator="kind"),
]

_ADAPTER: TypeAdapter[ScheduleSpec] = TypeAdapter(ScheduleSpec)


def parse_schedule(data: object) -> ScheduleSpec:
    """Validate stored or user-given schedule data, raising ``InvalidSchedule``."""
    from pydantic import ValidationError

    try:
        return _ADAPTER.validate_python(data)
    except InvalidSchedule:
        raise
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'schedule'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidSchedule(
            f"Invalid schedule ({problems}).",
            hint="See 'kairos --help' or PARSING.md for the schedule forms Kairos accepts.",
        ) from exc


def dump_schedule(spec: ScheduleSpec) -> dict[str, object]:
    """The JSON form stored on a task."""
    return spec.model_dump(mode="json", exclude_defaults=False)
