"""The App Home tab: a person's open tasks (overdue first), upcoming reminders
and recent runs, with the same buttons as the task cards.

``home_view(data, labels)`` is pure; ``HomeSource`` is what the adapter asks for
the data (implemented over the store in ``bot.slack.taskforms``). The view is in
the language the person last wrote in: Kairos's words from the catalog, the
times of its lines translated with it (``home_phrases``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.slack.blocks import Block, escape, section, task_line_blocks
from core.messages import ENGLISH, Labels, TaskLine

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
    #: The language the person last wrote in, and their workspace (its token budget).
    language: str = "en"
    workspace_id: int | None = None


class SpeakerLanguages(Protocol):
    """The language each person last wrote in (``ConversationMemory``)."""

    async def language(self, *, workspace_id: int, person: str) -> str: ...


class HomeSource(Protocol):
    """Reads what the App Home shows for one person."""

    async def home(self, *, workspace_ref: str, user_ref: str, timezone: str) -> HomeData: ...


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _note(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _open_tasks(data: HomeData) -> list[TaskLine]:
    """The open tasks as the view lists them: overdue first, then in due order as given."""
    return sorted(data.tasks, key=lambda line: not line.overdue)  # stable sort


def home_phrases(data: HomeData) -> list[str]:
    """The times the view shows ("tomorrow 09:30"): translated with the catalog."""
    lines = (*_open_tasks(data)[:MAX_TASKS], *data.reminders[:MAX_REMINDERS])
    return [x.when for x in lines if x.when] + [r.when for r in data.runs[:MAX_RUNS] if r.when]


def home_view(data: HomeData, labels: Labels = ENGLISH) -> dict[str, Any]:
    """The ``views.publish`` view: overdue tasks first, then by due time as given."""

    def shown(line: TaskLine) -> TaskLine:
        return replace(
            line,
            when=labels(line.when),
            status=labels(line.status),
            priority=labels(line.priority),
        )

    blocks: list[Block] = [_header(labels("Your open tasks"))]
    tasks = _open_tasks(data)
    if not tasks:
        blocks.append(_note(labels("Nothing open. Try `/kairos remind me to stretch at 3pm`.")))
    for line in tasks[:MAX_TASKS]:
        blocks.extend(task_line_blocks(shown(line), with_buttons=True, labels=labels))
    if len(tasks) > MAX_TASKS:
        more = "…and {count} more — `/kairos list` shows all."
        blocks.append(_note(labels.fill(more, count=len(tasks) - MAX_TASKS)))
    blocks += [{"type": "divider"}, _header(labels("Upcoming reminders"))]
    if not data.reminders:
        blocks.append(_note(labels("No reminders scheduled.")))
    for line in data.reminders[:MAX_REMINDERS]:
        blocks.append(
            section(f"*#{line.task_id}* {escape(line.title)} — {escape(labels(line.when))}")
        )
    blocks += [{"type": "divider"}, _header(labels("Recent runs"))]
    if not data.runs:
        blocks.append(_note(labels("No runs yet.")))
    for run in data.runs[:MAX_RUNS]:
        status, at = escape(labels(run.status)), escape(labels(run.when))
        blocks.append(_note(f"*#{run.task_id}* {escape(run.title)} · {status} · {at}"))
    return {"type": "home", "blocks": blocks}
