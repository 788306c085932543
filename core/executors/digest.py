"""Digest jobs: a deterministic summary of a workspace (or one channel).

The digest is built as a title and named sections of lines; the run's output is
their plain text (what the console, Discord and the history show), and the
run's ``result`` keeps the structure (``{"title", "sections": [{"title",
"lines"}]}``) so that Slack can post it as Block Kit.

With ``report`` set it posts the team report of the last complete week or month
instead (``core.insight``). Tasks at risk (due soon, estimate longer than the
time left) get their own section. Guarantee: read-only, safe to repeat. "Done
since the last digest" counts from this digest task's previous completed run (a
day back the first time).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.actions import DigestAction, action_as
from core.enums import RunStatus, TaskStatus
from core.insight.periods import Span
from core.jobs import Job
from core.models import TaskPublic
from core.ports import Clock, ExecutionResult
from core.services.insight import InsightService
from core.store import SqlStore, TaskQuery
from core.store.history import RunHistory
from core.store.insight import InsightStore

_SHOWN = 8


class DigestExecutor:
    """Runs ``DigestAction`` jobs; the text is the run's output and the chat message."""

    action_model = DigestAction

    def __init__(self, *, store: SqlStore, history: RunHistory, clock: Clock) -> None:
        self._store = store
        self._history = history
        self._clock = clock

    async def execute(self, job: Job) -> ExecutionResult:
        action = action_as(job.action, DigestAction)
        span = action.report or _report_span(job.task.title)
        if span is not None:
            report = await self._report(job, Span(span), channel=action.channel)
            await job.log.write("stdout", report + "\n")
            return ExecutionResult(output=report)
        title, sections, names = await self.compose(job, channel=action.channel)
        text = digest_text(title, sections)
        await job.log.write("stdout", text + "\n")
        structured = {
            "title": title,
            "sections": [{"title": name, "lines": lines} for name, lines in sections],
            # What people wrote in its lines (task titles): never translated.
            "verbatim": names,
        }
        return ExecutionResult(output=text, result={"digest": structured})

    async def text(self, job: Job, *, channel: str | None) -> str:
        """The digest as plain text (the context of AI jobs)."""
        title, sections, _ = await self.compose(job, channel=channel)
        return digest_text(title, sections)

    async def compose(
        self, job: Job, *, channel: str | None
    ) -> tuple[str, list[tuple[str, list[str]]], list[str]]:
        """The digest's title, its non-empty sections (name, lines), and the task titles
        its lines hold."""
        now = self._clock.now()
        tz = ZoneInfo(job.task.timezone)
        local = now.astimezone(tz)
        end_of_day = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        end_of_week = end_of_day + timedelta(days=6 - local.weekday())
        ws = job.workspace_id
        base = TaskQuery(statuses=frozenset({TaskStatus.OPEN}), channel_ref=channel, limit=1000)
        open_tasks = await self._store.query_tasks(ws, base, now=now)
        overdue = [t for t in open_tasks if t.due is not None and t.due < now]
        today = [t for t in open_tasks if t.due is not None and now <= t.due < end_of_day]
        week = [t for t in open_tasks if t.due is not None and end_of_day <= t.due < end_of_week]
        since = await self._last_digest(job) or now - timedelta(days=1)
        done_query = TaskQuery(
            statuses=frozenset({TaskStatus.DONE}), channel_ref=channel, limit=1000
        )
        done = [
            t
            for t in await self._store.query_tasks(ws, done_query, now=now)
            if t.completed_at is not None and t.completed_at >= since
        ]
        failing = await self._history.runs(
            ws, statuses=(RunStatus.FAILED.value, RunStatus.RETRYING.value), since=since, limit=200
        )
        upcoming = sorted(
            (t for t in open_tasks if t.next_fire_at is not None and t.id != job.task_id),
            key=lambda t: (t.next_fire_at, t.id),
        )
        where = f" for {channel}" if channel else ""
        title = f"Digest{where} — {local:%A %d %B %Y, %H:%M} ({job.task.timezone})"
        sections = [
            section
            for section in (
                _section("Overdue", overdue, tz),
                _section("Due today", today, tz),
                _section("Due this week", week, tz),
                _section(f"Done since {since.astimezone(tz):%d %b %H:%M}", done, tz, done=True),
            )
            if section is not None
        ]
        failed_tasks: dict[int, tuple[str, int]] = {}
        for row in failing:
            name, count = failed_tasks.get(row.run.task_id, (row.task_title, 0))
            failed_tasks[row.run.task_id] = (name, count + 1)
        if failed_tasks:
            sections.append(
                (
                    f"Failing jobs ({len(failed_tasks)})",
                    [
                        f"✗ #{tid} {name} — {count} failed run(s)"
                        for tid, (name, count) in sorted(failed_tasks.items())[:_SHOWN]
                    ],
                )
            )
        risky = await self._insight().at_risk(ws, channel=channel)
        if risky:
            sections.append(
                (
                    f"At risk ({len(risky)})",
                    [
                        f"⚠ #{r.task.id} {r.task.title} — due {_when(r.task.due, tz)}, "
                        f"estimate {r.estimate.describe()}"
                        for r in risky[:_SHOWN]
                    ],
                )
            )
        if upcoming:
            sections.append(
                (
                    "Next up",
                    [
                        f"• #{t.id} {t.title} — {_when(t.next_fire_at, tz)}"
                        for t in upcoming[:_SHOWN]
                    ],
                )
            )
        names = {t.title for t in [*overdue, *today, *week, *done, *upcoming]}
        names |= {r.task.title for r in risky} | {name for name, _ in failed_tasks.values()}
        return title, sections, sorted(names)

    def _insight(self) -> InsightService:
        return InsightService(store=InsightStore(self._store.db), clock=self._clock)

    async def _report(self, job: Job, span: Span, *, channel: str | None) -> str:
        """The team report of the last complete week or month (``DigestAction.report``)."""
        insight = self._insight()
        period = insight.period(span, job.task.timezone)
        _, text = await insight.report(job.workspace_id, period, channel=channel)
        return text

    async def _last_digest(self, job: Job) -> datetime | None:
        rows = await self._history.runs(
            job.workspace_id, task_id=job.task_id, statuses=(RunStatus.COMPLETED.value,), limit=1
        )
        return rows[0].run.finished_at if rows else None


_REPORT_TITLE = re.compile(r"\b(weekly|monthly)\s+(?:team\s+)?report\b", re.IGNORECASE)


def _report_span(title: str) -> str | None:
    """A digest titled "… weekly report …" ("post the weekly report every Monday at 9")
    is that report: the rule parser reads both as a digest job."""
    found = _REPORT_TITLE.search(title)
    return None if found is None else {"weekly": "week", "monthly": "month"}[found[1].lower()]


def digest_text(title: str, sections: list[tuple[str, list[str]]]) -> str:
    """The plain-text digest (every surface without richer formatting)."""
    lines = [title]
    for name, items in sections:
        lines.append(f"{name}:")
        lines += [f"  {item}" for item in items]
    if not sections:
        lines.append(ALL_CLEAR)
    return "\n".join(lines)


ALL_CLEAR = "Nothing due, nothing overdue, nothing failing. All clear."


def _section(
    name: str, tasks: list[TaskPublic], tz: ZoneInfo, *, done: bool = False
) -> tuple[str, list[str]] | None:
    if not tasks:
        return None
    mark = "✓" if done else "•"
    lines = []
    for t in tasks[:_SHOWN]:
        when = t.completed_at if done else t.due
        lines.append(f"{mark} #{t.id} {t.title}" + (f" — {_when(when, tz)}" if when else ""))
    if len(tasks) > _SHOWN:
        lines.append(f"… and {len(tasks) - _SHOWN} more")
    return f"{name} ({len(tasks)})", lines


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else f"{value.astimezone(tz):%a %d %b %H:%M}"
