"""The ``kairos`` command line (typer).

Each command group lives in ``bot/commands/<name>.py`` with a ``register(app)``
function; heavy imports happen inside the commands so that fast commands such as
``kairos parse`` start quickly.
"""

from __future__ import annotations

import importlib

import typer

from bot import __version__

COMMAND_MODULES = (
    "bot.commands.chat",
    "bot.commands.admin",
    "bot.commands.parse",
    "bot.commands.bench",
    "bot.commands.runs",
    "bot.commands.workflow",
    "bot.commands.hooks",
    "bot.commands.insight",
    "bot.commands.llm",
    "bot.commands.discord",
)

app = typer.Typer(
    name="kairos",
    help="Kairos: a task assistant for team chat. Tell it what should happen and when.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kairos {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Kairos: a task assistant for team chat."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)
