"""The App Home tab: a person's open tasks (overdue first), upcoming reminders
and recent runs, with the same buttons as the task cards.

``home_view(data)`` is pure; ``HomeSource`` is what the adapter asks for the data
(implemented over the task service in ``bot.slack.forms``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.slack.blocks import Block, escape, section, task_line_blocks
from core.messages import TaskLine

#: A home view holds at most 100 blocks; keep well under it.
MAX_TASKS = 15
MAX_REMINDERS = 10
MAX_RUNS = 10


@dataclass(frozen=True, slots=True)
class RunLine:
    """One recent run, formatted for the reader's time zone."""

    task_id: int
    title: str
    status: str
    when: str


@dataclass(frozen=True, slots=True)
class HomeData:
    tasks: tuple[TaskLine, ...] = ()
    reminders: tuple[TaskLine, ...] = ()
    runs: tuple[RunLine, ...] = ()


class HomeSource(Protocol):
    """Reads what the App Home shows for one person."""

    async def home(self, *, workspace_ref: str, user_ref: str, timezone: str) -> HomeData: ...


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _note(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def home_view(data: HomeData) -> dict[str, Any]:
    """The ``views.publish`` view: overdue tasks first, then by due time as given."""
    blocks: list[Block] = [_header("Your open tasks")]
    tasks = sorted(data.tasks, key=lambda line: not line.overdue)  # stable: keeps due order
    if not tasks:
        blocks.append(_note("Nothing open. Try `/kairos remind me to stretch at 3pm`."))
    for line in tasks[:MAX_TASKS]:
        blocks.extend(task_line_blocks(line, with_buttons=True))
    if len(tasks) > MAX_TASKS:
        blocks.append(_note(f"…and {len(tasks) - MAX_TASKS} more — `/kairos list` shows all."))
    blocks += [{"type": "divider"}, _header("Upcoming reminders")]
    if not data.reminders:
        blocks.append(_note("No reminders scheduled."))
    for line in data.reminders[:MAX_REMINDERS]:
        blocks.append(section(f"*#{line.task_id}* {escape(line.title)} — {escape(line.when)}"))
    blocks += [{"type": "divider"}, _header("Recent runs")]
    if not data.runs:
        blocks.append(_note("No runs yet."))
    for run in data.runs[:MAX_RUNS]:
        blocks.append(
            _note(
                f"*#{run.task_id}* {escape(run.title)} · {escape(run.status)} · {escape(run.when)}"
            )
        )
    return {"type": "home", "blocks": blocks}
