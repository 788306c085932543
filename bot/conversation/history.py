"""Run history in chat: "show failed runs", "why did the backup fail?", "search the logs for …".

``RunsTalk.answer`` recognises history questions before the intent parser sees
them (the conversation dispatches with one line) and answers from
``core.store.history``. The table and summary helpers are shared with
``kairos runs`` and with the result posts of ``bot.notify``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.conversation import replies
from bot.conversation.refs import find_by_words, number_of
from bot.formatting import when
from core.enums import RunStatus
from core.insight.run_stats import RunStats
from core.messages import Button, Reply
from core.models import Run
from core.ports import Clock
from core.services.tasks import TaskService
from core.store.history import RunHistory, RunRow

_FAILED_RUNS = re.compile(
    r"^(?:show|list|what are)?\s*(?:me\s+)?(?:the\s+|all\s+)?(?:recent\s+|last\s+)?"
    r"(?:failed|failing)\s+(?:runs|jobs)\b",
    re.IGNORECASE,
)
_WHY = re.compile(r"^why\s+did\s+(?P<what>.+?)\s+fail(?:ed)?\s*\??$", re.IGNORECASE)
_RUNS_OF = re.compile(
    r"^(?:show\s+)?(?:me\s+)?(?:the\s+)?(?:last\s+|recent\s+)?runs\s+(?:of|for)\s+(?P<what>.+?)\s*\??$",
    re.IGNORECASE,
)
_STATS = re.compile(
    r"^(?:how\s+reliable\s+is|stats\s+(?:of|for)|success\s+rate\s+(?:of|for))\s+(?P<what>.+?)\s*\??$",
    re.IGNORECASE,
)
_SEARCH = re.compile(
    r"^(?:search|grep|find)\s+(?:in\s+)?(?:the\s+)?(?:run\s+)?logs?\s+for\s+(?P<needle>.+?)\s*$",
    re.IGNORECASE,
)
_TAIL_LINES = 15
#: Attempts that failed, whether or not a retry follows.
FAILED = (RunStatus.FAILED.value, RunStatus.RETRYING.value)


class RunsTalk:
    """Answers questions about run history (``None``: not a history question)."""

    def __init__(self, *, history: RunHistory, tasks: TaskService, clock: Clock) -> None:
        self._history = history
        self._tasks = tasks
        self._clock = clock

    async def answer(self, text: str, *, workspace_id: int, tz: str) -> list[Reply] | None:
        said = text.strip().rstrip(".!")
        if _FAILED_RUNS.match(said):
            since = self._clock.now() - timedelta(days=7)
            rows = await self._history.runs(workspace_id, statuses=FAILED, since=since, limit=15)
            if not rows:
                return [replies.text("No failed runs in the last 7 days.")]
            head = f"Failed runs in the last 7 days ({len(rows)}):"
            return [replies.text(head + "\n" + history_table(rows, tz))]
        if m := _WHY.match(said):
            return [await self._why(m["what"], workspace_id, tz)]
        if m := _RUNS_OF.match(said):
            return [await self._runs_of(m["what"], workspace_id, tz)]
        if m := _STATS.match(said):
            return [await self._runs_of(m["what"], workspace_id, tz)]
        if m := _SEARCH.match(said):
            needle = m["needle"].strip("'\"`")
            rows = await self._history.runs(workspace_id, text=needle, limit=15)
            if not rows:
                return [replies.text(f"No run output or error mentions '{needle}'.")]
            head = f"Runs whose output or error mentions '{needle}' ({len(rows)}):"
            return [replies.text(head + "\n" + history_table(rows, tz))]
        return None

    async def press(self, run_id: int, *, workspace_id: int, tz: str) -> list[Reply]:
        """The "Show log" button: the run's captured output (the file's tail when cut)."""
        row = await self._history.get(run_id, workspace_id=workspace_id)
        return [replies.text(run_detail(row, tz, log_lines=60), task_id=row.run.task_id)]

    async def _task_id(self, what: str, workspace_id: int) -> int:
        what = what.strip()
        number = number_of(what)
        if number is not None:
            await self._tasks.get(number, workspace_id=workspace_id)
            return number
        return (await find_by_words(self._tasks, what, workspace_id=workspace_id)).id

    async def _why(self, what: str, workspace_id: int, tz: str) -> Reply:
        task_id = await self._task_id(what, workspace_id)
        rows = await self._history.runs(workspace_id, task_id=task_id, statuses=FAILED, limit=1)
        if not rows:
            return replies.text(f"Task #{task_id} has no failed runs.", task_id=task_id)
        failed = rows[0].run
        text = run_detail(rows[0], tz, log_lines=_TAIL_LINES)
        done = RunStatus.COMPLETED.value
        later = await self._history.runs(workspace_id, task_id=task_id, statuses=(done,), limit=1)
        if later and later[0].run.id is not None and failed.id is not None:
            ok = later[0].run
            if ok.id is not None and ok.id > failed.id:
                at = ok.finished_at or ok.started_at or ok.scheduled_for
                text += f"\nIt has worked since: run {ok.id} completed {when(at, tz)}."
        return replies.text(text, task_id=task_id)

    async def _runs_of(self, what: str, workspace_id: int, tz: str) -> Reply:
        task_id = await self._task_id(what, workspace_id)
        rows = await self._history.runs(workspace_id, task_id=task_id, limit=200)
        if not rows:
            return replies.text(f"Task #{task_id} has not run yet.", task_id=task_id)
        stats = RunStats.of(r.run for r in rows)
        head = f"Last runs of #{task_id} '{rows[0].task_title}' — {stats.describe()}:"
        return replies.text(head + "\n" + history_table(rows[:10], tz), task_id=task_id)


def history_table(rows: Sequence[RunRow], tz: str) -> str:
    """The seed's history table: run, task, date, time, status, duration, notes."""
    zone = ZoneInfo(tz)
    lines = []
    for row in rows:
        run = row.run
        at = run.started_at or run.scheduled_for
        local = at.astimezone(zone)
        lines.append(
            f"run {run.id} · #{run.task_id} {row.task_title[:40]} · {local:%Y-%m-%d} "
            f"{local:%H:%M} · {run.status} · {duration(run)} · {notes(run)}"
        )
    return "\n".join(lines)


def duration(run: Run) -> str:
    if run.duration_ms is None:
        return "–"
    ms = run.duration_ms
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def notes(run: Run) -> str:
    """One short line: the error's first line, else the exit or HTTP status, else the output."""
    if run.error:
        return run.error.splitlines()[0][:120]
    if run.exit_code is not None:
        return f"exit {run.exit_code}"
    if run.http_status is not None:
        return f"HTTP {run.http_status}"
    return (run.output or "").splitlines()[0][:120] if run.output else ""


def run_detail(row: RunRow, tz: str, *, log_lines: int) -> str:
    """A run in full: when, status, duration, statuses, error, the tail of its output."""
    run = row.run
    at: datetime = run.started_at or run.scheduled_for
    local = at.astimezone(ZoneInfo(tz))
    lines = [
        f"Run {run.id} of #{run.task_id} '{row.task_title}' (attempt {run.attempt}), "
        f"{local:%Y-%m-%d %H:%M %Z}: {run.status}, {duration(run)}"
    ]
    if run.exit_code is not None:
        lines.append(f"Exit status: {run.exit_code}")
    if run.http_status is not None:
        lines.append(f"HTTP status: {run.http_status}")
    if run.error:
        lines.append(f"Error: {run.error}")
    elif run.output:
        lines.append(f"Result: {run.output}")
    if run.log_excerpt:
        tail = run.log_excerpt.rstrip("\n").splitlines()[-log_lines:]
        lines.append("Output (last lines):\n" + "\n".join(tail))
    if run.log_path:
        lines.append(f"Full log: {run.log_path}  (kairos runs logs {run.id})")
    return "\n".join(lines)


def result_buttons(run_id: int, task_id: int) -> tuple[Button, ...]:
    return (
        Button("Show log", "run.log", str(run_id)),
        Button("Run again", "task.run", str(task_id)),
    )
