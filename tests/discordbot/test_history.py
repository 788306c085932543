"""Discord channel history for AI jobs: real discord.py reading the fake Discord's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.enums import Platform
from core.errors import NotFound

from .fake_discord import BOB, CHANNEL_ID, GUILD_ID, FakeDiscord


async def test_ai_jobs_read_a_discord_channels_recent_messages(
    fake: FakeDiscord, start_kairos
) -> None:
    kairos, _ = await start_kairos()
    workspace = await kairos.store.ensure_workspace(
        Platform.DISCORD, GUILD_ID, default_timezone="UTC"
    )
    now = datetime.now(UTC)
    fake.posted("last month's chatter", at=now - timedelta(days=30))
    fake.posted("deploy of v2.3 is done", at=now - timedelta(hours=3))
    fake.posted("rollback plan reviewed", author=BOB, at=now - timedelta(hours=1))

    found = await kairos.histories.messages(
        workspace_id=workspace.id, channel="eng", since=now - timedelta(days=1), limit=50
    )
    assert [m.text for m in found] == ["deploy of v2.3 is done", "rollback plan reviewed"]
    assert [m.author for m in found] == ["@alice", "@bob"]
    assert fake.of("GET", rf"/channels/{CHANNEL_ID}/messages$")  # read through REST

    with pytest.raises(NotFound, match="no Discord channel #random"):
        await kairos.histories.messages(
            workspace_id=workspace.id, channel="random", since=now, limit=5
        )


async def test_a_discord_thread_is_read_as_its_own_channel(fake: FakeDiscord, start_kairos) -> None:
    kairos, _ = await start_kairos()
    workspace = await kairos.store.ensure_workspace(
        Platform.DISCORD, GUILD_ID, default_timezone="UTC"
    )
    thread = "820000000000000001"
    now = datetime.now(UTC)
    fake.posted("not in the thread", at=now - timedelta(minutes=5))
    fake.posted("ship Friday?", at=now - timedelta(minutes=4), channel=thread)
    fake.posted("yes, Friday", author=BOB, at=now - timedelta(minutes=3), channel=thread)
    found = await kairos.histories.thread(
        workspace_id=workspace.id, channel=CHANNEL_ID, thread=thread, limit=20
    )
    assert [(m.author, m.text) for m in found] == [
        ("@alice", "ship Friday?"),
        ("@bob", "yes, Friday"),
    ]
