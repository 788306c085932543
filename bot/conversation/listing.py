"""Which tasks a "list" request asks for ("what's overdue?", "my tasks this week")."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.enums import TaskStatus
from core.intents.model import Intent
from core.store import TaskQuery

_OPEN = frozenset({TaskStatus.OPEN, TaskStatus.PAUSED})
_DONE = frozenset({TaskStatus.DONE})


def _word(text: str, *words: str) -> bool:
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)


def list_query(intent: Intent, text: str, *, now: datetime, tz: str) -> tuple[TaskQuery, str]:
    """A ``TaskQuery`` and a heading for the list the person asked for."""
    lowered = text.lower()
    local = now.astimezone(ZoneInfo(tz))
    midnight = datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(tz))
    assignee = intent.assignees[0] if intent.assignees else None
    statuses = _DONE if _word(lowered, "done", "completed", "finished") else _OPEN
    heading = "Done tasks" if statuses is _DONE else "Open tasks"
    window: tuple[datetime, datetime] | None = None
    if _word(lowered, "overdue", "late"):
        query = TaskQuery(overdue_at=now, assignee=assignee)
        return query, "Overdue tasks"
    if _word(lowered, "today"):
        window, heading = (midnight, midnight + timedelta(days=1)), "Due today"
    elif _word(lowered, "tomorrow"):
        window = (midnight + timedelta(days=1), midnight + timedelta(days=2))
        heading = "Due tomorrow"
    elif _word(lowered, "this week"):
        start = midnight - timedelta(days=local.weekday())
        window, heading = (start, start + timedelta(days=7)), "Due this week"
    elif _word(lowered, "next week"):
        start = midnight - timedelta(days=local.weekday()) + timedelta(days=7)
        window, heading = (start, start + timedelta(days=7)), "Due next week"
    if assignee is not None:
        heading += " for you" if assignee == "me" else f" for @{assignee.lstrip('@')}"
    query = TaskQuery(
        statuses=statuses,
        assignee=assignee,
        due_after=window[0] if window else None,
        due_before=window[1] if window else None,
    )
    return query, heading
