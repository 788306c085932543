"""``kairos discord sync``: publish Kairos's application commands to Discord.

``--guild ID`` syncs to one server, where they appear at once (development);
without it the commands are published globally (production; Discord may take
a while to show them everywhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.commands.common import fail, load_settings

if TYPE_CHECKING:
    from bot.app import Kairos
    from core.models import Member

discord_app = typer.Typer(help="The Discord bot: publish its commands.", no_args_is_help=True)


@discord_app.command("sync")
def sync(
    guild: int = typer.Option(None, "--guild", help="A server id: sync there only (instant)."),
) -> None:
    """Publish /kairos, /remind, /task, /tasks, /done and /timezone."""
    from bot.commands.chat import _with_kairos
    from bot.discord import discord_configured

    if not discord_configured(load_settings()):
        fail("Discord is not configured: set KAIROS_DISCORD_TOKEN (see docs/discord.md).")

    async def work(kairos: Kairos, _member: Member) -> list[str]:
        surface = kairos.add_discord()
        try:
            await surface.bot.login(surface.token)
            return await surface.sync(guild=guild)
        finally:
            await surface.bot.close()

    names = _with_kairos(work)
    where = f"server {guild}" if guild is not None else "every server (global)"
    typer.echo(f"Synced {len(names)} commands to {where}: " + ", ".join(f"/{n}" for n in names))


def register(app: typer.Typer) -> None:
    app.add_typer(discord_app, name="discord")
