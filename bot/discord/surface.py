"""``DiscordSurface``: Kairos in Discord, assembled from settings (the factory).

The composition root calls ``build_discord(...)``, registers ``adapter`` with
the reminder notifier for ``Platform.DISCORD`` and awaits ``start()`` /
``stop()``. ``start()`` logs in and runs the gateway connection as a named
background task; discord.py reconnects (and resumes the session) by itself
when the gateway drops. ``stop()`` closes the connection and waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
from discord.http import Route

from bot.discord.adapter import DiscordAdapter
from bot.discord.bot import KairosBot
from bot.discord.commands import build_tree
from bot.discord.forms import DiscordTaskForms
from bot.discord.inbound import DM_WORKSPACE
from bot.discord.listeners import Listeners
from bot.discord.outbound import Outbox
from bot.discord.people import People, RoleMap
from bot.settings import Settings
from bot.slack.forms import TaskForms
from core.errors import NotConfigured
from core.ports import Clock, Conversation, IntentParser, Metrics
from core.services.tasks import TaskService
from core.store import SqlStore

log = logging.getLogger(__name__)


def discord_configured(settings: Settings) -> bool:
    return settings.discord_token is not None and bool(settings.discord_token.get_secret_value())


def point_at(api_url: str) -> None:
    """Send discord.py's REST calls to ``api_url`` (Discord's, or a local fake).

    ``Route.BASE`` is discord.py's one process-wide setting for this; the
    gateway URL follows from that API's ``GET /gateway/bot`` (``KairosBot.setup_hook``).
    """
    Route.BASE = api_url.rstrip("/")


class DiscordSurface:
    """The gateway bot and its adapter; see the module docstring."""

    def __init__(
        self, *, bot: KairosBot, adapter: DiscordAdapter, listeners: Listeners, token: str
    ):
        self.bot = bot
        self.adapter = adapter
        self.listeners = listeners
        self.token = token
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (fails fast on a bad token) and connect the gateway in the background."""
        if self._task is not None:
            return
        try:
            await self.bot.login(self.token)
        except discord.LoginFailure as exc:
            raise NotConfigured(
                "Discord refused the bot token.",
                hint="Check KAIROS_DISCORD_TOKEN (Developer Portal → Bot → Reset Token).",
            ) from exc
        self._task = asyncio.create_task(self._connect(), name="kairos-discord-gateway")

    async def _connect(self) -> None:
        try:
            await self.bot.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the Discord gateway connection ended")

    async def wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def sync(self, *, guild: int | None) -> list[str]:
        """Publish the commands to one server (instant, for development) or globally."""
        if guild is not None:
            target = discord.Object(guild)
            self.bot.tree.copy_global_to(guild=target)
            synced = await self.bot.tree.sync(guild=target)
        else:
            synced = await self.bot.tree.sync()
        return [command.name for command in synced]

    async def stop(self) -> None:
        await self.bot.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def build_discord(
    *,
    settings: Settings,
    conversation: Conversation,
    store: SqlStore,
    clock: Clock,
    tasks: TaskService | None = None,
    parser: IntentParser | None = None,
    forms: TaskForms | None = None,
    metrics: Metrics | None = None,
    **bot_options: Any,
) -> DiscordSurface:
    """Wire the Discord surface from ``settings`` (``KAIROS_DISCORD_*``)."""
    if not discord_configured(settings):
        raise NotConfigured(
            "Discord is not configured.",
            hint="Set KAIROS_DISCORD_TOKEN to the bot's token; see docs/discord.md.",
        )
    assert settings.discord_token is not None
    point_at(settings.discord_api_url)
    bot = KairosBot(**bot_options)
    outbox = Outbox(metrics=metrics, rate=settings.discord_rate_per_second)
    adapter = DiscordAdapter(client=bot, store=store, clock=clock, outbox=outbox)
    if forms is None and tasks is not None and parser is not None:
        forms = DiscordTaskForms(service=tasks, store=store, parser=parser, clock=clock)
    roles = RoleMap.parse(
        permission=settings.discord_admin_permission,
        roles=settings.discord_admin_roles.split(","),
    )
    listeners = Listeners(
        conversation=conversation,
        adapter=adapter,
        people=People(store=store, roles=roles, default_timezone=settings.default_timezone),
        store=store,
        forms=forms,
        clock=clock,
        dm_workspace=settings.discord_dm_server or DM_WORKSPACE,
        answer_within=settings.discord_defer_after_ms / 1000,
    )
    bot.presses = listeners
    build_tree(bot.tree, listeners)
    return DiscordSurface(
        bot=bot,
        adapter=adapter,
        listeners=listeners,
        token=settings.discord_token.get_secret_value(),
    )
