"""Kairos in Discord (discord.py 2.x): gateway bot, app commands, cards, reminders.

``build_discord(settings=…, …)`` wires it; see ``bot.discord.surface`` and
docs/discord.md.
"""

from bot.discord.surface import DiscordSurface, build_discord, discord_configured

__all__ = ["DiscordSurface", "build_discord", "discord_configured"]
