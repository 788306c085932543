"""``kairos bench scheduler``: measure the scheduler core (and APScheduler 3 next to it).

The work lives in ``bench/scheduler_bench.py`` (benchmarks are not the product:
they run from a source checkout); this module only parses options and prints.
Heavy imports happen inside the command.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
from pathlib import Path
from types import ModuleType

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
}
for _size in (1000, 10000):
    for _q in ("p50", "p99", "max"):
        _LABELS[f"burst_{_size}_job_start_{_q}_ms"] = (f"Kairos burst {_size:,}: {_q} start", "ms")
        for _peer in ("memory", "sqlalchemy"):
            _LABELS[f"apscheduler_{_peer}_burst_{_size}_{_q}_ms"] = (
                f"APScheduler {_peer} burst {_size:,}: {_q}",
                "ms",
            )


def _load_bench() -> ModuleType:
    """``bench.scheduler_bench`` from the source checkout this Kairos runs from."""
    try:
        import bench.scheduler_bench as module
    except ModuleNotFoundError:
        root = Path(__file__).resolve().parents[2]
        if not (root / "bench" / "scheduler_bench.py").exists():
            raise typer.BadParameter(
                "the benchmarks live in the source checkout's bench/ folder, which this "
                "installation does not have; run `kairos bench` from a git clone"
            ) from None
        sys.path.insert(0, str(root))
        import bench.scheduler_bench as module
    return module


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
        "apscheduler_sqlalchemy, delivery); repeatable.",
    ),
) -> None:
    """Burst lateness to job start (Kairos and APScheduler 3), startup, run rate, delivery."""
    module = _load_bench()
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


@bench_app.command("dag")
def dag(
    chain: int = typer.Option(1000, "--chain", min=2, help="Steps in the chain (hop latency)."),
    fanout: int = typer.Option(10_000, "--fanout", min=1, help="Parallel steps in the middle."),
    database_url: str = typer.Option(
        None, "--database-url", help="Measure on this database (default: a temporary SQLite)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Workflow release: hop latency over a chain, and a fan-out/fan-in end to end."""
    import importlib

    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "dag.py").is_file():
        raise typer.BadParameter(
            "bench/dag.py is not here: the benchmarks ship with the source, not the package. "
            "Run it from a checkout of the Kairos repository."
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module("bench.dag")

    def progress(message: str) -> None:
        if not as_json:
            typer.echo(message, err=True)

    figures = asyncio.run(
        module.run_dag_bench(
            chain=chain, fanout=fanout, database_url=database_url, progress=progress
        )
    )
    # --- webhooks_per_sec (issue 11, events half) -------------------------------------
    # The lead wires bench/webhooks.py in here at merge, e.g.:
    #     webhooks = importlib.import_module("bench.webhooks")
    #     figures.update(asyncio.run(webhooks.measure_webhooks()))  # {"webhooks_per_sec": …}
    # ------------------------------------------------------------------------------------
    figures["python"] = platform.python_version()
    if as_json:
        json.dump(figures, sys.stdout)
        sys.stdout.write("\n")
        return
    for key, value in figures.items():
        typer.echo(f"{key:<24} {value:>12}")


def register(app: typer.Typer) -> None:
    """Add ``kairos bench`` to the CLI."""
    app.add_typer(bench_app, name="bench")
