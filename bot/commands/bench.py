"""``kairos bench scheduler``: measure the scheduler core (and APScheduler 3 next to it).

The work lives in ``core.scheduler.bench``; this module only parses options and
prints. Heavy imports happen inside the command.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys

import typer

bench_app = typer.Typer(
    help="Benchmarks that print figures (never pass/fail).", no_args_is_help=True
)

_LABELS = {
    "tasks": ("scheduled tasks", ""),
    "lookahead_s": ("engine lookahead", "s"),
    "add_rate": ("add rate (TaskService.create)", "tasks/s"),
    "heap_bytes_per_task": ("engine memory per task", "bytes"),
    "startup_100k_s": ("startup (rebuild from DB)", "s"),
    "burst_1000_p99_ms": ("burst 1,000: p99 lateness", "ms"),
    "burst_1000_max_ms": ("burst 1,000: max lateness", "ms"),
    "burst_10000_p99_ms": ("burst 10,000: p99 lateness", "ms"),
    "burst_10000_max_ms": ("burst 10,000: max lateness", "ms"),
    "runs_per_sec": ("durable no-op runs", "runs/s"),
    "apscheduler_burst_1000_p99_ms": ("APScheduler burst 1,000: p99", "ms"),
    "apscheduler_burst_1000_max_ms": ("APScheduler burst 1,000: max", "ms"),
    "apscheduler_burst_10000_p99_ms": ("APScheduler burst 10,000: p99", "ms"),
    "apscheduler_burst_10000_max_ms": ("APScheduler burst 10,000: max", "ms"),
}


@bench_app.command("scheduler")
def scheduler(
    tasks: int = typer.Option(
        100_000, "--tasks", min=1000, help="Tasks kept scheduled, all created through TaskService."
    ),
    lookahead: float = typer.Option(
        2.0,
        "--lookahead",
        min=0.0,
        help="Seconds ahead the engine writes run rows (0: write at the due instant).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    apscheduler: bool = typer.Option(
        True, "--apscheduler/--no-apscheduler", help="Also measure APScheduler 3 in the same run."
    ),
) -> None:
    """Engine add rate, memory, startup, burst lateness and durable run rate on SQLite."""
    from core.scheduler.bench import run_scheduler_bench

    def progress(message: str) -> None:
        if not as_json:
            typer.echo(message, err=True)

    figures = asyncio.run(
        run_scheduler_bench(
            tasks=tasks, lookahead=lookahead, apscheduler=apscheduler, progress=progress
        )
    )
    figures["python"] = platform.python_version()  # type: ignore[assignment]
    if as_json:
        json.dump(figures, sys.stdout)
        sys.stdout.write("\n")
        return
    for key, value in figures.items():
        label, unit = _LABELS.get(key, (key, ""))
        typer.echo(
            f"{label:<36} {value:>12,} {unit}"
            if isinstance(value, int | float)
            else f"{label:<36} {value:>12}"
        )


@bench_app.command(
    "replicas",
    # Options are bench/replicas.py's own (argparse): passed through as given,
    # ``--help`` included, so they are defined once.
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def replicas(ctx: typer.Context) -> None:
    """Chaos benchmark: replicas on one PostgreSQL, kill -9, a database outage (--help)."""
    import importlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "replicas.py").is_file():
        raise typer.BadParameter(
            "bench/replicas.py is not here: the benchmarks ship with the source, not the "
            "package. Run it from a checkout of the Kairos repository."
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    bench = importlib.import_module("bench.replicas")
    bench.main(list(ctx.args), prog="kairos bench replicas")


def register(app: typer.Typer) -> None:
    """Add ``kairos bench`` to the CLI."""
    app.add_typer(bench_app, name="bench")
