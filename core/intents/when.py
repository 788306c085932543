"""What the time words of a message said, before they are pinned to a calendar.

The scanner (``core.intents.times``) fills a ``When`` with symbolic pieces; the
resolver (``core.intents.resolve``) turns it into an instant once the reference
time and zone are known, following the Time conventions of PARSING.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DateKind(StrEnum):
    """The forms a date can be written in."""

    OFFSET = "offset"  # today (0), tomorrow (1), the day after tomorrow (2)
    WEEKDAY = "weekday"  # nearest such day strictly after today
    NEXT_WEEKDAY = "next_weekday"  # that day in the following calendar week
    NEXT_WEEK = "next_week"  # Monday of the following week
    NEXT_MONTH = "next_month"  # the 1st of the following month
    NEXT_YEAR = "next_year"  # 1 January of the following year
    WEEKEND = "weekend"  # the coming Saturday
    CALENDAR = "calendar"  # month/day[/year]
    MONTHDAY = "monthday"  # "the 15th": the next 15th
    END_OF_WEEK = "eow"  # Friday 17:00
    END_OF_MONTH = "eom"  # last day of the month 17:00
    END_OF_YEAR = "eoy"  # 31 December 17:00


@dataclass(slots=True)
class DatePart:
    """A date as written; ``month``/``day``/``year`` are used by CALENDAR/MONTHDAY."""

    kind: DateKind
    value: int = 0  # offset days or weekday (0 = Monday)
    month: int = 0
    day: int = 0
    year: int = 0
    shift: int = 0  # days added afterwards: "a week from Friday", "the day after Dec 10"
    shift_months: int = 0  # "a month from tomorrow"


@dataclass(slots=True)
class TimeOfDay:
    """A wall-clock time; ``bare`` means an hour written without am/pm or minutes."""

    hour: int
    minute: int
    bare: bool = False


@dataclass(slots=True)
class When:
    """Everything the scanner found; ``pieces`` counts matched phrases."""

    date: DatePart | None = None
    time: TimeOfDay | None = None
    part_of_day: str | None = None  # "morning", "evening", "tonight", …
    delta_seconds: float = 0.0  # elapsed time (minutes, hours)
    delta_days: float = 0.0  # calendar days (days, weeks): the wall clock is kept
    delta_months: int = 0
    has_delta: bool = False
    zone: str | None = None
    deadline: bool = False  # said with "by", "due", "before"
    deadline_words: list[int] = field(default_factory=list)  # where those words are
    clarification: str | None = None
    pieces: int = 0
    extra_dates: list[DatePart] = field(default_factory=list)
    extra_times: list[TimeOfDay] = field(default_factory=list)  # "at 9 and 5"

    @property
    def empty(self) -> bool:
        """True when no time words were found."""
        return self.pieces == 0
