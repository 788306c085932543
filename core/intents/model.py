"""The ``Intent``: one structured reading of what a person said.

This is the normative structure of ``../shared/PARSING.md`` and is shared by
every parser (the offline ``RuleParser``, the LLM parser) and the conversation
layer. ``to_json()`` gives exactly the ``kairos parse`` output.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class IntentKind(StrEnum):
    """What a person wants (see PARSING.md, "Intents")."""

    CREATE_REMINDER = "create_reminder"
    CREATE_TASK = "create_task"
    SCHEDULE_JOB = "schedule_job"
    LIST_TASKS = "list_tasks"
    COMPLETE_TASK = "complete_task"
    UPDATE_TASK = "update_task"
    DELETE_TASK = "delete_task"
    SNOOZE = "snooze"
    RUN_TASK = "run_task"
    SHOW_HISTORY = "show_history"
    REPORT = "report"
    HELP = "help"
    UNKNOWN = "unknown"


class ParsedSchedule(BaseModel):
    """The schedule as PARSING.md writes it.

    kind ``once`` → ``at``; ``recurring`` → ``rrule`` (with ``dtstart``, the first
    fire as naive local wall-clock time in ``timezone``) or ``cron``; ``interval`` →
    ``every_seconds``; ``event`` → ``event``.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["once", "recurring", "interval", "event"]
    timezone: str
    at: datetime | None = None
    rrule: str | None = None
    dtstart: datetime | None = None
    cron: str | None = None
    every_seconds: int | None = None
    event: str | None = None


class Intent(BaseModel):
    """One parse result (see PARSING.md for each field's meaning)."""

    intent: IntentKind
    title: str | None = None
    task_ref: str | None = None
    schedule: ParsedSchedule | None = None
    next_runs: list[datetime] = Field(default_factory=list)
    due: datetime | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    assignees: list[str] = Field(default_factory=list)
    channel: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    action: dict[str, Any] | None = None
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    #: A short question to ask back instead of acting (ambiguity); not part of the JSON.
    clarification: str | None = Field(default=None, exclude=True)

    def to_json(self) -> dict[str, Any]:
        """The ``kairos parse`` JSON object, datetimes as ISO 8601 with offset."""
        data = self.model_dump(mode="json", exclude={"clarification"})
        if self.schedule is not None:
            data["schedule"] = self.schedule.model_dump(mode="json", exclude_none=True)
        return data
