"""Slack channel history for AI jobs ("summarize #general"): ``conversations.history``.

A channel named in a prompt is found by name with ``conversations.list``
(public and private channels the bot is in); ids (``C…``/``G…``) are used as
they are. Needs ``channels:history``/``groups:history`` and
``channels:read``/``groups:read``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.adapter import Clients
from core.errors import NotFound
from core.ports import ChannelMessage
from core.store import SqlStore

_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


class SlackChannelHistory:
    """Implements ``core.ports.ChannelHistory`` for Slack workspaces."""

    def __init__(self, *, clients: Clients, store: SqlStore) -> None:
        self._clients = clients
        self._store = store

    async def messages(
        self, *, workspace_id: int, channel: str, since: datetime, limit: int
    ) -> list[ChannelMessage]:
        workspace = await self._store.get_workspace(workspace_id)
        client = await self._clients.for_team(workspace.external_id)
        channel_id = channel if _ID.match(channel) else await self._find(client, channel)
        try:
            answer = await client.conversations_history(
                channel=channel_id, oldest=f"{since.timestamp():.6f}", limit=min(limit, 999)
            )
        except SlackApiError as exc:
            raise NotFound(
                f"Slack did not give the history of #{channel} ({exc.response.get('error')}).",
                hint="Invite Kairos to the channel (/invite @Kairos).",
            ) from exc
        raw: list[dict[str, Any]] = answer.get("messages", [])
        found = [_message(m) for m in raw if m.get("type") == "message"]
        return sorted(found, key=lambda m: m.at)[-limit:]

    async def thread(
        self, *, workspace_id: int, channel: str, thread: str, limit: int
    ) -> list[ChannelMessage]:
        """``conversations.replies``: the thread's parent and replies, oldest first."""
        workspace = await self._store.get_workspace(workspace_id)
        client = await self._clients.for_team(workspace.external_id)
        try:
            answer = await client.conversations_replies(
                channel=channel, ts=thread, limit=min(limit, 999)
            )
        except SlackApiError as exc:
            raise NotFound(
                f"Slack did not give that thread ({exc.response.get('error')}).",
                hint="Invite Kairos to the channel (/invite @Kairos).",
            ) from exc
        raw: list[dict[str, Any]] = answer.get("messages", [])
        found = [_message(m) for m in raw if m.get("type") == "message"]
        return sorted(found, key=lambda m: m.at)[:limit]

    async def _find(self, client: AsyncWebClient, name: str) -> str:
        cursor: str | None = None
        while True:
            page = await client.conversations_list(
                types="public_channel,private_channel", limit=1000, cursor=cursor
            )
            channels: list[dict[str, Any]] = page.get("channels", [])
            for found in channels:
                if found.get("name") == name:
                    return str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise NotFound(
                    f"There is no Slack channel #{name} Kairos can see.",
                    hint="Check the name, and invite Kairos to the channel.",
                )


def _message(raw: dict[str, Any]) -> ChannelMessage:
    author = raw.get("user") or raw.get("username") or raw.get("bot_id") or "someone"
    at = datetime.fromtimestamp(float(raw.get("ts", 0)), UTC)
    return ChannelMessage(at=at, author=f"@{author}", text=str(raw.get("text", "")))
