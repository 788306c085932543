"""Per-task run statistics (pure): success rate, average and p95 duration, failure count."""

from __future__ import annotations

from core.enums import RunStatus
from core.insight.run_stats import RunStats
from core.models import Run


def _run(status: RunStatus, ms: int | None) -> Run:
    return Run(task_id=1, status=status, duration_ms=ms)  # type: ignore[call-arg]


def test_rates_average_and_nearest_rank_p95() -> None:
    runs = [_run(RunStatus.COMPLETED, ms) for ms in range(100, 2000, 100)]  # 19 runs
    runs += [_run(RunStatus.FAILED, 5000), _run(RunStatus.RETRYING, 50)]
    runs += [_run(RunStatus.PENDING, None), _run(RunStatus.SKIPPED, None)]  # not ended
    stats = RunStats.of(runs)
    assert (stats.attempts, stats.completed, stats.failed) == (21, 19, 2)
    assert stats.success_rate == 19 / 21
    durations = sorted([*range(100, 2000, 100), 5000, 50])
    assert stats.average_ms == sum(durations) / 21
    assert stats.p95_ms == 1900.0  # rank ceil(0.95 × 21) = 20 of 21
    assert stats.describe() == "90% succeeded (19/21), 2 failed, avg 1.15 s, p95 1.90 s"


def test_no_finished_runs() -> None:
    stats = RunStats.of([_run(RunStatus.RUNNING, None)])
    assert stats.success_rate is None and stats.p95_ms is None
    assert stats.describe() == "no finished runs yet"
