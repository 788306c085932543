"""Pure helpers for reading what people say and what tasks will do.

Whether a message is a whole command or an answer, how an answer completes a
question, whether a new task's only problem is a time already past, and a
task's coming fires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.conversation.refs import is_pronoun
from core.enums import TaskStatus
from core.errors import KairosError
from core.intents.model import Intent, IntentKind
from core.models import TaskPublic
from core.triggers import next_runs

#: Tasks that may still fire or be worked on.
LIVE = frozenset({TaskStatus.OPEN, TaskStatus.PAUSED})
CREATES = frozenset({IntentKind.CREATE_REMINDER, IntentKind.CREATE_TASK, IntentKind.SCHEDULE_JOB})


def only_past(intent: Intent, now: datetime) -> bool:
    """Whether a new task's only problem is that its time has already passed."""
    if intent.intent not in CREATES:
        return False
    at = intent.schedule.at if intent.schedule is not None else None
    return (at is not None and at <= now) or (intent.due is not None and intent.due <= now)


def self_contained(intent: Intent) -> bool:
    """Whether a message is a whole command on its own (not an answer to a question)."""
    if intent.intent in (IntentKind.UNKNOWN, IntentKind.SNOOZE):
        return False
    if intent.intent in CREATES:
        return bool(intent.title)
    return not is_pronoun(intent.task_ref) or intent.intent in (
        IntentKind.LIST_TASKS,
        IntentKind.HELP,
        IntentKind.REPORT,
    )


def undo_values(task: TaskPublic, changes: dict[str, Any]) -> dict[str, Any]:
    """The current values of the fields ``changes`` touches (what undo puts back)."""
    out: dict[str, Any] = {}
    for name in changes:
        value = getattr(task, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def upcoming(task: TaskPublic) -> list[datetime]:
    if task.status != TaskStatus.OPEN or not task.enabled or task.next_fire_at is None:
        return []
    return [task.next_fire_at, *later_runs(task, task.next_fire_at)]


def completions(asked: str, answer: str) -> list[str]:
    """Ways an answer completes what was said before the question.

    An answer that repeats a word of the original replaces it ("move it to
    Thursday" + "next Thursday" → "move it to next Thursday"); otherwise the
    answer adds what was missing ("remind me to X" + "at 4pm").
    """
    words = asked.split()
    shared = {w.lower() for w in answer.split()} & {w.lower() for w in words}
    candidates = []
    for i, word in enumerate(words):
        if word.lower() in shared:
            candidates.append(" ".join([*words[:i], answer, *words[i + 1 :]]))
    return [*candidates, f"{asked} {answer}"]


def later_runs(task: TaskPublic, first: datetime) -> list[datetime]:
    """The two fires after ``first``, for confirmations of recurring tasks."""
    from core.schedule import parse_schedule

    try:
        return next_runs(parse_schedule(task.schedule), first, 2)
    except KairosError:
        return []
