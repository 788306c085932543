"""``kairos db upgrade|downgrade`` and ``kairos config``."""

from __future__ import annotations

import typer

from bot.commands.common import load_settings, run_async

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from core import migrate

    settings = load_settings()
    run_async(migrate.upgrade(settings.database_url, revision))
    typer.echo(f"database is at {revision}")


@db_app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert migrations down to REVISION (``base`` empties the schema)."""
    from core import migrate

    settings = load_settings()
    run_async(migrate.downgrade(settings.database_url, revision))
    typer.echo(f"database is at {revision}")


def config(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Print the effective settings, with secrets masked."""
    import json

    settings = load_settings()
    shown = settings.masked()
    shown["shell_isolation"] = settings.execution_policy().isolation()
    if as_json:
        typer.echo(json.dumps(shown, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("setting", "value", title="Kairos settings (KAIROS_* / .env)")
    for name, value in shown.items():
        label = (
            "shell isolation (active)" if name == "shell_isolation" else f"KAIROS_{name.upper()}"
        )
        table.add_row(label, "" if value is None else str(value))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("config")(config)
