"""The bot connects through the fake's GET /gateway/bot, identifies with minimal
intents, resumes after the gateway drops, and never logs its token."""

from __future__ import annotations

import logging

import pytest
from waiting import eventually

from .fake_discord import FakeDiscord


async def test_connects_to_the_gateway_the_api_names(fake: FakeDiscord, start_kairos) -> None:
    _, surface = await start_kairos()
    assert surface.bot.gateway_url == f"{fake.url.replace('http://', 'ws://')}/gateway"
    assert fake.of("GET", r"^/gateway/bot$")
    identify = fake.identifies[0]
    assert identify["token"] == fake.token
    intents = identify["intents"]
    # guilds (1), guild messages (512), DMs (4096), message content (32768): nothing else.
    assert intents == 1 | 512 | 4096 | 32768
    assert surface.bot.get_guild(int("800000000000000001")) is not None


async def test_resumes_after_the_gateway_closes(fake: FakeDiscord, start_kairos) -> None:
    await start_kairos()
    await fake.drop(code=4000)
    await eventually(lambda: fake.resumes, within=30)
    resume = fake.resumes[0]
    assert resume["session_id"] == "session-1" and resume["token"] == fake.token
    assert len(fake.identifies) == 1  # resumed, not a new session
    # An event sent after the resume is handled: Kairos answers a DM.
    await fake.dispatch("MESSAGE_CREATE", fake.message("help", guild=False, channel="610"))
    await eventually(lambda: fake.of("POST", r"^/channels/610/messages$"), within=20)


async def test_token_never_logged(
    fake: FakeDiscord, start_kairos, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await start_kairos()
    await fake.dispatch("MESSAGE_CREATE", fake.message("<@900000000000000002> help"))
    await eventually(lambda: fake.of("POST", r"^/channels/\d+/messages$"), within=20)
    await fake.drop()
    await eventually(lambda: fake.resumes, within=30)
    assert caplog.records
    assert all(fake.token not in record.getMessage() for record in caplog.records)
    assert fake.token not in caplog.text
