"""Team reports: done vs planned, on-time rate, overdue, per person and channel, jobs.

``build_report`` is a pure function of task and run facts and a period; the
figures of the previous period come along so that every headline number can
say how it changed. ``render_text`` is the deterministic text; Block Kit is
rendered at the Slack edge from the same ``Report``. A narrative written by an
LLM may be put on top (``Report.narrative``), never instead of the figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from core.insight.facts import RunFact, TaskFact
from core.insight.periods import Period
from core.messages import Section

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Tally:
    """Task figures of one group (the team, a person, a channel) over a period."""

    planned: int = 0  # due in the period
    planned_done: int = 0  # of those, done by the period's end
    done: int = 0  # completed in the period (due or not)
    on_time: int = 0  # completed in the period by their due time
    with_due: int = 0  # completed in the period that had a due time
    overdue: int = 0  # open at the period's end, past due

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.with_due if self.with_due else None

    @property
    def plan_rate(self) -> float | None:
        return self.planned_done / self.planned if self.planned else None


@dataclass(frozen=True, slots=True)
class JobFigures:
    """Run figures of one job over a period."""

    task_id: int
    title: str
    attempts: int
    failures: int
    median_ms: float | None
    p95_ms: float | None

    @property
    def success_rate(self) -> float:
        return (self.attempts - self.failures) / self.attempts if self.attempts else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report says, for one period and the one before."""

    period: Period
    scope: str  # "the team" or "#eng"
    team: Tally
    previous: Tally
    people: dict[str, Tally]
    channels: dict[str, Tally]
    jobs: list[JobFigures]
    run_success: float | None
    previous_run_success: float | None
    narrative: str | None = field(default=None)

    @property
    def slowest(self) -> list[JobFigures]:
        timed = [j for j in self.jobs if j.median_ms is not None]
        return sorted(timed, key=lambda j: (-(j.median_ms or 0), j.task_id))[:_SHOWN]

    @property
    def most_failing(self) -> list[JobFigures]:
        failing = [j for j in self.jobs if j.failures]
        return sorted(failing, key=lambda j: (-j.failures, j.success_rate, j.task_id))[:_SHOWN]

    def with_narrative(self, text: str) -> Report:
        """The same figures with a written summary on top (e.g. from Claude)."""
        return replace(self, narrative=text)


class Narrator(Protocol):
    """Writes a short narrative over a report's figures (the LLM engineer's hook)."""

    async def narrate(self, report: Report, text: str, *, workspace_id: int) -> str | None:
        """A few sentences on ``report`` (rendered as ``text``), or ``None``; charged to
        ``workspace_id``."""


def tally(tasks: Iterable[TaskFact], period: Period) -> Tally:
    planned = planned_done = done = on_time = with_due = overdue = 0
    for t in tasks:
        if t.status == "deleted" or t.kind not in ("task", "reminder"):
            continue
        if period.contains(t.due):
            planned += 1
            planned_done += t.done_by(period.end)
        if period.contains(t.completed_at):
            done += 1
            if t.due is not None:
                with_due += 1
                on_time += bool(t.completed_at is not None and t.completed_at <= t.due)
        overdue += t.overdue_at(period.end)
    return Tally(planned, planned_done, done, on_time, with_due, overdue)


def _grouped(
    tasks: Sequence[TaskFact], period: Period, key: Callable[[TaskFact], Iterable[str]]
) -> dict[str, Tally]:
    groups: dict[str, list[TaskFact]] = defaultdict(list)
    for t in tasks:
        for name in key(t):
            groups[name].append(t)
    figures = {name: tally(members, period) for name, members in groups.items()}
    return {name: t for name, t in sorted(figures.items()) if t.planned or t.done or t.overdue}


def job_figures(runs: Iterable[RunFact]) -> list[JobFigures]:
    """Per job: ended attempts, failures (a retried attempt counts), median and p95."""
    by_task: dict[int, list[RunFact]] = defaultdict(list)
    for run in runs:
        if run.ended:
            by_task[run.task_id].append(run)
    out = []
    for task_id, ended in sorted(by_task.items()):
        durations = sorted(r.duration_ms for r in ended if r.duration_ms is not None)
        out.append(
            JobFigures(
                task_id=task_id,
                title=ended[0].title,
                attempts=len(ended),
                failures=sum(1 for r in ended if not r.ok),
                median_ms=quantile(durations, 0.5),
                p95_ms=quantile(durations, 0.95),
            )
        )
    return out


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated quantile of sorted ``values``."""
    if not values:
        return None
    pos = q * (len(values) - 1)
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return float(values[low] + (values[high] - values[low]) * (pos - low))


def _success(runs: Iterable[RunFact]) -> float | None:
    ended = [r for r in runs if r.ended]
    return sum(r.ok for r in ended) / len(ended) if ended else None


def build_report(
    tasks: Sequence[TaskFact],
    runs: Sequence[RunFact],
    period: Period,
    *,
    channel: str | None = None,
) -> Report:
    """The report of ``period`` (tasks of ``channel`` only, when given)."""
    if channel is not None:
        tasks = [t for t in tasks if t.channel == channel]
        ids = {t.id for t in tasks}
        runs = [r for r in runs if r.task_id in ids]
    before = period.previous()
    now_runs = [r for r in runs if period.contains(r.scheduled_for)]
    old_runs = [r for r in runs if before.contains(r.scheduled_for)]
    return Report(
        period=period,
        scope=f"#{channel}" if channel else "the team",
        team=tally(tasks, period),
        previous=tally(tasks, before),
        people=_grouped(tasks, period, lambda t: t.people),
        channels=_grouped(tasks, period, lambda t: (t.place,)),
        jobs=job_figures(now_runs),
        run_success=_success(now_runs),
        previous_run_success=_success(old_runs),
    )


# --- text ---------------------------------------------------------------------------


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def change(now: float | None, before: float | None, *, points: bool = False) -> str:
    """ "(+3)", "(-12 pts)", "(=)" or "" when there is nothing to compare with."""
    if now is None or before is None:
        return ""
    diff = (now - before) * (100 if points else 1)
    if round(diff) == 0:
        return " (=)"
    unit = " pts" if points else ""
    return f" ({round(diff):+d}{unit})"


def duration(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.1f} min"
    return f"{ms / 3_600_000:.1f} h"


def headline(report: Report) -> list[str]:
    """The team's figures with their change against the previous period."""
    t, p = report.team, report.previous
    lines = [
        f"Done: {t.done}{change(t.done, p.done)} · planned (due): {t.planned}"
        f"{change(t.planned, p.planned)}, of which done {t.planned_done} ({percent(t.plan_rate)})",
        f"On time: {percent(t.on_time_rate)}"
        f"{change(t.on_time_rate, p.on_time_rate, points=True)}"
        f" ({t.on_time}/{t.with_due} with a due time)",
        f"Overdue at the end: {t.overdue}{change(t.overdue, p.overdue)}",
    ]
    if report.jobs:
        runs = sum(j.attempts for j in report.jobs)
        lines.append(
            f"Job runs: {runs}, {percent(report.run_success)} succeeded"
            f"{change(report.run_success, report.previous_run_success, points=True)}"
        )
    return lines


def _group_line(name: str, t: Tally) -> str:
    return (
        f"  {name}: {t.done} done, {t.planned_done}/{t.planned} planned, "
        f"on time {percent(t.on_time_rate)}, {t.overdue} overdue"
    )


def render_text(report: Report) -> str:
    """The whole report as plain text (deterministic: same facts, same text)."""
    lines = [f"Report for {report.scope} — {report.period.label}"]
    if report.narrative:
        lines += [report.narrative.strip(), ""]
    lines += headline(report)
    if report.people:
        lines.append("Per person:")
        lines += [_group_line(f"@{n}" if n[0] != "(" else n, t) for n, t in report.people.items()]
    if report.channels and report.scope == "the team":
        lines.append("Per channel:")
        lines += [_group_line(n, t) for n, t in report.channels.items()]
    if report.jobs:
        lines.append("Jobs:")
        lines += [
            f"  #{j.task_id} {j.title}: {j.attempts} runs, {percent(j.success_rate)} ok, "
            f"median {duration(j.median_ms)}, p95 {duration(j.p95_ms)}"
            for j in report.jobs[:10]
        ]
        if report.slowest:
            lines.append(
                "Slowest: "
                + ", ".join(
                    f"#{j.task_id} {j.title} ({duration(j.median_ms)})" for j in report.slowest
                )
            )
        if report.most_failing:
            lines.append(
                "Most failing: "
                + ", ".join(
                    f"#{j.task_id} {j.title} ({j.failures} failed)" for j in report.most_failing
                )
            )
    if report.team == Tally() and not report.jobs:
        lines.append("Nothing was due, done or run in this period.")
    return "\n".join(lines)


def _rows(groups: dict[str, Tally], *, people: bool) -> tuple[str, ...]:
    return tuple(
        f"{'@' + name if people and name[:1] != '(' else name} — {t.done} done, "
        f"{t.planned_done}/{t.planned} planned, on time {percent(t.on_time_rate)}, "
        f"{t.overdue} overdue"
        for name, t in list(groups.items())[:10]
    )


def report_sections(report: Report) -> tuple[Section, ...]:
    """The report as titled sections (Block Kit in Slack; people as neutral mentions)."""
    parts = [Section(report.period.label, tuple(headline(report)))]
    if report.narrative:
        parts.insert(0, Section("In short", (report.narrative.strip(),)))
    if report.people:
        parts.append(Section("Per person", _rows(report.people, people=True)))
    if report.channels and report.scope == "the team":
        parts.append(Section("Per channel", _rows(report.channels, people=False)))
    if report.jobs:
        jobs = tuple(
            f"#{j.task_id} {j.title}: {j.attempts} runs, {percent(j.success_rate)} ok, "
            f"median {duration(j.median_ms)}"
            for j in report.jobs[:10]
        )
        parts.append(Section("Jobs", jobs))
    return tuple(parts)
