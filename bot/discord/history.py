"""Discord channel history for AI jobs ("summarize #eng"): the channel's message history.

A channel named in a prompt is found by name among the text channels and
threads of the workspace's guild (the bot's cache); ids are used as they are.
Reads through discord.py (``GET /channels/{id}/messages``), newest first, and
keeps the messages after ``since``. Needs the *Read Message History* permission
and the message content intent (already required for chat).
"""

from __future__ import annotations

from datetime import datetime

import discord

from core.errors import NotFound
from core.ports import ChannelMessage
from core.store import SqlStore


class DiscordChannelHistory:
    """Implements ``core.ports.ChannelHistory`` for Discord guilds."""

    def __init__(self, *, client: discord.Client, store: SqlStore) -> None:
        self._client = client
        self._store = store

    async def messages(
        self, *, workspace_id: int, channel: str, since: datetime, limit: int
    ) -> list[ChannelMessage]:
        workspace = await self._store.get_workspace(workspace_id)
        target = await self._channel(workspace.external_id, channel)
        found: list[ChannelMessage] = []
        try:
            async for message in target.history(limit=limit):
                if message.created_at < since:
                    break
                if message.content:
                    found.append(_message(message))
        except discord.HTTPException as exc:
            raise NotFound(
                f"Discord did not give the history of #{channel} ({exc.text or exc.status}).",
                hint="Give Kairos the Read Message History permission in that channel.",
            ) from exc
        return sorted(found, key=lambda m: m.at)

    async def thread(
        self, *, workspace_id: int, channel: str, thread: str, limit: int
    ) -> list[ChannelMessage]:
        """A thread is a channel of its own on Discord: its history, oldest first."""
        target = self._client.get_partial_messageable(int(thread))
        try:
            found = [_message(m) async for m in target.history(limit=limit) if m.content]
        except discord.HTTPException as exc:
            raise NotFound(
                f"Discord did not give that thread ({exc.text or exc.status}).",
                hint="Give Kairos the Read Message History permission in that channel.",
            ) from exc
        return sorted(found, key=lambda m: m.at)

    async def _channel(self, guild_ref: str, name: str) -> discord.abc.Messageable:
        wanted = name.lstrip("#")
        if wanted.isdigit():
            return self._client.get_partial_messageable(int(wanted))
        guild = self._client.get_guild(int(guild_ref)) if guild_ref.isdigit() else None
        if guild is not None:
            places: list[discord.TextChannel | discord.Thread] = [
                *guild.text_channels,
                *guild.threads,
            ]
            for place in places:
                if place.name == wanted:
                    return place
        raise NotFound(
            f"There is no Discord channel #{wanted} Kairos can see.",
            hint="Check the name, and give Kairos access to the channel.",
        )


def _message(message: discord.Message) -> ChannelMessage:
    author = getattr(message.author, "display_name", None) or message.author.name
    return ChannelMessage(at=message.created_at, author=f"@{author}", text=message.content)
