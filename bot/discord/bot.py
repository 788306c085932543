"""``KairosBot``: the discord.py gateway client of Kairos.

Intents are the fewest that work: ``guilds`` (the channel, thread and role
cache — where a message was said, who may administer Kairos),
``guild_messages`` and ``dm_messages`` (the messages themselves), and the
privileged ``message_content``. Discord sends a message's text without that
intent only for DMs and messages that mention the bot; a reply in a task's
thread ("done", "push it to Friday") mentions no one, so without
``message_content`` Kairos would receive it with empty text. DMs are listed
in the docs too because their content is what Kairos reads most, and Discord
has changed which messages carry content before. It must be switched on in
the Developer Portal (Bot → Privileged Gateway Intents). No presence or
member-list intents: Kairos needs neither.

Where it connects: ``bot.discord.surface.point_at`` sets discord.py's REST base
(``discord.http.Route.BASE``); the gateway URL is then asked from that API
(``GET /gateway/bot``) in ``setup_hook``, so a whole Kairos can be pointed at
a local fake Discord.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.discord.components import TaskButton
from bot.discord.listeners import Listeners

log = logging.getLogger(__name__)


def kairos_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    return intents


class KairosBot(discord.Client):
    """A ``discord.Client`` with Kairos's commands, persistent buttons and listeners."""

    def __init__(self, **options: Any) -> None:
        # Kairos has no voice: no warning that voice libraries are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=kairos_intents(),
            # The default for every message: nobody is pinged unless a message says so.
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.tree: app_commands.CommandTree[KairosBot] = app_commands.CommandTree(self)
        self.presses: Listeners | None = None
        self.gateway_url: str | None = None

    async def setup_hook(self) -> None:
        self.add_dynamic_items(TaskButton)
        # Discord's own answer (or a fake's) says where the gateway is.
        _shards, url, _limits = await self.http.get_bot_gateway()
        self.gateway_url = url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("Discord gateway at %s", url)

    @property
    def bot_user_id(self) -> str | None:
        return str(self.user.id) if self.user is not None else None

    async def on_ready(self) -> None:
        log.info("Discord connected as %s in %d server(s)", self.bot_user_id, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        if self.presses is not None:
            await self.presses.on_message(message, bot_user_id=self.bot_user_id)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type == discord.InteractionType.modal_submit and self.presses is not None:
            await self.presses.on_modal(interaction)
