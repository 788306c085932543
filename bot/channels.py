"""Channel history for AI jobs, across chat platforms (``core.ports.ChannelHistory``)."""

from __future__ import annotations

from datetime import datetime

from core.enums import Platform
from core.errors import NotConfigured
from core.ports import ChannelHistory, ChannelMessage, ThreadHistory
from core.store import SqlStore


class ChannelHistories:
    """Reads a channel's history with the reader of its workspace's platform."""

    def __init__(self, *, store: SqlStore) -> None:
        self._store = store
        self._readers: dict[Platform, ChannelHistory] = {}

    def add(self, platform: Platform, reader: ChannelHistory) -> None:
        self._readers[platform] = reader

    async def messages(
        self, *, workspace_id: int, channel: str, since: datetime, limit: int
    ) -> list[ChannelMessage]:
        workspace = await self._store.get_workspace(workspace_id)
        reader = self._readers.get(Platform(workspace.platform))
        if reader is None:
            raise NotConfigured(f"Kairos cannot read channel history on {workspace.platform}.")
        return await reader.messages(
            workspace_id=workspace_id, channel=channel, since=since, limit=limit
        )

    async def thread(
        self, *, workspace_id: int, channel: str, thread: str, limit: int
    ) -> list[ChannelMessage]:
        """The thread's messages, read by the platform's reader (``NotConfigured`` if none)."""
        workspace = await self._store.get_workspace(workspace_id)
        reader = self._readers.get(Platform(workspace.platform))
        read: ThreadHistory | None = reader if hasattr(reader, "thread") else None  # type: ignore[assignment]
        if read is None:
            raise NotConfigured(f"Kairos cannot read threads on {workspace.platform}.")
        return await read.thread(
            workspace_id=workspace_id, channel=channel, thread=thread, limit=limit
        )
