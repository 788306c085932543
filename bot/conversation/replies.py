"""Building the neutral replies Kairos sends: confirmations, lists, questions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import formatting
from core.enums import TaskStatus
from core.events.subscriptions import listened_events
from core.messages import Button, Reply, ReplyKind, TaskLine
from core.models import TaskPublic

#: Snooze choices offered on reminders (label, value suffix).
SNOOZE_CHOICES = (("20 min", "20"), ("1 h", "60"), ("Tomorrow", "tomorrow"))


def task_buttons(task_id: int, *, reminder: bool = False) -> tuple[Button, ...]:
    """Done, Snooze (on reminders), Run now and Edit for one task."""
    value = str(task_id)
    buttons = [Button("Done", "task.done", value)]
    if reminder:
        buttons += [
            Button(f"Snooze {label}", "task.snooze", f"{value}:{suffix}")
            for label, suffix in SNOOZE_CHOICES
        ]
    buttons += [Button("Run now", "task.run", value), Button("Edit", "task.edit", value)]
    return tuple(buttons)


def fired_buttons(task_id: int, *, done: bool) -> tuple[Button, ...]:
    """Buttons on a reminder that fired: Done (or Reopen, when firing finished it), Snooze."""
    value = str(task_id)
    first = Button("Reopen", "task.reopen", value) if done else Button("Done", "task.done", value)
    return (
        first,
        *(
            Button(f"Snooze {label}", "task.snooze", f"{value}:{suffix}")
            for label, suffix in SNOOZE_CHOICES
        ),
    )


def describe(task: TaskPublic, *, tz: str, now: datetime, next_runs: Sequence[datetime]) -> str:
    """What Kairos understood: id, title, when, who, where — in the reader's zone."""
    parts = [formatting.task_label(task)]
    if next_runs:
        first = formatting.when(next_runs[0], tz, now=now)
        parts.append(
            first
            if len(next_runs) == 1
            else f"next {first}, then {formatting.runs(next_runs[1:], tz)}"
        )
    if task.due is not None:
        parts.append(f"due {formatting.when(task.due, tz, now=now)}")
    events = listened_events(task.schedule)
    if events:
        parts.append("whenever " + " or ".join(events) + " fires")
    if task.assignees:
        parts.append("for " + ", ".join(f"@{a}" for a in task.assignees))
    if task.channel_ref:
        parts.append(f"in #{task.channel_ref}")
    if task.priority and task.priority != "normal":
        parts.append(f"{task.priority} priority")
    if task.depends_on:
        parts.append("after " + ", ".join(f"#{d}" for d in task.depends_on))
    return ", ".join(parts)


def confirmation(
    verb: str, task: TaskPublic, *, tz: str, now: datetime, next_runs: Sequence[datetime] = ()
) -> Reply:
    text = f"{verb} — {describe(task, tz=tz, now=now, next_runs=next_runs)}"
    return Reply(
        text=text,
        kind=ReplyKind.CONFIRMATION,
        task_id=task.id,
        buttons=task_buttons(task.id, reminder=task.kind == "reminder"),
    )


def task_line(task: TaskPublic, *, tz: str, now: datetime) -> TaskLine:
    when = ""
    if task.due is not None:
        when = f"due {formatting.when(task.due, tz, now=now)}"
    elif task.next_fire_at is not None:
        when = formatting.when(task.next_fire_at, tz, now=now)
    overdue = task.due is not None and task.due < now and task.status == TaskStatus.OPEN
    return TaskLine(
        task_id=task.id,
        title=task.title,
        when=when,
        status=str(task.status),
        priority=str(task.priority),
        assignees=tuple(task.assignees),
        overdue=overdue,
    )


def task_list(title: str, tasks: Sequence[TaskPublic], *, tz: str, now: datetime) -> Reply:
    if not tasks:
        return Reply(text=f"{title}: nothing.", kind=ReplyKind.TASK_LIST)
    lines = tuple(task_line(t, tz=tz, now=now) for t in tasks)
    plain = "\n".join(
        f"#{line.task_id} {line.title}"
        + (f" — {line.when}" if line.when else "")
        + (f" — {', '.join('@' + a for a in line.assignees)}" if line.assignees else "")
        + (" (overdue)" if line.overdue else "")
        for line in lines
    )
    return Reply(
        text=f"{title}:\n{plain}", kind=ReplyKind.TASK_LIST, tasks=lines, fields={"heading": title}
    )


def question(text: str) -> Reply:
    return Reply(text=text, kind=ReplyKind.QUESTION)


def error(text: str) -> Reply:
    return Reply(text=text, kind=ReplyKind.ERROR)


HELP_TEXT = """I turn plain language into tasks, reminders and jobs. Try:
• remind me to submit the report tomorrow at 3pm
• remind #eng every weekday at 9:30 to post updates
• add task 'deploy v2' for @bob due Friday after 'QA signoff'
• every night at 2 run `backup.sh`
• list · what's overdue? · my tasks this week
• done 12 · move 12 to Thursday · assign 12 to @bob · make 12 urgent · delete 12
• snooze 1h · run 12 now · show the last runs of 12 · weekly report
In a task's thread, "done", "push it to Friday" or "snooze 1h" act on that task."""


def help_reply() -> Reply:
    return Reply(text=HELP_TEXT, kind=ReplyKind.HELP)


def text(body: str, *, task_id: int | None = None) -> Reply:
    return Reply(text=body, task_id=task_id)
