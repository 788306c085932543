"""Helpers shared by the CLI commands: settings loading and error reporting."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")


def load_settings() -> Settings:
    """The effective settings, or a clean exit naming the bad variable."""
    from pydantic import ValidationError

    from bot.settings import Settings
    from core.errors import KairosError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"KAIROS_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        fail(f"Invalid configuration ({problems}). Fix the variable or your .env file.")
    except KairosError as exc:
        fail(exc.user_message())


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; a ``KairosError`` becomes a clear message and exit status 1."""
    from core.errors import KairosError

    try:
        return asyncio.run(coro)
    except KairosError as exc:
        fail(exc.user_message())
