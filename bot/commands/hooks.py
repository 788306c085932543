"""``kairos hooks create|list|rotate``: webhooks from the command line (the operator).

The secret is printed once, to this terminal only; it is never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from bot.commands.common import load_settings, run_async

if TYPE_CHECKING:
    from core.events.webhooks import IssuedSecret, WebhookService

T = TypeVar("T")

hooks_app = typer.Typer(help="Webhooks: POST /hooks/NAME, HMAC-signed.", no_args_is_help=True)


def _with_hooks(action: Callable[[WebhookService], Awaitable[T]]) -> T:
    from core import migrate
    from core.clock import SystemClock
    from core.db import Database
    from core.events.webhooks import WebhookService
    from core.store.events import EventStore

    settings = load_settings()

    async def go() -> T:
        await migrate.upgrade(settings.database_url)
        db = Database(settings.database_url)
        try:
            return await action(WebhookService(store=EventStore(db), clock=SystemClock()))
        finally:
            await db.dispose()

    return run_async(go())


def _issued(verb: str, issued: IssuedSecret) -> None:
    typer.echo(f"webhook {issued.hook.name!r} {verb}: POST {issued.hook.path}")
    typer.echo(f"secret (shown once, keep it safe): {issued.secret}")


@hooks_app.command("create")
def create(name: str = typer.Argument(..., help="The hook's name, used in its URL.")) -> None:
    """Create a webhook and print its secret once."""
    _issued("created", _with_hooks(lambda hooks: hooks.create(name)))


@hooks_app.command("rotate")
def rotate(name: str = typer.Argument(..., help="The hook whose secret to replace.")) -> None:
    """Give a webhook a new secret (the old one stops working) and print it once."""
    _issued("rotated", _with_hooks(lambda hooks: hooks.rotate(name)))


@hooks_app.command("list")
def list_hooks() -> None:
    """List webhooks (never their secrets)."""
    found = _with_hooks(lambda hooks: hooks.list())
    if not found:
        typer.echo("no webhooks yet: kairos hooks create NAME")
    for hook in found:
        typer.echo(
            f"{hook.name}\tPOST {hook.path}\tsecret set {hook.rotated_at:%Y-%m-%d %H:%M} UTC"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(hooks_app, name="hooks")
