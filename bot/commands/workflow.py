"""``kairos workflow list|show|run|rerun|new``: workflows from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.commands.chat import _with_kairos

if TYPE_CHECKING:
    from bot.app import Kairos
    from core.models import Member

workflow_app = typer.Typer(
    help="Workflows: tasks that wait for each other. List, show, run, rerun.",
    no_args_is_help=True,
)


@workflow_app.command("list")
def list_workflows() -> None:
    """Every workflow with how its last run ended."""

    async def work(kairos: Kairos, member: Member) -> None:
        rows = await kairos.workflows.overview(workspace_id=member.workspace_id)
        if not rows:
            typer.echo("No workflows yet. Start one: kairos workflow new release v2.3")
            return
        for workflow, last in rows:
            if last is None:
                state = "not run yet"
            elif last.status == "failed" and last.failed_step:
                state = f"run {last.id} failed at '{last.failed_step}'"
            else:
                state = f"run {last.id} {last.status}"
            typer.echo(f"{workflow.name}  ·  {state}")

    _with_kairos(work)


@workflow_app.command("show")
def show(
    name: str = typer.Argument(..., help="The workflow's name."),
    png: Path = typer.Option(None, "--png", help="Also draw the graph into this PNG file."),
    dot: bool = typer.Option(False, "--dot", help="Print Graphviz DOT text instead of the tree."),
) -> None:
    """The workflow as a tree with each step's last status (or as DOT)."""

    async def work(kairos: Kairos, member: Member) -> bytes | None:
        shown = await kairos.workflows.show(name, workspace_id=member.workspace_id)
        typer.echo(shown.dot() if dot else shown.tree(), nl=not dot)
        return await shown.png() if png is not None else None

    picture = _with_kairos(work)
    if png is not None and picture is not None:
        png.write_bytes(picture)
        typer.echo(f"Drew {png}", err=True)


@workflow_app.command("new")
def new(
    template: str = typer.Argument(..., help="feature, release or bugfix."),
    subject: str = typer.Argument(..., help="What it is for, e.g. v2.3."),
) -> None:
    """Create a workflow and its steps from a template."""

    async def work(kairos: Kairos, member: Member) -> None:
        workflow = await kairos.workflows.from_template(template, subject, actor=member)
        shown = await kairos.workflows.show(workflow.name, workspace_id=member.workspace_id)
        typer.echo(shown.tree())

    _with_kairos(work)


@workflow_app.command("run")
def run(name: str = typer.Argument(..., help="The workflow's name.")) -> None:
    """Start a run of the whole workflow (its first steps run when `kairos run` is up)."""

    async def work(kairos: Kairos, member: Member) -> None:
        pass_id = await kairos.workflows.start(name, actor=member)
        typer.echo(f"Started run {pass_id} of '{name}'.")

    _with_kairos(work)


@workflow_app.command("rerun")
def rerun(
    task: int = typer.Argument(..., help="The task number of the step to run again."),
) -> None:
    """Run a step again, and every step after it, in its latest workflow run."""

    async def work(kairos: Kairos, member: Member) -> None:
        pass_id, node = await kairos.workflows.rerun(task, actor=member)
        typer.echo(f"Rerunning '{node.title}' and everything after it (run {pass_id}).")

    _with_kairos(work)


def register(app: typer.Typer) -> None:
    app.add_typer(workflow_app, name="workflow")
