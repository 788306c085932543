"""``kairos discord sync`` publishes the commands: to one server with ``--guild``, else globally."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from .fake_discord import APP_ID, GUILD_ID, FakeDiscord

pytestmark = pytest.mark.slow

COMMANDS = {"kairos", "remind", "task", "tasks", "done", "timezone"}


async def _sync(fake: FakeDiscord, tmp_path: Path, *args: str) -> str:
    env = {
        **os.environ,
        "KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'kairos.db'}",
        "KAIROS_DATA_DIR": str(tmp_path / "data"),
        "KAIROS_DISCORD_TOKEN": fake.token,
        "KAIROS_DISCORD_API_URL": fake.api_url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "discord", "sync", *args,
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def test_sync_to_one_server_and_globally(fake: FakeDiscord, tmp_path: Path) -> None:
    out = await _sync(fake, tmp_path, "--guild", GUILD_ID)
    assert f"to server {GUILD_ID}" in out and "/timezone" in out
    guild = fake.of("PUT", rf"^/applications/{APP_ID}/guilds/{GUILD_ID}/commands$")
    assert {c["name"] for c in guild[0].body} == COMMANDS
    done = next(c for c in guild[0].body if c["name"] == "done")
    assert done["options"][0]["autocomplete"] is True
    assert not fake.identifies  # syncing needs no gateway connection
    out = await _sync(fake, tmp_path)
    assert "global" in out
    every = fake.of("PUT", rf"^/applications/{APP_ID}/commands$")
    assert {c["name"] for c in every[0].body} == COMMANDS
