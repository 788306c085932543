"""``kairos bench scheduler``: measure the scheduler core (and APScheduler 3 next to it).

The work lives in ``bench/scheduler_bench.py`` (benchmarks are not the product:
they run from a source checkout); this module only parses options and prints.
Heavy imports happen inside the command.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import platform
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

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
    "runs_per_sec": ("durable runs (10,000 burst)", "runs/s"),
    "delivery_1000_slow_chat_s": ("1,000 reminders, chat 300 ms: all posted", "s"),
    "delivery_1000_slow_chat_p99_ms": ("1,000 reminders, chat 300 ms: p99 posted", "ms"),
    "shell_overhead_ratio": ("shell run / bare create_subprocess_exec", "x"),
    "http_runs_per_sec": ("HTTP runs, local server, scheduler path", "runs/s"),
}
for _size in (1000, 10000):
    for _q in ("p50", "p99", "max"):
        _LABELS[f"burst_{_size}_job_start_{_q}_ms"] = (f"Kairos burst {_size:,}: {_q} start", "ms")
        for _peer in ("memory", "sqlalchemy"):
            _LABELS[f"apscheduler_{_peer}_burst_{_size}_{_q}_ms"] = (
                f"APScheduler {_peer} burst {_size:,}: {_q}",
                "ms",
            )


def _bench_module(name: str) -> ModuleType:
    """``bench.<name>`` from the source checkout this Kairos runs from."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / f"{name}.py").is_file():
        raise typer.BadParameter(
            f"bench/{name}.py is not here: the benchmarks ship with the source, not the "
            "package. Run `kairos bench` from a checkout of the Kairos repository."
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"bench.{name}")


def _show(figures: dict[str, Any], *, as_json: bool) -> None:
    """Print ``figures``: one JSON object, or one labelled line each."""
    if as_json:
        json.dump(figures, sys.stdout)
        sys.stdout.write("\n")
        return
    for key, value in figures.items():
        label, unit = _LABELS.get(key, (key, ""))
        typer.echo(
            f"{label:<44} {value:>12,} {unit}"
            if isinstance(value, int | float)
            else f"{label:<44} {value:>12}"
        )


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
    only: list[str] = typer.Option(
        [],
        "--only",
        help="Run only these measurements (kairos, apscheduler_memory, "
        "apscheduler_sqlalchemy, delivery, shell, http); repeatable.",
    ),
) -> None:
    """Burst lateness to job start (Kairos and APScheduler 3), startup, run rate, delivery."""
    module = _bench_module("scheduler_bench")
    unknown = sorted(set(only) - set(module.MEASUREMENTS))
    if unknown:
        raise typer.BadParameter(
            f"unknown measurement(s) {', '.join(unknown)}; choose from "
            + ", ".join(module.MEASUREMENTS)
        )

    def progress(message: str) -> None:
        if not as_json:
            typer.echo(message, err=True)

    figures = asyncio.run(
        module.run_scheduler_bench(
            tasks=tasks, lookahead=lookahead, only=only or None, progress=progress
        )
    )
    figures["python"] = platform.python_version()
    _show(figures, as_json=as_json)


@bench_app.command(
    "replicas",
    # Options are bench/replicas.py's own (argparse): passed through as given,
    # ``--help`` included, so they are defined once.
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def replicas(ctx: typer.Context) -> None:
    """Chaos benchmark: replicas on one PostgreSQL, kill -9, a database outage (--help)."""
    _bench_module("replicas").main(list(ctx.args), prog="kairos bench replicas")


@bench_app.command("dag")
def dag(
    chain: int = typer.Option(1000, "--chain", min=2, help="Steps in the chain (hop latency)."),
    fanout: int = typer.Option(10_000, "--fanout", min=1, help="Parallel steps in the middle."),
    webhooks: int = typer.Option(
        2000, "--webhooks", min=0, help="Signed webhooks sent (0: skip that measurement)."
    ),
    database_url: str = typer.Option(
        None, "--database-url", help="Measure on this database (default: a temporary SQLite)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Workflows and events: hop latency, a fan-out/fan-in, signed webhooks per second."""

    def progress(message: str) -> None:
        if not as_json:
            typer.echo(message, err=True)

    figures = asyncio.run(
        _bench_module("dag").run_dag_bench(
            chain=chain, fanout=fanout, database_url=database_url, progress=progress
        )
    )
    if webhooks:
        progress(f"webhooks: {webhooks:,} signed requests into durable events")
        figures.update(_bench_module("webhooks").measure_webhooks(webhooks))
    figures["python"] = platform.python_version()
    _show(figures, as_json=as_json)


@bench_app.command("estimates")
def estimates(
    tasks: int = typer.Option(5000, "--tasks", min=100, help="Generated tasks in the history."),
    test: int = typer.Option(1000, "--test", min=10, help="The last N tasks are estimated."),
    seed: int = typer.Option(7, "--seed", help="The generator's seed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Backtest of task duration estimates against the global median (MAE in hours)."""
    module = _bench_module("estimates_bench")
    _show(module.run_estimates_bench(tasks=tasks, test=test, seed=seed), as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add ``kairos bench`` to the CLI."""
    app.add_typer(bench_app, name="bench")
