"""The estimate backtest: ``kairos bench estimates``.

On a generated history (``bench.task_history``), each of the last ``test``
tasks is estimated from the tasks that had finished before it was created —
what Kairos would have known then — and compared with how long it really took.
The naive peer is the global median of the same history. Errors are absolute,
in hours; the figures are the mean absolute error of each, their ratio, and how
often the truth fell in the estimate's range.
"""

from __future__ import annotations

import bisect
import statistics
import time
from typing import Any

from bench.task_history import generate_tasks
from core.insight.estimates import TaskEstimator


def run_estimates_bench(*, tasks: int = 5000, test: int = 1000, seed: int = 7) -> dict[str, Any]:
    history = generate_tasks(tasks, seed=seed)
    done = sorted(history, key=lambda t: t.completed_at or t.created_at)
    finished_at = [t.completed_at or t.created_at for t in done]
    errors: list[float] = []
    baseline_errors: list[float] = []
    covered = 0
    started = time.perf_counter()
    for task in history[-test:]:
        known = done[: bisect.bisect_right(finished_at, task.created_at)]
        truth = task.duration_hours or 0.0
        estimate = TaskEstimator(known).estimate(
            task.title, assignee=task.assignees[0], channel=task.channel
        )
        assert estimate is not None
        median = statistics.median(t.duration_hours or 0.0 for t in known)
        errors.append(abs(estimate.hours - truth))
        baseline_errors.append(abs(median - truth))
        covered += estimate.low <= truth <= estimate.high
    elapsed = time.perf_counter() - started
    mae = statistics.fmean(errors)
    baseline = statistics.fmean(baseline_errors)
    return {
        "tasks": tasks,
        "tested": test,
        "mae": round(mae, 3),
        "baseline_mae": round(baseline, 3),
        "ratio": round(mae / baseline, 3),
        "median_abs_error": round(statistics.median(errors), 3),
        "baseline_median_abs_error": round(statistics.median(baseline_errors), 3),
        "range_coverage": round(covered / test, 3),
        "ms_per_estimate": round(1000 * elapsed / test, 2),
        "seed": seed,
    }
