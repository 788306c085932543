"""``kairos run`` as a real process serving Discord: a reminder due while it runs
is delivered to the person's DM through the fake Discord, the token never shows
in its (DEBUG, JSON) log, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.enums import Platform

from .fake_discord import ALICE, FakeDiscord

pytestmark = pytest.mark.slow


async def test_reminder_delivered_by_kairos_run(fake: FakeDiscord, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'kairos.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database,
        discord_token=SecretStr(fake.token),
        discord_api_url=fake.api_url,
    )
    kairos = await Kairos.open(settings)
    try:
        workspace = await kairos.store.ensure_workspace(Platform.DISCORD, "800000000000000001")
        assert workspace.id is not None
        alice = await kairos.store.ensure_member(workspace.id, ALICE, display_name="alice")
        due = kairos.clock.now() + timedelta(seconds=8)
        await kairos.tasks.create(
            {
                "kind": "reminder",
                "title": "stretch your legs",
                "schedule": {"kind": "once", "at": due.isoformat(), "timezone": "UTC"},
                "assignees": ["me"],
            },
            actor=alice,
        )
    finally:
        await kairos.close()
    env = {
        **os.environ,
        "KAIROS_DATABASE_URL": database,
        "KAIROS_HTTP_PORT": "0",
        "KAIROS_LOG_FORMAT": "json",
        "KAIROS_LOG_LEVEL": "DEBUG",
        "KAIROS_DATA_DIR": str(tmp_path / "data"),
        "KAIROS_DISCORD_TOKEN": fake.token,
        "KAIROS_DISCORD_API_URL": fake.api_url,
    }
    log = tmp_path / "kairos-run.log"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--no-console",
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        await eventually(lambda: fake.identifies or proc.returncode is not None, within=60)
        assert proc.returncode is None, log.read_text()[-3000:]
        opened = await eventually(lambda: fake.of("POST", r"^/users/@me/channels$"), within=60)
        assert opened[0].body == {"recipient_id": int(ALICE)}
        dm = "6" + ALICE[1:]  # the fake's DM channel id for alice
        posts = await eventually(lambda: fake.of("POST", rf"^/channels/{dm}/messages$"), within=30)
        assert "Reminder: stretch your legs" in posts[0].body["content"]
        ids = [c["custom_id"] for row in posts[0].body["components"] for c in row["components"]]
        assert "kairos:task.snooze:1:20" in ids
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = log.read_text()
    assert "Discord gateway at" in text  # the log is there (DEBUG), and holds no token
    assert fake.token not in text
