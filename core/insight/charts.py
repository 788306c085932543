"""Charts as PNG bytes (matplotlib, Agg backend, no pyplot global state).

Completion over time, run durations, failure rate per job and workload per
person, each a ``Chart`` (a file name and its PNG bytes) that a chat edge can
upload as is (Slack ``files_upload_v2``, a Discord attachment) or write to a
file. Rendering is CPU-bound: call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.insight.facts import RunFact, TaskFact
from core.insight.periods import Period
from core.insight.report import job_figures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_DPI = 100


@dataclass(frozen=True, slots=True)
class Chart:
    """One rendered chart, ready to upload or attach."""

    filename: str
    title: str
    png: bytes


def _figure(width: float, height: float) -> Figure:
    # matplotlib (and numpy) take about a second to import: only when a chart is drawn.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in this period", ha="center", va="center", color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_completion(ax: Axes, tasks: Sequence[TaskFact], period: Period) -> None:
    """Tasks done and due per day."""
    days = period.days()
    tz = ZoneInfo(period.timezone)
    done = Counter(
        t.completed_at.astimezone(tz).date()
        for t in tasks
        if t.completed_at and period.contains(t.completed_at)
    )
    due = Counter(t.due.astimezone(tz).date() for t in tasks if t.due and period.contains(t.due))
    labels = [d.astimezone(tz).date() for d in days]
    xs = list(range(len(labels)))
    ax.bar([x - 0.2 for x in xs], [due[d] for d in labels], width=0.4, label="due", color="#c7d2e0")
    ax.bar(
        [x + 0.2 for x in xs], [done[d] for d in labels], width=0.4, label="done", color="#2e7d32"
    )
    step = max(1, len(labels) // 8)
    ax.set_xticks(xs[::step], [f"{d:%d %b}" for d in labels[::step]])
    ax.set_title("Completion over time")
    ax.legend(loc="upper left")


def draw_durations(ax: Axes, runs: Sequence[RunFact]) -> None:
    """The spread of run durations (seconds) per job."""
    by_job: dict[str, list[float]] = {}
    for run in runs:
        if run.ended and run.duration_ms is not None:
            by_job.setdefault(f"#{run.task_id} {run.title}"[:24], []).append(run.duration_ms / 1000)
    if not by_job:
        _empty(ax, "runs")
        return
    names = sorted(by_job)
    ax.boxplot([by_job[n] for n in names], orientation="horizontal")
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.set_xlabel("seconds")
    ax.set_title("Run durations")


def draw_failures(ax: Axes, runs: Sequence[RunFact]) -> None:
    """Failure rate per job."""
    jobs = job_figures(runs)
    if not jobs:
        _empty(ax, "runs")
        return
    names = [f"#{j.task_id} {j.title}"[:24] for j in jobs]
    rates = [100 * (1 - j.success_rate) for j in jobs]
    ax.barh(names, rates, color=["#c62828" if r else "#9e9e9e" for r in rates])
    ax.set_xlim(0, max(10.0, max(rates) * 1.15))
    ax.set_xlabel("% of runs failed")
    ax.set_title("Failure rate per job")


def draw_workload(ax: Axes, tasks: Sequence[TaskFact], period: Period) -> None:
    """Per person: done in the period and still open at its end."""
    done: Counter[str] = Counter()
    open_: Counter[str] = Counter()
    for t in tasks:
        if t.kind == "job" or t.status == "deleted":
            continue
        for person in t.people:
            if period.contains(t.completed_at):
                done[person] += 1
            elif t.created_at < period.end and not t.done_by(period.end):
                open_[person] += 1
    names = sorted(set(done) | set(open_))
    if not names:
        _empty(ax, "tasks")
        return
    ax.barh(names, [done[n] for n in names], label="done", color="#2e7d32")
    ax.barh(names, [open_[n] for n in names], left=[done[n] for n in names], label="open",
            color="#f9a825")  # fmt: skip
    ax.set_title("Workload per person")
    ax.legend(loc="lower right")


def charts(tasks: Sequence[TaskFact], runs: Sequence[RunFact], period: Period) -> list[Chart]:
    """The four charts of a report, one PNG each."""
    runs = [r for r in runs if period.contains(r.scheduled_for)]
    drawings: tuple[tuple[str, str, Callable[[Axes], None]], ...] = (
        ("completion", "Completion over time", lambda ax: draw_completion(ax, tasks, period)),
        ("run-durations", "Run durations", lambda ax: draw_durations(ax, runs)),
        ("failure-rate", "Failure rate per job", lambda ax: draw_failures(ax, runs)),
        ("workload", "Workload per person", lambda ax: draw_workload(ax, tasks, period)),
    )
    out = []
    for name, title, draw in drawings:
        figure = _figure(8, 4.5)
        draw(figure.add_subplot())
        out.append(Chart(f"kairos-{name}.png", title, _png(figure)))
    return out


def report_png(tasks: Sequence[TaskFact], runs: Sequence[RunFact], period: Period) -> bytes:
    """All four charts on one page (``kairos report --png FILE``)."""
    runs = [r for r in runs if period.contains(r.scheduled_for)]
    figure = _figure(14, 9)
    draw_completion(figure.add_subplot(2, 2, 1), tasks, period)
    draw_workload(figure.add_subplot(2, 2, 2), tasks, period)
    draw_durations(figure.add_subplot(2, 2, 3), runs)
    draw_failures(figure.add_subplot(2, 2, 4), runs)
    figure.suptitle(f"Kairos — {period.label}")
    return _png(figure)
