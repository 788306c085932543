"""``kairos runs list|show|logs``: what ran, how it ended, and its output.

The CLI is the operator's view: it sees the runs of every workspace.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bot.commands.chat import _with_kairos
from bot.commands.common import fail

if TYPE_CHECKING:
    from bot.app import Kairos
    from core.models import Member

runs_app = typer.Typer(
    help="Run history: list runs, show one, print its log.", no_args_is_help=True
)

_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_STATUSES = ("pending", "running", "completed", "failed", "skipped", "retrying", "cancelled")


def json_option(text: str, name: str) -> dict[str, Any]:
    """A JSON object given on the command line (``BadParameter`` saying what is wrong)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON ({exc.msg})", param_hint=name) from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("give a JSON object ({...})", param_hint=name)
    return value


def parse_since(text: str) -> timedelta:
    """``30m``, ``12h``, ``1d``, ``2w`` → a duration (``BadParameter`` otherwise)."""
    found = _SINCE.match(text)
    if not found:
        raise typer.BadParameter(
            f"{text!r} is not a duration; use e.g. 30m, 12h, 1d or 2w", param_hint="--since"
        )
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@runs_app.command("list")
def list_runs(
    task: int = typer.Option(None, "--task", help="Only the runs of this task."),
    status: str = typer.Option(
        None, "--status", help=f"One of: {', '.join(_STATUSES)} (failed includes retrying)."
    ),
    since: str = typer.Option(None, "--since", help="Only runs due in this window (e.g. 1d)."),
    search: str = typer.Option(None, "--search", help="Text in the output or error."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many runs."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List runs, newest first: task, date, time, status, duration, notes."""
    if status is not None and status not in _STATUSES:
        raise typer.BadParameter(f"unknown status {status!r}", param_hint="--status")
    window = parse_since(since) if since else None

    async def work(kairos: Kairos, member: Member) -> None:
        from bot.conversation.history import FAILED, history_table
        from core.insight.run_stats import RunStats

        # "failed" includes attempts that failed and will be retried.
        statuses = FAILED if status == "failed" else (status,) if status else ()
        rows = await kairos.history.runs(
            None,
            task_id=task,
            statuses=statuses,
            since=kairos.clock.now() - window if window else None,
            text=search,
            limit=limit,
        )
        if as_json:
            for row in rows:
                typer.echo(row.run.model_dump_json(exclude={"log_excerpt", "result"}))
            return
        if not rows:
            typer.echo("no runs match")
            return
        tz = member.timezone or kairos.settings.default_timezone
        typer.echo(history_table(rows, tz))
        if task is not None:
            typer.echo(f"#{task}: {RunStats.of(r.run for r in rows).describe()}")

    _with_kairos(work)


@runs_app.command("show")
def show_run(
    run_id: int = typer.Argument(..., help="The run's number."),
    as_json: bool = typer.Option(False, "--json", help="The whole run as JSON."),
) -> None:
    """One run: status, duration, exit or HTTP status, error, result, its transitions."""

    async def work(kairos: Kairos, member: Member) -> None:
        from bot.conversation.history import run_detail
        from core.executors.sql import render_table

        row = await kairos.history.get(run_id, workspace_id=None)
        if as_json:
            typer.echo(json.dumps(row.run.model_dump(mode="json"), indent=2))
            return
        tz = member.timezone or kairos.settings.default_timezone
        typer.echo(run_detail(row, tz, log_lines=20))
        result = row.run.result or {}
        if "columns" in result and "rows" in result:
            typer.echo(render_table(result["columns"], result["rows"]))
        for event in await kairos.runs.events_for(run_id):
            detail = (event.detail or "").splitlines()[0][:100] if event.detail else ""
            typer.echo(f"  {event.at:%Y-%m-%d %H:%M:%S} {event.status} {detail}")

    _with_kairos(work)


@runs_app.command("logs")
def logs(run_id: int = typer.Argument(..., help="The run's number.")) -> None:
    """Print a run's full log (its file, or Supabase Storage), or its stored excerpt when the
    log is gone."""

    from core.executors.logs import read_file

    async def work(kairos: Kairos, member: Member) -> None:
        row = await kairos.history.get(run_id, workspace_id=None)
        location = row.run.log_path
        data = None
        if location is not None:
            data = (
                await kairos.logs.read(location)
                if kairos.logs is not None
                else read_file(Path(location), None)
            )
        if data is not None:
            typer.echo(data.decode("utf-8", errors="replace"), nl=False)
            return
        if row.run.log_excerpt:
            if location is not None:
                typer.secho(f"(log {location} is gone; stored excerpt follows)", err=True)
            typer.echo(row.run.log_excerpt, nl=False)
            return
        fail(f"Run {run_id} has no log (reminders and runs that never started have none).")

    _with_kairos(work)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
