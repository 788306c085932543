"""Reports, charts, statistics and estimates for a workspace (history in, figures out).

The figures come from the pure functions of ``core.insight``; this service
only reads the history they need and picks the period.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.insight.charts import Chart, charts, report_png
from core.insight.estimates import Estimate, RunDistribution, TaskEstimator, run_distribution
from core.insight.facts import RunFact, TaskFact
from core.insight.periods import Period, Span, last_complete
from core.insight.report import Narrator, Report, build_report, render_text
from core.ports import Clock
from core.store.insight import InsightStore

#: How far back estimates look for similar work.
ESTIMATE_HISTORY = timedelta(days=365)
#: Tasks due within this long are checked for risk.
RISK_HORIZON = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class History:
    """What a report period needs: tasks and runs from the previous period on."""

    tasks: list[TaskFact]
    runs: list[RunFact]


@dataclass(frozen=True, slots=True)
class AtRisk:
    task: TaskFact
    estimate: Estimate


class InsightService:
    """Reports and estimates over one workspace's history."""

    def __init__(
        self, *, store: InsightStore, clock: Clock, narrator: Narrator | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._narrator = narrator

    def period(self, span: Span, timezone: str) -> Period:
        return last_complete(span, self._clock.now(), timezone)

    async def history(self, workspace_id: int, period: Period) -> History:
        since = period.previous().start
        return History(
            tasks=await self._store.task_facts(workspace_id, since=since),
            runs=await self._store.run_facts(workspace_id, since=since),
        )

    async def report(
        self, workspace_id: int, period: Period, *, channel: str | None = None
    ) -> tuple[Report, str]:
        """The report and its text (with a narrative on top when a narrator is set)."""
        found = await self.history(workspace_id, period)
        report = build_report(found.tasks, found.runs, period, channel=channel)
        text = render_text(report)
        if self._narrator is not None:
            story = await self._narrator.narrate(report, text, workspace_id=workspace_id)
            if story:
                report = report.with_narrative(story)
                text = render_text(report)
        return report, text

    async def charts(
        self, workspace_id: int, period: Period, *, channel: str | None = None
    ) -> list[Chart]:
        tasks, runs = await self._scoped(workspace_id, period, channel)
        return await asyncio.to_thread(charts, tasks, runs, period)

    async def page_png(
        self, workspace_id: int, period: Period, *, channel: str | None = None
    ) -> bytes:
        tasks, runs = await self._scoped(workspace_id, period, channel)
        return await asyncio.to_thread(report_png, tasks, runs, period)

    async def _scoped(
        self, workspace_id: int, period: Period, channel: str | None
    ) -> tuple[list[TaskFact], list[RunFact]]:
        found = await self.history(workspace_id, period)
        if channel is None:
            return found.tasks, found.runs
        tasks = [t for t in found.tasks if t.channel == channel]
        ids = {t.id for t in tasks}
        return tasks, [r for r in found.runs if r.task_id in ids]

    async def estimator(self, workspace_id: int) -> TaskEstimator:
        since = self._clock.now() - ESTIMATE_HISTORY
        return TaskEstimator(await self._store.task_facts(workspace_id, since=since))

    async def estimate(
        self,
        workspace_id: int,
        title: str,
        *,
        assignee: str | None = None,
        channel: str | None = None,
        task_id: int | None = None,
        created_at: datetime | None = None,
    ) -> Estimate | None:
        """How long work titled ``title`` takes; an open task's own elapsed time counts."""
        estimator = await self.estimator(workspace_id)
        elapsed = 0.0
        if created_at is not None:
            elapsed = max(0.0, (self._clock.now() - created_at).total_seconds() / 3600)
        return estimator.estimate(
            title, assignee=assignee, channel=channel, elapsed=elapsed, exclude=task_id
        )

    async def job_durations(self, workspace_id: int, task_id: int) -> RunDistribution | None:
        since = self._clock.now() - ESTIMATE_HISTORY
        return run_distribution(
            await self._store.run_facts(workspace_id, since=since, task_id=task_id)
        )

    async def at_risk(self, workspace_id: int, *, channel: str | None = None) -> list[AtRisk]:
        """Open tasks due soon whose estimate says they will likely be late."""
        now = self._clock.now()
        tasks = await self._store.task_facts(workspace_id, since=now - ESTIMATE_HISTORY)
        estimator = TaskEstimator(tasks)
        out = []
        for task in tasks:
            if task.status != "open" or task.kind == "job":
                continue
            if channel is not None and task.channel != channel:
                continue
            found = estimator.at_risk(task, now, horizon=RISK_HORIZON)
            if found is not None:
                out.append(AtRisk(task, found))
        return out
