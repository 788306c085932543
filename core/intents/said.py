"""``Said``: what a message *says*, as a language model reports it — never instants.

Language models are poor at date arithmetic, so the model only reports the
words' parts (weekday, clock time, offsets, recurrence parts, zone, people…).
``to_intent`` turns them into a canonical English time phrase and lets the rule
parser's own grammar compute the instants and next runs, so a reading from the
model and one from the rules follow exactly the same conventions (PARSING.md).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from core.intents.model import Intent, IntentKind, ParsedSchedule
from core.intents.rules import RuleParser
from core.schedule import check_timezone

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_PARTS = {
    "morning": "09:00",
    "noon": "12:00",
    "afternoon": "15:00",
    "evening": "18:00",
    "tonight": "20:00",
    "end_of_day": "17:00",
}


def _iso_date(value: str | None) -> str | None:
    if value is not None:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("write dates as YYYY-MM-DD, e.g. 2026-12-24") from None
    return value


def _spoken_date(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{_MONTHS[day.month - 1]} {day.day} {day.year}"


class SaidTime(BaseModel):
    """One moment as said. Fill only what the words say; leave the rest empty."""

    weekday: Weekday | None = Field(default=None, description="a weekday named in the text")
    next_week: bool = Field(default=False, description="'next <weekday>' (the following week)")
    day: Literal["today", "tomorrow", "day_after_tomorrow"] | None = None
    on_date: str | None = Field(default=None, description="a calendar date said, YYYY-MM-DD")
    clock: str | None = Field(default=None, description="a clock time said, 24-hour HH:MM")
    part_of_day: (
        Literal["morning", "noon", "afternoon", "evening", "tonight", "midnight", "end_of_day"]
        | None
    ) = None
    in_amount: int | None = Field(default=None, ge=1, description="'in 3 hours': 3")
    in_unit: Literal["minutes", "hours", "days", "weeks", "months"] | None = None
    zone: str | None = Field(default=None, description="a zone said, as an IANA name")

    @field_validator("on_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return _iso_date(value)

    @field_validator("clock")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None and not _CLOCK.match(value):
            raise ValueError("write clock times as 24-hour HH:MM, e.g. 15:30")
        return value

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_timezone(value)
        except Exception:
            raise ValueError(
                f"{value!r} is not an IANA zone; write e.g. America/Los_Angeles for PST"
            ) from None

    def phrase(self) -> str:
        """This moment as canonical English the rule grammar reads."""
        words: list[str] = []
        if self.in_amount and self.in_unit:
            words.append(f"in {self.in_amount} {self.in_unit}")
        if self.on_date:
            words.append(f"on {_spoken_date(self.on_date)}")
        elif self.weekday:
            words.append(f"{self.weekday} next week" if self.next_week else f"on {self.weekday}")
        elif self.day:
            words.append(self.day.replace("_", " ").replace("day after", "the day after"))
        if self.clock:
            words.append(f"at {self.clock}")
        elif self.part_of_day == "midnight":
            words.append("at midnight")
        elif self.part_of_day:
            words.append(f"at {_PARTS[self.part_of_day]}")
        return " ".join(words)


class SaidRecurrence(BaseModel):
    """A repetition as said: 'every other Monday at 10', 'the last Friday of the month'."""

    every: int = Field(default=1, ge=1, le=1000, description="2 for 'every other'/'biweekly'")
    unit: Literal["minute", "hour", "day", "weekday", "week", "month", "year"]
    weekdays: list[Weekday] = Field(default_factory=list)
    month_day: int | None = Field(default=None, ge=1, le=31, description="'on the 15th': 15")
    ordinal: Literal["first", "second", "third", "fourth", "last"] | None = Field(
        default=None, description="'the second Tuesday of every month': second"
    )
    on_date: str | None = Field(default=None, description="yearly: the date, YYYY-MM-DD")
    until: str | None = Field(default=None, description="last day, YYYY-MM-DD")
    times: int | None = Field(default=None, ge=1, description="'5 times': 5")

    @field_validator("on_date", "until")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return _iso_date(value)

    def phrase(self) -> str:
        """This repetition as canonical English the rule grammar reads."""
        days = " and ".join(self.weekdays)
        n = self.every
        if self.unit in ("minute", "hour"):
            head = f"every {n} {self.unit}s"
        elif self.unit == "weekday":
            head = "every weekday"
        elif self.unit == "day":
            head = "every day" if n == 1 else f"every {n} days"
        elif self.unit == "week":
            head = f"every {days or 'week'}" if n == 1 else f"every {n} weeks on {days or 'monday'}"
        elif self.unit == "month" and self.ordinal and self.weekdays:
            head = f"the {self.ordinal} {self.weekdays[0]} of every month"
        elif self.unit == "month":
            head = f"every month on the {_nth(self.month_day or 1)}"
        else:
            when = date.fromisoformat(self.on_date) if self.on_date else None
            head = f"every year on {_MONTHS[when.month - 1]} {when.day}" if when else "every year"
        if self.until:
            head += f" until {_spoken_date(self.until)}"
        if self.times:
            head += f" {self.times} times"
        return head


def _nth(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


class SaidAction(BaseModel):
    """What a scheduled job does."""

    type: Literal["shell", "http", "sql", "ai_prompt", "digest"]
    command: str | None = None
    url: str | None = None
    method: str = "GET"
    query: str | None = None
    prompt: str | None = None

    def to_action(self) -> dict[str, object]:
        """The PARSING.md ``action`` object."""
        if self.type == "shell":
            return {"type": "shell", "command": self.command or ""}
        if self.type == "http":
            return {"type": "http", "url": self.url or "", "method": self.method.upper()}
        if self.type == "sql":
            return {"type": "sql", "query": self.query or ""}
        if self.type == "ai_prompt":
            return {"type": "ai_prompt", "prompt": self.prompt or ""}
        return {"type": "digest"}


class Said(BaseModel):
    """Everything a message says, in its own words' parts (the model's answer)."""

    intent: IntentKind
    language: str = Field(
        default="en", min_length=2, max_length=2, description="ISO 639-1 code of the message"
    )
    title: str | None = Field(
        default=None, description="the task's name in the message's language, without time words"
    )
    task_ref: str | None = Field(default=None, description="an existing task: id or its words")
    when: SaidTime | None = None
    recurrence: SaidRecurrence | None = None
    when_is_deadline: bool = Field(default=False, description="the time is a due date ('by')")
    event: str | None = Field(default=None, description="'when the deploy finishes': its name")
    people: list[str] = Field(default_factory=list, description="'me' for the speaker")
    channel: str | None = Field(default=None, description="a channel named, without #")
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    prerequisites: list[str] = Field(default_factory=list, description="tasks that must finish")
    action: SaidAction | None = None
    confidence: float = Field(default=0.8, ge=0, le=1)

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        return value.lower()

    def time_phrase(self) -> str:
        """The schedule's words, canonical English ("" when none was said)."""
        parts = [self.recurrence.phrase()] if self.recurrence else []
        if self.when is not None:
            parts.append(self.when.phrase())
        return " ".join(part for part in parts if part)


def to_intent(said: Said, *, rules: RuleParser, now: datetime, tz: str) -> Intent:
    """The ``Intent`` of ``said``: instants and next runs computed by Kairos, not the model."""
    intent = Intent(
        intent=said.intent,
        title=said.title,
        task_ref=said.task_ref,
        priority=said.priority,
        assignees=list(dict.fromkeys(said.people)),
        channel=said.channel.lstrip("#") if said.channel else None,
        depends_on=said.prerequisites,
        action=said.action.to_action() if said.action else None,
        confidence=said.confidence,
    )
    zone = (said.when.zone if said.when else None) or tz
    if said.intent is IntentKind.CREATE_REMINDER and not intent.assignees and not intent.channel:
        intent.assignees = ["me"]
    if said.event:
        intent.schedule = ParsedSchedule(kind="event", event=said.event, timezone=zone)
        return intent
    phrase = said.time_phrase()
    if not phrase:
        return intent
    deadline = said.when_is_deadline and said.recurrence is None
    sentence = f"add task x due {phrase}" if deadline else f"remind me to x {phrase}"
    timed = rules.parse(sentence, now=now.astimezone(ZoneInfo(zone)), tz=zone)
    if deadline:
        intent.due = timed.due
    else:
        intent.schedule, intent.next_runs = timed.schedule, timed.next_runs
    clarification = timed.clarification
    if clarification and clarification.startswith("Do you mean"):
        clarification = None  # the model already told which day was meant
    if intent.due is None and intent.schedule is None:
        clarification = clarification or "When should it be?"
    intent.clarification = clarification
    return intent
