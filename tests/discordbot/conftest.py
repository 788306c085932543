"""Discord end-to-end harness: real discord.py against a fake Discord (REST + gateway).

``fake`` is the local fake Discord (``fake_discord.py``). ``start_kairos``
opens a real Kairos on the test's database (SQLite and PostgreSQL), adds the
real Discord surface pointed at the fake (``KAIROS_DISCORD_API_URL``), starts
it and waits until the bot is ready; it can be called again to "restart"
Kairos on the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from waiting import eventually

from bot.app import Kairos
from bot.discord import DiscordSurface
from bot.settings import Settings

from .fake_discord import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def discord_settings(fake: FakeDiscord, database_url: str, tmp_path: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        default_timezone="Europe/Berlin",
        data_dir=tmp_path / "data",
        discord_token=SecretStr(fake.token),
        discord_api_url=fake.api_url,
    )


Started = tuple[Kairos, DiscordSurface]
StartKairos = Callable[..., Awaitable[Started]]


@pytest.fixture
async def start_kairos(discord_settings: Settings, fake: FakeDiscord) -> AsyncIterator[StartKairos]:
    running: list[Started] = []

    async def start(*, settings: Settings | None = None, scheduler: bool = False) -> Started:
        kairos = await Kairos.open(settings or discord_settings)
        surface = kairos.add_discord()
        if scheduler:
            await kairos.start()
        await surface.start()
        running.append((kairos, surface))
        await eventually(lambda: surface.bot.is_ready(), within=20)
        return kairos, surface

    async def stop_all() -> None:
        while running:
            kairos, surface = running.pop()
            await surface.stop()
            await kairos.close()

    start.stop_all = stop_all  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        await stop_all()
