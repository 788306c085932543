"""``kairos run`` (the main job), ``kairos chat`` and ``kairos tasks …``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from bot.commands.common import fail, load_settings, run_async

if TYPE_CHECKING:
    from bot.app import Kairos
    from bot.settings import Settings
    from core.models import Member

T = TypeVar("T")

tasks_app = typer.Typer(help="Add, list, show and complete tasks.", no_args_is_help=True)


def _configure_logging(level: str, settings: Settings) -> None:
    from bot.logs import configure_logging

    configure_logging(level, fmt=settings.log_format, secrets=settings.secret_values())


def run(
    console: bool = typer.Option(
        None,
        "--console/--no-console",
        help="Open the console chat (default: when standard input is a terminal).",
    ),
) -> None:
    """Start Kairos: migrations, scheduler, chat surfaces and http://HOST:PORT/healthz."""
    from bot.serve import serve

    settings = load_settings()
    _configure_logging(settings.log_level, settings)
    run_async(serve(settings, console=console))


def chat(
    script: str = typer.Option(
        None,
        "--script",
        help="Run a scripted conversation (JSON Lines, '-' for stdin); see CONVERSATION.md.",
    ),
    now: str = typer.Option(
        None, "--now", help="With --script: the clock's start, ISO 8601 (default: now)."
    ),
    tz: str = typer.Option(
        None, "--tz", help="With --script: the zone of undeclared people (default: settings)."
    ),
    database: str = typer.Option(
        None, "--database", help="With --script: database URL (default: a new temporary one)."
    ),
) -> None:
    """Talk to Kairos in the terminal (reminders fire here while it is open)."""
    if script is not None:
        raise typer.Exit(_chat_script(script, now=now, tz=tz, database=database))
    if now is not None or tz is not None or database is not None:
        fail("--now, --tz and --database go with --script FILE (a scripted conversation).", 2)
    from bot.app import Kairos
    from bot.console import ConsoleChat, console_owner
    from core.enums import Platform

    settings = load_settings()
    _configure_logging("WARNING", settings)

    async def talk() -> None:
        kairos = await Kairos.open(settings)
        console = ConsoleChat(conversation=kairos.conversation, user=settings.console_user)
        await console_owner(
            kairos.store, user=settings.console_user, timezone=settings.default_timezone
        )
        kairos.add_chat(Platform.CONSOLE, console)
        try:
            await kairos.start()
            await console.run()
        finally:
            await kairos.close()

    run_async(talk())


def _chat_script(path: str, *, now: str | None, tz: str | None, database: str | None) -> int:
    """``kairos chat --script``: JSON Lines in, JSON Lines out; exit 2 if malformed."""
    import sys
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.script import run_script
    from core.errors import KairosError
    from core.schedule import check_timezone

    settings = load_settings()
    _configure_logging("ERROR", settings)
    try:
        zone = check_timezone(tz) if tz else settings.default_timezone
    except (KairosError, ValueError):
        fail(f"--tz {tz!r} is not an IANA time zone (e.g. Europe/Berlin).", 2)
    start = datetime.now(UTC)
    if now:
        try:
            start = datetime.fromisoformat(now)
        except ValueError:
            fail(f"--now {now!r} is not an ISO 8601 time (e.g. 2026-11-26T12:00:00+01:00).", 2)
        if start.tzinfo is None:
            start = start.replace(tzinfo=ZoneInfo(zone))
    try:
        source = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        fail(f"cannot read the script {path}: {exc.strerror or exc}.", 2)
    with source:
        lines = source.read().splitlines()

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return run_async(run_script(lines, write=write, now=start, tz=zone, database_url=database))


def _with_kairos(work: Callable[[Kairos, Member], Awaitable[T]]) -> T:
    """Run ``work`` with Kairos built (not started) and the console user as actor."""
    from bot.app import Kairos
    from bot.console import console_owner

    settings = load_settings()

    async def go() -> T:
        kairos = await Kairos.open(settings)
        try:
            member = await console_owner(
                kairos.store, user=settings.console_user, timezone=settings.default_timezone
            )
            return await work(kairos, member)
        finally:
            await kairos.close()

    return run_async(go())


@tasks_app.command("list")
def list_tasks(
    status: str = typer.Option("open", help="open, done, paused, deleted or all."),
    mine: bool = typer.Option(False, "--mine", help="Only tasks assigned to you."),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue tasks."),
    search: str = typer.Option(None, "--search", help="Text in the title or description."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List tasks, overdue first."""
    from rich.console import Console

    from bot.console import render
    from bot.conversation.replies import task_list
    from core.enums import TaskStatus
    from core.store import TaskQuery

    if status != "all" and status not in {s.value for s in TaskStatus}:
        raise typer.BadParameter(
            f"unknown status {status!r}; use open, done, paused, deleted or all",
            param_hint="--status",
        )

    async def work(kairos: Kairos, member: Member) -> None:
        now = kairos.clock.now()
        query = TaskQuery(
            statuses=None if status == "all" else frozenset({TaskStatus(status)}),
            include_deleted=status in {"all", "deleted"},
            assignee=member.platform_user_id if mine else None,
            overdue_at=now if overdue else None,
            text=search,
        )
        found = await kairos.tasks.query(query, workspace_id=member.workspace_id, actor=member)
        if as_json:
            for task in found:
                typer.echo(task.model_dump_json())
            return
        tz = member.timezone or kairos.settings.default_timezone
        Console().print(render(task_list("Tasks", found, tz=tz, now=now)))

    _with_kairos(work)


@tasks_app.command("show")
def show(task_id: int = typer.Argument(..., help="The task's number.")) -> None:
    """Show one task with its audit trail."""

    async def work(kairos: Kairos, member: Member) -> None:
        task = await kairos.tasks.get(task_id, workspace_id=member.workspace_id)
        typer.echo(json.dumps(task.model_dump(mode="json"), indent=2))
        for event in await kairos.tasks.history(task_id, workspace_id=member.workspace_id):
            typer.echo(f"{event.at:%Y-%m-%d %H:%M:%S} {event.action} by member {event.actor_id}")

    _with_kairos(work)


@tasks_app.command("add")
def add(
    title: str = typer.Argument(..., help="What needs doing."),
    due: str = typer.Option(None, "--due", help="Deadline, ISO 8601 (e.g. 2026-12-03T17:00)."),
    priority: str = typer.Option("normal", help="low, normal, high or urgent."),
    assignee: list[str] = typer.Option([], "--assignee", "-a", help="Who it is for."),
    action: str = typer.Option(
        None, "--action", help='What it runs, JSON: {"type": "shell", "command": "backup.sh"}.'
    ),
    schedule: str = typer.Option(
        None, "--schedule", help='When, JSON: {"kind": "cron", "cron": "0 2 * * *"}.'
    ),
) -> None:
    """Add a task (a job when it has an --action; refused when it could not run here)."""
    from bot.commands.runs import json_option

    data: dict[str, Any] = {"title": title, "due": due, "priority": priority, "assignees": assignee}
    if action is not None:
        data.update(kind="job", action=json_option(action, "--action"))
    if schedule is not None:
        data["schedule"] = json_option(schedule, "--schedule")

    async def work(kairos: Kairos, member: Member) -> None:
        task = await kairos.tasks.create(data, actor=member)
        typer.echo(f"added #{task.id} '{task.title}'")
        for caveat in kairos.tasks.caveats(task):
            typer.echo(caveat, err=True)

    _with_kairos(work)


@tasks_app.command("done")
def done(task_id: int = typer.Argument(..., help="The task's number.")) -> None:
    """Mark a task done."""

    async def work(kairos: Kairos, member: Member) -> None:
        task = await kairos.tasks.complete(task_id, actor=member)
        typer.echo(f"done #{task.id} '{task.title}'")

    _with_kairos(work)


@tasks_app.command("search")
def search_tasks(
    words: list[str] = typer.Argument(..., help="Words in the title, description or comments."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Full-text search over tasks (titles, descriptions, comments), best match first."""
    from rich.console import Console

    from bot.console import render
    from bot.conversation.replies import task_list

    text = " ".join(words)

    async def work(kairos: Kairos, member: Member) -> None:
        found = await kairos.tasks.search(text, workspace_id=member.workspace_id)
        if as_json:
            for task in found:
                typer.echo(task.model_dump_json())
            return
        tz = member.timezone or kairos.settings.default_timezone
        heading = f"Tasks matching '{text}'"
        Console().print(render(task_list(heading, found, tz=tz, now=kairos.clock.now())))

    _with_kairos(work)


@tasks_app.command("pause")
def pause(task_id: int = typer.Argument(..., help="The task's number.")) -> None:
    """Pause a task: it does not fire until resumed (the one pause of Kairos, audited)."""

    async def work(kairos: Kairos, member: Member) -> None:
        task = await kairos.tasks.pause(task_id, actor=member)
        typer.echo(f"paused #{task.id} '{task.title}'")

    _with_kairos(work)


@tasks_app.command("resume")
def resume(task_id: int = typer.Argument(..., help="The task's number.")) -> None:
    """Resume a paused task: it fires again from now on (missed fires are not caught up)."""

    async def work(kairos: Kairos, member: Member) -> None:
        task = await kairos.tasks.resume(task_id, actor=member)
        typer.echo(f"resumed #{task.id} '{task.title}'")

    _with_kairos(work)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("chat")(chat)
    app.add_typer(tasks_app, name="tasks")
