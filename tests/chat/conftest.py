"""A whole Kairos (real store, parser, engine, workers) on a ManualClock, chatting on a console."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import pytest
from rich.console import Console

from bot.app import Kairos
from bot.console import ConsoleChat, to_inbound
from bot.settings import Settings
from core.clock import ManualClock
from core.enums import Platform
from core.messages import Inbound, Reply

T = TypeVar("T")
ZONE = "Europe/Berlin"


@dataclass
class Chat:
    """Say things as a user of the console workspace and read what Kairos says."""

    kairos: Kairos
    console: ConsoleChat
    screen: io.StringIO
    clock: ManualClock

    async def say(self, text: str, *, user: str = "ana", **where: object) -> list[Reply]:
        inbound = to_inbound(text, user=user, timezone=ZONE)
        if where:
            inbound = Inbound(**{**_fields(inbound), **where})  # type: ignore[arg-type]
        return await self.kairos.conversation.handle(inbound)

    async def say_one(self, text: str, **kw: object) -> Reply:
        replies = await self.say(text, **kw)
        assert len(replies) == 1, replies
        return replies[0]

    def printed(self) -> str:
        return self.screen.getvalue()


def _fields(inbound: Inbound) -> dict[str, object]:
    return {name: getattr(inbound, name) for name in inbound.__slots__}


@asynccontextmanager
async def chatting(settings: Settings, clock: ManualClock) -> AsyncIterator[Chat]:
    """A started Kairos with ``settings``, chatting on a console; closed on exit."""
    kairos = await Kairos.open(settings, clock=clock)
    screen = io.StringIO()
    console = ConsoleChat(
        conversation=kairos.conversation,
        user="ana",
        console=Console(file=screen, width=200),
        timezone=ZONE,
    )
    kairos.add_chat(Platform.CONSOLE, console)
    await kairos.start()
    try:
        yield Chat(kairos=kairos, console=console, screen=screen, clock=clock)
    finally:
        await kairos.close()


@pytest.fixture
async def chat(database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    settings = Settings(
        database_url=database_url, default_timezone=ZONE, confidence_threshold=0.5, _env_file=None
    )  # type: ignore[call-arg]
    async with chatting(settings, clock) as c:
        yield c
