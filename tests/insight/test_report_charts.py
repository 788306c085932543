"""Report figures on a generated history, the charts as real PNGs, the estimate backtest."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from matplotlib.image import imread

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.estimates_bench import run_estimates_bench
from bench.task_history import generate_runs, generate_tasks
from core.insight.charts import charts, report_png
from core.insight.facts import TaskFact
from core.insight.periods import Span, last_complete
from core.insight.report import build_report, render_text

NOW = datetime(2026, 4, 15, 12, tzinfo=UTC)
PERIOD = last_complete(Span.WEEK, NOW, "UTC")  # Mon 6 – Sun 12 April


def _task(n: int, *, due: int, done: int | None, who: str = "ana", chan: str = "eng") -> TaskFact:
    start = PERIOD.start
    return TaskFact(
        id=n, title=f"t{n}", kind="task", status="done" if done is not None else "open",
        created_at=start - timedelta(days=1), due=start + timedelta(hours=due),
        completed_at=None if done is None else start + timedelta(hours=done),
        channel=chan, assignees=(who,),
    )  # fmt: skip


def test_report_figures_by_hand() -> None:
    tasks = [
        _task(1, due=10, done=5),  # on time
        _task(2, due=20, done=30),  # late
        _task(3, due=40, done=None, who="bob"),  # overdue at the end
        _task(4, due=-30, done=2, who="bob", chan="ops"),  # due last week, done this week, late
        _task(5, due=-20, done=-25),  # last week, on time
    ]
    report = build_report(tasks, [], PERIOD)
    assert (report.team.planned, report.team.planned_done, report.team.done) == (3, 2, 3)
    assert report.team.on_time_rate == 1 / 3
    assert report.team.overdue == 1
    assert report.previous.done == 1 and report.previous.on_time_rate == 1.0
    assert report.people["bob"].overdue == 1 and report.people["ana"].done == 2
    assert set(report.channels) == {"#eng", "#ops"}
    text = render_text(report)
    assert "Done: 3 (+2)" in text and "On time: 33% (-67 pts)" in text
    assert build_report(tasks, [], PERIOD, channel="ops").team.done == 1


def test_report_on_generated_history_matches_a_direct_count() -> None:
    tasks = generate_tasks(1500)
    jobs, runs = generate_runs()
    period = last_complete(Span.MONTH, datetime(2026, 4, 10, tzinfo=UTC), "Europe/Berlin")
    report = build_report(tasks + jobs, runs, period)
    done = [t for t in tasks if t.completed_at and period.start <= t.completed_at < period.end]
    assert report.team.done == len(done) > 50
    on_time = sum(1 for t in done if t.due and t.completed_at and t.completed_at <= t.due)
    assert report.team.on_time == on_time
    month_runs = [r for r in runs if period.contains(r.scheduled_for)]
    failed = sum(1 for r in month_runs if r.status == "failed")
    assert sum(j.failures for j in report.jobs) == failed
    assert report.slowest[0].title == "ping api"  # the generator's slowest job
    assert report.most_failing[0].failures == max(j.failures for j in report.jobs)


def _assert_real_png(data: bytes, *, min_size: tuple[int, int]) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(io.BytesIO(data), format="png")
    height, width = pixels.shape[:2]
    assert width >= min_size[0] and height >= min_size[1]
    assert float(pixels[..., :3].std()) > 0.05  # not blank
    assert float((pixels[..., :3] < 0.9).mean()) > 0.01  # something is drawn


def test_charts_are_real_pngs(tmp_path: Path) -> None:
    tasks = generate_tasks(800)
    jobs, runs = generate_runs()
    made = charts(tasks + jobs, runs, PERIOD)
    assert [c.filename for c in made] == [
        "kairos-completion.png", "kairos-run-durations.png",
        "kairos-failure-rate.png", "kairos-workload.png",
    ]  # fmt: skip
    for chart in made:
        _assert_real_png(chart.png, min_size=(700, 400))
    page = tmp_path / "report.png"
    page.write_bytes(report_png(tasks + jobs, runs, PERIOD))
    _assert_real_png(page.read_bytes(), min_size=(1300, 850))


def test_estimate_backtest_beats_the_median() -> None:
    figures = run_estimates_bench(tasks=2000, test=150)
    assert figures["mae"] <= 0.7 * figures["baseline_mae"], figures
