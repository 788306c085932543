"""``kairos report`` and ``kairos stats``: the team's figures from the history."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.commands.common import fail

if TYPE_CHECKING:
    from bot.app import Kairos
    from core.models import Member


def report(
    week: bool = typer.Option(False, "--week", help="The last complete week (Mon–Sun)."),
    month: bool = typer.Option(False, "--month", help="The last complete calendar month."),
    channel: str = typer.Option(None, "--channel", help="Only tasks of this channel (eng, #eng)."),
    png: Path = typer.Option(None, "--png", help="Also write the charts to this PNG file."),
    as_json: bool = typer.Option(False, "--json", help="The figures as one JSON object."),
) -> None:
    """Done vs planned, on time, overdue, per person and channel, jobs; vs the period before."""
    from dataclasses import asdict

    from bot.commands.chat import _with_kairos
    from core.insight.periods import Span

    if week == month:
        fail("Say which period: --week or --month.", 2)
    span = Span.WEEK if week else Span.MONTH
    where = channel.lstrip("#") if channel else None

    async def work(kairos: Kairos, member: Member) -> None:
        tz = member.timezone or kairos.settings.default_timezone
        period = kairos.insight.period(span, tz)
        found, text = await kairos.insight.report(member.workspace_id, period, channel=where)
        if png is not None:
            image = await kairos.insight.page_png(member.workspace_id, period, channel=where)
            await asyncio.to_thread(png.write_bytes, image)
        if as_json:
            typer.echo(json.dumps(asdict(found), default=str))
        else:
            typer.echo(text)
        if png is not None:
            typer.echo(f"charts written to {png}", err=True)

    _with_kairos(work)


def stats(
    days: int = typer.Option(30, "--days", min=1, help="How many days back."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """Per job: runs, success rate, median and p95 duration; tasks done, on time, overdue."""
    from datetime import timedelta

    from bot.commands.chat import _with_kairos
    from core.insight.periods import Period, Span
    from core.insight.report import duration, job_figures, percent, tally

    async def work(kairos: Kairos, member: Member) -> None:
        now = kairos.clock.now()
        tz = member.timezone or kairos.settings.default_timezone
        period = Period(Span.WEEK, now - timedelta(days=days), now, tz)
        found = await kairos.insight.history(member.workspace_id, period)
        team = tally(found.tasks, period)
        jobs = job_figures(r for r in found.runs if period.contains(r.scheduled_for))
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "days": days,
                        "done": team.done,
                        "planned": team.planned,
                        "on_time_rate": team.on_time_rate,
                        "overdue": team.overdue,
                        "jobs": [
                            {
                                "task": j.task_id,
                                "title": j.title,
                                "runs": j.attempts,
                                "failures": j.failures,
                                "success_rate": j.success_rate,
                                "median_ms": j.median_ms,
                                "p95_ms": j.p95_ms,
                            }
                            for j in jobs
                        ],
                    }
                )
            )
            return
        typer.echo(
            f"Last {days} days: {team.done} done, {team.planned} due, on time "
            f"{percent(team.on_time_rate)}, {team.overdue} overdue now"
        )
        for j in jobs:
            typer.echo(
                f"#{j.task_id:<5} {j.title[:40]:<40} {j.attempts:>5} runs "
                f"{percent(j.success_rate):>5} ok  median {duration(j.median_ms):>9}  "
                f"p95 {duration(j.p95_ms):>9}"
            )
        if not jobs:
            typer.echo("No job runs in that time.")

    _with_kairos(work)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("stats")(stats)
